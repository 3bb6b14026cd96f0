"""Short write transactions on the event loop's own thread, for a SQLite file.

Sending a question (handlers/consultations/parent.py) writes a ticket, its pieces, an event and the
update's id. Through the session, the pool and aiosqlite's thread those statements cost about 6 ms
of CPU (the ORM's bookkeeping, and a round trip to the connection's thread for each), while SQLite
runs them in 0.2 ms; and in a burst every writer holds SQLite's one write turn across all its
round trips while the others wait. So on a SQLite file such a transaction runs here, synchronously,
as SQLAlchemy Core statements on a connection of the loop's own thread: it holds the write turn
(bot.db.engine.OneWriter) for a fraction of a millisecond, and never yields in between.

The work is a plain function of a Connection or a Session (both run Core statements alike), given
no ORM objects to add: it runs here, or, on PostgreSQL, if SQLite is busy with another process's
write, or if the update has written through its session already, in the update's session, where it
commits with the update.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, NullPool, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from bot.db.engine import OneWriter, end_transaction, sqlite_file
from bot.services.updates import (
    UPDATE_CLAIM,
    ClaimState,
    StateWrite,
    UpdateClaim,
    changes_only_conversation_states,
    deferred_state_writes,
    has_pending_changes,
    write_states,
)

T = TypeVar("T")
Work = Callable[[Connection | Session], T]


class LoopWrites:
    """One per app: the loop thread's connection to the SQLite file (None on another database)."""

    def __init__(self, path: str | None, writer: OneWriter | None) -> None:
        self.engine: Engine | None = _loop_engine(path) if path is not None and writer is not None else None
        self.writer = writer
        self.connection: Connection | None = None

    @classmethod
    def of(cls, engine: AsyncEngine) -> LoopWrites:
        """Writes on the loop's thread for a SQLite file; on any other database, in the session."""
        return cls(sqlite_file(engine.url), OneWriter.of(engine))

    async def run(self, session: AsyncSession, work: Work[T]) -> T:
        """`work` done in the update's transaction: with its id and conversation state, committed
        here and now on the loop's thread; or in its session, to commit with the update."""
        claim: UpdateClaim | None = session.sync_session.info.get(UPDATE_CLAIM)
        if self.engine is None or claim is None or not self._nothing_written(session, claim):
            return await session.run_sync(work)
        with_states = _after_states(deferred_state_writes(session), claim, work)  # out of the session, which would write them first
        await end_transaction(session)  # a read's snapshot would not see what is written here
        try:
            return await self._here(claim, with_states)
        except _Busy:
            return await session.run_sync(with_states)

    @staticmethod
    def _nothing_written(session: AsyncSession, claim: UpdateClaim) -> bool:
        """The update has written nothing but, perhaps, its conversation state (then written here too)."""
        return claim.state is ClaimState.unclaimed and (not has_pending_changes(session) or changes_only_conversation_states(session))

    async def _here(self, claim: UpdateClaim, work: Work[T]) -> T:
        assert self.writer is not None
        async with self.writer.turn_held():
            connection = self._connection()
            try:
                transaction = connection.begin()  # BEGIN IMMEDIATE: SQLite's write lock now, or busy at once
            except OperationalError as error:
                if _is_busy(error):
                    raise _Busy from None
                raise
            with transaction:  # commits at the end, rolls back on an error (AlreadyHandled too: a copy had it)
                claim.take(connection)
                return work(connection)

    def _connection(self) -> Connection:
        """Opened at the first write, in the thread that runs the event loop (sqlite3 keeps a
        connection to the thread that opened it)."""
        if self.connection is None or self.connection.closed:
            assert self.engine is not None
            self.connection = self.engine.connect()
        return self.connection

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(sqlite3.Error, OperationalError):  # e.g. closed from another thread than its own
                connection.close()
        if self.engine is not None:
            self.engine.dispose()


def _after_states(states: list[StateWrite], claim: UpdateClaim, work: Work[T]) -> Work[T]:
    def write_states_then_work(executor: Connection | Session) -> T:
        write_states(executor, states, claim.at)
        return work(executor)

    return write_states_then_work


class _Busy(Exception):
    """Another process writes to the SQLite file: the work goes through the session, which waits."""


def _is_busy(error: OperationalError) -> bool:
    return isinstance(error.orig, sqlite3.OperationalError) and "locked" in str(error.orig)


def _loop_engine(path: str) -> Engine:
    """SQLite's own module on the file, never waiting for a lock (busy: the session's way instead),
    the transaction begun by us (BEGIN IMMEDIATE), foreign keys on, synced as the pool's
    connections are (bot.db.engine); parameters never in an error."""
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool, connect_args={"timeout": 0}, hide_parameters=True)
    event.listen(engine, "connect", _autocommit_with_foreign_keys)
    event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def _autocommit_with_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # sqlite3 begins nothing itself: the "begin" listener does
    dbapi_connection.execute("PRAGMA foreign_keys=ON")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # as the pool's connections: in WAL mode, no fsync at each commit
