"""The ids of read-only updates (bot.services.updates.HandledIds): a poll's batch of updates costs
one write, not one per few updates; an update still in flight holds the others' ids back no longer
than LINGER_SECONDS; every id is in the database before its update is done."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from sqlalchemy import select

from bot.clock import ShiftedClock
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import ConversationState, ProcessedUpdate
from bot.services.updates import HandledIds

pytestmark = pytest.mark.both_databases  # the batch's INSERT differs by dialect


class CountedIds(HandledIds):
    """HandledIds that notes the size of each write."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.writes: list[int] = []

    async def _write(self, batch) -> None:
        self.writes.append(len(batch.keys))
        await super()._write(batch)


@pytest.fixture
async def sessionmaker(database_url):
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


class Updates:
    """Updates in flight, counted as DatabaseSessionMiddleware.may_record counts them."""

    def __init__(self, sessionmaker) -> None:
        self.recording = 0  # updates in flight that have written nothing
        self.ids = CountedIds(sessionmaker, ShiftedClock(), may_record=lambda: self.recording)

    async def handle(self, update_id: int, seconds: float = 0.0, writes: bool = False) -> None:
        self.recording += 1
        counted = True
        try:
            if writes:  # its first write claims its id in its own transaction: it will record none
                self.recording, counted = self.recording - 1, False
                self.ids.wake()
            await asyncio.sleep(seconds)  # the handler
            if not writes:
                await self.ids.record(("telegram", update_id))
        finally:
            if counted:
                self.recording -= 1
            self.ids.wake()


async def written(sessionmaker) -> set[int]:
    async with sessionmaker() as session:
        return set(await session.scalars(select(ProcessedUpdate.update_id)))


async def test_a_batch_of_updates_finishing_at_different_times_costs_one_write(sessionmaker):
    updates = Updates(sessionmaker)
    await asyncio.gather(*(updates.handle(update_id, seconds=update_id / 1000) for update_id in range(1, 51)))
    assert updates.ids.writes == [50]
    assert await written(sessionmaker) == set(range(1, 51))


async def test_an_update_that_writes_its_own_id_is_not_waited_for(sessionmaker):
    updates = Updates(sessionmaker)
    writer = asyncio.create_task(updates.handle(3, seconds=5, writes=True))  # e.g. a long upload after its first write
    started = time.monotonic()
    await asyncio.gather(updates.handle(1), updates.handle(2))
    assert time.monotonic() - started < HandledIds.LINGER_SECONDS
    assert updates.ids.writes == [2] and await written(sessionmaker) == {1, 2}
    writer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await writer


async def test_a_slow_update_holds_the_others_ids_back_no_longer_than_the_linger(sessionmaker):
    updates = Updates(sessionmaker)
    slow = asyncio.create_task(updates.handle(99, seconds=5))
    started = time.monotonic()
    await asyncio.gather(*(updates.handle(update_id) for update_id in range(1, 11)))
    waited = time.monotonic() - started
    assert HandledIds.LINGER_SECONDS <= waited < HandledIds.LINGER_SECONDS + 1
    assert await written(sessionmaker) == set(range(1, 11))  # written before their updates were done
    slow.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await slow


async def test_a_single_update_is_written_at_once(sessionmaker):
    updates = Updates(sessionmaker)
    started = time.monotonic()
    await updates.handle(7)
    assert time.monotonic() - started < HandledIds.LINGER_SECONDS
    assert updates.ids.writes == [1] and await written(sessionmaker) == {7}


async def test_conversation_states_changed_by_updates_that_wrote_nothing_else_go_with_their_ids(sessionmaker):
    """A step of a dialogue (bot.services.updates.deferred_state_writes): kept, changed or dropped in the ids' batch."""
    key = {"platform": "telegram", "chat_id": 7, "thread_id": 0, "destiny": "default"}
    async with sessionmaker() as session:
        session.add(ConversationState(**key, user_id=2, state="Old:state", data={"old": True}))
        await session.commit()
    ids = CountedIds(sessionmaker, ShiftedClock(), may_record=lambda: 0)
    kept = ({**key, "user_id": 1, "state": "Asking:describing", "data": {"pieces": [{"kind": "text", "text": "hello"}]}}, False)
    await ids.record(("telegram", 1), [kept])
    changed = ({**key, "user_id": 1, "state": "Asking:collecting", "data": {"pieces": []}}, False)
    dropped = ({**key, "user_id": 2, "state": None, "data": {}}, True)
    await asyncio.gather(ids.record(("telegram", 2), [changed]), ids.record(("telegram", 3), [dropped]))
    async with sessionmaker() as session:
        rows = {row.user_id: (row.state, row.data) for row in await session.scalars(select(ConversationState))}
    assert rows == {1: ("Asking:collecting", {"pieces": []})}
    assert await written(sessionmaker) == {1, 2, 3}
    assert ids.writes == [1, 2]
