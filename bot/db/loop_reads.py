"""Indexed reads on the event loop's own thread, for a SQLite file.

Every update in a private chat begins with the same read: who is writing (bot.middlewares). Through
the session, the pool and aiosqlite's thread that read cost about 0.6 ms of CPU, half of a /menu
update (bench/updates.py), while SQLite answers the lookup itself in some 10 µs. So on a SQLite file
it runs here, synchronously, on a connection of the standard library's sqlite3 that may only read:
in WAL mode a reader never waits for the writer, and sees what was committed when it starts.

Only for statements that find rows by a unique index: a long query here would stop the bot. Values
come out converted by SQLAlchemy's own column types, as a session would give them.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db.engine import sqlite_file

log = logging.getLogger(__name__)
AnySelect = Select[*tuple[Any, ...]]  # a SELECT of any columns


@dataclass(frozen=True)
class _Prepared:
    sql: str
    parameter_names: tuple[str, ...]
    literals: dict[str, Any]  # the values the statement carries itself (e.g. `Role.role == "specialist"`)
    converters: tuple[Callable[[Any], Any] | None, ...]


class LoopReads:
    """A read-only connection to the engine's SQLite file, opened at its first use (in the thread
    that runs the event loop: sqlite3 keeps a connection to the thread that opened it)."""

    def __init__(self, path: str, dialect: Dialect) -> None:
        self.path = path
        self.dialect = dialect
        self.connection: sqlite3.Connection | None = None
        self.prepared: dict[AnySelect, _Prepared] = {}

    @classmethod
    def of(cls, engine: AsyncEngine) -> LoopReads | None:
        """None unless the engine's database is a SQLite file (an in-memory one is the pool's alone)."""
        path = sqlite_file(engine.url)
        return cls(path, engine.dialect) if path is not None else None

    def rows(self, statement: AnySelect, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]] | None:
        """The statement's rows, or None if SQLite cannot answer at once (a lock held for a
        recovery, a migration under way, a file gone): the caller then asks through its session."""
        prepared = self.prepared.get(statement) or self._prepare(statement)
        try:
            values = {**prepared.literals, **parameters} if prepared.literals else parameters  # the identity read carries none
            found = self._connect().execute(prepared.sql, [values[name] for name in prepared.parameter_names]).fetchall()
        except sqlite3.Error as error:
            log.debug("loop-thread read failed (%s): asking through the session", type(error).__name__)
            self.close()  # the next read opens afresh
            return None
        return [_converted(row, prepared.converters) for row in found]

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(sqlite3.Error):  # e.g. closed from another thread than its own
                connection.close()

    def _connect(self) -> sqlite3.Connection:
        if self.connection is None:
            # read-only (a file gone is an error, not a new empty database), autocommit (no
            # transaction is ever left open) and no waiting for a lock
            uri = f"file:{quote(str(Path(self.path).resolve()))}?mode=ro"
            connection = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None)
            connection.execute("PRAGMA query_only=ON")
            self.connection = connection
        return self.connection

    def _prepare(self, statement: AnySelect) -> _Prepared:
        compiled = statement.compile(dialect=self.dialect)
        converters = tuple(column.type.dialect_impl(self.dialect).result_processor(self.dialect, None) for column in statement.selected_columns)
        literals = {name: value for name, value in compiled.params.items() if not compiled.binds[name].required}
        prepared = self.prepared[statement] = _Prepared(compiled.string, tuple(compiled.positiontup or ()), literals, converters)
        return prepared


async def read_rows(
    reads: LoopReads | None, session: AsyncSession, statement: AnySelect, parameters: Mapping[str, Any]
) -> tuple[Sequence[Sequence[Any]], bool]:
    """The statement's rows, on the loop's thread when it can, else through the session; and
    whether they came through the session (which then holds a pooled connection)."""
    rows = reads.rows(statement, parameters) if reads is not None else None
    if rows is not None:
        return rows, False
    return list((await session.execute(statement, parameters)).all()), True


def _converted(row: Sequence[Any], converters: tuple[Callable[[Any], Any] | None, ...]) -> tuple[Any, ...]:
    return tuple(value if convert is None or value is None else convert(value) for value, convert in zip(row, converters, strict=True))
