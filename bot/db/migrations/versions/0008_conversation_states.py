"""conversation states (aiogram's FSM) in a table; the composer's step moves there

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 01:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The composer's states (handlers.broadcasts.states.Composing) as aiogram names them
STEP_STATES = {"text": "Composing:text", "media": "Composing:media", "button": "Composing:button", "time": "Composing:time"}


def upgrade() -> None:
    states = op.create_table('conversation_states',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('thread_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('destiny', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=255), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'user_id', 'chat_id', 'thread_id', 'destiny', name=op.f('pk_conversation_states'))
    )
    carry_drafts_over(states)
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('step')


def carry_drafts_over(states: sa.Table) -> None:
    """A draft waiting for an answer keeps waiting: its step becomes its author's state (drafts are
    composed in the private chat, where the chat id is the user's)."""
    campaigns = sa.table('campaigns', sa.column('id'), sa.column('step'), sa.column('status'), sa.column('origin_platform'), sa.column('origin_chat_id'))
    query = sa.select(campaigns).where(campaigns.c.status == 'draft', campaigns.c.step.is_not(None), campaigns.c.origin_chat_id.is_not(None))
    rows = [
        dict(platform=row.origin_platform, user_id=row.origin_chat_id, chat_id=row.origin_chat_id, thread_id=0, destiny='default',
             state=STEP_STATES[row.step], data={'draft_id': row.id}, updated_at=sa.func.now())
        for row in op.get_bind().execute(query) if row.step in STEP_STATES and row.origin_platform
    ]
    for row in rows:
        op.get_bind().execute(states.insert().values(**row))


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('step', sa.String(length=16), nullable=True))
    op.drop_table('conversation_states')
