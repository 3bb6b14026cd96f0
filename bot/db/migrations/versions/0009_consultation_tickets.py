"""consultation tickets, their pieces, and staff display names

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 11:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

at = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=64), nullable=True))
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('parent_account_id', sa.Integer(), nullable=True),
    sa.Column('specialty', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('alias', sa.String(length=16), nullable=False),
    sa.Column('parent_name', sa.String(length=64), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('assignee_account_id', sa.Integer(), nullable=True),
    sa.Column('transferred_to', sa.Integer(), nullable=True),
    sa.Column('created_at', at, nullable=False),
    sa.Column('queued_at', at, nullable=False),
    sa.Column('claimed_at', at, nullable=True),
    sa.Column('first_answer_at', at, nullable=True),
    sa.Column('closed_at', at, nullable=True),
    sa.Column('due_at', at, nullable=True),
    sa.Column('alerted_at', at, nullable=True),
    sa.Column('reply_due_at', at, nullable=True),
    sa.Column('reminded_at', at, nullable=True),
    sa.Column('return_at', at, nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('rating_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_tickets_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_account_id'], ['accounts.id'], name=op.f('fk_tickets_parent_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assignee_id'], ['people.id'], name=op.f('fk_tickets_assignee_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assignee_account_id'], ['accounts.id'], name=op.f('fk_tickets_assignee_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['transferred_to'], ['people.id'], name=op.f('fk_tickets_transferred_to_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_queue', ['status', 'specialty', 'queued_at'], unique=False)
        batch_op.create_index('ix_tickets_assignee', ['assignee_id', 'status'], unique=False)
        batch_op.create_index('ix_tickets_person', ['person_id', 'created_at'], unique=False)
        batch_op.create_index('ix_tickets_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_tickets_reply_due', ['status', 'reply_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_transferred_to'), ['transferred_to'], unique=False)
    op.create_table('ticket_pieces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('file_id', sa.String(length=512), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('transcript', sa.Text(), nullable=True),
    sa.Column('created_at', at, nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_pieces_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['people.id'], name=op.f('fk_ticket_pieces_author_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_pieces'))
    )
    with op.batch_alter_table('ticket_pieces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_pieces_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_table('ticket_pieces')
    op.drop_table('tickets')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('display_name')
