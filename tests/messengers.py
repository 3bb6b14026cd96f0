"""The same scenario on Telegram and on VK: each emulator behind one small driver.

Differences a scenario meets are asked of the driver (what a button press with raw data looks like,
how a deep link is opened, whether the client tells its language), never spelled out in a test."""

from __future__ import annotations

import json
import re
from typing import Any

from aiogram import Bot
from aiogram.types import Update

from bot.emulator.telegram import TelegramEmulator
from bot.emulator.vk import VkEmulator
from bot.platforms import TELEGRAM, UPDATES_IN_FLIGHT, VK
from bot.platforms.vk_events import to_update, update_id
from bot.platforms.vk_format import callback_payload

TELEGRAM_TOKEN = "123456789:AAEmulatorTokenForTheVmesteTestSuite"
VK_TOKEN = "vk1.a.emulator-token-for-the-vmeste-test-suite"
VK_GROUP_ID = 218000000
BOT_USERNAME = "vmeste_test_bot"
TELEGRAM_WEBHOOK_SECRET = "s3cret_token"
VK_CALLBACK_SECRET = "vk-callback-secret"
DEFAULT_LANGUAGE = "en"


def bot_in_flight() -> str | None:
    batches = UPDATES_IN_FLIGHT.batches
    return f"the bot is still handling {batches} batch(es) of updates" if batches else None


