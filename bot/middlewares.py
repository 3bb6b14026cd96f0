"""Outer middlewares: one DB session per update (with replay protection), then who is writing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import LANGUAGES, Settings
from bot.content import Content
from bot.filters import in_private_chat
from bot.services.people import RoleName, find_account, grant_role, role_names
from bot.services.updates import claim

Handler = Callable[[Update, dict[str, Any]], Awaitable[Any]]


class DatabaseSessionMiddleware(BaseMiddleware):
    """Opens the update's session and claims the update's id in it first, so of a replayed or
    concurrently re-sent update exactly one copy is handled and the others are acknowledged quietly;
    commits when the handler succeeds, then runs what handlers put in `after_commit` (e.g. waking
    the delivery engine, which must see the committed rows)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        # SQLite has one writer, and the claim makes each update hold the write lock from its first
        # statement: updates queue here in order instead of sleeping in SQLite's busy handler.
        sqlite = sessionmaker.kw["bind"].dialect.name == "sqlite"
        self.one_writer: AbstractAsyncContextManager[Any] = asyncio.Lock() if sqlite else nullcontext()

    async def __call__(self, handler: Handler, update: Update, data: dict[str, Any]) -> Any:
        platform = data["platform"] = data["channel"].name
        after_commit: list[Callable[[], None]] = []
        async with self.one_writer, self.sessionmaker() as session:
            if not await claim(session, platform, update.update_id, data["clock"].now()):
                return None
            data.update(session=session, after_commit=after_commit)
            result = await handler(update, data)
            await session.commit()
        for callback in after_commit:
            callback()
        return result


class IdentityMiddleware(BaseMiddleware):
    """Finds the account and person behind the update and the language to answer in. Only in the
    person's private chat with the bot (bot.filters.chat_kind): group traffic reaches no personal
    feature, so it costs no lookup (the group tier looks a writer up in the rare case it answers)."""

    def __init__(self, content: Content, settings: Settings) -> None:
        self.content = content
        self.settings = settings

    async def __call__(self, handler: Handler, update: Update, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        platform, session = data["platform"], data["session"]
        private = in_private_chat(data.get("event_chat"), user)
        account = await find_account(session, platform, user.id) if user and private else None
        person = account.person if account else None
        if account is not None and account.unreachable_since is not None:
            account.unreachable_since = None  # they wrote again: broadcasts reach them again
        if person and (platform, user.id) in self.settings.admin_accounts:  # an ADMINS account linked since the start
            await grant_role(session, person, RoleName.admin, now=data["clock"].now())
        language = person.language if person else self.guess_language(user)
        data.update(account=account, person=person, roles=frozenset(role_names(person)) if person else frozenset(), l10n=self.content.texts[language])
        return await handler(update, data)

    def guess_language(self, user: User | None) -> str:
        code = (user.language_code or "").lower()[:2] if user else ""
        code = {"mo": "ro"}.get(code, code)
        return code if code in LANGUAGES else self.settings.default_language
