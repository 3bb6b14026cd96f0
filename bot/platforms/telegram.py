"""Telegram in: long polling that confirms an update only after it was handled, or a webhook."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import LinkPreviewOptions, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.config import Settings

log = logging.getLogger(__name__)
PLATFORM = "telegram"


def build_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url)) if settings.telegram_api_url else AiohttpSession()
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
                await _sleep_unless(stop, error.retry_after)
                continue
            except (TelegramNetworkError, TelegramServerError) as error:
                log.warning("getUpdates failed (%s); retrying in %.0f s", error, delay)
                await _sleep_unless(stop, delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = 1.0
            if updates:
                await self.handle_batch(updates)
                offset = updates[-1].update_id + 1
        if offset is not None:
            await self.bot.get_updates(offset=offset, limit=1, timeout=0)  # confirm the last batch before leaving

    async def _fetch(self, offset: int | None, stop: asyncio.Event) -> list[Update]:
        fetch = asyncio.ensure_future(
            self.bot.get_updates(offset=offset, timeout=self.timeout, allowed_updates=self.allowed_updates, request_timeout=self.timeout + 15)
        )
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()  # nothing fetched yet, so nothing is lost
            return []
        return fetch.result()

    async def handle_batch(self, updates: list[Update]) -> None:
        by_chat: dict[int, list[Update]] = defaultdict(list)
        for update in updates:
            by_chat[conversation_key(update)].append(update)
        await asyncio.gather(*(self._handle_in_order(chat_updates) for chat_updates in by_chat.values()))

    async def _handle_in_order(self, updates: list[Update]) -> None:
        for update in updates:
            try:
                await self.dispatcher.feed_update(self.bot, update, platform=PLATFORM)
            except Exception:  # one bad update must not stop the others; the errors router already answered
                log.exception("update %s failed", update.update_id)


def conversation_key(update: Update) -> int:
    context = UserContextMiddleware.resolve_event_context(update)
    return context.chat_id or context.user_id or update.update_id


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def run_polling(bot: Bot, dispatcher: Dispatcher, stop: asyncio.Event) -> None:
    await bot.delete_webhook(drop_pending_updates=False)
    hooks_data = {"bot": bot, "dispatcher": dispatcher, **dispatcher.workflow_data}
    await dispatcher.emit_startup(**hooks_data)
    try:
        await Polling(bot, dispatcher).run(stop)
    finally:
        await dispatcher.emit_shutdown(**hooks_data)


async def run_webhook(bot: Bot, dispatcher: Dispatcher, settings: Settings, stop: asyncio.Event) -> None:
    """Answer Telegram only after the update was handled, so an unhandled update is re-sent."""
    secret = settings.webhook_secret.get_secret_value()
    app = web.Application()
    handler = SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token=secret, platform=PLATFORM)
    handler.register(app, path=urlparse(settings.webhook_url).path or "/")
    setup_application(app, dispatcher, bot=bot)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
    await bot.set_webhook(settings.webhook_url, secret_token=secret, allowed_updates=dispatcher.resolve_used_update_types())
    log.info("webhook listening on %s:%s for %s", settings.webhook_host, settings.webhook_port, settings.webhook_url)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
