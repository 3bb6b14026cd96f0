"""Outer middlewares: one DB session per update (with replay protection), then who is writing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import LANGUAGES, Settings
from bot.content import Content
from bot.db.engine import close_session
from bot.db.loop_reads import LoopReads, read_rows
from bot.filters import in_private_chat
from bot.fsm import KNOWN_STATE, STATE_COLUMNS, KnownState, state_row_key, state_row_parameters
from bot.permissions import Actor
from bot.services.people import IDENTITY_ROWS, Identity, RoleName, grant_role
from bot.services.updates import (
    UPDATE_CLAIM,
    ClaimState,
    HandledIds,
    RecentUpdates,
    UpdateClaim,
    UpdateKey,
    UpdateSession,
    commit_writes,
    deferred_state_writes,
    handling,
    has_pending_changes,
    latest_processed,
)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DatabaseSessionMiddleware(BaseMiddleware):
    """Handles each update once, in its own session (bot.services.updates says how a replayed or
    concurrently re-sent update is recognised): a copy of an update being handled waits for it and
    is then acknowledged quietly. Commits when the handler succeeds, then runs what handlers put in
    `after_commit` (e.g. waking the delivery engine, which must see the committed rows).

    An update that only reads takes no write lock and commits no transaction of its own: its id is
    written with the other read-only updates' after it was handled. SQLite's one writer is kept by
    the engine (bot.db.engine), around the writing part of a transaction only."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.recent = RecentUpdates()
        self.handling: dict[UpdateKey, UpdateClaim] = {}  # the updates in the handler (or waiting for their id's write)
        self.handled_ids = HandledIds(sessionmaker, clock, may_record=self.may_record)
        self.loaded = False
        self.loading = asyncio.Lock()

    async def __call__(self, handler: Handler, update: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(update, Update):  # registered on dp.update: never, but the base class takes any event
            return await handler(update, data)
        platform = data["platform"] = data["channel"].name
        key = (platform, update.update_id)
        if not self.loaded:
            await self.load_recent()
        if not await self.recent.enter(key):
            return None
        handled = False
        try:
            handled, result = await self.handle(handler, update, data, key)
        finally:
            self.recent.leave(key, handled)
        return result

    async def load_recent(self) -> None:
        """The ids written before this process started: a replay after a restart is known without a query."""
        async with self.loading:
            if not self.loaded:
                async with self.sessionmaker() as session:
                    self.recent.remember(await latest_processed(session))
                self.loaded = True

    def may_record(self) -> int:
        """Updates in flight that have written nothing: each may yet record its id with HandledIds."""
        return sum(1 for claim in self.handling.values() if claim.state is ClaimState.unclaimed)

    async def handle(self, handler: Handler, update: Update, data: dict[str, Any], key: UpdateKey) -> tuple[bool, Any]:
        claim = self.handling[key] = UpdateClaim(key, at=data["clock"].now(), on_claimed=self.handled_ids.wake)
        try:
            return await self.handle_claimed(handler, update, data, claim)
        finally:
            del self.handling[key]
            self.handled_ids.wake()

    async def handle_claimed(self, handler: Handler, update: Update, data: dict[str, Any], claim: UpdateClaim) -> tuple[bool, Any]:
        after_commit: list[Callable[[], None]] = []
        session = self.sessionmaker(sync_session_class=UpdateSession)
        try:
            session.sync_session.info[UPDATE_CLAIM] = claim
            data.update(session=session, after_commit=after_commit)
            try:
                with handling(session):
                    result = await handler(update, data)
            except Exception:
                if claim.state is ClaimState.taken:  # another process had it: its writes stand, ours never happened
                    return True, None
                raise
            if claim.state is ClaimState.taken:
                return True, None
            await commit_writes(session)
            states = deferred_state_writes(session) if claim.state is ClaimState.unclaimed else []
        finally:
            await close_session(session)
        for callback in after_commit:
            callback()
        if claim.state is ClaimState.unclaimed:
            await self.handled_ids.record(claim.key, states)
        return True, result


async def end_read_transaction(session: AsyncSession) -> None:
    """Give the connection back to the pool if the update has read only, keeping what it loaded:
    the handler's replies then hold no connection, and its next statement takes one again."""
    claim: UpdateClaim | None = session.sync_session.info.get(UPDATE_CLAIM)
    if claim is not None and claim.state is ClaimState.unclaimed and session.in_transaction() and not has_pending_changes(session):
        await session.commit()  # nothing to write: expire_on_commit=False keeps the loaded rows


IDENTITY_AND_STATE = IDENTITY_ROWS.add_columns(*STATE_COLUMNS)
NO_STATE_ROW = ("", 0, 0, 0, "")  # the state is not kept in the table: the column reads no row
IDENTITY = "identity"  # in the middleware data: the update's Identity, or None


class IdentityMiddleware(BaseMiddleware):
    """Finds who is writing and the language to answer in: `actor` (bot.permissions) and `l10n`
    for every handler, the account's rows (`identity`) for OrmIdentity. Only in the person's
    private chat with the bot (bot.filters.chat_kind): group traffic reaches no personal feature,
    so it costs no lookup (the group tier looks a writer up in the rare case it answers). With the
    conversation state kept in the database, the same statement reads it (bot.fsm.KnownState)."""

    def __init__(self, content: Content, settings: Settings, storage: BaseStorage | None = None, reads: LoopReads | None = None) -> None:
        self.content = content
        self.settings = settings
        self.storage = storage
        self.reads = reads

    async def __call__(self, handler: Handler, update: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        platform, session = data["platform"], data["session"]
        private = in_private_chat(data.get("event_chat"), user)
        identity, connected = await self.find(session, platform, user.id, data) if user and private else (None, False)
        actor = Actor.of_identity(identity)
        if identity is not None and user is not None:
            listed_admin = (platform, user.id) in self.settings.admin_accounts
            actor = await self.update_account(session, identity, actor, listed_admin, data["clock"].now())
        language = identity.language if identity else self.guess_language(user)
        if connected:  # the session holds a pooled connection: give it back before the handler's calls
            await end_read_transaction(session)
        data.update({IDENTITY: identity, "actor": actor, "l10n": self.content.texts[language]})
        return await handler(update, data)

    async def find(self, session: AsyncSession, platform: str, user_id: int, data: dict[str, Any]) -> tuple[Identity | None, bool]:
        """The account's identity, and whether it was read through the session (which then holds a connection)."""
        row_key = state_row_key(self.storage, data) if self.storage is not None else None
        parameters = {"platform": platform, "external_id": user_id, **state_row_parameters(row_key or NO_STATE_ROW)}
        rows, through_session = await read_rows(self.reads, session, IDENTITY_AND_STATE, parameters)
        if not rows:
            return None, through_session
        if row_key is not None:
            data[KNOWN_STATE] = KnownState(row_key, *rows[0][-2:])
        return Identity(rows), through_session

    @staticmethod
    async def update_account(session: AsyncSession, identity: Identity, actor: Actor, listed_admin: bool, now: datetime) -> Actor:
        """What writing to the bot changes (rarely anything): they wrote again, so broadcasts reach
        them again; an ADMINS account linked since the start becomes admin. The actor as it is then."""
        grant = listed_admin and RoleName.admin not in actor.roles
        if not (identity.unreachable or grant):
            return actor
        account = identity.account(session.sync_session)
        if identity.unreachable:
            account.unreachable_since = None
        if grant:
            await grant_role(session, account.person, RoleName.admin, now=now)
        return Actor.of(account.person)

    def guess_language(self, user: User | None) -> str:
        code = (user.language_code or "").lower()[:2] if user else ""
        code = {"mo": "ro"}.get(code, code)
        return code if code in LANGUAGES else self.settings.default_language


class OrmIdentity(BaseMiddleware):
    """Inner middleware: the update's `account` and `person` as ORM objects in its session, mapped
    from the identity's rows only for a handler that takes them (one that writes, mostly); a
    screen that only reads takes the `actor` and costs no mapping. Runs after the filters, which
    therefore ask for the `actor`, never the person."""

    ORM_PARAMETERS = frozenset({"account", "person"})

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        callback: CallableObject = data["handler"]
        if callback.varkw or not self.ORM_PARAMETERS.isdisjoint(callback.params):
            identity: Identity | None = data.get(IDENTITY)
            account = identity.account(data["session"].sync_session) if identity is not None else None
            data.update(account=account, person=account.person if account else None)
        return await handler(event, data)
