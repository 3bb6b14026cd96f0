"""Conversation state (aiogram's FSM) that survives a restart: a table in the database by default,
Redis when REDIS_URL is set. Every key names the platform: a Telegram user 123 and a VK user 123
are two people, which aiogram's own key (bot, chat, user) would merge.

The state is read once per update (one primary-key read, or one Redis GET), by
ConversationMiddleware, which runs after the update's database session is open; in a registered
person's private chat the table's row is read in the identity's statement instead (`KnownState`),
which costs no statement of its own. The table storage
reads and writes through that session, so a state change commits with the update's other rows,
and on SQLite it never waits for the write lock the update itself holds. Outside an update (a
scheduler job, a test) the table storage uses a session of its own.

Within a session the storage keeps the row it read (or that there is none), so the update's
further reads cost no statement, and its changes are written once: with the update's commit, or,
when the state is all the update changed, with its id after the reply (bot.services.updates).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import DEFAULT_DESTINY, BaseStorage, KeyBuilder, StateType, StorageKey
from aiogram.fsm.storage.memory import DisabledEventIsolation
from aiogram.types import TelegramObject
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import make_transient_to_detached

from bot.config import ConfigError
from bot.db.models import ConversationState
from bot.services.updates import update_session

KEY_PREFIX = "fsm"  # Redis keys: fsm:<platform>:<user>:<chat>[:<thread>]:<destiny>:<part>
# A question left unanswered this long is forgotten in Redis (keys name messenger ids: not kept forever)
REDIS_TTL = timedelta(days=30)


@dataclass(frozen=True)
class PlatformKey(StorageKey):
    """aiogram's key plus the platform the user is on."""

    platform: str = ""


def platform_of(key: StorageKey) -> str:
    if not isinstance(key, PlatformKey) or not key.platform:
        raise TypeError("conversation state needs the platform in its key: build it with bot.fsm.conversation()")
    return key.platform


def conversation(storage: BaseStorage, platform: str, bot_id: int, chat_id: int, user_id: int) -> FSMContext:
    """A person's conversation state outside an update (a job, a test)."""
    return FSMContext(storage, PlatformKey(bot_id=bot_id, chat_id=chat_id, user_id=user_id, platform=platform))


KNOWN_STATE = "known_state"  # in the middleware data: a KnownState
ROWS = "conversation_rows"  # in a session's info: DatabaseStorage's rows


@dataclass(frozen=True)
class KnownState:
    """The state of the update's conversation, read by an earlier middleware in the update's session."""

    row_key: tuple[str, int, int, int, str]
    state: str | None
    data: dict[str, Any] | None  # None: there is no row


def _state_row_column(column: Any) -> Any:
    return (
        select(column)
        .where(
            ConversationState.platform == bindparam("state_platform"),
            ConversationState.user_id == bindparam("state_user_id"),
            ConversationState.chat_id == bindparam("state_chat_id"),
            ConversationState.thread_id == bindparam("state_thread_id"),
            ConversationState.destiny == bindparam("state_destiny"),
        )
        .scalar_subquery()
    )


# The state and data, as two columns of another query in the update's session (the identity's):
# `state_row_parameters` fills them in.
STATE_COLUMNS = (_state_row_column(ConversationState.state), _state_row_column(ConversationState.data))


def state_row_key(storage: BaseStorage, data: dict[str, Any]) -> tuple[str, int, int, int, str] | None:
    """The table row the update's conversation state is in (None: not kept in the table, or no conversation)."""
    context = data.get("event_context")
    if not isinstance(storage, DatabaseStorage) or context is None or context.chat_id is None or context.user_id is None:
        return None
    return data["platform"], context.user_id, context.chat_id, context.thread_id or 0, DEFAULT_DESTINY


def state_row_parameters(row_key: tuple[str, int, int, int, str]) -> dict[str, Any]:
    platform, user_id, chat_id, thread_id, destiny = row_key
    return {"state_platform": platform, "state_user_id": user_id, "state_chat_id": chat_id, "state_thread_id": thread_id, "state_destiny": destiny}


class ConversationMiddleware(FSMContextMiddleware):
    """aiogram's FSM middleware with the platform in the key. Registered after DatabaseSessionMiddleware (data["platform"], data["session"]) and
    IdentityMiddleware, whose statement may have read the state already (KNOWN_STATE)."""

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], event: TelegramObject, data: dict[str, Any]) -> Any:
        data["fsm_storage"] = self.storage
        known: KnownState | None = data.pop(KNOWN_STATE, None)
        context = self.resolve_event_context(data["bot"], data)
        if context is None:
            return await handler(event, data)
        # no lock per key (events_isolation): each platform's feeder hands a chat's updates over in order
        state = FSMContext(self.storage, PlatformKey(**vars(context.key), platform=data["platform"]))
        session = data.get("session")
        if known is not None and session is not None and isinstance(self.storage, DatabaseStorage) and known.row_key == self.storage.primary_key(state.key):
            self.storage.remember(session, known)
            raw_state = known.state
        else:
            raw_state = await state.get_state()
        data.update(state=state, raw_state=raw_state)
        return await handler(event, data)


