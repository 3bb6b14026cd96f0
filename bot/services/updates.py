"""Processed update ids: a replayed update (after a crash, or a webhook retry) is handled once.

An update is claimed in two places. In this process, `RecentUpdates` knows the ids handled lately
and those in flight: a copy that arrives while the first is being handled waits for it, then is
dropped (or, if the first failed, handled in its place). In the database, `processed_updates`
keeps them across restarts: an update that writes inserts its id in the transaction of its first
write (`claim`, so its writes and its id commit together, and a copy another process handles
meanwhile finds the id there); an update that only reads has its id written after it was handled,
in one batch with the others finished meanwhile (`HandledIds`), and costs no write transaction of
its own. At start, the ids written lately are loaded into `RecentUpdates`.

What an update wrote commits before the bot tells anyone anything (`CommitBeforeTelling`, a
request middleware of every bot): a reply never announces what might yet roll back, a copy of the
update handled elsewhere stops at its claim before it answers, and on SQLite the one writer's turn
is never held across a call to the messenger. One exception: an update that changed nothing but
its conversation state (a step of a dialogue: the question typed so far) writes it with its id, in
HandledIds' batch, after the reply (`deferred_state_writes`). A crash in between loses that step,
as it would the update's id: the person's next message finds the dialogue one step back.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from sqlalchemy import Connection, CursorResult, Executable, Table, bindparam, delete, event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

from bot.clock import Clock
from bot.db.models import ConversationState, ProcessedUpdate
from bot.db.upsert import DIALECT_INSERTS

log = logging.getLogger(__name__)
UpdateKey = tuple[str, int]  # platform, update id
RECENT_IDS = 20_000  # far more than a poll batch or a webhook's retries in flight



def claim_in(executor: Session | Connection, key: UpdateKey, at: datetime) -> bool:
    """`claim` for a sync session (called from inside a flush or statement of the update's own
    async session, which runs in SQLAlchemy's greenlet), or a connection (bot.db.loop_writes)."""
    platform, update_id = key
    statement = insert_ids(dialect_of(executor))
    result = executor.execute(statement, {"platform": platform, "update_id": update_id, "processed_at": at})
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def dialect_of(executor: Session | Connection) -> str:
    return executor.dialect.name if isinstance(executor, Connection) else executor.get_bind().dialect.name


@functools.cache
def insert_ids(dialect: str) -> Executable:
    """Built once: on the table, not the model (no ORM bulk machinery), and its cache key computed
    once (a statement built anew costs SQLAlchemy more than running it)."""
    insert = DIALECT_INSERTS[dialect](cast(Table, ProcessedUpdate.__table__))
    return insert.on_conflict_do_nothing(index_elements=["platform", "update_id"])


class ClaimState(StrEnum):
    unclaimed = "unclaimed"  # nothing written yet
    claiming = "claiming"
    claimed = "claimed"  # the id is inserted in this transaction
    taken = "taken"  # another transaction had inserted it: this copy must write nothing


class AlreadyHandled(Exception):
    """Raised at an update's first write when another copy of it had claimed its id."""


@dataclass
class UpdateClaim:
    key: UpdateKey
    at: datetime  # when the update came in, by the app's clock
    state: ClaimState = ClaimState.unclaimed
    on_claimed: Callable[[], None] | None = None  # the update wrote its id itself (or found it taken): it will record none

    def take(self, executor: Session | Connection) -> None:
        """Insert the update's id in the executor's transaction; AlreadyHandled if another copy had it."""
        self.state = ClaimState.claiming  # the claim's own statement passes by
        self.state = ClaimState.claimed if claim_in(executor, self.key, self.at) else ClaimState.taken
        if self.on_claimed is not None:
            self.on_claimed()
        if self.state is ClaimState.taken:
            raise AlreadyHandled


class UpdateSession(Session):
    """The session of one update: before its first write (a flush, or an INSERT, UPDATE or DELETE
    statement) it claims the update's id in the same transaction."""


def claim_first(session: Session) -> None:
    update = session.info.get(UPDATE_CLAIM)
    if update is not None and update.state is ClaimState.unclaimed:
        update.take(session)


def _claim_before_flush(session: Session, _flush_context, _instances) -> None:
    claim_first(session)


def _claim_before_writing(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        claim_first(state.session)


UPDATE_CLAIM = "update_claim"  # in UpdateSession.info
# The session of the update being handled, and the task handling it (a task it starts copies the
# context, but not the session's ownership)
_in_hand: ContextVar[tuple[AsyncSession, asyncio.Task[Any] | None] | None] = ContextVar("update_in_hand", default=None)


@contextlib.contextmanager
def handling(session: AsyncSession) -> Iterator[None]:
    """The update's session, for the conversation storage and for commit_before_telling."""
    token = _in_hand.set((session, asyncio.current_task()))
    try:
        yield
    finally:
        _in_hand.reset(token)


def update_session() -> AsyncSession | None:
    """The session of the update this task handles, if it handles one."""
    in_hand = _in_hand.get()
    return in_hand[0] if in_hand is not None and in_hand[1] is asyncio.current_task() else None


def has_pending_changes(session: AsyncSession) -> bool:
    return bool(session.new or session.dirty or session.deleted)


def changes_only_conversation_states(session: AsyncSession) -> bool:
    return all(isinstance(row, ConversationState) for row in (*session.new, *session.dirty, *session.deleted))


async def commit_writes(session: AsyncSession) -> None:
    """Commit what the update wrote so far: nothing if it only read, or changed only conversation
    states without writing anything else (those go with its id: deferred_state_writes)."""
    claim: UpdateClaim | None = session.sync_session.info.get(UPDATE_CLAIM)
    wrote = claim is not None and claim.state is ClaimState.claimed and session.in_transaction()
    if wrote or (has_pending_changes(session) and not changes_only_conversation_states(session)):
        await session.commit()  # expire_on_commit=False: the handler's rows stay loaded


StateWrite = tuple[dict[str, Any], bool]  # a conversation_states row's columns, and whether it is to be deleted


def deferred_state_writes(session: AsyncSession) -> list[StateWrite]:
    """The conversation states an update that wrote nothing else changed, taken out of its session
    for HandledIds to write with the update's id."""
    sync = session.sync_session
    changed = [(row, False) for row in (*sync.new, *sync.dirty) if sync.is_modified(row)] + [(row, True) for row in sync.deleted]
    writes = [(_columns(row), deleted) for row, deleted in changed]
    for row in (*sync.new, *sync.dirty, *sync.deleted):
        sync.expunge(row)
    return writes


_STATE_KEY = ("platform", "user_id", "chat_id", "thread_id", "destiny")


def _columns(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in (*_STATE_KEY, "state", "data")}


class CommitBeforeTelling(BaseRequestMiddleware):
    async def __call__(self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]) -> Response[Any]:
        if (session := update_session()) is not None:
            await commit_writes(session)
        return await make_request(bot, method)
event.listen(UpdateSession, "before_flush", _claim_before_flush)
event.listen(UpdateSession, "do_orm_execute", _claim_before_writing)


async def prune_processed(session: AsyncSession, older_than: timedelta, now: datetime) -> int:
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < now - older_than))
    assert isinstance(result, CursorResult)
    return result.rowcount


