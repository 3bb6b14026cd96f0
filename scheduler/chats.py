"""The parent chats' minute: the activity counted in memory is added to its days' rows, newcomers
are no longer new after CHAT_NEWCOMER_HOURS, and the welcomes whose time is up are removed from the
groups (their times are rows: a restart keeps them)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.services import chats
from bot.services.chat_activity import ActivityCounter

log = logging.getLogger(__name__)


async def tidy_chats(
    sessionmaker: async_sessionmaker[AsyncSession], bots: Mapping[str, Bot], counter: ActivityCounter, clock: Clock, newcomer_hours: int = 24
) -> int:
    """Writes the counts; forgets newcomers once they are not new; removes the due welcomes; how many were removed."""
    async with sessionmaker() as session:
        await counter.flush(session)
        await chats.forget_old_newcomers(session, clock.now() - timedelta(hours=newcomer_hours))
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
