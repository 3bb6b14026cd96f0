"""Engine and session factory. SQLite gets WAL, foreign keys and a busy timeout on every connection.
A failed statement's message never shows its parameters (platform ids): hide_parameters."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

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
    engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
