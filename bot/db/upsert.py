"""Insert a row unless one with the same unique key is there: one statement, safe under races,
on SQLite and PostgreSQL alike (a savepoint would do too, but pysqlite's savepoints are unreliable)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import CursorResult, Table, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Base

DIALECT_INSERTS: dict[str, Callable[[Table | type[Base]], postgresql.Insert | sqlite.Insert]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


async def insert_or_nothing(session: AsyncSession, row: Base, key: list[str]) -> bool:
    """Insert the (transient) `row` unless a row with the same `key` columns exists; True if inserted.
    Columns left unset get their defaults, as with session.add."""
    mapper = inspect(type(row))
    table = mapper.local_table
    assert isinstance(table, Table)
    values = {column.key: getattr(row, column.key) for column in mapper.columns if getattr(row, column.key) is not None}
    insert = DIALECT_INSERTS[session.get_bind().dialect.name]
    result = await session.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=key))
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def insert_rows_or_nothing(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]], key: list[str]) -> None:
    """Insert each of `rows` (column values) unless a row with the same `key` exists: one statement
    for them all (SQLAlchemy's insertmanyvalues), no ORM object per row."""
    if rows:
        await session.execute(DIALECT_INSERTS[session.get_bind().dialect.name](model).on_conflict_do_nothing(index_elements=key), rows)
