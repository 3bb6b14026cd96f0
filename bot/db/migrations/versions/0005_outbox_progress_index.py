"""outbox progress index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:56:04.970219
"""

from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_campaign')
        batch_op.create_index('ix_outbox_campaign_status', ['campaign_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_campaign_status')
        batch_op.create_index('ix_outbox_campaign', ['campaign_id'], unique=False)
