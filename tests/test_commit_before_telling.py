"""What an update wrote is committed before the bot says anything (bot.services.updates.CommitBeforeTelling):
a reply never announces a row that could still roll back. A dialogue step that changed only the
conversation state is the exception: it goes with the update's id, after the reply."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import ConversationState, Person
from bot.services.updates import UPDATE_CLAIM, CommitBeforeTelling, UpdateClaim, UpdateSession, deferred_state_writes, handling

pytestmark = pytest.mark.both_databases

STATE_KEY = {"platform": "telegram", "user_id": 5, "chat_id": 5, "thread_id": 0, "destiny": "default"}


@pytest.fixture
async def sessionmaker(database_url):
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


def update_session(sessionmaker, update_id: int = 1):
    session = sessionmaker(sync_session_class=UpdateSession)
    session.sync_session.info[UPDATE_CLAIM] = UpdateClaim(("telegram", update_id), at=datetime.now(UTC))
    return session


async def counted(sessionmaker, model) -> int:
    async with sessionmaker() as other:
        return await other.scalar(select(func.count()).select_from(model))


async def tell(sessionmaker, model) -> list[int]:
    """A call to the messenger, which notes how many `model` rows another session sees at that moment."""
    seen: list[int] = []

    async def make_request(_bot, _method):
        seen.append(await counted(sessionmaker, model))
        return "sent"

    assert await CommitBeforeTelling()(make_request, None, None) == "sent"
    return seen


async def test_rows_an_update_wrote_are_committed_before_the_reply(sessionmaker):
    session = update_session(sessionmaker)
    try:
        with handling(session):
            session.add(Person(language="en"))
            assert await tell(sessionmaker, Person) == [1]
            assert await tell(sessionmaker, Person) == [1]  # nothing more to commit: no empty transaction
    finally:
        await session.close()


async def test_a_change_of_the_conversation_state_alone_waits_for_the_update_id(sessionmaker):
    session = update_session(sessionmaker)
    try:
        with handling(session):
            session.add(ConversationState(**STATE_KEY, state="Asking:describing", data={"specialty": "speech"}))
            assert await tell(sessionmaker, ConversationState) == [0]
        writes = deferred_state_writes(session)
    finally:
        await session.close()
    assert writes == [({**STATE_KEY, "state": "Asking:describing", "data": {"specialty": "speech"}}, False)]


async def test_a_task_the_update_started_does_not_commit_its_session(sessionmaker):
    session = update_session(sessionmaker)
    try:
        with handling(session):
            session.add(Person(language="en"))
            seen = await asyncio.create_task(tell(sessionmaker, Person))  # copies the context, not the session
            assert seen == [0]
    finally:
        await session.close()
