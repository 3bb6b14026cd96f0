"""A local Telegram Bot API server, and the users who talk to the bot through it.

    emu = TelegramEmulator()
    base_url = await emu.start()          # the bot uses TelegramAPIServer.from_base(base_url)
    anna = emu.user(1001, first_name="Anna")
    anna.send("/start")
    await emu.settle()
    assert anna.last.text == "..."

The bot reaches the emulator over HTTP only, so it may run in another process. Users
are driven from the event loop the server runs in. Every call is validated against the
public Bot API spec (see tg_spec) and answered the way Telegram answers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable
import dataclasses
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import aiohttp
from aiohttp import web

from bot.emulator.common import (
    EmulatedChatBase,
    EmulatedUserBase,
    EmulatorServer,
    Endpoints,
    FaultQueue,
    SlidingWindow,
    cancel_task,
    find_button,
    retry_delay,
    sample_data,
)
from bot.emulator.tg_html import utf16_len
from bot.emulator.tg_spec import ApiError, Upload, bad_request, load_spec, validate_call

TOKEN_RE = re.compile(r"(\d+):[A-Za-z0-9_-]{30,}")
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
WEBHOOK_TIMEOUT = 30.0
# update types Telegram sends only when asked for them by name
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
# what a message carries, in the order that decides its kind (an animation also has a document)
CONTENT_KINDS = (
    "text", "animation", "photo", "document", "voice", "video", "audio",
    "sticker", "video_note", "contact", "location",
)  # fmt: skip
CONTENT_KEYS = (*CONTENT_KINDS, "entities", "caption", "caption_entities")
MEDIA_ATTRIBUTES = ("duration", "width", "height", "title", "performer", "emoji")


@dataclass(frozen=True)
class MediaKind:
    folder: str
    extension: str
    mime_type: str


MEDIA = {
    "photo": MediaKind("photos", "jpg", "image/jpeg"),
    "document": MediaKind("documents", "bin", "application/octet-stream"),
    "voice": MediaKind("voice", "oga", "audio/ogg"),
    "video": MediaKind("videos", "mp4", "video/mp4"),
    "audio": MediaKind("music", "mp3", "audio/mpeg"),
    "animation": MediaKind("animations", "mp4", "video/mp4"),
    "sticker": MediaKind("stickers", "webp", "image/webp"),
}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes = dataclasses.field(repr=False)
    file_path: str = ""
    file_name: str | None = None
    mime_type: str | None = None
    attributes: dict[str, Any] = dataclasses.field(default_factory=dict)  # duration, width, ...


@dataclass
class CallbackAnswer:
    """A callback query a user made, and how the bot answered it (if it did)."""

    query_id: str
    data: str
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None


@dataclass
class _Fault:
    status: int | None
    retry_after: int
    description: str | None
    delay: float
    times: int

    def error(self) -> ApiError:
        assert self.status is not None
        if self.status == HTTPStatus.TOO_MANY_REQUESTS:
            description = self.description or f"Too Many Requests: retry after {self.retry_after}"
            return ApiError(self.status, description, retry_after=self.retry_after)
        return ApiError(self.status, self.description or HTTPStatus(self.status).phrase)


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    token: str  # the bot token that set it, used for method calls in webhook replies
    max_connections: int
    task: asyncio.Task | None = None


@dataclass
class _Call:
    method: str
    params: dict[str, Any]
    bot: dict[str, Any]  # the bot's User object
    token: str


class ChatMessage:
    """One message of a chat, in its current state (edits applied)."""

    def __init__(self, raw: dict[str, Any], from_bot: bool) -> None:
        self.raw = raw
        self.from_bot = from_bot
        self.deleted = False
        self.edited = False
        self.reply_keyboard: list[list[str]] | None = None  # a reply keyboard sent with it

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else "user"
        return (
            f"<ChatMessage {self.message_id} from {who} {self.kind}: {self.text or self.caption!r}>"
        )

    @property
    def message_id(self) -> int:
        return self.raw["message_id"]

    @property
    def chat_id(self) -> int:
        return self.raw["chat"]["id"]

    @property
    def text(self) -> str | None:
        return self.raw.get("text")

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def entities(self) -> list[dict[str, Any]]:
        return self.raw.get("entities") or self.raw.get("caption_entities") or []

    @property
    def kind(self) -> str:
        return next((kind for kind in CONTENT_KINDS if kind in self.raw), "service")

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        return (self.raw.get("reply_markup") or {}).get("inline_keyboard", [])

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Rows of (text, callback_data or url)."""
        return [
            [(button["text"], button.get("callback_data", button.get("url"))) for button in row]
            for row in self.inline_keyboard
        ]


