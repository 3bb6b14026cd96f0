"""parent chats: join requests held until the requester registers

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


def downgrade() -> None:
    op.drop_index(op.f('ix_held_join_requests_requested_at'), table_name='held_join_requests')
    op.drop_table('held_join_requests')