async def latest_processed(session: AsyncSession, limit: int = RECENT_IDS) -> list[UpdateKey]:
    """The ids written lately, oldest first."""
    rows = await session.execute(select(ProcessedUpdate.platform, ProcessedUpdate.update_id).order_by(ProcessedUpdate.processed_at.desc()).limit(limit))
    return [(platform, update_id) for platform, update_id in reversed(rows.all())]


class RecentUpdates:
    """The update ids this process handled lately (at most `size`, the oldest forgotten first) and
    those it is handling now."""

    def __init__(self, size: int = RECENT_IDS) -> None:
        self.size = size
        self.handled: OrderedDict[UpdateKey, None] = OrderedDict()
        self.in_flight: dict[UpdateKey, asyncio.Future[None]] = {}

    def remember(self, keys: list[UpdateKey]) -> None:
        for key in keys:
            self.handled[key] = None
        self._trim()

    async def enter(self, key: UpdateKey) -> bool:
        """True: handle it (and call `leave` after); False: it was handled already."""
        while key in self.in_flight:
            await asyncio.shield(self.in_flight[key])  # a copy: the first one decides
        if key in self.handled:
            return False
        self.in_flight[key] = asyncio.get_running_loop().create_future()
        return True

    def leave(self, key: UpdateKey, handled: bool) -> None:
        """`handled` False: it failed, and a copy (or a replay) may try again."""
        if handled:
            self.handled[key] = None
            self._trim()
        self.in_flight.pop(key).set_result(None)

    def _trim(self) -> None:
        while len(self.handled) > self.size:
            self.handled.popitem(last=False)


