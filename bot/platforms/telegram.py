"""Telegram in: long polling that confirms an update only after it was handled, or a webhook."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods.base import Response
from aiogram.types import LinkPreviewOptions, Message, Update, User
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.config import Settings
from bot.lengths import TELEGRAM_LIMITS
from bot.platforms import TELEGRAM, feed_batch, sleep_unless, unless_stopped
from bot.platforms.long_texts import SplitLongTexts

log = logging.getLogger(__name__)
# aiogram reads every answer as Response[<type>]; pydantic caches such generic classes only weakly,
# so each garbage collection threw them away and the next answer rebuilt one (~15 ms of CPU, about
# every 50 messages in a bulk send). Holding the common ones keeps them built.
DEFAULT_API_URL = "https://api.telegram.org"  # aiogram's own default server
RESPONSE_TYPES = [Response[returning] for returning in (Message, bool, list[Update], User)]


def build_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url)) if settings.telegram_api_url else AiohttpSession()
    session.middleware(SplitLongTexts(TELEGRAM_LIMITS))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True)),
    )


class Polling:
    """getUpdates in a loop. A batch is confirmed (by the next offset) only once every update in it
    was handled, so a crash means a replay, which the processed-updates table makes harmless.
    Updates of one chat are handled in order; different chats concurrently."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher, timeout: int = 25) -> None:
        self.bot, self.dispatcher, self.timeout = bot, dispatcher, timeout
        self.allowed_updates = dispatcher.resolve_used_update_types()

    async def run(self, stop: asyncio.Event) -> None:
        offset, delay = None, 1.0
        while not stop.is_set():
            try:
                updates = await self._fetch(offset, stop)
            except TelegramRetryAfter as error:
                await sleep_unless(stop, error.retry_after)
                continue
            except (TelegramNetworkError, TelegramServerError) as error:
                log.warning("getUpdates failed (%s); retrying in %.0f s", error, delay)
                await sleep_unless(stop, delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = 1.0
            if updates:
                await feed_batch(self.dispatcher, self.bot, TELEGRAM, updates)
                offset = updates[-1].update_id + 1
        if offset is not None:
            await self.bot.get_updates(offset=offset, limit=1, timeout=0)  # confirm the last batch before leaving

    async def _fetch(self, offset: int | None, stop: asyncio.Event) -> list[Update]:
        fetch = self.bot.get_updates(offset=offset, timeout=self.timeout, allowed_updates=self.allowed_updates, request_timeout=self.timeout + 15)
        return await unless_stopped(fetch, stop) or []



async def poll(bot: Bot, dispatcher: Dispatcher, stop: asyncio.Event) -> None:
    await bot.delete_webhook(drop_pending_updates=False)
    await Polling(bot, dispatcher).run(stop)


def add_webhook(web_app: web.Application, bot: Bot, dispatcher: Dispatcher, settings: Settings) -> None:
    """Answer Telegram only after the update was handled, so an unhandled update is re-sent."""
    handler = SimpleRequestHandler(
        dispatcher, bot, handle_in_background=False, secret_token=settings.webhook_secret.get_secret_value(), channel=TELEGRAM
    )
    handler.register(web_app, path=urlparse(settings.webhook_url).path or "/")


async def start_webhook(bot: Bot, dispatcher: Dispatcher, settings: Settings) -> None:
    await bot.set_webhook(
        settings.webhook_url, secret_token=settings.webhook_secret.get_secret_value(), allowed_updates=dispatcher.resolve_used_update_types()
    )
    log.info("Telegram webhook set to %s", settings.webhook_url)
