"""The parent chats' minute: the activity counted in memory is added to its days' rows, newcomers
are no longer new after CHAT_NEWCOMER_HOURS, and the welcomes whose time is up are removed from the
groups (their times are rows: a restart keeps them)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat_content import ThemedChat
from bot.clock import Clock
from bot.config import Settings
from bot.content import Content, Texts
from bot.db.models import Role
from bot.platforms import CHANNELS
from bot.services import chats, office_hours
from bot.services.chat_activity import ActivityCounter
from bot.services.chats import NEEDED_RIGHTS
from bot.services.people import RoleName
from bot.services.state import get_state, set_state
from handlers.ui import tell_roles

log = logging.getLogger(__name__)
STALE = timedelta(days=7)  # reports nobody acted on, requests of people who never registered


async def tidy_chats(
    sessionmaker: async_sessionmaker[AsyncSession], bots: Mapping[str, Bot], counter: ActivityCounter, clock: Clock, newcomer_hours: int = 24
) -> int:
    """Writes the counts; forgets newcomers once they are not new; removes the due welcomes; how many were removed."""
    async with sessionmaker() as session:
        await counter.flush(session)
        await session.commit()  # the counts first: nothing after this can lose them
    async with sessionmaker() as session:
        await chats.forget_old_newcomers(session, clock.now() - timedelta(hours=newcomer_hours))
        await chats.forget_stale(session, clock.now() - STALE)
        due = await chats.due_cleanups(session, bots, clock.now())
        for cleanup in due:
            await session.delete(cleanup)
        await session.commit()  # taken: another instance's tick does not try them again
    removed = 0
    for cleanup in due:
        try:
            await bots[cleanup.platform].delete_message(cleanup.chat_id, int(cleanup.message_id))
            removed += 1
        except TelegramAPIError as error:  # gone already, or the bot lost its rights: nothing to keep trying
            log.info("a welcome could not be removed from a parent chat (%s)", type(error).__name__)
    return removed


RIGHTS_KEY = "chat_rights:{chat}"


async def check_rights(sessionmaker: async_sessionmaker[AsyncSession], bots: Mapping[str, Bot], content: Content) -> int:
    """Each parent chat where the messenger tells a bot its rights (Telegram): what is missing goes to
    the coordinators, named right by right, once each time it changes. How many chats lack something."""
    lacking = 0
    for chat in content.chats:
        bot = bots.get(chat.platform)
        if not chat.connected or bot is None or not CHANNELS[chat.platform].tells_rights:
            continue
        try:
            member = await bot.get_chat_member(chat.chat_id, bot.id)
        except TelegramAPIError as error:
            log.warning("the bot's rights in the parent chat %r could not be read (%s)", chat.id, type(error).__name__)
            continue
        missing = [right for right in NEEDED_RIGHTS if not getattr(member, right, False)]
        lacking += bool(missing)
        async with sessionmaker() as session:
            key, told = RIGHTS_KEY.format(chat=chat.id), ",".join(missing)
            if (await get_state(session, key) or "") == told:
                continue
            await set_state(session, key, told)
            await session.commit()
            if missing:
                await tell_roles(session, bots, content, Role.role == RoleName.coordinator, rights_notice(chat, missing))
    return lacking


def rights_notice(chat: ThemedChat, missing: list[str]) -> Callable[[Texts], str]:
    def text(l10n: Texts) -> str:
        rights = ", ".join(l10n(NEEDED_RIGHTS[right]) for right in missing)
        return l10n("chats.rights_missing", chat=chat.title(l10n.language), rights=rights)

    return text


async def roll_office_hours(sessionmaker: async_sessionmaker[AsyncSession], content: Content, settings: Settings, clock: Clock) -> int:
    """Weekly office hours that have begun get next week's notices (in the centre's language)."""
    async with sessionmaker() as session:
        moved = await office_hours.roll_weekly(session, content, content.texts[settings.default_language], clock.now())
        await session.commit()
    return moved