@dataclass
class _Batch:
    keys: list[UpdateKey] = field(default_factory=list)
    states: list[StateWrite] = field(default_factory=list)
    written: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


_STATES = cast(Table, ConversationState.__table__)


def _keep_states(insert: Callable[[Table], Any]) -> Executable:
    statement = insert(_STATES)
    return statement.on_conflict_do_update(index_elements=list(_STATE_KEY), set_={name: statement.excluded[name] for name in ("state", "data", "updated_at")})


_STATE_STATEMENTS: dict[str, Callable[[Callable[[Table], Any]], Executable]] = {
    "keep_states": _keep_states,
    "drop_states": lambda _insert: delete(_STATES).where(*(_STATES.c[name] == bindparam(f"key_{name}") for name in _STATE_KEY)),
}


@functools.cache
def _state_statement(dialect: str, name: str) -> Executable:
    """Built once (a statement with a VALUES row per state would be compiled again for every batch
    size), on the table, not the model: no ORM bulk machinery."""
    return _STATE_STATEMENTS[name](DIALECT_INSERTS[dialect])


def write_states(executor: Session | Connection, states: list[StateWrite], now: datetime) -> None:
    """The conversation states deferred_state_writes took out of an update's session, each kept or deleted."""
    dialect = dialect_of(executor)
    kept = [{**columns, "updated_at": now} for columns, deleted in states if not deleted]
    gone = [{f"key_{name}": columns[name] for name in _STATE_KEY} for columns, deleted in states if deleted]
    if kept:
        executor.execute(_state_statement(dialect, "keep_states"), kept)
    if gone:
        executor.execute(_state_statement(dialect, "drop_states"), gone)


class HandledIds:
    """Writes the ids of updates that wrote nothing themselves: each `record` waits until its id is
    committed. A write waits until every update in flight that may still record an id (`may_record`
    counts them: being handled, having written nothing) has recorded it, at most LINGER_SECONDS: so
    a poll's batch of updates costs one write, not one every few updates, each holding the batch's
    last replies (and so the next poll) behind the database."""

    LINGER_SECONDS = 0.1  # how long a finished update's id may wait for a slower one in flight

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, may_record: Callable[[], int]) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.may_record = may_record
        self.next: _Batch | None = None
        self.writer: asyncio.Task[None] | None = None
        self.changed = asyncio.Event()  # what may_record counts may have changed

    async def record(self, key: UpdateKey, states: list[StateWrite] | None = None) -> None:
        """Write the update's id, and the conversation states it changed (deferred_state_writes)."""
        if self.next is None:
            self.next = _Batch()
        batch = self.next
        batch.keys.append(key)
        batch.states.extend(states or ())
        self.wake()
        if self.writer is None:
            self.writer = asyncio.create_task(self._write_batches())
        await asyncio.shield(batch.written)

    def wake(self) -> None:
        """An update in flight recorded its id, wrote its own, or is done: look again at who is left to wait for."""
        if self.writer is not None:
            self.changed.set()

    async def _write_batches(self) -> None:
        try:
            while self.next is not None:
                await self._gathered()
                batch, self.next = self.next, None
                try:
                    await self._write(batch)
                finally:
                    batch.written.set_result(None)
        finally:
            self.writer = None
            if self.next is not None:  # cancelled (shutting down): nobody waits for a write that will not come
                self.next.written.set_result(None)
                self.next = None

    async def _gathered(self) -> None:
        """Until every update that may record an id waits in the next batch, or LINGER_SECONDS passed."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.LINGER_SECONDS):
                while self.next is not None and len(self.next.keys) < self.may_record():
                    self.changed.clear()
                    await self.changed.wait()

    async def _write(self, batch: _Batch) -> None:
        """Best effort: the updates were handled; a failed write costs the protection against a
        replay of these ids after a restart (this process still knows them), and the dialogue steps
        of their conversation states (logged)."""
        try:
            async with self.sessionmaker() as session:
                now = self.clock.now()
                ids = [{"platform": platform, "update_id": update_id, "processed_at": now} for platform, update_id in batch.keys]
                await session.execute(insert_ids(session.get_bind().dialect.name), ids)  # executemany: one trip to the database
                if batch.states:
                    await session.run_sync(write_states, batch.states, now)
                await session.commit()
        except Exception:
            log.exception("writing %d handled update ids and %d conversation states failed", len(batch.keys), len(batch.states))