class DatabaseStorage(BaseStorage):
    """One row per (platform, user, chat, thread, destiny); no row means no state and no data."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """The update's session (committed with the update), else one of our own, committed here."""
        if (current := update_session()) is not None:
            yield current
            return
        async with self.sessionmaker() as own:
            yield own
            await own.commit()

    @staticmethod
    def primary_key(key: StorageKey) -> tuple[str, int, int, int, str]:
        return platform_of(key), key.user_id, key.chat_id, key.thread_id or 0, key.destiny

    def remember(self, session: AsyncSession, known: KnownState) -> None:
        """The row as an earlier statement of the session read it: the update reads it no more."""
        rows = self.rows_of(session)
        if known.row_key in rows:
            return
        if known.data is None:
            rows[known.row_key] = None
            return
        platform, user_id, chat_id, thread_id, destiny = known.row_key
        row = ConversationState(platform=platform, user_id=user_id, chat_id=chat_id, thread_id=thread_id, destiny=destiny, state=known.state, data=known.data)
        make_transient_to_detached(row)  # as if loaded: the session writes only what changes
        session.add(row)
        rows[known.row_key] = row

    @staticmethod
    def rows_of(session: AsyncSession) -> dict[tuple[str, int, int, int, str], ConversationState | None]:
        """The rows this session has read or written, by key (None: there is none)."""
        return session.info.setdefault(ROWS, {})

    async def row(self, session: AsyncSession, key: StorageKey) -> ConversationState | None:
        primary_key = self.primary_key(key)
        rows = self.rows_of(session)
        if primary_key in rows:
            row = rows[primary_key]
            if row is None or row in session:  # not deleted by a statement of the update's (people.forget)
                return row
        row = rows[primary_key] = await session.get(ConversationState, primary_key)
        return row

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.session() as session:
            row = await self.row(session, key)
            return row.state if row else None

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.session() as session:
            row = await self.row(session, key)
            return dict(row.data) if row else {}

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = state.state if isinstance(state, State) else state
        await self.change(key, state=name)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self.change(key, data=dict(data))

    async def change(self, key: StorageKey, **values: Any) -> None:
        async with self.session() as session:
            row = await self.row(session, key)
            if unchanged(row, values):  # e.g. clearing where there is nothing
                return
            if row is None:
                platform, user_id, chat_id, thread_id, destiny = self.primary_key(key)
                row = ConversationState(platform=platform, user_id=user_id, chat_id=chat_id, thread_id=thread_id, destiny=destiny, state=None, data={})
                session.add(row)
            for name, value in values.items():
                setattr(row, name, value)
            self.rows_of(session)[self.primary_key(key)] = row
            if row.state is None and not row.data:  # nothing left to remember: no row
                if row in session.new:
                    session.expunge(row)
                else:  # the session's own delete: the row has no relationship to load, so no statement runs
                    session.sync_session.delete(row)
                self.rows_of(session)[self.primary_key(key)] = None

    async def close(self) -> None:
        pass


def unchanged(row: ConversationState | None, values: Mapping[str, Any]) -> bool:
    if row is None:
        return not any(values.values())
    return all(getattr(row, name) == value for name, value in values.items())


class PlatformKeyBuilder(KeyBuilder):
    """Redis keys with the platform; the user first, so one SCAN pattern finds all of a person's keys."""

    def build(self, key: StorageKey, part: Literal["data", "state", "lock"] | None = None) -> str:
        parts = [KEY_PREFIX, platform_of(key), str(key.user_id), str(key.chat_id)]
        if key.thread_id:
            parts.append(str(key.thread_id))
        parts.append(key.destiny or DEFAULT_DESTINY)
        if part:
            parts.append(part)
        return ":".join(parts)


async def forget_conversations(storage: BaseStorage, accounts: Iterable[tuple[str, int]]) -> None:
    """Delete every conversation state of these (platform, user id) accounts ("delete my data").
    The database's rows go with the person's other rows (people.forget); Redis keys are found by
    the user part of their name."""
    redis = getattr(storage, "redis", None)  # aiogram's RedisStorage
    if redis is None:
        return
    for platform, user_id in accounts:
        keys = [key async for key in redis.scan_iter(match=f"{KEY_PREFIX}:{platform}:{user_id}:*")]
        if keys:
            await redis.delete(*keys)


def build_storage(redis_url: str | None, sessionmaker: async_sessionmaker[AsyncSession]) -> BaseStorage:
    if redis_url:  # imported only then: redis costs half a second of start-up
        from aiogram.fsm.storage.redis import RedisStorage
        from redis.asyncio import Redis

        return RedisStorage(Redis.from_url(redis_url), key_builder=PlatformKeyBuilder(), state_ttl=REDIS_TTL, data_ttl=REDIS_TTL)
    return DatabaseStorage(sessionmaker)


async def check_reachable(storage: BaseStorage) -> None:
    """A Redis that does not answer is a config error at start, in one line, not an apology per update."""
    redis = getattr(storage, "redis", None)
    if redis is None:
        return
    from redis.exceptions import RedisError

    try:
        await redis.ping()
    except (RedisError, OSError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(
            f"config error: REDIS_URL: cannot reach Redis ({reason}) — check the host, port and password in REDIS_URL, and that the server runs"
        ) from None


def build_middleware(storage: BaseStorage) -> ConversationMiddleware:
    return ConversationMiddleware(storage, DisabledEventIsolation())  # ConversationMiddleware takes no lock
