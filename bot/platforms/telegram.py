"""Telegram in: long polling that confirms an update only after it was handled, or a webhook."""

from __future__ import annotations

import asyncio
import json
import logging
from enum import Enum
from http import HTTPStatus
from typing import Any
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import ClientDecodeError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import AnswerCallbackQuery, EditMessageText, GetMe, GetUpdates, SendMessage, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import ForceReply, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from aiogram.types.update import UpdateTypeLookupError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import ClientError, ClientTimeout, web
from pydantic import ValidationError

from bot.config import Settings, required
from bot.lengths import TELEGRAM_LIMITS
from bot.platforms import TELEGRAM, feed_batch, secret_matches, sleep_unless, unless_stopped
from bot.platforms.late_answers import LateAnswers
from bot.platforms.long_texts import SplitLongTexts
from bot.services.updates import CommitBeforeTelling

log = logging.getLogger(__name__)
DEFAULT_API_URL = "https://api.telegram.org"  # aiogram's own default server


class GetRawUpdates(GetUpdates):
    """getUpdates answered as raw dicts: aiogram would validate the whole list as list[Update],
    so one malformed update would fail the batch; each is validated on its own instead."""

    __returning__ = list[Any]


# aiogram reads every answer as Response[<type>]; pydantic caches such generic classes only weakly,
# so each garbage collection threw them away and the next answer rebuilt one (~15 ms of CPU, about
# every 50 messages in a bulk send). Holding the common ones keeps them built: a message, an edit
# (a message or True), a press's answer, getUpdates, getMe.
RESPONSE_TYPES = [Response[method.__returning__] for method in (SendMessage, EditMessageText, AnswerCallbackQuery, GetRawUpdates, GetMe)]  # type: ignore[name-defined]


class TelegramUpdates:
    """A raw Bot API update as an aiogram Update (see bot.platforms.Convert)."""

    @staticmethod
    def update(event: Any, bot: Bot) -> Update | None:
        """None for an update of no kind aiogram knows (aiogram would warn with its whole content)."""
        update = Update.model_validate(event, context={"bot": bot})
        try:
            _ = update.event_type
        except UpdateTypeLookupError:
            return None
        return update

    @staticmethod
    def kind(event: Any) -> str:
        keys = event.keys() if isinstance(event, dict) else ()
        return next((key for key in keys if key in Update.model_fields and key != "update_id"), "unknown")


def raw_update_id(event: Any) -> int | None:
    value = event.get("update_id") if isinstance(event, dict) else None
    return value if type(value) is int else None


KEYBOARDS = (InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, ForceReply)  # none of them can hold a file
JSON_BODY = {"Content-Type": "application/json"}


class TelegramSession(AiohttpSession):
    """aiogram's session, posting a request that carries no file as a JSON body, which the Bot API
    takes as well as a form: aiogram's form percent-encodes its fields byte by byte and walks a
    keyboard value by value in Python, which cost a screen more than the rest of its request
    (bench/updates.py). A request with files goes as aiogram sends it."""

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None) -> TelegramType:  # noqa: ASYNC109  # aiogram's signature
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            seconds = self.timeout if timeout is None else timeout
            async with session.post(url, data=self.json_dumps(body), headers=JSON_BODY, timeout=ClientTimeout(total=seconds)) as response:
                content = await response.text()
        except TimeoutError as error:  # as aiogram's own make_request reports them
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(method=method, message=f"{type(error).__name__}: {error}") from error
        return self.check_response(bot=bot, method=method, status_code=response.status, content=content).result  # type: ignore[return-value]

    def check_response(self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str) -> Response[TelegramType]:
        """aiogram's reading of an answer, but a message sent or edited with an inline keyboard holds
        the keyboard this request sent, as it was sent: Telegram echoes it back, and validating the
        echo made a model of every button again, a tenth of a screen's CPU (bench/updates.py).
        Anything else, an error included, aiogram reads itself."""
        markup = getattr(method, "reply_markup", None)
        answer = self._successful_answer(content) if isinstance(markup, InlineKeyboardMarkup) and HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED else None
        result = answer.get("result") if answer is not None else None
        if answer is None or not isinstance(result, dict) or "reply_markup" not in result:
            return super().check_response(bot, method, status_code, content)
        result["reply_markup"] = markup  # a model already: pydantic takes it as it is
        try:
            return Response[method.__returning__].model_validate(answer, context={"bot": bot})  # type: ignore[name-defined]
        except ValidationError as error:
            raise ClientDecodeError("Failed to deserialize object", error, answer) from error

    def _successful_answer(self, content: str) -> dict[str, Any] | None:
        try:
            answer = self.json_loads(content)
        except ValueError:
            return None
        return answer if isinstance(answer, dict) and answer.get("ok") is True else None

    def json_body(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any] | None:
        """The method's fields as build_form_data sends them (defaults filled in, empty ones left
        out), as JSON values; None if it carries a file."""
        files: dict[str, InputFile] = {}
        body: dict[str, Any] = {}
        keyboard = isinstance(getattr(method, "reply_markup", None), KEYBOARDS)
        for key, value in method.model_dump(warnings=False, exclude_none=True).items():
            if key == "reply_markup" and keyboard:
                body[key] = value  # plain values already: no file, default or None can be in it
            else:
                prepared = self.prepare_value(value.value if isinstance(value, Enum) else value, bot=bot, files=files, _dumps_json=False)
                if prepared is not None and prepared != "":  # what the form leaves out (a False or 0 it sends)
                    body[key] = prepared
        return None if files else body