class Messenger:
    platform: str
    channel: Any
    emulator: Any
    tells_language = False
    can_edit = False

    async def start(self) -> None:
        await self.emulator.start()

    async def stop(self) -> None:
        await self.emulator.stop()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.emulator, name)

    async def settle(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - handed to the emulator's settle(), which says what is still busy
        """Until the emulator has nothing undelivered or unconfirmed, no API call runs and the
        bots in this process have no update in flight. (A bot in another process, as in
        tests/test_run.py, confirms an update only after handling it, so this holds for it too.)"""
        await self.emulator.settle(timeout, bot_busy=bot_in_flight)

    def expected_language(self, language_code: str | None) -> str:
        return language_code if self.tells_language and language_code in ("ru", "ro", "en") else DEFAULT_LANGUAGE

    def invite_code_in(self, text: str) -> str:
        prefix = self.channel.start_link.format(username=BOT_USERNAME, payload="")
        match = re.search(re.escape(prefix) + "([A-Za-z0-9_-]+)", text)
        assert match, text
        return match.group(1)

    def chat_link(self) -> str:
        return self.channel.chat_link.format(username=BOT_USERNAME)

    def listens(self) -> int:
        """How many times the bot has started listening for updates (getUpdates / getLongPollServer)."""
        return sum(method == self.listen_method for method, _ in self.emulator.calls)


class TelegramMessenger(Messenger):
    platform, channel, tells_language, can_edit = "telegram", TELEGRAM, True, True
    voice_kind = "voice"  # what a voice note is in a chat's message list
    listen_method, send_method = "getUpdates", "sendMessage"

    def __init__(self) -> None:
        self.emulator = TelegramEmulator(bot_username=BOT_USERNAME)

    def bot_settings(self) -> dict[str, str]:
        return {"BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_API_URL": self.emulator.base_url}

    def user(self, user_id: int, first_name: str | None = None, language_code: str | None = None):
        return self.emulator.user(user_id, first_name=first_name, language_code=language_code)

    def group(self, title: str):
        return self.emulator.group(-1001234500, title=title)

    def press(self, user, data: str, message=None) -> None:
        user.click_data(data, message)

    def press_in_group(self, group, user, data: str) -> None:
        group.click_data(user, data)

    def open_start_link(self, user, payload: str) -> None:
        user.send(f"/start {payload}")

    def group_command(self, command: str) -> str:
        return f"/{command}@{BOT_USERNAME}"

    def send_formatted(self, user, text: str, entities: list[dict[str, Any]]) -> None:
        """A message the user formatted in the app (bold, a link, a code block)."""
        user.send(text, entities=entities)

    def refuse_next_send(self) -> None:
        """The next sendMessage is refused as formatting Telegram will not take."""
        self.emulator.fail_next("sendMessage", status=400, description='Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0')

    def delay_next_reply(self, seconds: float) -> None:
        self.emulator.fail_next("sendMessage", status=None, delay=seconds)

    def fail_sends(self, fault: str, times: int = 1, delay: float = 0.0) -> None:
        """The next sends fail: "rate" (429), "server" (a 5xx) or "slow" (answered after `delay`)."""
        kinds = {"rate": {"status": 429}, "server": {"status": 502}, "slow": {"status": None, "delay": delay}}
        self.emulator.fail_next("sendMessage", times=times, **kinds[fault])

    def limit_rate(self, per_second: int) -> None:
        self.emulator.set_limits(global_per_second=per_second, per_chat_per_second=1)

    def block(self, user) -> None:
        """Sends to the user fail and the bot is not told (VK: privacy settings, error 902)."""
        user.block(notify=False)

    def user_blocks_bot(self, user) -> None:
        """The user blocks the bot in the app, and the bot is told (VK: message_deny)."""
        user.block()

    def sends(self) -> list[dict[str, Any]]:
        return [params for method, params in self.emulator.calls if method == "sendMessage"]

    def push_settings(self, url: str) -> dict[str, str]:
        """Telegram webhook: the bot registers the URL and secret itself."""
        return {"WEBHOOK_URL": url, "WEBHOOK_SECRET": TELEGRAM_WEBHOOK_SECRET}

    def push_ready(self) -> bool:
        return any(method == "setWebhook" for method, _ in self.emulator.calls)

    async def forged_push(self, http, url: str) -> int:
        response = await http.post(url, json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
        return response.status

    async def push_raw(self, http, url: str, body: bytes) -> int:
        """POST a body to the webhook as Telegram would, with the right secret."""
        response = await http.post(url, data=body, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_WEBHOOK_SECRET, "Content-Type": "application/json"})
        return response.status

    def sign(self, raw: Any) -> Any:
        return raw  # Telegram signs the request (a header), not the update

    def inject(self, raw: Any) -> None:
        """Queue a raw (malformed) update for the bot to fetch."""
        self.emulator.inject_update(raw)

    def update_id_of(self, raw: dict[str, Any]) -> int:
        return raw["update_id"]

    def as_update(self, raw: dict[str, Any], bot: Bot) -> Update:
        return Update.model_validate(raw, context={"bot": bot})


class VkMessenger(Messenger):
    platform, channel = "vk", VK
    voice_kind = "audio_message"
    listen_method, send_method = "groups.getLongPollServer", "messages.send"

    def __init__(self) -> None:
        self.emulator = VkEmulator(group_id=VK_GROUP_ID, screen_name=BOT_USERNAME, token=VK_TOKEN)

    def bot_settings(self) -> dict[str, str]:
        return {"VK_TOKEN": VK_TOKEN, "VK_GROUP_ID": str(VK_GROUP_ID), "VK_API_URL": self.emulator.base_url}

    def user(self, user_id: int, first_name: str | None = None, language_code: str | None = None):
        return self.emulator.user(user_id, first_name=first_name)  # VK does not tell the client's language

    def group(self, title: str):
        return self.emulator.group(1, title=title)

    def press(self, user, data: str, message=None) -> None:
        user.click_payload(json.loads(callback_payload(data)), message)

    def press_in_group(self, group, user, data: str) -> None:
        group.click_payload(user, json.loads(callback_payload(data)))

    def open_start_link(self, user, payload: str) -> None:
        user.start(ref=payload)

    def group_command(self, command: str) -> str:
        return f"/{command}"

    def send_formatted(self, user, text: str, entities: list[dict[str, Any]]) -> None:
        """VK users cannot format a message: the words arrive plain."""
        user.send(text)

    def refuse_next_send(self) -> None:
        self.emulator.fail_next("messages.send", error_code=100, error_msg="One of the parameters specified was missing or invalid: message")

    def delay_next_reply(self, seconds: float) -> None:
        self.emulator.fail_next("messages.send", error_code=None, delay=seconds)

    def fail_sends(self, fault: str, times: int = 1, delay: float = 0.0) -> None:
        kinds = {"rate": {"error_code": 6}, "server": {"error_code": None, "http_status": 502}, "slow": {"error_code": None, "delay": delay}}
        self.emulator.fail_next("messages.send", times=times, **kinds[fault])

    def limit_rate(self, per_second: int) -> None:
        self.emulator.set_limits(per_second=per_second)

    def block(self, user) -> None:
        user.block(902)

    def user_blocks_bot(self, user) -> None:
        user.block(901)

    def sends(self) -> list[dict[str, Any]]:
        return [params for method, params in self.emulator.calls if method == "messages.send"]

    def push_settings(self, url: str) -> dict[str, str]:
        """VK Callback API: the operator enters the URL in the community settings; the bot knows the code and secret."""
        self.emulator.set_callback_server(url, secret=VK_CALLBACK_SECRET, confirmation_code="c0nf1rm")
        return {"VK_CONFIRMATION_CODE": "c0nf1rm", "VK_CALLBACK_SECRET": VK_CALLBACK_SECRET}

    def push_ready(self) -> bool:
        return True

    async def forged_push(self, http, url: str) -> int:
        event = {"type": "message_new", "group_id": VK_GROUP_ID, "event_id": "forged", "secret": "wrong", "object": {}}
        response = await http.post(url, json=event)
        return response.status

    async def push_raw(self, http, url: str, body: bytes) -> int:
        """POST a body to the Callback API endpoint as VK would (the secret is in the body: see sign)."""
        response = await http.post(url, data=body, headers={"Content-Type": "application/json"})
        return response.status

    def sign(self, raw: Any) -> Any:
        """An event object as VK posts it to this community's server, with the secret."""
        return {"group_id": VK_GROUP_ID, "secret": VK_CALLBACK_SECRET} | raw if isinstance(raw, dict) else raw

    def inject(self, raw: Any) -> None:
        """Queue a raw (malformed) event for the long poll."""
        self.emulator.inject_event(raw)

    def update_id_of(self, raw: dict[str, Any]) -> int:
        return update_id(raw)

    def as_update(self, raw: dict[str, Any], bot: Bot) -> Update:
        return to_update(raw, bot)

