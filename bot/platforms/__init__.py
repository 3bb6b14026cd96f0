"""Platform adapters: updates in, API calls out. Handlers ask a Channel what differs, never isinstance."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.types import Update

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Channel:
    """What a handler may need to know about the messenger an update came from."""

    name: str  # the `platform` stored with accounts and events
    chat_link: str  # format with username
    start_link: str  # format with username and payload

    async def link_to_bot(self, bot: Bot, payload: str = "") -> str:
        username = (await bot.me()).username
        return self.start_link.format(username=username, payload=payload) if payload else self.chat_link.format(username=username)


TELEGRAM = Channel("telegram", "https://t.me/{username}", "https://t.me/{username}?start={payload}")
VK = Channel("vk", "https://vk.me/{username}", "https://vk.me/{username}?ref={payload}")


async def feed_batch(dispatcher: Dispatcher, bot: Bot, channel: Channel, updates: list[Update]) -> None:
    """Handle a batch: each chat's updates in order, different chats concurrently, one failure isolated."""
    by_chat: dict[int, list[Update]] = defaultdict(list)
    for update in updates:
        by_chat[conversation_key(update)].append(update)
    await asyncio.gather(*(_feed_in_order(dispatcher, bot, channel, chat_updates) for chat_updates in by_chat.values()))


async def _feed_in_order(dispatcher: Dispatcher, bot: Bot, channel: Channel, updates: list[Update]) -> None:
    for update in updates:
        try:
            await dispatcher.feed_update(bot, update, channel=channel)
        except Exception:  # the errors router already answered the user; the other updates go on
            log.exception("%s update %s failed", channel.name, update.update_id)


def conversation_key(update: Update) -> int:
    context = UserContextMiddleware.resolve_event_context(update)
    return context.chat_id or context.user_id or update.update_id


async def unless_stopped(awaitable: Awaitable[T], stop: asyncio.Event) -> T | None:
    """The awaitable's result, or None once `stop` is set first (the awaitable is then cancelled:
    a long poll that has not answered yet has handed over nothing, so nothing is lost)."""
    request = asyncio.ensure_future(awaitable)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({request, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not request.done():
        request.cancel()
        return None
    return request.result()


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
