"""Outer middlewares: one DB session per update (with replay protection), then who is writing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import LANGUAGES, Settings
from bot.content import Content
from bot.services.people import find_account, grant_role, role_names
from bot.services.updates import mark_processed, was_processed

Handler = Callable[[Update, dict[str, Any]], Awaitable[Any]]


class DatabaseSessionMiddleware(BaseMiddleware):
    """Opens the update's session, skips an update seen before, commits when the handler succeeds."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, update: Update, data: dict[str, Any]) -> Any:
        platform = data["platform"] = data["channel"].name
        async with self.sessionmaker() as session:
            if await was_processed(session, platform, update.update_id):
                return None
            data["session"] = session
            result = await handler(update, data)
            mark_processed(session, platform, update.update_id)
            await session.commit()
            return result


class IdentityMiddleware(BaseMiddleware):
    """Finds the account and person behind the update and the language to answer in."""

    def __init__(self, content: Content, settings: Settings) -> None:
        self.content = content
        self.settings = settings

    async def __call__(self, handler: Handler, update: Update, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        platform, session = data["platform"], data["session"]
        account = await find_account(session, platform, user.id) if user else None
        person = account.person if account else None
        if account is not None and account.unreachable_since is not None:
            account.unreachable_since = None  # they wrote again: broadcasts reach them again
        if person and (platform, user.id) in self.settings.admin_accounts:  # an ADMINS account linked since the start
            await grant_role(session, person, "admin")
        language = person.language if person else self.guess_language(user)
        data.update(account=account, person=person, roles=frozenset(role_names(person)) if person else frozenset(), l10n=self.content.texts[language])
        return await handler(update, data)

    def guess_language(self, user: User | None) -> str:
        code = (user.language_code or "").lower()[:2] if user else ""
        code = {"mo": "ro"}.get(code, code)
        return code if code in LANGUAGES else self.settings.default_language
