"""office hours in parent chats; an outbox row may go to a group chat (no person, no account)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 20:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    at = sa.DateTime(timezone=True)
    op.create_table('office_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat', sa.String(length=64), nullable=False),
    sa.Column('specialty', sa.String(length=32), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', at, nullable=False),
    sa.Column('weekly', sa.Boolean(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=True),
    sa.Column('reminder_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', at, nullable=False),
    sa.Column('cancelled_at', at, nullable=True),
    sa.ForeignKeyConstraint(['host_id'], ['people.id'], name=op.f('fk_office_hours_host_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['announcement_id'], ['campaigns.id'], name=op.f('fk_office_hours_announcement_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reminder_id'], ['campaigns.id'], name=op.f('fk_office_hours_reminder_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_office_hours_created_by_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_hours')),
    )
    op.create_index(op.f('ix_office_hours_starts_at'), 'office_hours', ['starts_at'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('account_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE person_id IS NULL OR account_id IS NULL")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('account_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=False)
    op.drop_index(op.f('ix_office_hours_starts_at'), table_name='office_hours')
    op.drop_table('office_hours')
