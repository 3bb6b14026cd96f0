"""Engine and session factory. SQLite gets WAL, foreign keys and a busy timeout on every connection,
and one writer at a time (OneWriter).
A failed statement's message never shows its parameters (platform ids): hide_parameters."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import sqlalchemy
from sqlalchemy import event
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection, AsyncIODBAPICursor
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import EMPTY_DICT, await_

from bot.config import ConfigError
from bot.db.migrate import upgrade

log = logging.getLogger(__name__)


async def open_database(database_url: str) -> AsyncEngine:
    """The engine, with the schema brought up to date; a database that cannot be opened is a
    config error naming DATABASE_URL, not a traceback."""
    engine = create_engine(database_url)
    try:
        async with engine.connect():
            pass
    except (OSError, DBAPIError) as error:
        await engine.dispose()
        raise ConfigError(f"config error: DATABASE_URL: cannot open the database ({_reason(error)}) — {_fix(error)}") from None
    await upgrade(engine)
    return engine


def sqlite_file(url: sqlalchemy.URL) -> str | None:
    """The path of a SQLite file the URL names (not an in-memory database, which is the pool's alone)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return None
    return url.database


def require_existing(database_url: str) -> None:
    """A SQLite file that is not there yet is a config error (instead of a new, empty database)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") and not Path(url.database).is_file():
        fix = "point DATABASE_URL at the bot's database (the bot makes it as it first starts)"
        raise ConfigError(f"config error: DATABASE_URL: there is no database at {url.database} — {fix}")


def _reason(error: Exception) -> str:
    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
    return reason.removeprefix("(sqlalchemy.dialects.postgresql.asyncpg.Error) ")


def _fix(error: Exception) -> str:
    reason = _reason(error)
    if "database" in reason and "does not exist" in reason:
        return "create it (createdb <name>) or name an existing database in DATABASE_URL"
    if "role" in reason and "does not exist" in reason:
        return "create the role (createuser <name>) or name an existing user in DATABASE_URL"
    if "password" in reason:
        return "check the user and password in DATABASE_URL"
    return "check the host, port and credentials in DATABASE_URL, and that the server runs"


def create_engine(database_url: str) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, hide_parameters=True)
    if url.database and url.database != ":memory:":
        folder = Path(url.database).parent
        if not folder.exists():
            folder.mkdir(parents=True)
            log.info("created the folder %s for the SQLite database (DATABASE_URL)", folder.resolve())
    # Each SQLite connection is a thread of aiosqlite's: a pool that closes its overflow connections
    # as they come back (the default 5 + 10) opened a new thread and connection for one update in
    # ten under load. The same 15, kept. The reset on return rolls back only an open transaction
    # (a thread round trip otherwise, after every commit).
    one_trip = {"module": OneTripDBAPI(aiosqlite, sqlite3)} if ONE_TRIP_SUPPORTED else {}
    engine = create_async_engine(
        url, connect_args={"timeout": BUSY_SECONDS}, hide_parameters=True, pool_size=SQLITE_POOL_SIZE, max_overflow=0, pool_reset_on_return=None,
        **one_trip,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "reset", _rollback_if_open)
    # on this engine's own dialect instance, not the class: an instance attribute shadows the method
    # (mypy takes any assignment to a method for a mistake, and the wrapper for a different signature)
    dialect = engine.sync_engine.dialect
    dialect.do_commit = _unless_idle(dialect.do_commit)  # type: ignore[method-assign,assignment]
    dialect.do_rollback = _unless_idle(dialect.do_rollback)  # type: ignore[method-assign,assignment]  # a read-only session closed without a commit
    OneWriter(BUSY_SECONDS).attach(engine)
    return engine


SQLITE_POOL_SIZE = 15


def _unless_idle(end: Callable[[Any], None]) -> Callable[[Any], None]:
    """sqlite3 commits (or rolls back) nothing outside a transaction (reads run outside one);
    aiosqlite would still make the thread round trip to find that out."""

    def end_if_open(dbapi_connection: Any) -> None:
        if _dbapi(dbapi_connection).driver_connection.in_transaction:
            end(dbapi_connection)

    return end_if_open


def _rollback_if_open(dbapi_connection, _record, _reset_state) -> None:
    if dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


BUSY_SECONDS = 30
READS = ("SELECT", "PRAGMA")


class OneWriter:
    """SQLite lets one transaction write at a time, and a second writer waits in SQLite's busy
    handler, which sleeps in steps of up to 100 ms. So a transaction's first write waits here
    instead, in the event loop, until the writer before it has committed or rolled back: reads never
    wait (WAL), and a transaction holds the turn only from its first write to its end."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.turn = asyncio.Lock()
        self.holder: Any = None  # the DBAPI connection whose transaction writes now

    @classmethod
    def of(cls, engine: AsyncEngine) -> OneWriter | None:
        """The engine's OneWriter (None: not a SQLite engine)."""
        return _WRITERS.get(engine.sync_engine)

    def attach(self, engine: AsyncEngine) -> None:
        sync_engine = engine.sync_engine
        _WRITERS[sync_engine] = self
        event.listen(sync_engine, "before_cursor_execute", self.before_statement)
        for name in ("checkin", "close", "invalidate"):  # a connection gone with its transaction open
            event.listen(sync_engine.pool, name, self.connection_gone)
        # the turn passes on only once the COMMIT or ROLLBACK is done; SQLAlchemy's commit and
        # rollback events fire before it, so the dialect's own calls are wrapped
        # (on the engine's own dialect instance, shadowing the methods: see create_engine for the ignores)
        dialect = sync_engine.dialect
        dialect.do_commit = self.ending(dialect.do_commit)  # type: ignore[method-assign,assignment]
        dialect.do_rollback = self.ending(dialect.do_rollback)  # type: ignore[method-assign,assignment]

    def before_statement(self, conn, _cursor, statement: str, _parameters, _context, _executemany) -> None:
        connection = _dbapi(conn.connection)
        if connection is self.holder or statement.lstrip()[:6].upper() in READS:
            return
        await_(self.take_turn())  # in SQLAlchemy's greenlet: the loop runs on
        self.holder = connection

    async def take_turn(self) -> None:
        if not self.turn.locked():
            await self.turn.acquire()  # at once, without a task and a timer of wait_for's
            return
        try:
            await asyncio.wait_for(self.turn.acquire(), self.timeout)
        except TimeoutError:
            raise TimeoutError(f"waited {self.timeout} s for SQLite's write lock") from None

    @contextlib.asynccontextmanager
    async def turn_held(self) -> AsyncIterator[None]:
        """The turn for a writer outside the pool (bot.db.loop_writes), until the block ends."""
        await self.take_turn()
        try:
            yield
        finally:
            self.turn.release()

    def ending(self, end: Callable[[Any], None]) -> Callable[[Any], None]:
        def end_then_pass_the_turn(dbapi_connection: Any) -> None:
            try:
                end(dbapi_connection)
            finally:
                self.release(_dbapi(dbapi_connection))

        return end_then_pass_the_turn

    def connection_gone(self, dbapi_connection: Any, *_args: Any) -> None:
        self.release(_dbapi(dbapi_connection))

    def release(self, connection: Any) -> None:
        if connection is not None and connection is self.holder:
            self.holder = None
            self.turn.release()


_WRITERS: weakref.WeakKeyDictionary[sqlalchemy.Engine, OneWriter] = weakref.WeakKeyDictionary()


def _dbapi(connection: Any) -> Any:
    """The driver-level connection behind a pool's proxy (or the connection itself)."""
    return getattr(connection, "dbapi_connection", connection)


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A statement in one trip to the connection's thread. SQLAlchemy's aiosqlite cursor makes four
    (open a cursor, execute, fetch the rows, close), and each trip wakes that thread and hands the
    GIL over and back: under load those hand-overs cost more than the statements. Here the thread
    runs the four steps at once and sends back the rows, description, row count and last row id."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    _cursor: AsyncIODBAPICursor | None  # type: ignore[assignment]  # None here: the base class's aiosqlite cursor is never opened
    _description: Any
    _rowcount: int
    _lastrowid: Any
    _arraysize: int

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # no aiosqlite cursor: the thread opens and closes its own
        self._soft_closed_memoized = EMPTY_DICT  # as the base class starts it
        self._rows = collections.deque()
        self._description, self._rowcount, self._lastrowid, self._arraysize = None, -1, None, 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        pass  # the rows are here already, the thread's cursor closed

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._run(operation, seq_of_parameters, many=True)

    def _run(self, operation: Any, parameters: Any, many: bool) -> None:
        try:
            await_(self._in_thread(operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _in_thread(self, operation: Any, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            outcome = await self._connection._execute(_statement, self._connection, operation, parameters, many)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)


def _statement(connection: aiosqlite.Connection, operation: Any, parameters: Any, many: bool) -> tuple[Any, list[Any], int, Any]:
    """In the connection's thread: the whole of a statement."""
    cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


# OneTripCursor stands on SQLAlchemy 2.1's asyncio cursor adapter (its slots and error handling)
# and aiosqlite's Connection._execute; on older versions the stock cursor is used.
ONE_TRIP_SUPPORTED = tuple(int(part) for part in sqlalchemy.__version__.split(".")[:2]) >= (2, 1) and hasattr(aiosqlite.Connection, "_execute")


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite module, its connections making OneTripCursors."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        return OneTripConnection(self, super().connect(*arg, **kw)._connection)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def end_transaction(session: AsyncSession) -> None:
    """Commit the session's transaction. One that holds no connection (begun by adding or deleting
    an object, with nothing read or written since) commits no statement: done here and now, without
    the async commit's greenlet switch."""
    sync_session = session.sync_session
    transaction = sync_session.get_transaction()
    if transaction is None:
        return
    if transaction._connections:  # SQLAlchemy lists a transaction's connections nowhere public
        await session.commit()
    else:
        sync_session.commit()


async def close_session(session: AsyncSession) -> None:
    """Close the session. One that is in no transaction holds no connection, so closing it is
    bookkeeping, done here and now, and nothing at all if it holds no object either: SQLAlchemy's
    async close spends a task and a greenlet switch on every session, a fair share of an update
    that read only on the loop's thread (bot.db.loop_reads)."""
    sync_session = session.sync_session
    if sync_session.in_transaction():
        async with session:  # SQLAlchemy's exit closes it to the end (the connection back), even if this task is cancelled meanwhile
            pass
    elif len(sync_session.identity_map):
        sync_session.close()