class EmulatedChat(EmulatedChatBase[ChatMessage]):
    """A chat as its members see it: every message in order."""

    message_type = ChatMessage

    def __init__(self, emulator: TelegramEmulator, raw: dict[str, Any]) -> None:
        super().__init__(emulator)
        self.raw = raw
        self.keyboard: list[list[str]] | None = None  # the reply keyboard shown now

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"

    @property
    def id(self) -> int:
        return self.raw["id"]

    @property
    def is_private(self) -> bool:
        return self.raw["type"] == "private"

    def _add(self, sender: dict[str, Any], content: dict[str, Any], from_bot: bool) -> ChatMessage:
        raw = {
            "message_id": next(self._numbers),
            "from": sender,
            "chat": self.raw,
            "date": int(time.time()),
            **content,
        }
        return self._append(raw, from_bot)


class EmulatedUser(EmulatedUserBase[EmulatedChat]):
    """A Telegram user; their private chat with the bot has the user's id."""

    callback_answers: list[CallbackAnswer]

    def __init__(self, emulator: TelegramEmulator, raw: dict[str, Any], started: bool) -> None:
        super().__init__(emulator, raw)
        self.started = started  # has ever written to the bot
        self.blocked = False
        private = {"id": raw["id"], "type": "private", "first_name": raw["first_name"]}
        private |= {key: raw[key] for key in ("last_name", "username") if key in raw}
        self.chat = EmulatedChat(emulator, private)

    def send(
        self, text: str, reply_to: int | None = None, entities: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Write to the bot; a leading /command gets a bot_command entity. `entities` is the
        formatting the app made (offsets in UTF-16 units), e.g. a text_link or a pre with a language."""
        return self._emulator._user_text(self.chat, self, text, reply_to, entities)

    def send_photo(self, caption: str | None = None, data: bytes | None = None) -> dict[str, Any]:
        return self._emulator._user_media(self.chat, self, "photo", data, caption)

    def send_document(
        self, file_name: str = "document.pdf", caption: str | None = None, data: bytes | None = None
    ) -> dict[str, Any]:
        return self._emulator._user_media(
            self.chat, self, "document", data, caption, file_name=file_name
        )

    def send_voice(self, duration: int = 3, data: bytes | None = None) -> dict[str, Any]:
        return self._emulator._user_media(self.chat, self, "voice", data, None, duration=duration)

    def send_video(
        self, duration: int = 5, caption: str | None = None, data: bytes | None = None
    ) -> dict[str, Any]:
        return self._emulator._user_media(
            self.chat, self, "video", data, caption, duration=duration
        )

    def send_audio(self, duration: int = 60, data: bytes | None = None) -> dict[str, Any]:
        return self._emulator._user_media(self.chat, self, "audio", data, None, duration=duration)

    def send_sticker(self, emoji: str = "👍") -> dict[str, Any]:
        return self._emulator._user_media(self.chat, self, "sticker", None, None, emoji=emoji)

    def send_contact(self, phone_number: str) -> dict[str, Any]:
        """Share the user's own contact, as a request_contact button does."""
        contact = {"phone_number": phone_number, "first_name": self.raw["first_name"]}
        contact["user_id"] = self.id
        return self._emulator._user_message(self.chat, self, {"contact": contact})

    def edit(self, message_id: int, text: str) -> dict[str, Any]:
        return self._emulator._user_edit(self.chat, self, message_id, text)

    def click(self, button: str, message: ChatMessage | int | None = None) -> str:
        """Press an inline button by its text or callback_data; returns the query id."""
        return self._emulator._user_click(self.chat, self, button, message)

    def click_data(self, data: str, message: ChatMessage | int | None = None) -> str:
        """A callback query with arbitrary data, as a stale or forged button would send."""
        return self._emulator._user_click_data(self.chat, self, data, message)

    def block(self, notify: bool = True) -> None:
        """Sends to the user fail with 403 from now on. notify=False: the bot never hears of it (as
        when it was offline for longer than Telegram keeps updates)."""
        self._emulator._set_blocked(self, True, notify)

    def unblock(self) -> None:
        self._emulator._set_blocked(self, False)


class EmulatedGroup(EmulatedChat):
    """A group or supergroup the bot is a member (and administrator) of."""

    def __init__(self, emulator: TelegramEmulator, raw: dict[str, Any]) -> None:
        super().__init__(emulator, raw)
        self.members: set[int] = set()
        self.admins: set[int] = set()

    def send(self, user: EmulatedUser, text: str, reply_to: int | None = None) -> dict[str, Any]:
        self.members.add(user.id)
        return self._emulator._user_text(self, user, text, reply_to)

    def click(
        self, user: EmulatedUser, button: str, message: ChatMessage | int | None = None
    ) -> str:
        return self._emulator._user_click(self, user, button, message)

    def click_data(self, user: EmulatedUser, data: str, message: ChatMessage | int | None = None) -> str:
        """A callback query with arbitrary data on a message in the group, as a forged press sends."""
        return self._emulator._user_click_data(self, user, data, message)

    def join(self, user: EmulatedUser) -> dict[str, Any]:
        self.members.add(user.id)
        return self._emulator._user_message(self, user, {"new_chat_members": [user.raw]})

    def leave(self, user: EmulatedUser) -> dict[str, Any]:
        self.members.discard(user.id)
        self.admins.discard(user.id)
        return self._emulator._user_message(self, user, {"left_chat_member": user.raw})

    def make_admin(self, user: EmulatedUser) -> None:
        self.members.add(user.id)
        self.admins.add(user.id)


Endpoint = Callable[["TelegramEmulator", _Call], Awaitable[Any]]
ENDPOINTS: Endpoints[Endpoint] = Endpoints()
endpoint = ENDPOINTS.register  # registers an emulated Bot API method under its spec name


class TelegramEmulator(EmulatorServer):
    title = "Telegram emulator"
    max_upload_bytes = MAX_UPLOAD_BYTES

    def __init__(
        self,
        bot_username: str = "vmeste_test_bot",
        bot_name: str = "Vmeste",
        privacy_mode: bool = False,
    ) -> None:
        super().__init__()
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.privacy_mode = privacy_mode  # True: in groups the bot gets commands and replies only
        self.bot_id = 0  # learnt from the token of the latest call
        self.throttled: list[
            tuple[str, Any, int]
        ] = []  # every 429 sent: method, chat_id, retry_after
        self.webhook_errors: list[tuple[int, str]] = []  # update_id, what went wrong
        self._webhook_error_date = 0
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}  # (scope json, language)
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._users: dict[int, EmulatedUser] = {}
        self._chats: dict[int, EmulatedChat] = {}
        self._files: dict[str, StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self._queries: dict[str, CallbackAnswer] = {}
        self._query_numbers = itertools.count(1)
        self._pending: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []  # every update ever queued, confirmed or not
        self._update_ids = itertools.count(1)
        self._allowed_updates = self._default_updates()
        self._poll_generation = 0
        self._faults: FaultQueue[_Fault] = FaultQueue()  # by method name in lower case
        # each window with how it keys a chat_id (None: the window does not apply)
        self._windows: list[tuple[SlidingWindow, Callable[[Any], Any]]] = []
        self._webhook: _Webhook | None = None

    # lifecycle (start and stop are EmulatorServer's)

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/bot{token}/{method}", self._handle_api)
        router.add_get("/file/bot{token}/{path:.+}", self._handle_file)

    async def _stop_delivery(self) -> None:
        await self._drop_webhook()

    # users and chats

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        started: bool = True,
    ) -> EmulatedUser:
        """The user with this id, created on first use. started=False: never wrote to the bot."""
        if user_id not in self._users:
            raw = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
            optional = {
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
            }
            raw |= {key: value for key, value in optional.items() if value is not None}
            user = EmulatedUser(self, raw, started)
            self._users[user_id] = user
            self._chats[user_id] = user.chat
        return self._users[user_id]

    def group(
        self, chat_id: int, title: str = "Group", *, username: str | None = None
    ) -> EmulatedGroup:
        """The group with this (negative) id; -100... ids are supergroups, as in Telegram."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id not in self._chats:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            raw = {"id": chat_id, "type": kind, "title": title}
            if username:
                raw["username"] = username
            self._chats[chat_id] = EmulatedGroup(self, raw)
        chat = self._chats[chat_id]
        assert isinstance(chat, EmulatedGroup)
        return chat

    def chat(self, chat_id: int) -> EmulatedChat:
        return self._chats[chat_id]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not confirmed by the bot yet."""
        return list(self._pending)

    # fault injection and limits

    def fail_next(
        self,
        method: str,
        status: int | None = 429,
        *,
        retry_after: int = 1,
        description: str | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Answer the next `times` calls of method with an error (status=None: only delay them).

        delay sleeps before answering, to make the bot's request time out.
        """
        fault = _Fault(status, retry_after, description, delay, times)
        self._faults.add(method.lower(), fault)

    def set_limits(
        self,
        global_per_second: int | None = None,
        per_chat_per_second: int | None = None,
        per_group_per_minute: int | None = None,
    ) -> None:
        """Flood limits on calls that send or edit messages; None switches one off."""
        self._windows = []
        if global_per_second:
            self._windows.append((SlidingWindow(global_per_second, 1.0), lambda chat_id: "all"))
        if per_chat_per_second:
            self._windows.append(
                (SlidingWindow(per_chat_per_second, 1.0), lambda chat_id: chat_id)
            )
        if per_group_per_minute:
            window = SlidingWindow(per_group_per_minute, 60.0)
            self._windows.append(
                (window, lambda chat_id: chat_id if _is_group_id(chat_id) else None)
            )

    # waiting for the bot (settle is EmulatorServer's)

    def _pending_reason(self) -> str | None:
        """Updates not confirmed by a later getUpdates offset or a webhook's 2xx answer."""
        if self._pending:
            ids = ", ".join(str(update["update_id"]) for update in self._pending[:10])
            how = "the webhook" if self._webhook else "getUpdates"
            return f"{len(self._pending)} update(s) not confirmed by {how} (ids {ids})"
        return None

    # HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        try:
            params, uploads = await _read_request(request)
            result = await self._call(
                request.match_info["token"], request.match_info["method"], params, uploads
            )
        except ApiError as error:
            return web.json_response(error.to_json(), status=error.error_code)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if not TOKEN_RE.fullmatch(request.match_info["token"]):
            return _error_response(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.file_path == path), None)
        if stored is None:
            return _error_response(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.mime_type or MEDIA[stored.kind].mime_type
        )

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return _error_response(ApiError(404, "Not Found"))

    async def _call(
        self, token: str, method: str, params: dict[str, Any], uploads: dict[str, Upload]
    ) -> Any:
        """Run one Bot API call; raises ApiError for an error answer."""
        token_match = TOKEN_RE.fullmatch(token)
        if token_match is None:
            raise ApiError(401, "Unauthorized")
        self.bot_id = int(token_match.group(1))
        schema = load_spec().method(method)
        name = schema.name if schema else method
        long_poll = name == "getUpdates"
        with self._running(None if long_poll else name):
            return await self._run(token, name, params, uploads)

    async def _run(
        self, token: str, name: str, params: dict[str, Any], uploads: dict[str, Upload]
    ) -> Any:
        index = len(self.calls)
        self.calls.append((name, params))
        try:
            name, params = validate_call(name, params, uploads)
        except ApiError as error:
            self.rejected.append((name, params, error.error_code, error.description))
            raise
        self.calls[index] = (name, params)
        await self._apply_fault(name, params)
        handler = ENDPOINTS.get(name)
        if handler is None:
            raise ApiError(501, f"Not Implemented: the emulator does not support {name}")
        self._check_limits(name, params)
        try:
            return await handler(self, _Call(name, params, self._bot_user(), token))
        except ApiError as error:
            if error.error_code == HTTPStatus.BAD_REQUEST:
                self.rejected.append((name, params, error.error_code, error.description))
            raise

    async def _apply_fault(self, name: str, params: dict[str, Any]) -> None:
        fault = self._faults.take(name.lower())
        if fault is None:
            return
        await asyncio.sleep(fault.delay)
        if fault.status is None:
            return
        error = fault.error()
        if error.retry_after is not None:
            self.throttled.append((name, params.get("chat_id"), error.retry_after))
        raise error

    def _check_limits(self, name: str, params: dict[str, Any]) -> None:
        if not _is_message_method(name):
            return
        chat_id = params.get("chat_id")
        keyed = [
            (window, key)
            for window, key_of in self._windows
            if (key := key_of(chat_id)) is not None
        ]
        now = time.monotonic()
        wait = max((window.wait(key, now) for window, key in keyed), default=0.0)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self.throttled.append((name, chat_id, retry_after))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        for window, key in keyed:
            window.hit(key, now)

    # updates

    def _default_updates(self) -> frozenset[str]:
        kinds = load_spec().types["Update"].fields.keys() - {"update_id"}
        return frozenset(kinds - OPT_IN_UPDATES)

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        if kind not in self._allowed_updates:
            return  # like Telegram: updates the bot did not ask for are never stored
        update = {"update_id": next(self._update_ids), kind: copy.deepcopy(payload)}
        self._pending.append(update)
        self.updates.append(update)
        self._wake()

    def inject_update(self, body: dict[str, Any]) -> int:
        """Queue a raw update: body exactly as given (it may be malformed in any way: a test
        throwing poison at the bot) under the next update_id, whatever the allowed updates; returns the id."""
        update = {**copy.deepcopy(body), "update_id": next(self._update_ids)}
        self._pending.append(update)
        self.updates.append(update)
        self._wake()
        return update["update_id"]

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]

    def _set_allowed_updates(self, kinds: list[str] | None) -> None:
        if kinds is not None:
            self._allowed_updates = frozenset(kinds) if kinds else self._default_updates()

    # users acting

    def _user_text(
        self,
        chat: EmulatedChat,
        user: EmulatedUser,
        text: str,
        reply_to: int | None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        if entities:
            content["entities"] = content.get("entities", []) + list(entities)
        if reply_to is not None:
            content["reply_to_message"] = self._reply_copy(chat, reply_to)
        return self._user_message(chat, user, content)

    def _user_media(
        self,
        chat: EmulatedChat,
        user: EmulatedUser,
        kind: str,
        data: bytes | None,
        caption: str | None,
        **details: Any,
    ) -> dict[str, Any]:
        data = sample_data(kind, data)
        file_name = details.pop("file_name", None)
        stored = self._store_file(kind, data, file_name=file_name, attributes=details)
        content = _media_content(kind, stored)
        if caption:
            content["caption"] = caption
        return self._user_message(chat, user, content)

    def _user_message(
        self, chat: EmulatedChat, user: EmulatedUser, content: dict[str, Any]
    ) -> dict[str, Any]:
        if chat.is_private:
            user.started = True
        message = chat._add(user.raw, content, from_bot=False)
        if self._reaches_bot(chat, message):
            self._enqueue("message", message.raw)
        return copy.deepcopy(message.raw)

    def _reaches_bot(self, chat: EmulatedChat, message: ChatMessage) -> bool:
        """Privacy mode: in groups only commands, replies to the bot and service messages."""
        if chat.is_private or not self.privacy_mode:
            return True
        replied = message.raw.get("reply_to_message", {})
        return (
            (message.text or "").startswith("/")
            or replied.get("from", {}).get("id") == self.bot_id
            or message.kind == "service"
        )

    def _user_edit(
        self, chat: EmulatedChat, user: EmulatedUser, message_id: int, text: str
    ) -> dict[str, Any]:
        message = chat.message(message_id)
        if message is None or message.from_bot or message.raw["from"]["id"] != user.id:
            raise AssertionError(f"{user} has no message {message_id} in chat {chat.id}")
        message.raw["text"] = text
        message.raw.pop("entities", None)
        message.raw["edit_date"] = int(time.time())
        message.edited = True
        self._enqueue("edited_message", message.raw)
        return copy.deepcopy(message.raw)

    def _user_click(
        self,
        chat: EmulatedChat,
        user: EmulatedUser,
        target: str,
        message: ChatMessage | int | None,
    ) -> str:
        candidates = [chat.shown(message)] if message is not None else chat.bot_messages[::-1]
        found = find_button(
            candidates, lambda button: target in (button["text"], button.get("callback_data"))
        )
        if found is not None:
            candidate, button = found
            if "callback_data" not in button:
                raise AssertionError(f"button {target!r} is not a callback button: {button}")
            return self._callback_query(chat, user, candidate, button["callback_data"])
        shown = next((m.buttons for m in candidates if m.inline_keyboard), [])
        raise AssertionError(
            f"no inline button {target!r} in chat {chat.id}; latest buttons: {shown}"
        )

    def _user_click_data(
        self, chat: EmulatedChat, user: EmulatedUser, data: str, message: ChatMessage | int | None
    ) -> str:
        target = chat.last if message is None else chat.shown(message)
        return self._callback_query(chat, user, target, data)

    def _callback_query(
        self, chat: EmulatedChat, user: EmulatedUser, message: ChatMessage, data: str
    ) -> str:
        query_id = f"{user.id}{next(self._query_numbers):06d}"
        answer = CallbackAnswer(query_id, data)
        self._queries[query_id] = answer
        user.callback_answers.append(answer)
        query = {
            "id": query_id,
            "from": user.raw,
            "message": message.raw,
            "chat_instance": f"{abs(chat.id) * 7919 % 10**12}",
            "data": data,
        }
        self._enqueue("callback_query", query)
        return query_id

    def _set_blocked(self, user: EmulatedUser, blocked: bool, notify: bool = True) -> None:
        if user.blocked == blocked:
            return
        user.blocked = blocked
        if not notify:
            return
        bot = {"status": "member", "user": self._bot_user()}
        banned = {"status": "kicked", "user": self._bot_user(), "until_date": 0}
        old, new = (bot, banned) if blocked else (banned, bot)
        update = {
            "chat": user.chat.raw,
            "from": user.raw,
            "date": int(time.time()),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        self._enqueue("my_chat_member", update)

    # state helpers for endpoints

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def _chat(self, chat_id: int | str) -> EmulatedChat:
        if isinstance(chat_id, str):
            username = chat_id.removeprefix("@")
            chat = next(
                (c for c in self._chats.values() if c.raw.get("username") == username), None
            )
        else:
            chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _writable_chat(self, chat_id: int | str) -> EmulatedChat:
        chat = self._chat(chat_id)
        user = self._users.get(chat.id) if chat.is_private else None
        if user is not None and user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if user is not None and not user.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _reply_copy(self, chat: EmulatedChat, message_id: int) -> dict[str, Any]:
        replied = chat.message(message_id)
        if replied is None or replied.deleted:
            raise AssertionError(f"no message {message_id} to reply to in chat {chat.id}")
        return _quoted(replied.raw)

    def _bot_message(self, chat: EmulatedChat, call: _Call, content: dict[str, Any]) -> ChatMessage:
        """Add a message the bot sent, with its reply target and keyboard."""
        content = dict(content)
        reply = call.params.get("reply_parameters")
        if reply:
            target = self._chat(reply.get("chat_id", chat.id)).message(reply["message_id"])
            if target is not None and not target.deleted:
                content["reply_to_message"] = _quoted(target.raw)
            elif not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
        markup = call.params.get("reply_markup") or {}
        if markup.get("inline_keyboard"):
            content["reply_markup"] = markup
        message = chat._add(call.bot, content, from_bot=True)
        if "keyboard" in markup:
            message.reply_keyboard = [[_button_text(b) for b in row] for row in markup["keyboard"]]
            chat.keyboard = message.reply_keyboard
        elif markup.get("remove_keyboard"):
            chat.keyboard = None
        return message

    def _editable(self, params: dict[str, Any]) -> ChatMessage:
        if "inline_message_id" in params:
            raise bad_request("the emulator does not support inline messages")
        if "chat_id" not in params or "message_id" not in params:
            raise bad_request("message identifier is not specified")
        message = self._writable_chat(params["chat_id"]).message(params["message_id"])
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _edit(self, message: ChatMessage, content: dict[str, Any], markup: dict | None) -> dict:
        """Apply an edit. Without reply_markup the inline keyboard goes, as in Telegram."""
        markup = markup if markup and markup.get("inline_keyboard") else None
        unchanged = all(message.raw.get(key) == value for key, value in content.items())
        if unchanged and message.raw.get("reply_markup") == markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for key, value in {**content, "reply_markup": markup}.items():
            if value is None:
                message.raw.pop(key, None)
            else:
                message.raw[key] = value
        message.raw["edit_date"] = int(time.time())
        message.edited = True
        return message.raw

    def _store_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        attributes: dict[str, Any],
    ) -> StoredFile:
        number = next(self._file_numbers)
        media = MEDIA[kind]
        extension = (
            file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else media.extension
        )
        stored = StoredFile(
            file_id=f"{kind[:2].upper()}AAQ{number}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{number}{secrets.token_urlsafe(6)}",
            kind=kind,
            data=data,
            file_path=f"{media.folder}/file_{number}.{extension}",
            file_name=file_name,
            mime_type=mime_type or media.mime_type,
            attributes={key: attributes[key] for key in MEDIA_ATTRIBUTES if key in attributes},
        )
        self._files[stored.file_id] = stored
        return stored

    def _input_file(self, kind: str, params: dict[str, Any]) -> StoredFile:
        """The file in params[kind]: an upload, a known file_id, or an http(s) URL."""
        value = params[kind]
        if isinstance(value, Upload):
            mime_type = (
                value.content_type if value.content_type != "application/octet-stream" else None
            )
            return self._store_file(
                kind, value.data, file_name=value.filename, mime_type=mime_type, attributes=params
            )
        if value in self._files:
            stored = self._files[value]
            if stored.kind != kind:
                raise bad_request(f"can't use file of type {stored.kind} as {kind}")
            return stored
        if value.startswith(("http://", "https://")):
            file_name = value.rsplit("/", 1)[-1] or None
            return self._store_file(kind, b"", file_name=file_name, attributes=params)
        raise bad_request("wrong file identifier/HTTP URL specified")

    # endpoints

    @endpoint("getMe")
    async def _get_me(self, call: _Call) -> dict[str, Any]:
        return call.bot | {
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @endpoint("logOut", "close")
    async def _accept(self, call: _Call) -> bool:
        return True

    @endpoint("getUpdates")
    async def _get_updates(self, call: _Call) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        params = call.params
        self._set_allowed_updates(params.get("allowed_updates"))
        if "offset" in params:
            self._confirm(params["offset"])
        limit = min(max(params.get("limit", 100), 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older poll still waiting learns it was superseded

        def check_superseded() -> None:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )

        timeout = max(params.get("timeout", 0), 0)
        await self._long_poll(timeout, lambda: bool(self._pending), check_superseded)
        return copy.deepcopy(self._pending[:limit])

    @endpoint("setWebhook")
    async def _set_webhook(self, call: _Call) -> bool:
        params = call.params
        url = params["url"]
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        await self._drop_webhook()
        if not url:
            return True
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._set_allowed_updates(params.get("allowed_updates"))
        hook = _Webhook(url, secret, call.token, params.get("max_connections", 40))
        hook.task = asyncio.create_task(self._deliver_to_webhook(hook))
        self._webhook = hook
        return True

    @endpoint("deleteWebhook")
    async def _delete_webhook(self, call: _Call) -> bool:
        await self._drop_webhook()
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    @endpoint("getWebhookInfo")
    async def _get_webhook_info(self, call: _Call) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook.url if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook is not None:
            info["max_connections"] = self._webhook.max_connections
            info["allowed_updates"] = sorted(self._allowed_updates)
        if self.webhook_errors:
            info["last_error_date"] = self._webhook_error_date
            info["last_error_message"] = self.webhook_errors[-1][1]
        return info

    @endpoint("sendMessage")
    async def _send_message(self, call: _Call) -> dict[str, Any]:
        chat = self._writable_chat(call.params["chat_id"])
        content = _pick(call.params, "text", "entities")
        return self._bot_message(chat, call, content).raw

    @endpoint(
        "sendPhoto", "sendDocument", "sendVoice", "sendVideo", "sendAudio",
        "sendAnimation", "sendSticker",
    )  # fmt: skip
    async def _send_media(self, call: _Call) -> dict[str, Any]:
        chat = self._writable_chat(call.params["chat_id"])
        kind = call.method.removeprefix("send").lower()
        stored = self._input_file(kind, call.params)
        content = _media_content(kind, stored)
        content |= _pick(call.params, "caption", "caption_entities")
        return self._bot_message(chat, call, content).raw

    @endpoint("sendChatAction")
    async def _send_chat_action(self, call: _Call) -> bool:
        chat = self._writable_chat(call.params["chat_id"])
        if call.params["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.actions.append(call.params["action"])
        return True

    @endpoint("editMessageText")
    async def _edit_message_text(self, call: _Call) -> dict[str, Any]:
        message = self._editable(call.params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        content = {"text": call.params["text"], "entities": call.params.get("entities")}
        return self._edit(message, content, call.params.get("reply_markup"))

    @endpoint("editMessageCaption")
    async def _edit_message_caption(self, call: _Call) -> dict[str, Any]:
        message = self._editable(call.params)
        if message.kind in ("text", "service", "sticker"):
            raise bad_request("there is no caption in the message to edit")
        content = {
            "caption": call.params.get("caption"),
            "caption_entities": call.params.get("caption_entities"),
        }
        return self._edit(message, content, call.params.get("reply_markup"))

    @endpoint("editMessageReplyMarkup")
    async def _edit_message_reply_markup(self, call: _Call) -> dict[str, Any]:
        message = self._editable(call.params)
        return self._edit(message, {}, call.params.get("reply_markup"))

    @endpoint("deleteMessage")
    async def _delete_message(self, call: _Call) -> bool:
        message = self._chat(call.params["chat_id"]).message(call.params["message_id"])
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        return True

    @endpoint("deleteMessages")
    async def _delete_messages(self, call: _Call) -> bool:
        chat = self._chat(call.params["chat_id"])
        for message_id in call.params["message_ids"]:
            message = chat.message(message_id)
            if message is not None:
                message.deleted = True
        return True

    @endpoint("copyMessage")
    async def _copy_message(self, call: _Call) -> dict[str, int]:
        source = self._source_message(call.params, "message to copy not found")
        content = _pick(source.raw, *CONTENT_KEYS)
        if "caption" in call.params:
            content.pop("caption_entities", None)
            content |= _pick(call.params, "caption", "caption_entities")
        target = self._writable_chat(call.params["chat_id"])
        return {"message_id": self._bot_message(target, call, content).message_id}

    @endpoint("forwardMessage")
    async def _forward_message(self, call: _Call) -> dict[str, Any]:
        source = self._source_message(call.params, "message to forward not found")
        origin = {"type": "user", "date": source.raw["date"], "sender_user": source.raw["from"]}
        content = _pick(source.raw, *CONTENT_KEYS) | {"forward_origin": origin}
        target = self._writable_chat(call.params["chat_id"])
        return self._bot_message(target, call, content).raw

    def _source_message(self, params: dict[str, Any], not_found: str) -> ChatMessage:
        message = self._chat(params["from_chat_id"]).message(params["message_id"])
        if message is None or message.deleted:
            raise bad_request(not_found)
        return message

    @endpoint("answerCallbackQuery")
    async def _answer_callback_query(self, call: _Call) -> bool:
        answer = self._queries.get(call.params["callback_query_id"])
        if answer is None or answer.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        answer.answered = True
        answer.text = call.params.get("text")
        answer.show_alert = call.params.get("show_alert", False)
        answer.url = call.params.get("url")
        return True

    @endpoint("setMyCommands")
    async def _set_my_commands(self, call: _Call) -> bool:
        commands = call.params["commands"]
        if any(not COMMAND_RE.fullmatch(command["command"]) for command in commands):
            raise bad_request("BOT_COMMAND_INVALID")
        self.commands[_commands_key(call.params)] = commands
        return True

    @endpoint("getMyCommands")
    async def _get_my_commands(self, call: _Call) -> list[dict[str, str]]:
        return self.commands.get(_commands_key(call.params), [])

    @endpoint("deleteMyCommands")
    async def _delete_my_commands(self, call: _Call) -> bool:
        self.commands.pop(_commands_key(call.params), None)
        return True

    @endpoint("setChatMenuButton")
    async def _set_chat_menu_button(self, call: _Call) -> bool:
        chat_id = call.params.get("chat_id")
        if chat_id is not None:
            self._chat(chat_id)
        self.menu_buttons[chat_id] = call.params.get("menu_button", {"type": "default"})
        return True

    @endpoint("getChatMenuButton")
    async def _get_chat_menu_button(self, call: _Call) -> dict[str, Any]:
        chat_id = call.params.get("chat_id")
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "default"}

    @endpoint("getChat")
    async def _get_chat(self, call: _Call) -> dict[str, Any]:
        chat = self._chat(call.params["chat_id"])
        return chat.raw | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    @endpoint("getChatMember")
    async def _get_chat_member(self, call: _Call) -> dict[str, Any]:
        chat = self._chat(call.params["chat_id"])
        user_id = call.params["user_id"]
        if user_id == self.bot_id:
            if isinstance(chat, EmulatedGroup):
                return _administrator(call.bot)
            return {"status": "member", "user": call.bot}
        user = self._users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if isinstance(chat, EmulatedGroup):
            if user_id in chat.admins:
                return _administrator(user.raw)
            if user_id not in chat.members:
                return {"status": "left", "user": user.raw}
        elif chat.id != user_id:
            raise bad_request("user not found")
        return {"status": "member", "user": user.raw}

    @endpoint("getFile")
    async def _get_file(self, call: _Call) -> dict[str, Any]:
        stored = self._files.get(call.params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # webhook delivery

    async def _drop_webhook(self) -> None:
        hook, self._webhook = self._webhook, None
        if hook is not None:
            await cancel_task(hook.task)

    async def _deliver_to_webhook(self, hook: _Webhook) -> None:
        """POST updates one at a time, in order; an update is confirmed by a 2xx answer."""
        failures = 0
        async with aiohttp.ClientSession() as session:
            while not self._stopped:
                if not self._pending:
                    await self._wait_for_wake(None)
                    continue
                update = self._pending[0]
                error = await self._post_update(session, hook, update)
                if error is None:
                    failures = 0
                    self._confirm(update["update_id"] + 1)
                    self._touch()
                    continue
                failures += 1
                self.webhook_errors.append((update["update_id"], error))
                self._webhook_error_date = int(time.time())
                await asyncio.sleep(retry_delay(failures))

    async def _post_update(
        self, session: aiohttp.ClientSession, hook: _Webhook, update: dict[str, Any]
    ) -> str | None:
        """Deliver one update; returns what went wrong, or None."""
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)
        try:
            async with session.post(
                hook.url, json=update, headers=headers, timeout=timeout
            ) as answer:
                if not 200 <= answer.status < 300:
                    return f"Wrong response from the webhook: {answer.status} {answer.reason}"
                params, uploads = await _read_webhook_reply(answer)
        except (aiohttp.ClientError, TimeoutError) as error:
            return f"Connection failed: {error!r}"
        method = params.pop("method", None)
        if method:
            # the bot may answer an update with a method call in the response body
            with contextlib.suppress(ApiError):
                await self._call(hook.token, str(method), params, uploads)
        return None


def _is_message_method(name: str) -> bool:
    """Calls that send or edit messages are the ones Telegram's flood limits count."""
    return name.startswith(("send", "copy", "forward", "edit")) and name != "sendChatAction"


def _is_group_id(chat_id: Any) -> bool:
    return isinstance(chat_id, int) and chat_id < 0


def _pick(source: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: copy.deepcopy(source[key]) for key in keys if key in source}


def _quoted(raw: dict[str, Any]) -> dict[str, Any]:
    """A message as reply_to_message shows it: without its own reply."""
    return {key: value for key, value in raw.items() if key != "reply_to_message"}


def _button_text(button: dict[str, Any] | str) -> str:
    return button if isinstance(button, str) else button["text"]


def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get("language_code", "")


def _administrator(user: dict[str, Any]) -> dict[str, Any]:
    rights = (
        "can_be_edited", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
        "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users",
        "can_post_stories", "can_edit_stories", "can_delete_stories", "can_send_welcome_messages",
    )  # fmt: skip
    return {"status": "administrator", "user": user, "is_anonymous": False} | dict.fromkeys(
        rights, True
    )


def _media_content(kind: str, stored: StoredFile) -> dict[str, Any]:
    content = {kind: _media_object(kind, stored)}
    if kind == "animation":  # Telegram adds the file as a document too, for older clients
        content["document"] = _media_object("document", stored)
    return content


def _media_object(kind: str, stored: StoredFile) -> Any:
    """The Photo/Document/Voice/... object of a stored file, with sizes and durations."""
    base = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    named = {"file_name": stored.file_name} if stored.file_name else {}
    params = stored.attributes
    duration = {"duration": params.get("duration", 5)}
    frame = {"width": params.get("width", 640), "height": params.get("height", 480)}
    mime = {"mime_type": stored.mime_type}
    match kind:
        case "photo":
            return [base | {"width": 800, "height": 600}]
        case "document":
            return base | named | mime
        case "voice":
            return base | duration | mime
        case "video" | "animation":
            return base | frame | duration | named | mime
        case "audio":
            tags = {key: params[key] for key in ("title", "performer") if key in params}
            return base | duration | named | mime | tags
        case "sticker":
            sticker = base | {"type": "regular", "width": 512, "height": 512}
            sticker |= {"is_animated": False, "is_video": False}
            return sticker | ({"emoji": params["emoji"]} if "emoji" in params else {})
    raise ValueError(f"unknown media kind {kind}")


def _error_response(error: ApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.error_code)


async def _read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Params from the query string and a JSON, urlencoded or multipart body."""
    params: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if not request.body_exists:
        return params, uploads
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        return params | body, uploads
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            uploads[name] = Upload(value.filename, value.file.read(), value.content_type)
        else:
            params[name] = value
    return params, uploads


async def _read_webhook_reply(
    answer: aiohttp.ClientResponse,
) -> tuple[dict[str, Any], dict[str, Upload]]:
    """A webhook may answer with a method call, as JSON or multipart form-data."""
    if answer.content_type == "application/json":
        body = await answer.json()
        return (body if isinstance(body, dict) else {}), {}
    params: dict[str, Any] = {}
    uploads: dict[str, Upload] = {}
    if answer.content_type == "multipart/form-data":
        reader = aiohttp.MultipartReader(answer.headers, answer.content)
        while (part := await reader.next()) is not None:
            assert isinstance(part, aiohttp.BodyPartReader)
            if part.filename:
                uploads[part.name or ""] = Upload(part.filename, bytes(await part.read()))
            else:
                params[part.name or ""] = await part.text()
    return params, uploads
