"""parent chats: join requests held until the requester registers, daily activity sums, welcomes to remove, reports, newcomers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 18:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('held_join_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_join_requests')),
    sa.UniqueConstraint('platform', 'user_id', 'chat_id', name=op.f('uq_held_join_requests_platform_user_id_chat_id')),
    )
    op.create_index(op.f('ix_held_join_requests_requested_at'), 'held_join_requests', ['requested_at'], unique=False)
    op.create_table('chat_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('joins', sa.Integer(), nullable=False),
    sa.Column('leaves', sa.Integer(), nullable=False),
    sa.Column('reactions', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_activity')),
    sa.UniqueConstraint('chat', 'day', name=op.f('uq_chat_activity_chat_day')),
    )
    op.create_table('chat_cleanups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('delete_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_cleanups')),
    )
    op.create_index(op.f('ix_chat_cleanups_delete_at'), 'chat_cleanups', ['delete_at'], unique=False)
    op.create_table('chat_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('reporter_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_reports')),
    sa.UniqueConstraint('platform', 'chat_id', 'message_id', 'reporter_id', name=op.f('uq_chat_reports_platform_chat_id_message_id_reporter_id')),
    )
    op.create_index(op.f('ix_chat_reports_at'), 'chat_reports', ['at'], unique=False)
    op.create_table('chat_newcomers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_newcomers')),
    sa.UniqueConstraint('platform', 'chat_id', 'user_id', name=op.f('uq_chat_newcomers_platform_chat_id_user_id')),
    )
    op.create_index(op.f('ix_chat_newcomers_joined_at'), 'chat_newcomers', ['joined_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_chat_newcomers_joined_at'), table_name='chat_newcomers')
    op.drop_table('chat_newcomers')
    op.drop_index(op.f('ix_chat_reports_at'), table_name='chat_reports')
    op.drop_table('chat_reports')
    op.drop_index(op.f('ix_chat_cleanups_delete_at'), table_name='chat_cleanups')
    op.drop_table('chat_cleanups')
    op.drop_table('chat_activity')
    op.drop_index(op.f('ix_held_join_requests_requested_at'), table_name='held_join_requests')
    op.drop_table('held_join_requests')
