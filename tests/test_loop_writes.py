"""A short write transaction on the loop's thread (bot.db.loop_writes): it commits with the update's
id and conversation state, a replayed update writes nothing, a failure writes nothing, and when
SQLite is busy with another writer (or on PostgreSQL) the same work goes through the update's session."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from bot.clock import ShiftedClock
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.loop_writes import LoopWrites
from bot.db.models import ConversationState, Event, ProcessedUpdate
from bot.services.events import INSERT_EVENT, EventKind, event_values
from bot.services.updates import UPDATE_CLAIM, AlreadyHandled, ClaimState, UpdateClaim, UpdateSession, commit_writes

NOW = ShiftedClock().now()
KEY = ("telegram", 7001)


@pytest.fixture
async def sessionmaker(database_url):
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def writes(sessionmaker):
    writes = LoopWrites.of(sessionmaker.kw["bind"])
    yield writes
    writes.close()


def update_session(sessionmaker) -> tuple[AsyncSession, UpdateClaim]:
    """A session as DatabaseSessionMiddleware opens it for an update."""
    session = sessionmaker(sync_session_class=UpdateSession)
    claim = session.sync_session.info[UPDATE_CLAIM] = UpdateClaim(KEY, at=NOW)
    return session, claim


def an_event(executor: Connection | Session) -> int:
    executor.execute(INSERT_EVENT, event_values(EventKind.question_asked, at=NOW, object_type="specialty", object_id="speech"))
    return 42


def failing(executor: Connection | Session) -> int:
    an_event(executor)
    raise RuntimeError("the work failed")


async def stored(sessionmaker) -> tuple[int, int, list[str | None]]:
    """Events, update ids and conversation states, as another session sees them."""
    async with sessionmaker() as session:
        events = await session.scalar(select(func.count()).select_from(Event))
        ids = await session.scalar(select(func.count()).select_from(ProcessedUpdate).where(ProcessedUpdate.update_id == KEY[1]))
        states = list(await session.scalars(select(ConversationState.state)))
    return events or 0, ids or 0, states


def test_only_a_sqlite_file_is_written_on_the_loop_thread(tmp_path):
    assert LoopWrites.of(create_engine(f"sqlite+aiosqlite:///{tmp_path}/vmeste.db")).engine is not None
    assert LoopWrites.of(create_async_engine("sqlite+aiosqlite://")).engine is None  # in memory: the pool's own connection alone sees it
    assert LoopWrites.of(create_async_engine("postgresql+asyncpg://vmeste@127.0.0.1/vmeste")).engine is None


@pytest.mark.both_databases
async def test_the_work_commits_with_the_update_id_and_its_conversation_state(sessionmaker, writes):
    session, claim = update_session(sessionmaker)
    state = ConversationState(platform="telegram", user_id=5, chat_id=5, thread_id=0, destiny="default", state="Asking:collecting", data={})
    session.add(state)  # as the FSM storage leaves a step of a dialogue
    assert await writes.run(session, an_event) == 42
    assert claim.state is ClaimState.claimed
    await commit_writes(session)  # what the middleware does after the handler
    await session.close()
    assert await stored(sessionmaker) == (1, 1, ["Asking:collecting"])


async def test_on_sqlite_it_is_committed_before_the_update_ends(sessionmaker, writes):
    session, _ = update_session(sessionmaker)
    await writes.run(session, an_event)
    assert await stored(sessionmaker) == (1, 1, [])  # the reply that follows announces what is stored
    await session.close()


@pytest.mark.both_databases
async def test_a_replayed_update_writes_nothing(sessionmaker, writes):
    async with sessionmaker() as session:
        session.add(ProcessedUpdate(platform=KEY[0], update_id=KEY[1], processed_at=NOW))  # another copy was handled
        await session.commit()
    session, claim = update_session(sessionmaker)
    with pytest.raises(AlreadyHandled):
        await writes.run(session, an_event)
        await commit_writes(session)
    assert claim.state is ClaimState.taken
    await session.close()
    assert (await stored(sessionmaker))[0] == 0


@pytest.mark.both_databases
async def test_a_failed_work_writes_nothing(sessionmaker, writes):
    session, _ = update_session(sessionmaker)
    with pytest.raises(RuntimeError):
        await writes.run(session, failing)
    await session.close()  # the update failed: its session is closed uncommitted
    assert await stored(sessionmaker) == (0, 0, [])


async def test_sqlite_busy_with_another_writer_goes_through_the_session(sessionmaker, writes, database_url):
    other = sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writes
    session, claim = update_session(sessionmaker)
    released = asyncio.get_running_loop().call_later(0.2, other.execute, "ROLLBACK")  # the session's statement waits for it
    try:
        assert await writes.run(session, an_event) == 42
        await commit_writes(session)
    finally:
        released.cancel()
        other.close()
        await session.close()
    assert claim.state is ClaimState.claimed
    assert await stored(sessionmaker) == (1, 1, [])



def test_the_loop_threads_connection_syncs_and_checks_as_the_pools_do(writes):
    connection = writes._connection()
    assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL: in WAL mode no fsync at every commit
    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
