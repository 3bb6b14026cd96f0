"""VK in: Bots Long Poll (resuming from the last handled position) or the Callback API."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import requests
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.methods import GetMe
from aiohttp import web
from requests.adapters import HTTPAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from vk_api import VkApiGroup
from vk_api.exceptions import TOO_MANY_RPS_CODE

from bot.config import Settings, required
from bot.lengths import VK_LIMITS
from bot.platforms import VK, feed_batch, secret_matches, sleep_unless, unless_stopped
from bot.platforms.late_answers import LateAnswers
from bot.platforms.long_texts import SplitLongTexts
from bot.platforms.vk_events import VkEvents
from bot.platforms.vk_session import VK_API_VERSION, VkSession, vk_session
from bot.services.state import get_state, set_state
from bot.services.updates import CommitBeforeTelling

log = logging.getLogger(__name__)
CALLBACK_PATH = "/vk-callback"
VK_API_HOSTS = ("https://api.vk.ru/", "https://api.vk.com/")
DEFAULT_API_URL = VK_API_HOSTS[0].rstrip("/")  # where vk_api sends its calls


class RedirectAdapter(HTTPAdapter):
    """Gives vk_api's calls a time-out (it sets none) and sends its hard-coded https://api.vk.ru/
    calls to VK_API_URL (a local emulator or a proxy) when one is set."""

    def __init__(self, base_url: str | None, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/") + "/" if base_url else None
        self.timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        for host in VK_API_HOSTS:
            if self.base_url and url.startswith(host):
                request.url = self.base_url + url[len(host) :]
        return super().send(request, stream=stream, timeout=timeout or self.timeout, verify=verify, cert=cert, proxies=proxies)


def build_api(token: str, api_url: str | None, timeout: float = 20) -> VkApiGroup:
    http = requests.Session()
    adapter = RedirectAdapter(api_url, timeout)
    for host in VK_API_HOSTS:
        http.mount(host, adapter)
    api = VkApiGroup(token=token, session=http, api_version=VK_API_VERSION)
    api.error_handlers.pop(TOO_MANY_RPS_CODE, None)  # vk_api would retry forever; we back off ourselves
    return api


def build_bot(settings: Settings) -> Bot:
    group_id = required(settings.vk_group_id, "VK_GROUP_ID")
    api = build_api(required(settings.vk_token, "VK_TOKEN").get_secret_value(), settings.vk_api_url, settings.delivery_timeout_seconds)
    session = VkSession(api, group_id, settings.delivery_vk_rate)
    session.middleware(SplitLongTexts(VK_LIMITS))
    session.middleware(CommitBeforeTelling())
    session.middleware(LateAnswers())
    # aiogram wants a Telegram-shaped token; the bot's id is the community id, the real token lives in the session.
    return Bot(f"{group_id}:vk-bridge", session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


class LongPoll:
    """a_check in a loop. The position (ts) is saved only after a batch was handled, so a crash
    replays events (harmless: processed update ids) and a restart resumes where it stopped."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher, sessionmaker: async_sessionmaker[AsyncSession], wait: int = 25) -> None:
        self.bot, self.dispatcher, self.sessionmaker, self.wait = bot, dispatcher, sessionmaker, wait
        self.session = vk_session(bot)
        self.state_key = f"vk:{self.session.group_id}:longpoll_ts"

    async def run(self, stop: asyncio.Event) -> None:
        server = await self.server()
        ts = await self.load_ts() or str(server["ts"])
        delay = 1.0
        async with aiohttp.ClientSession() as http:
            while not stop.is_set():
                try:
                    answer = await self.check(http, server, ts, stop)
                except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                    log.warning("VK long poll failed (%s); retrying in %.0f s", error, delay)
                    await sleep_unless(stop, delay)
                    delay = min(delay * 2, 30.0)
                    continue
                delay = 1.0
                if answer is None:
                    break
                server, ts = await self.handle(answer, server, ts)

    async def handle(self, answer: dict[str, Any], server: dict[str, Any], ts: str) -> tuple[dict[str, Any], str]:
        failed = answer.get("failed")
        if failed == 1:
            log.warning("VK long poll history was lost between ts %s and %s", ts, answer["ts"])
            return server, str(answer["ts"])
        if failed in (2, 3):
            fresh = await self.server()
            return fresh, (str(fresh["ts"]) if failed == 3 else ts)
        await feed_batch(self.dispatcher, self.bot, VK, answer.get("updates", ()), VkEvents)
        await self.save_ts(str(answer["ts"]))
        return server, str(answer["ts"])

    async def check(self, http: aiohttp.ClientSession, server: dict[str, Any], ts: str, stop: asyncio.Event) -> dict[str, Any] | None:
        params = {"act": "a_check", "key": server["key"], "ts": ts, "wait": self.wait}
        return await unless_stopped(self._get(http, server["server"], params), stop)

    async def _get(self, http: aiohttp.ClientSession, url: str, params: dict[str, Any]) -> dict[str, Any]:
        async with http.get(url, params=params, timeout=aiohttp.ClientTimeout(total=self.wait + 15)) as response:
            return await response.json(content_type=None)

    async def server(self) -> dict[str, Any]:
        return await self.session.call(GetMe(), "groups.getLongPollServer", group_id=self.session.group_id)

    async def load_ts(self) -> str | None:
        async with self.sessionmaker() as session:
            return await get_state(session, self.state_key)

    async def save_ts(self, ts: str) -> None:
        async with self.sessionmaker() as session:
            await set_state(session, self.state_key, ts)
            await session.commit()


async def poll(bot: Bot, dispatcher: Dispatcher, sessionmaker: async_sessionmaker[AsyncSession], stop: asyncio.Event) -> None:
    await LongPoll(bot, dispatcher, sessionmaker).run(stop)


class CallbackEndpoint:
    """VK's Callback API: confirm the server, check the secret, answer "ok" only after handling
    (so VK re-sends what we did not finish), and ignore a re-sent event that is still being handled."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher, settings: Settings) -> None:
        self.bot, self.dispatcher = bot, dispatcher
        self.group_id = settings.vk_group_id
        self.confirmation_code = settings.vk_confirmation_code
        self.secret = required(settings.vk_callback_secret, "VK_CALLBACK_SECRET").get_secret_value()
        self.in_flight: set[str] = set()

    async def handle(self, request: web.Request) -> web.Response:
        try:
            event = json.loads(await request.read())
        except ValueError:  # also a body that is no UTF-8
            return web.Response(status=400, text="not JSON")
        if not isinstance(event, dict):
            return web.Response(status=400, text="not an event")
        if event.get("group_id") != self.group_id:
            return web.Response(status=403, text="unknown community")
        if event.get("type") == "confirmation":
            return web.Response(text=self.confirmation_code)
        if not secret_matches(event.get("secret"), self.secret):
            return web.Response(status=403, text="wrong secret")
        event_id = event.get("event_id")
        if not (isinstance(event_id, str) and event_id and isinstance(event.get("type"), str) and isinstance(event.get("object"), dict)):
            return web.Response(status=400, text="not an event")
        if event_id not in self.in_flight:
            self.in_flight.add(event_id)
            try:
                await feed_batch(self.dispatcher, self.bot, VK, [event], VkEvents)
            finally:
                self.in_flight.discard(event_id)
        return web.Response(text="ok")  # also for an event that failed and was skipped: VK would re-send it forever


def add_callback(web_app: web.Application, bot: Bot, dispatcher: Dispatcher, settings: Settings) -> None:
    web_app.router.add_post(CALLBACK_PATH, CallbackEndpoint(bot, dispatcher, settings).handle)
