"""survey waves per family, and "don't ask me" on the person

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    at = sa.DateTime(timezone=True)
    op.create_table('survey_waves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('survey', sa.String(length=16), nullable=False),
    sa.Column('wave', sa.String(length=16), nullable=False),
    sa.Column('round', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('question', sa.String(length=16), nullable=True),
    sa.Column('due_at', at, nullable=False),
    sa.Column('planned_at', at, nullable=False),
    sa.Column('asked_at', at, nullable=True),
    sa.Column('finished_at', at, nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_survey_waves_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_waves')),
    sa.UniqueConstraint('person_id', 'survey', 'round', name=op.f('uq_survey_waves_person_id_survey_round')),
    )
    op.create_index('ix_survey_waves_due', 'survey_waves', ['status', 'due_at'], unique=False)
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('surveys_declined_at', at, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('surveys_declined_at')
    op.drop_index('ix_survey_waves_due', table_name='survey_waves')
    op.drop_table('survey_waves')
