"""The identity read on the loop's thread (bot.db.loop_reads): the same rows as through a session,
objects the session takes for loaded ones, and the session's way when SQLite cannot answer there."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.clock import ShiftedClock
from bot.config import load_settings
from bot.content import ConsentText
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.loop_reads import LoopReads
from bot.db.models import Person, Role
from bot.fsm import state_row_parameters
from bot.middlewares import IDENTITY_AND_STATE, NO_STATE_ROW, IdentityMiddleware
from bot.services.people import RoleName, account_from_rows, grant_role, register

CONSENT = ConsentText(version="1", language="en", text="consent")
CLOCK = ShiftedClock()
PARAMETERS = {"platform": "telegram", "external_id": 501, **state_row_parameters(NO_STATE_ROW)}


@pytest.fixture
async def sessionmaker(database_url):
    engine = create_engine(database_url)
    maker = create_sessionmaker(engine)
    async with maker() as session:
        person = await register(session, "telegram", 501, CONSENT, now=CLOCK.now())
        await grant_role(session, person, RoleName.coordinator, now=CLOCK.now())
        await session.commit()
    yield maker
    await engine.dispose()


def test_only_a_sqlite_file_is_read_on_the_loop_thread(tmp_path):
    assert LoopReads.of(create_engine(f"sqlite+aiosqlite:///{tmp_path}/vmeste.db")) is not None
    assert LoopReads.of(create_async_engine("sqlite+aiosqlite://")) is None  # in memory: the pool's own connection alone sees it
    assert LoopReads.of(create_async_engine("postgresql+asyncpg://vmeste@127.0.0.1/vmeste")) is None


async def test_the_loop_thread_reads_what_a_session_reads(sessionmaker):
    reads = LoopReads.of(sessionmaker.kw["bind"])
    assert reads is not None
    async with sessionmaker() as session:
        through_session = [tuple(row) for row in await session.execute(IDENTITY_AND_STATE, PARAMETERS)]
    try:
        here = reads.rows(IDENTITY_AND_STATE, PARAMETERS)
    finally:
        reads.close()
    assert here == through_session  # values and their types (datetimes, ids) alike
    assert len(here) == 2  # the account's row once per role


async def test_a_value_the_statement_carries_is_bound_with_the_callers(sessionmaker):
    statement = select(Role.person_id).where(Role.role == RoleName.coordinator, Role.person_id == bindparam("person"))
    reads = LoopReads.of(sessionmaker.kw["bind"])
    assert reads is not None
    async with sessionmaker() as session:
        through_session = [tuple(row) for row in await session.execute(statement, {"person": 1})]
    try:
        assert reads.rows(statement, {"person": 1}) == through_session == [(1,)]
        with pytest.raises(KeyError):  # a named parameter the caller left out is still an error
            reads.rows(statement, {})
    finally:
        reads.close()


async def test_mapped_rows_are_loaded_objects_and_a_change_is_written(sessionmaker):
    reads = LoopReads.of(sessionmaker.kw["bind"])
    assert reads is not None
    async with sessionmaker() as session:
        account = account_from_rows(session.sync_session, reads.rows(IDENTITY_AND_STATE, PARAMETERS) or [])
        assert account is not None
        person = account.person
        assert inspect(person).persistent and not session.dirty and not session.new
        assert sorted(role.role for role in person.roles) == ["coordinator", "parent"]
        assert account_from_rows(session.sync_session, reads.rows(IDENTITY_AND_STATE, PARAMETERS) or []) is account  # the session's copy stands
        person.language = "ro"
        await session.commit()
    reads.close()
    async with sessionmaker() as session:
        assert (await session.scalar(select(Person.language))) == "ro"


async def test_an_unknown_account_maps_to_none(sessionmaker):
    async with sessionmaker() as session:
        assert account_from_rows(session.sync_session, []) is None


async def test_when_sqlite_cannot_answer_on_the_loop_thread_the_session_does(sessionmaker, tmp_path):
    gone = tmp_path / "gone.db"  # the file moved away while the bot runs
    elsewhere = LoopReads(str(gone), sessionmaker.kw["bind"].dialect)
    assert elsewhere.rows(IDENTITY_AND_STATE, PARAMETERS) is None
    assert elsewhere.connection is None  # closed: the next read opens afresh
    assert not gone.exists()  # read-only: no empty database is made in its place
    settings = load_settings(env_file=None, BOT_TOKEN="123456789:AAEmulatorTokenForTheVmesteTestSuite")
    middleware = IdentityMiddleware(SimpleNamespace(texts={}), settings, storage=None, reads=elsewhere)  # type: ignore[arg-type]
    async with sessionmaker() as session:
        identity, through_session = await middleware.find(session, "telegram", 501, {"platform": "telegram"})
        assert through_session and identity is not None
        account = identity.account(session.sync_session)
    assert account.external_id == 501
    assert sorted(role.role for role in account.person.roles) == ["coordinator", "parent"]
