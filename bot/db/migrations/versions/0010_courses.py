"""flash courses: enrolments, lessons delivered and their feedback, standing campaigns, family time zones

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

at = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('markup', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('key', sa.String(length=96), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_campaigns_key'), ['key'])
    op.create_table('enrolments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('course', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('every_days', sa.SmallInteger(), nullable=True),
    sa.Column('weekdays', sa.String(length=32), nullable=False),
    sa.Column('at_minute', sa.SmallInteger(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('next_lesson', sa.SmallInteger(), nullable=False),
    sa.Column('next_at', at, nullable=True),
    sa.Column('enrolled_at', at, nullable=False),
    sa.Column('last_sent_at', at, nullable=True),
    sa.Column('finished_at', at, nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('recommend', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_enrolments_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolments')),
    sa.UniqueConstraint('person_id', 'course', name=op.f('uq_enrolments_person_id_course')),
    )
    op.create_index('ix_enrolments_due', 'enrolments', ['next_at'], unique=False)
    op.create_table('lesson_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('course', sa.String(length=40), nullable=False),
    sa.Column('lesson', sa.SmallInteger(), nullable=False),
    sa.Column('sent_at', at, nullable=False),
    sa.Column('opened_at', at, nullable=True),
    sa.Column('opens', sa.Integer(), nullable=False),
    sa.Column('reaction', sa.String(length=8), nullable=True),
    sa.Column('done_at', at, nullable=True),
    sa.Column('reminded_at', at, nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_lesson_deliveries_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_deliveries')),
    sa.UniqueConstraint('person_id', 'course', 'lesson', name=op.f('uq_lesson_deliveries_person_id_course_lesson')),
    )
    op.create_index('ix_lesson_deliveries_unopened', 'lesson_deliveries', ['opened_at', 'reminded_at', 'sent_at'], unique=False)
    op.create_table('lesson_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('course', sa.String(length=40), nullable=False),
    sa.Column('lesson', sa.SmallInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', at, nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_lesson_comments_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_comments')),
    )
    op.create_index('ix_lesson_comments_lesson', 'lesson_comments', ['course', 'lesson', 'at'], unique=False)
    op.create_index(op.f('ix_lesson_comments_person_id'), 'lesson_comments', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_table('lesson_comments')
    op.drop_table('lesson_deliveries')
    op.drop_index('ix_enrolments_due', table_name='enrolments')
    op.drop_table('enrolments')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_campaigns_key'), type_='unique')
        batch_op.drop_column('key')
        batch_op.drop_column('markup')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('timezone')
