"""What every table shares: the declarative Base with its naming convention and type map, UTC time
helpers, the random pseudonym and the largest row id."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_pseudonym() -> str:
    """A person's name in the events table: random, so it says nothing once the person is gone."""
    return secrets.token_hex(16)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Row ids are Integer columns: 32-bit on PostgreSQL. An id from outside (callback data) beyond this
# names no row, and PostgreSQL would refuse it as a query parameter.
MAX_ROW_ID = 2**31 - 1

# Named constraints, so later SQLite batch migrations can find them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar = {datetime: DateTime(timezone=True)}
