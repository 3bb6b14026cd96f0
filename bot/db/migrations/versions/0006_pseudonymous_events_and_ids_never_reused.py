"""pseudonymous events, ids never reused

Events name a person by a random pseudonym kept with the person, so deleting the person breaks
the link; people and accounts get AUTOINCREMENT on SQLite (a table rebuild), so a deleted
person's id is never a newcomer's. PostgreSQL's sequences never reuse an id anyway.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:20:00.000000
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Literal

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

people = sa.table('people', sa.column('id', sa.Integer()), sa.column('pseudonym', sa.String()), sa.column('created_at', sa.DateTime(timezone=True)))
events = sa.table(
    "events",
    sa.column("id", sa.Integer()),
    sa.column("person_id", sa.Integer()),
    sa.column("pseudonym", sa.String()),
    sa.column("at", sa.DateTime(timezone=True)),
)
consents = sa.table(
    "consent_records",
    sa.column("id", sa.Integer()),
    sa.column("person_id", sa.Integer()),
    sa.column("decided_at", sa.DateTime(timezone=True)),
    sa.column("withdrawn_at", sa.DateTime(timezone=True)),
)
campaigns = sa.table(
    "campaigns",
    sa.column("created_by", sa.Integer()),
    sa.column("origin_platform", sa.String()),
    sa.column("origin_chat_id", sa.BigInteger()),
    sa.column("status_message_id", sa.BigInteger()),
)


def _rebuild() -> Literal["always", "auto"]:
    """SQLite can only add AUTOINCREMENT by copying the table (bot.db.migrate turns foreign keys off for it)."""
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pseudonym", sa.String(length=32), nullable=True))
    for (person_id,) in bind.execute(sa.select(people.c.id)).all():
        bind.execute(people.update().where(people.c.id == person_id).values(pseudonym=secrets.token_hex(16)))
    with op.batch_alter_table("people", schema=None, recreate=_rebuild(), table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.alter_column("pseudonym", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_people_pseudonym"), ["pseudonym"])
    with op.batch_alter_table("accounts", schema=None, recreate=_rebuild(), table_kwargs={"sqlite_autoincrement": True}):
        pass

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pseudonym", sa.String(length=32), nullable=True))
    _pseudonymise_events(bind)
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_person_id"))
        batch_op.drop_column("person_id")
        batch_op.create_index(batch_op.f("ix_events_pseudonym"), ["pseudonym"], unique=False)

    _coarsen_detached_consents(bind)
    # Broadcasts of people deleted before: nobody to report to any more.
    bind.execute(campaigns.update().where(campaigns.c.created_by.is_(None)).values(origin_platform=None, origin_chat_id=None, status_message_id=None))


def _pseudonymise_events(bind) -> None:
    """An event belongs to today's holder of its person id only if it happened after they registered;
    older ones belonged to a deleted person whose id SQLite gave again, and get a pseudonym of their own."""
    for person_id, pseudonym, created_at in bind.execute(sa.select(people.c.id, people.c.pseudonym, people.c.created_at)).all():
        bind.execute(events.update().where(events.c.person_id == person_id, events.c.at >= created_at).values(pseudonym=pseudonym))
    orphans: dict[int, str] = defaultdict(lambda: secrets.token_hex(16))
    for event_id, person_id in bind.execute(
        sa.select(events.c.id, events.c.person_id).where(events.c.person_id.is_not(None), events.c.pseudonym.is_(None))
    ).all():
        bind.execute(events.update().where(events.c.id == event_id).values(pseudonym=orphans[person_id]))


def _coarsen_detached_consents(bind) -> None:
    def day(moment):
        return moment.replace(hour=0, minute=0, second=0, microsecond=0) if moment else None

    detached = sa.select(consents.c.id, consents.c.decided_at, consents.c.withdrawn_at).where(
        consents.c.person_id.is_(None), consents.c.withdrawn_at.is_not(None)
    )
    for record_id, decided_at, withdrawn_at in bind.execute(detached).all():
        bind.execute(consents.update().where(consents.c.id == record_id).values(decided_at=day(decided_at), withdrawn_at=day(withdrawn_at)))


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
    bind.execute(events.update().values(person_id=sa.select(people.c.id).where(people.c.pseudonym == events.c.pseudonym).scalar_subquery()))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_pseudonym"))
        batch_op.drop_column("pseudonym")
        batch_op.create_index(batch_op.f("ix_events_person_id"), ["person_id"], unique=False)

    with op.batch_alter_table("accounts", schema=None, recreate=_rebuild(), table_kwargs={"sqlite_autoincrement": False}):
        pass
    with op.batch_alter_table("people", schema=None, recreate=_rebuild(), table_kwargs={"sqlite_autoincrement": False}) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_people_pseudonym"), type_="unique")
        batch_op.drop_column("pseudonym")