def build_bot(settings: Settings) -> Bot:
    session = TelegramSession(api=TelegramAPIServer.from_base(settings.telegram_api_url)) if settings.telegram_api_url else TelegramSession()
    session.middleware(SplitLongTexts(TELEGRAM_LIMITS))
    session.middleware(CommitBeforeTelling())
    session.middleware(LateAnswers())
    return Bot(
        required(settings.bot_token, "BOT_TOKEN").get_secret_value(),
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
            await feed_batch(self.dispatcher, self.bot, TELEGRAM, updates, TelegramUpdates)
            offset = max((update_id + 1 for update in updates if (update_id := raw_update_id(update)) is not None), default=offset)
        if offset is not None:
            await self.bot(GetRawUpdates(offset=offset, limit=1, timeout=0))  # confirm the last batch before leaving

    async def _fetch(self, offset: int | None, stop: asyncio.Event) -> list[Any]:
        fetch = self.bot(GetRawUpdates(offset=offset, timeout=self.timeout, allowed_updates=self.allowed_updates), request_timeout=self.timeout + 15)
        return await unless_stopped(fetch, stop) or []


async def poll(bot: Bot, dispatcher: Dispatcher, stop: asyncio.Event) -> None:
    await bot.delete_webhook(drop_pending_updates=False)
    await Polling(bot, dispatcher).run(stop)


class WebhookHandler(SimpleRequestHandler):
    """aiogram's handler, answering bad input with a 4xx instead of a 500: a secret header that is
    no ASCII (401), a body that is no JSON object with an integer update_id (400). An update that
    has an id but cannot be converted or handled is logged and skipped with a 200, as polling moves
    past it, so Telegram does not re-send it forever."""

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        if not self.secret_token:
            return True
        return secret_matches(telegram_secret_token, self.secret_token)

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            update = json.loads(await request.read())
        except ValueError:  # also a body that is no UTF-8
            return web.Response(status=400, text="not JSON")
        if raw_update_id(update) is None:
            return web.Response(status=400, text="not an update")
        await feed_batch(self.dispatcher, bot, TELEGRAM, [update], TelegramUpdates)
        return web.json_response({})


def add_webhook(web_app: web.Application, bot: Bot, dispatcher: Dispatcher, settings: Settings) -> None:
    """Answer Telegram only after the update was handled, so an unhandled update is re-sent."""
    secret = required(settings.webhook_secret, "WEBHOOK_SECRET").get_secret_value()
    handler = WebhookHandler(dispatcher, bot, handle_in_background=False, secret_token=secret)
    handler.register(web_app, path=urlparse(required(settings.webhook_url, "WEBHOOK_URL")).path or "/")


async def start_webhook(bot: Bot, dispatcher: Dispatcher, settings: Settings) -> None:
    url, secret = required(settings.webhook_url, "WEBHOOK_URL"), required(settings.webhook_secret, "WEBHOOK_SECRET").get_secret_value()
    await bot.set_webhook(url, secret_token=secret, allowed_updates=dispatcher.resolve_used_update_types())
    log.info("Telegram webhook set to %s", settings.webhook_url)
