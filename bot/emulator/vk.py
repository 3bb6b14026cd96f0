"""A local VK API server (methods, Bots Long Poll, uploads, Callback API), and the users
who talk to the community's bot through it.

    vk = VkEmulator(group_id=218000000, token="vk1.a.test-token")
    base_url = await vk.start()       # the bot's requests adapter sends api.vk.ru here
    olga = vk.user(5001, first_name="Olga")
    olga.send("hello")
    await vk.settle()
    assert olga.last.text == "..."

The bot reaches the emulator over HTTP only (vk_api posts to https://api.vk.ru/method/…,
which the bot's session adapter points here; the long poll server and the upload URLs
the emulator hands out are loopback URLs), so it may run in another process. Users are
driven from the event loop the server runs in. Every call is validated against VK's JSON
schema (see vk_spec) and answered the way VK answers it: HTTP 200 with {"response": …}
or {"error": {"error_code", "error_msg", "request_params"}}.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
from bot.emulator.vk_spec import (
    API_VERSION,
    MESSAGE_MAX_LENGTH,
    VkApiError,
    api_error,
    param_error,
    validate_call,
    validate_event_data,
    validate_keyboard,
    validate_message_payload,
)

CHAT_PEER_START = 2_000_000_000
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_ATTACHMENTS = 10
DEDUP_SECONDS = 3600  # the same random_id to the same peer within this window is one message
LONGPOLL_DEFAULT_WAIT = 25
LONGPOLL_MAX_WAIT = 90
CALLBACK_TIMEOUT = 10.0
CALLBACK_ATTEMPTS = 5  # VK re-sends an event a few times, then gives up on it
FLOOD_CODES = frozenset({6, 9, 29})
STATE_CODES = frozenset({900, 901, 902, 917})  # about the recipient, not a malformed call
# Bots Long Poll / Callback API event types a freshly configured community sends
DEFAULT_EVENTS = frozenset({"message_new", "message_event", "message_allow", "message_deny"})
ALL_EVENTS = DEFAULT_EVENTS | {"message_reply", "message_edit", "message_typing_state"}
BUTTON_ACTIONS = [
    "text", "vkpay", "open_app", "location", "open_link", "callback",
    "intent_subscribe", "intent_unsubscribe",
]  # fmt: skip
ATTACHMENT_RE = re.compile(r"(photo|doc|audio_message|video)(-?\d+)_(\d+)(?:_([0-9A-Za-z]+))?")
# VK's doc type codes by extension: 1 text, 2 archive, 3 gif, 4 image, 5 audio, 6 video,
# 7 e-book, 8 anything else
DOC_TYPES = {
    **dict.fromkeys(("pdf", "doc", "docx", "txt", "rtf", "odt", "xls", "xlsx", "ppt", "pptx"), 1),
    **dict.fromkeys(("zip", "rar", "7z", "tar", "gz"), 2),
    "gif": 3,
    **dict.fromkeys(("jpg", "jpeg", "png", "webp", "bmp"), 4),
    **dict.fromkeys(("mp3", "ogg", "oga", "opus", "wav", "m4a"), 5),
    **dict.fromkeys(("mp4", "avi", "mov", "mkv", "webm"), 6),
    **dict.fromkeys(("epub", "fb2", "djvu"), 7),
}
MIME_TYPES = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
    "webp": "image/webp", "pdf": "application/pdf", "ogg": "audio/ogg", "oga": "audio/ogg",
    "opus": "audio/ogg", "mp3": "audio/mpeg", "mp4": "video/mp4", "txt": "text/plain",
}  # fmt: skip
PHOTO_SIZES = (("s", 75), ("m", 130), ("x", 604), ("y", 807))


@dataclass
class StoredFile:
    """A photo, document, voice message, video or sticker the emulator holds."""

    kind: str  # photo, doc, audio_message, graffiti, video, sticker
    owner_id: int
    id: int
    data: bytes = dataclasses.field(repr=False)
    access_key: str
    title: str
    ext: str
    path: str  # under /files/
    date: int
    attributes: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def mime_type(self) -> str:
        return MIME_TYPES.get(self.ext, "application/octet-stream")


@dataclass
class CallbackAnswer:
    """A callback button a user pressed (a message_event), and the bot's answer if any."""

    event_id: str
    payload: Any
    user_id: int
    peer_id: int
    conversation_message_id: int | None
    answered: bool = False
    event_data: dict[str, Any] | None = None

    @property
    def text(self) -> str | None:
        """The snackbar text the user saw."""
        if self.event_data and self.event_data.get("type") == "show_snackbar":
            return self.event_data["text"]
        return None

    @property
    def link(self) -> str | None:
        if self.event_data and self.event_data.get("type") == "open_link":
            return self.event_data["link"]
        return None


@dataclass
class _Fault:
    error_code: int | None
    http_status: int | None
    error_msg: str | None
    delay: float
    times: int


@dataclass
class _CallbackServer:
    url: str
    secret: str | None
    confirmation_code: str
    confirmed: bool = False
    task: asyncio.Task | None = None


@dataclass
class _UploadServer:
    kind: str  # photo | doc
    doc_type: str  # doc | audio_message | graffiti (docs only)
    peer_id: int | None


@dataclass
class _Upload:
    kind: str
    doc_type: str
    data: bytes = dataclasses.field(repr=False)
    filename: str
    server: int


class _HttpFault(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class ChatMessage:
    """One message of a conversation, in its current state (edits applied)."""

    def __init__(self, raw: dict[str, Any], from_bot: bool) -> None:
        self.raw = raw
        self.from_bot = from_bot
        self.deleted = False  # deleted for everybody: the user no longer sees it
        self.deleted_for_bot = False  # deleted for the community only: the user still sees it
        self.edited = False

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else "user"
        return f"<ChatMessage {self.message_id} from {who} {self.kind}: {self.text!r}>"

    @property
    def message_id(self) -> int:
        """The conversation_message_id: what identifies a message in every kind of chat."""
        return self.raw["conversation_message_id"]

    @property
    def conversation_message_id(self) -> int:
        return self.raw["conversation_message_id"]

    @property
    def id(self) -> int:
        """The community-wide message id; 0 in multi-user chats, as VK gives bots there."""
        return self.raw["id"]

    @property
    def peer_id(self) -> int:
        return self.raw["peer_id"]

    @property
    def chat_id(self) -> int:
        return self.raw["peer_id"]

    @property
    def text(self) -> str:
        return self.raw.get("text", "")

    @property
    def caption(self) -> str | None:
        """The text of a message with attachments (VK has no separate caption)."""
        return (self.text or None) if self.attachments else None

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return self.raw.get("attachments", [])

    @property
    def payload(self) -> str | None:
        return self.raw.get("payload")

    @property
    def kind(self) -> str:
        """text, service (a chat action), or the type of the first attachment."""
        if self.attachments:
            return self.attachments[0]["type"]
        return "service" if "action" in self.raw else "text"

    @property
    def keyboard(self) -> dict[str, Any] | None:
        return self.raw.get("keyboard")

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        keyboard = self.keyboard or {}
        return keyboard.get("buttons", []) if keyboard.get("inline") else []

    @property
    def buttons(self) -> list[list[tuple[str | None, str | None]]]:
        """Rows of the inline keyboard as (label, payload string or link)."""
        return [[_button_view(button) for button in row] for row in self.inline_keyboard]


class VkChat(EmulatedChatBase[ChatMessage]):
    """A conversation as its members see it: every message in order."""

    noun = "peer"
    message_type = ChatMessage

    def __init__(self, emulator: VkEmulator, peer_id: int) -> None:
        super().__init__(emulator)
        self.peer_id = peer_id
        self.keyboard_raw: dict[str, Any] | None = None  # the (non-inline) keyboard shown now

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.peer_id}>"

    @property
    def id(self) -> int:
        return self.peer_id

    @property
    def is_private(self) -> bool:
        return 0 < self.peer_id < CHAT_PEER_START

    @property
    def keyboard(self) -> list[list[str]] | None:
        """Labels of the keyboard under the input field, if the bot set one."""
        if not self.keyboard_raw:
            return None
        return [[b["action"].get("label", "") for b in row] for row in self.keyboard_raw["buttons"]]

    def message(self, conversation_message_id: int) -> ChatMessage | None:
        return super().message(conversation_message_id)  # a message_id is a cmid here

    def _add(self, raw: dict[str, Any], from_bot: bool) -> ChatMessage:
        raw["conversation_message_id"] = next(self._numbers)
        return self._append(raw, from_bot)


class VkUser(EmulatedUserBase[VkChat]):
    """A VK user; their private conversation with the community has peer_id == user id."""

    callback_answers: list[CallbackAnswer]

    def __init__(self, emulator: VkEmulator, raw: dict[str, Any], allowed: bool) -> None:
        super().__init__(emulator, raw)
        self.allowed = allowed  # has written to the community or allowed its messages
        self.denied = False  # forbade messages from the community (message_deny)
        self.blocked_code: int | None = None  # 900/902: sends fail with this code
        self.chat = VkChat(emulator, raw["id"])

    @property
    def peer_id(self) -> int:
        return self.raw["id"]

    @property
    def blocked(self) -> bool:
        return self.denied or self.blocked_code is not None

    def send(
        self,
        text: str,
        *,
        ref: str | None = None,
        ref_source: str | None = None,
        payload: Any = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """Write to the community (message_new); reply_to is a conversation_message_id."""
        content: dict[str, Any] = {"text": text}
        if ref is not None:
            content["ref"] = ref
        if ref_source is not None:
            content["ref_source"] = ref_source
        if payload is not None:
            content["payload"] = payload if isinstance(payload, str) else json.dumps(payload)
        return self._emulator._user_message(self.chat, self, content, reply_to)

    def start(
        self, ref: str | None = None, ref_source: str | None = None, text: str = "Start"
    ) -> dict[str, Any]:
        """Press "Start" in a new conversation (from a vk.me/…?ref= link when ref is set)."""
        return self.send(
            text, ref=ref, ref_source=ref_source, payload={"command": "start"}
        )

    def send_photo(self, caption: str = "", data: bytes | None = None) -> dict[str, Any]:
        return self._emulator._user_media(self.chat, self, "photo", data, caption)

    def send_document(
        self, file_name: str = "document.pdf", caption: str = "", data: bytes | None = None
    ) -> dict[str, Any]:
        return self._emulator._user_media(
            self.chat, self, "doc", data, caption, file_name=file_name
        )

    def send_voice(self, duration: int = 3, data: bytes | None = None) -> dict[str, Any]:
        return self._emulator._user_media(
            self.chat, self, "audio_message", data, "", duration=duration
        )

    def send_video(
        self, duration: int = 5, caption: str = "", data: bytes | None = None
    ) -> dict[str, Any]:
        return self._emulator._user_media(
            self.chat, self, "video", data, caption, duration=duration
        )

    def send_sticker(self, sticker_id: int = 9010) -> dict[str, Any]:
        return self._emulator._user_media(
            self.chat, self, "sticker", None, "", sticker_id=sticker_id
        )

    def click(self, button: Any, message: ChatMessage | int | None = None) -> str:
        """Press a button by its label or payload (string, or the decoded object).

        A callback button sends message_event (returns its event_id, the one the bot
        answers); a text button sends message_new with the payload (returns the event's
        event_id). Searches the latest bot message with such a button, then the keyboard
        under the input field.
        """
        return self._emulator._user_click(self.chat, self, button, message)

    def click_payload(self, payload: Any, message: ChatMessage | int | None = None) -> str:
        """A message_event with an arbitrary payload, as a stale or forged button sends."""
        return self._emulator._user_click_payload(self.chat, self, payload, message)

    click_data = click_payload  # the Telegram emulator's name

    def allow(self, key: str = "") -> dict[str, Any]:
        """Allow messages from the community (message_allow)."""
        return self._emulator._set_allowed(self, True, key)

    def deny(self) -> dict[str, Any]:
        """Forbid messages from the community (message_deny); sends then fail with 901."""
        return self._emulator._set_allowed(self, False, "")

    def block(self, code: int = 901) -> None:
        """Make the community's messages fail: 901 is deny(); 900 blacklist, 902 privacy."""
        if code == 901:
            self.deny()
        elif code in (900, 902):
            self.blocked_code = code
        else:
            raise ValueError("VK refuses messages to a user with error 900, 901 or 902")

    def unblock(self) -> None:
        self.blocked_code = None
        if self.denied:
            self.allow()


class VkGroupChat(VkChat):
    """A multi-user chat (peer_id 2000000000 + chat id) the community's bot takes part in."""

    def __init__(
        self, emulator: VkEmulator, chat_id: int, title: str, bot_member: bool, bot_admin: bool
    ) -> None:
        super().__init__(emulator, CHAT_PEER_START + chat_id)
        self.chat_id = chat_id
        self.title = title
        self.bot_member = bot_member
        self.bot_admin = bot_admin  # admins read every message and may list members
        self.members: set[int] = set()
        self.admins: set[int] = set()
        self.owner_id: int | None = None

    def send(
        self, user: VkUser, text: str, *, payload: Any = None, reply_to: int | None = None
    ) -> dict[str, Any]:
        self.members.add(user.id)
        content: dict[str, Any] = {"text": text}
        if payload is not None:
            content["payload"] = payload if isinstance(payload, str) else json.dumps(payload)
        return self._emulator._user_message(self, user, content, reply_to)

    def send_photo(self, user: VkUser, caption: str = "") -> dict[str, Any]:
        self.members.add(user.id)
        return self._emulator._user_media(self, user, "photo", None, caption)

    def click(self, user: VkUser, button: Any, message: ChatMessage | int | None = None) -> str:
        return self._emulator._user_click(self, user, button, message)

    def click_payload(
        self, user: VkUser, payload: Any, message: ChatMessage | int | None = None
    ) -> str:
        return self._emulator._user_click_payload(self, user, payload, message)

    def invite_bot(self, by: VkUser | None = None) -> dict[str, Any]:
        """Someone adds the community to the chat: message_new with chat_invite_user."""
        self.bot_member = True
        inviter = by or self._emulator._users.get(self.owner_id or 0)
        if inviter is not None:
            self.members.add(inviter.id)
        action = {"type": "chat_invite_user", "member_id": -self._emulator.group_id}
        return self._emulator._service_message(self, inviter, action)

    def remove_bot(self, by: VkUser | None = None) -> dict[str, Any]:
        """The community is removed from the chat; it can no longer write there."""
        action = {"type": "chat_kick_user", "member_id": -self._emulator.group_id}
        message = self._emulator._service_message(self, by, action)
        self.bot_member = False
        return message

    def join(self, user: VkUser) -> dict[str, Any]:
        self.members.add(user.id)
        action = {"type": "chat_invite_user_by_link", "member_id": user.id}
        return self._emulator._service_message(self, user, action)

    def leave(self, user: VkUser) -> dict[str, Any]:
        self.members.discard(user.id)
        self.admins.discard(user.id)
        action = {"type": "chat_kick_user", "member_id": user.id}
        return self._emulator._service_message(self, user, action)

    def make_admin(self, user: VkUser) -> None:
        self.members.add(user.id)
        self.admins.add(user.id)


Endpoint = Callable[["VkEmulator", dict[str, Any]], Awaitable[Any]]
ENDPOINTS: Endpoints[Endpoint] = Endpoints()
endpoint = ENDPOINTS.register  # registers an emulated VK API method under its schema name


class VkEmulator(EmulatorServer):
    title = "VK emulator"
    max_upload_bytes = MAX_UPLOAD_BYTES

    def __init__(
        self,
        group_id: int = 218000000,
        *,
        screen_name: str = "vmeste_test",
        name: str = "Vmeste",
        token: str = "vk1.a.test-token",
        events: frozenset[str] | set[str] | None = None,
    ) -> None:
        super().__init__()
        self.group_id = group_id
        self.screen_name = screen_name
        self.name = name
        self.token = token
        self.throttled: list[tuple[str, Any, int]] = []  # method, peer, error_code
        self.updates: list[dict[str, Any]] = []  # every event queued, in order
        self.callback_errors: list[tuple[str, str]] = []  # event_id or "confirmation", what
        self.longpoll_settings: dict[str, Any] = {
            "is_enabled": True,
            "api_version": API_VERSION,
            "events": {kind: kind in (events or DEFAULT_EVENTS) for kind in sorted(ALL_EVENTS)},
        }
        self._users: dict[int, VkUser] = {}
        self._chats: dict[int, VkChat] = {}
        self._message_ids = itertools.count(1)
        self._versions = itertools.count(10_000_001)
        self._file_ids = itertools.count(457_239_017)
        self._upload_servers: dict[str, _UploadServer] = {}
        self._uploads: dict[str, _Upload] = {}
        self._files: dict[tuple[str, int, int], StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._sent: dict[tuple[int, int], tuple[float, ChatMessage]] = {}
        self._answers: dict[str, CallbackAnswer] = {}
        self._secret = secrets.token_bytes(16)
        self._lp_keys: set[str] = set()
        self._lp_failure = 2  # what a stale key gets: 2 (key expired) or 3 (information lost)
        self._lp_confirmed = 1  # number of the first event no a_check has confirmed yet
        self._callback: _CallbackServer | None = None
        self._cb_next = 1  # number of the next event to POST to the callback server
        self._faults: FaultQueue[_Fault] = FaultQueue()  # by method name, and "longpoll"
        self._window: SlidingWindow | None = None

    # lifecycle (start and stop are EmulatorServer's)

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/method/{method}", self._handle_method)
        router.add_route("*", "/longpoll/{group_id}", self._handle_longpoll)
        router.add_route("*", "/upload/{server}", self._handle_upload)
        router.add_get("/files/{path:.+}", self._handle_file)

    # users and chats

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        *,
        screen_name: str | None = None,
        sex: int = 0,
        allowed: bool = True,
    ) -> VkUser:
        """The user with this id, created on first use. allowed=False: never wrote to the
        community nor allowed its messages, so sends to them fail with 901."""
        if not 0 < user_id < CHAT_PEER_START:
            raise ValueError("VK user ids are positive and below 2000000000")
        if user_id not in self._users:
            raw = {
                "id": user_id,
                "first_name": first_name or f"User{user_id}",
                "last_name": last_name or "Test",
                "can_access_closed": True,
                "is_closed": False,
                "screen_name": screen_name or f"id{user_id}",
                "sex": sex,
            }
            user = VkUser(self, raw, allowed)
            self._users[user_id] = user
            self._chats[user_id] = user.chat
        return self._users[user_id]

    def group(
        self,
        chat_id: int,
        title: str = "Chat",
        *,
        bot_member: bool = True,
        bot_admin: bool = True,
    ) -> VkGroupChat:
        """The multi-user chat with this local id (or its peer id, 2000000000 + id)."""
        if chat_id >= CHAT_PEER_START:
            chat_id -= CHAT_PEER_START
        if chat_id <= 0:
            raise ValueError("VK chat ids are positive (peer_id = 2000000000 + chat id)")
        peer_id = CHAT_PEER_START + chat_id
        if peer_id not in self._chats:
            self._chats[peer_id] = VkGroupChat(self, chat_id, title, bot_member, bot_admin)
        chat = self._chats[peer_id]
        assert isinstance(chat, VkGroupChat)
        return chat

    def chat(self, peer_id: int) -> VkChat:
        return self._chats[peer_id]

    @property
    def pending_events(self) -> list[dict[str, Any]]:
        """Events not confirmed by the bot yet (by the long poll, or the callback server)."""
        first = self._cb_next if self._callback else self._lp_confirmed
        return self.updates[first - 1 :]

    pending_updates = pending_events

    def inject_event(self, event: Any) -> None:
        """Queue a raw event exactly as given, for the long poll: it may be malformed in any way
        (a test throwing poison at the bot; VK itself sends only well-formed events)."""
        self.updates.append(copy.deepcopy(event))
        self._wake()

    # Callback API

    def set_callback_server(
        self, url: str | None, secret: str | None = None, confirmation_code: str = "4b7e9a1c"
    ) -> None:
        """Deliver events by POSTing them to url (None: stop). The server must first answer
        the confirmation request with confirmation_code, then every event with "ok"."""
        old, self._callback = self._callback, None
        if old is not None and old.task is not None:
            old.task.cancel()
        if url is None:
            return
        self._cb_next = min(self._lp_confirmed, len(self.updates) + 1)
        server = _CallbackServer(url, secret, confirmation_code)
        server.task = asyncio.get_running_loop().create_task(self._deliver_to_callback(server))
        self._callback = server
        self._wake()

    async def _stop_delivery(self) -> None:
        """Stop the callback server's sender (stop() calls this)."""
        server, self._callback = self._callback, None
        if server is not None:
            await cancel_task(server.task)

    # long poll key

    def expire_longpoll_key(self, failed: int = 2) -> None:
        """Invalidate every long poll key: the next a_check gets {"failed": 2} (key expired)
        or {"failed": 3} (information lost), and must call groups.getLongPollServer again."""
        if failed not in (2, 3):
            raise ValueError("a stale key gets failed 2 or 3")
        self._lp_keys.clear()
        self._lp_failure = failed

    # fault injection and limits

    def fail_next(
        self,
        method: str,
        error_code: int | None = 6,
        *,
        times: int = 1,
        delay: float = 0.0,
        http_status: int | None = None,
        error_msg: str | None = None,
    ) -> None:
        """Answer the next `times` calls of method with an error.

        error_code: a VK error (6 too many requests per second, 9 flood control, 10
        internal error, 29 rate limit, ...); None with no http_status only delays.
        http_status (500, 502, ...) fails the transport instead. delay sleeps before
        answering, to make the client time out. method "longpoll" affects a_check:
        error_code 1/2/3 answers {"failed": code}.
        """
        self._faults.add(method, _Fault(error_code, http_status, error_msg, delay, times))

    def set_limits(self, per_second: int | None = None) -> None:
        """At most per_second API calls in any second (VK: 20 for a community token);
        calls past it get error 6. None switches the limit off."""
        self._window = SlidingWindow(per_second, 1.0) if per_second else None

    # waiting for the bot (settle is EmulatorServer's)

    def _pending_reason(self) -> str | None:
        """Events not confirmed by a later a_check, or an "ok" from the callback server."""
        pending = self.pending_events
        if pending:
            kinds = ", ".join(_describe(event) for event in pending[:10])
            if self._callback is not None:
                how = "the callback server"
                if not self._callback.confirmed:
                    how += " (not confirmed yet)"
            else:
                how = "the long poll (no later a_check)"
            return f"{len(pending)} event(s) not confirmed by {how}: {kinds}"
        return None

    # HTTP

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _read_params(request)
        try:
            result = await self._call(method, params)
        except _HttpFault as fault:
            return web.Response(status=fault.status, text=f"<html>{fault.status}</html>",
                                content_type="text/html")
        except VkApiError as error:
            return web.json_response(error.to_json(method, params))
        return web.json_response({"response": result})

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return web.Response(status=404, text="404 Not Found")

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.Response(status=404, text="404 Not Found")
        return web.Response(body=stored.data, content_type=stored.mime_type)

    async def _call(self, method: str, params: dict[str, str]) -> Any:
        """Run one API call; raises VkApiError for an error answer."""
        with self._running(method):
            return await self._run(method, params)

    async def _run(self, method: str, raw: dict[str, str]) -> Any:
        index = len(self.calls)
        given = {key: value for key, value in raw.items() if key not in ("access_token", "v")}
        self.calls.append((method, given))
        try:
            params = self._validate(method, raw)
        except VkApiError as error:
            self.rejected.append((method, given, error.error_code, error.error_msg))
            raise
        self.calls[index] = (method, params)
        await self._apply_fault(method, params)
        # one window for all calls, so one key
        if self._window is not None and not self._window.allow(None, time.monotonic()):
            self.throttled.append((method, _peer_of(params), 6))
            raise api_error(6, rejected=False)
        handler = ENDPOINTS.get(method)
        if handler is None:
            error = api_error(3, f"{method} is known to VK but not emulated")
            self.rejected.append((method, params, error.error_code, error.error_msg))
            raise error
        try:
            return await handler(self, params)
        except VkApiError as error:
            if error.rejected:
                self.rejected.append((method, params, error.error_code, error.error_msg))
            raise

    def _validate(self, method: str, raw: dict[str, str]) -> dict[str, Any]:
        token = raw.get("access_token")
        if not token:
            raise api_error(5, "no access_token passed.")
        if not hmac.compare_digest(token, self.token):
            raise api_error(5, "invalid access_token (4).")
        version = raw.get("v")
        if not version:
            raise api_error(8, "v (version) is required")
        if not re.fullmatch(r"5\.\d+", version):
            raise api_error(8, f"invalid v (version): {version}")
        spec, params = validate_call(method, raw)
        if spec.token_types and "group" not in spec.token_types:
            raise api_error(27, "method is unavailable with group auth.")
        return params

    async def _apply_fault(self, method: str, params: dict[str, Any]) -> None:
        fault = self._faults.take(method)
        if fault is None:
            return
        await asyncio.sleep(fault.delay)
        if fault.http_status is not None:
            raise _HttpFault(fault.http_status)
        if fault.error_code is None:
            return
        if fault.error_code in FLOOD_CODES:
            self.throttled.append((method, _peer_of(params), fault.error_code))
        if fault.error_msg:
            raise VkApiError(fault.error_code, fault.error_msg, rejected=False)
        raise api_error(fault.error_code, rejected=False)

    # Bots Long Poll

    async def _handle_longpoll(self, request: web.Request) -> web.Response:
        params = await _read_params(request)
        if request.match_info["group_id"] != str(self.group_id):
            return web.Response(status=404, text="404 Not Found")
        fault = self._faults.take("longpoll")
        if fault is not None:
            await asyncio.sleep(fault.delay)
            if fault.http_status is not None:
                return web.Response(
                    status=fault.http_status,
                    text=f"<html><body>{fault.http_status}</body></html>",
                    content_type="text/html",
                )
            if fault.error_code in (1, 2, 3):
                answer: dict[str, Any] = {"failed": fault.error_code}
                if fault.error_code == 1:
                    answer["ts"] = str(self._lp_confirmed)
                return web.json_response(answer)
        if params.get("act") != "a_check" or params.get("key") not in self._lp_keys:
            return web.json_response({"failed": self._lp_failure})
        newest = len(self.updates) + 1
        ts_text = params.get("ts", "")
        if not ts_text.isdigit() or not 1 <= int(ts_text) <= newest:
            return web.json_response({"failed": 1, "ts": str(newest)})
        ts = int(ts_text)
        self._lp_confirmed = max(self._lp_confirmed, ts)
        self._touch()
        wait_text = params.get("wait", str(LONGPOLL_DEFAULT_WAIT))
        wait = min(max(int(wait_text), 0), LONGPOLL_MAX_WAIT) if wait_text.isdigit() else 25
        await self._long_poll(wait, lambda: len(self.updates) >= ts)
        events = copy.deepcopy(self.updates[ts - 1 :])
        return web.json_response({"ts": str(ts + len(events)), "updates": events})

    def _enqueue(self, kind: str, obj: dict[str, Any]) -> str | None:
        """Queue an event if the community's settings send this type; returns its event_id."""
        if not self.longpoll_settings["events"].get(kind):
            return None
        event = {
            "group_id": self.group_id,
            "type": kind,
            "event_id": secrets.token_hex(20),
            "v": self.longpoll_settings["api_version"],
            "object": copy.deepcopy(obj),
        }
        self.updates.append(event)
        self._wake()
        return event["event_id"]

    # Callback API delivery

    async def _deliver_to_callback(self, server: _CallbackServer) -> None:
        """Confirm the server, then POST events one at a time, in order; each is confirmed
        by the body "ok", and re-sent (same event_id) a few times otherwise."""
        failures = 0
        timeout = aiohttp.ClientTimeout(total=CALLBACK_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not self._stopped:
                if not server.confirmed:
                    body = {
                        "type": "confirmation",
                        "group_id": self.group_id,
                        "event_id": secrets.token_hex(20),
                        "v": self.longpoll_settings["api_version"],
                    }
                    if server.secret:
                        body["secret"] = server.secret
                    error = await self._post_event(session, server, body, server.confirmation_code)
                    if error is None:
                        server.confirmed = True
                        failures = 0
                        self._touch()
                        continue
                    self.callback_errors.append(("confirmation", error))
                    failures += 1
                    await asyncio.sleep(retry_delay(failures))
                    continue
                if self._cb_next > len(self.updates):
                    await self._wait_for_wake(None)
                    continue
                event = self.updates[self._cb_next - 1]
                body = dict(event)
                if server.secret:
                    body["secret"] = server.secret
                error = await self._post_event(session, server, body, "ok")
                if error is None:
                    failures = 0
                    self._cb_next += 1
                    self._touch()
                    continue
                failures += 1
                self.callback_errors.append((event["event_id"], error))
                if failures >= CALLBACK_ATTEMPTS:
                    self.callback_errors.append((event["event_id"], "gave up"))
                    failures = 0
                    self._cb_next += 1
                    self._touch()
                    continue
                await asyncio.sleep(retry_delay(failures))

    async def _post_event(
        self,
        session: aiohttp.ClientSession,
        server: _CallbackServer,
        body: dict[str, Any],
        expected: str,
    ) -> str | None:
        """POST one request to the callback server; returns what went wrong, or None."""
        try:
            async with session.post(server.url, json=body) as answer:
                text = await answer.text()
                if answer.status != 200:
                    return f"HTTP {answer.status} {answer.reason}"
        except (aiohttp.ClientError, TimeoutError) as error:
            return f"Connection failed: {error!r}"
        if text != expected:
            return f"expected the body {expected!r}, got {text[:100]!r}"
        return None

    # uploads

    def _upload_server(self, kind: str, doc_type: str, peer_id: int | None) -> str:
        token = secrets.token_urlsafe(12)
        self._upload_servers[token] = _UploadServer(kind, doc_type, peer_id)
        return f"{self.base_url}/upload/{token}"

    async def _handle_upload(self, request: web.Request) -> web.Response:
        server = self._upload_servers.get(request.match_info["server"])
        if server is None or request.method != "POST":
            return web.json_response({"error": "Invalid upload URL"})
        with self._running(f"upload {server.kind}"):
            files = await _read_files(request)
        number = int.from_bytes(hashlib.sha1(request.match_info["server"].encode()).digest()[:3])
        if server.kind == "photo":
            # VK takes the field "photo"; vk_api sends file0, file1, ... which VK accepts too
            chosen = [f for name, f in files if name == "photo" or name.startswith("file")]
            tokens = []
            for filename, data in chosen[:5]:
                token = secrets.token_hex(10)
                self._uploads[token] = _Upload("photo", "", data, filename, number)
                tokens.append({"photo": token, "sizes": [], "kid": secrets.token_hex(4)})
            photo = json.dumps(tokens)
            return web.json_response(
                {"server": number, "photo": photo, "hash": self._hash(number, photo)}
            )
        chosen = [f for name, f in files if name == "file"]
        if not chosen:
            return web.json_response({"error": "no_file", "error_descr": "file not found"})
        filename, data = chosen[0]
        token = f"{number}|{secrets.token_hex(12)}"
        self._uploads[token] = _Upload("doc", server.doc_type, data, filename, number)
        return web.json_response({"file": token})

    def _hash(self, server: int, photo: str) -> str:
        return hmac.new(self._secret, f"{server}:{photo}".encode(), hashlib.md5).hexdigest()

    # users acting

    def _base_message(self, chat: VkChat, from_id: int) -> dict[str, Any]:
        return {
            "date": int(time.time()),
            "from_id": from_id,
            "id": next(self._message_ids) if chat.is_private else 0,
            "out": 0,
            "version": next(self._versions),
            "attachments": [],
            "conversation_message_id": 0,
            "fwd_messages": [],
            "important": False,
            "is_hidden": False,
            "peer_id": chat.peer_id,
            "random_id": 0,
            "text": "",
        }

    def _user_message(
        self,
        chat: VkChat,
        user: VkUser,
        content: dict[str, Any],
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        if chat.is_private:
            user.allowed = True  # writing to a community allows its replies
        raw = self._base_message(chat, user.id) | content
        if reply_to is not None:
            raw["reply_message"] = self._quoted(chat, reply_to)
        message = chat._add(raw, from_bot=False)
        if not isinstance(chat, VkGroupChat) or chat.bot_member:
            self._enqueue("message_new", {"message": message.raw, "client_info": _client_info()})
        return copy.deepcopy(message.raw)

    def _service_message(
        self, chat: VkGroupChat, user: VkUser | None, action: dict[str, Any]
    ) -> dict[str, Any]:
        raw = self._base_message(chat, user.id if user else 0) | {"action": action}
        message = chat._add(raw, from_bot=False)
        if chat.bot_member:
            self._enqueue("message_new", {"message": message.raw, "client_info": _client_info()})
        return copy.deepcopy(message.raw)

    def _user_media(
        self,
        chat: VkChat,
        user: VkUser,
        kind: str,
        data: bytes | None,
        caption: str,
        *,
        file_name: str | None = None,
        duration: int | None = None,
        sticker_id: int | None = None,
    ) -> dict[str, Any]:
        if kind == "sticker":
            attachment = {"type": "sticker", "sticker": self._sticker(sticker_id or 9010)}
        else:
            data = sample_data(kind, data)
            ext = {"photo": "jpg", "audio_message": "ogg", "video": "mp4"}.get(kind, "pdf")
            if file_name and "." in file_name:
                ext = file_name.rsplit(".", 1)[1].lower()
            attributes = {"duration": duration} if duration is not None else {}
            stored = self._store_file(
                kind, user.id, data, title=file_name or f"{kind}.{ext}", ext=ext, **attributes
            )
            attachment = self._attachment(stored)
        return self._user_message(chat, user, {"text": caption, "attachments": [attachment]})

    def _quoted(self, chat: VkChat, conversation_message_id: int) -> dict[str, Any]:
        replied = chat.message(conversation_message_id)
        if replied is None or replied.deleted:
            raise AssertionError(
                f"no message {conversation_message_id} to reply to in peer {chat.peer_id}"
            )
        return _foreign(replied.raw, with_id=True)

    def _user_click(
        self, chat: VkChat, user: VkUser, target: Any, message: ChatMessage | int | None
    ) -> str:
        candidates = [chat.shown(message)] if message is not None else chat.bot_messages[::-1]
        found = find_button(candidates, lambda button: _matches(button, target))
        if found is not None:
            candidate, button = found
            return self._press(chat, user, candidate, button, inline=True)
        if message is None and chat.keyboard_raw:
            for row in chat.keyboard_raw["buttons"]:
                for button in row:
                    if _matches(button, target):
                        return self._press(chat, user, None, button, inline=False)
        shown = next((m.buttons for m in candidates if m.inline_keyboard), [])
        raise AssertionError(
            f"no button {target!r} in peer {chat.peer_id}; latest inline buttons: {shown}; "
            f"keyboard: {chat.keyboard}"
        )

    def _press(
        self,
        chat: VkChat,
        user: VkUser,
        message: ChatMessage | None,
        button: dict[str, Any],
        inline: bool,
    ) -> str:
        action = button["action"]
        payload = action.get("payload")
        if action["type"] == "callback":
            cmid = message.conversation_message_id if message else None
            return self._message_event(chat, user, cmid, _decode(payload))
        if action["type"] != "text":
            raise AssertionError(f"button {action.get('label')!r} is a {action['type']} button")
        if not inline and chat.keyboard_raw and chat.keyboard_raw.get("one_time"):
            chat.keyboard_raw = None
        content: dict[str, Any] = {"text": action["label"]}
        if payload is not None:
            content["payload"] = payload
        if isinstance(chat, VkGroupChat):
            chat.members.add(user.id)
        queued = len(self.updates)
        self._user_message(chat, user, content)
        return self.updates[-1]["event_id"] if len(self.updates) > queued else ""

    def _user_click_payload(
        self, chat: VkChat, user: VkUser, payload: Any, message: ChatMessage | int | None
    ) -> str:
        target = chat.last if message is None else chat.shown(message)
        if isinstance(payload, str):
            payload = _decode(payload)
        return self._message_event(chat, user, target.conversation_message_id, payload)

    def _message_event(
        self, chat: VkChat, user: VkUser, cmid: int | None, payload: Any
    ) -> str:
        event_id = secrets.token_hex(6)
        answer = CallbackAnswer(event_id, payload, user.id, chat.peer_id, cmid)
        self._answers[event_id] = answer
        user.callback_answers.append(answer)
        obj: dict[str, Any] = {
            "user_id": user.id,
            "peer_id": chat.peer_id,
            "event_id": event_id,
            "payload": payload,
        }
        if cmid is not None:
            obj["conversation_message_id"] = cmid
        self._enqueue("message_event", obj)
        return event_id

    def _set_allowed(self, user: VkUser, allowed: bool, key: str) -> dict[str, Any]:
        user.allowed = allowed
        user.denied = not allowed
        if allowed:
            obj = {"user_id": user.id, "key": key}
            self._enqueue("message_allow", obj)
        else:
            obj = {"user_id": user.id}
            self._enqueue("message_deny", obj)
        return obj

    # state helpers for endpoints

    def _writable(self, peer_id: int) -> VkChat:
        """The conversation a message may go to, or the error VK answers."""
        if peer_id >= CHAT_PEER_START:
            chat = self._chats.get(peer_id)
            if not isinstance(chat, VkGroupChat) or not chat.bot_member:
                raise api_error(917, rejected=False)
            return chat
        if peer_id <= 0:
            raise param_error(f"peer_id {peer_id} is not a user or a chat")
        user = self._users.get(peer_id)
        if user is None or not user.allowed or user.denied:
            raise api_error(901, rejected=False)
        if user.blocked_code is not None:
            raise api_error(user.blocked_code, rejected=False)
        return user.chat

    def _target_peers(self, params: dict[str, Any]) -> list[int] | int:
        """The peer(s) of messages.send: a list for peer_ids, else one peer id."""
        given = [name for name in ("user_id", "peer_id", "peer_ids", "domain", "chat_id")
                 if name in params]
        if len(given) != 1:
            raise param_error(
                "exactly one of user_id, peer_id, peer_ids, domain, chat_id is required"
                + (f", got {', '.join(given)}" if given else "")
            )
        name = given[0]
        value = params[name]
        if name == "peer_ids":
            if not value:
                raise param_error("peer_ids is empty")
            return list(dict.fromkeys(value))
        if name == "chat_id":
            return CHAT_PEER_START + value
        if name == "domain":
            user = next(
                (u for u in self._users.values() if value in (u.raw["screen_name"], f"id{u.id}")),
                None,
            )
            if user is None:
                raise param_error(f"domain {value} not found")
            return user.id
        return value

    def _attachments(self, text: str) -> list[dict[str, Any]]:
        """Attachment objects of an attachment parameter such as photo-1_2,doc-1_3."""
        items = [item.strip() for item in text.split(",") if item.strip()]
        if len(items) > MAX_ATTACHMENTS:
            raise param_error(f"attachment: at most {MAX_ATTACHMENTS} attachments")
        attachments = []
        for item in items:
            match = ATTACHMENT_RE.fullmatch(item)
            if match is None:
                raise param_error(f"attachment {item} is invalid")
            kind, key = match.group(1), match.group(4)
            owner, media = int(match.group(2)), int(match.group(3))
            kinds = ("doc", "audio_message", "graffiti") if kind == "doc" else (kind,)
            stored = next(
                (self._files[(k, owner, media)] for k in kinds if (k, owner, media) in self._files),
                None,
            )
            if stored is None:
                raise param_error(f"attachment {item} is invalid: no such {kind}")
            own = owner == -self.group_id
            if (key or not own) and key != stored.access_key:
                raise param_error(f"attachment {item} is invalid: wrong or missing access key")
            attachments.append(self._attachment(stored))
        return attachments

    def _store_file(
        self, kind: str, owner_id: int, data: bytes, *, title: str, ext: str, **attributes: Any
    ) -> StoredFile:
        file_id = next(self._file_ids)
        secret = secrets.token_hex(6)
        stored = StoredFile(
            kind=kind,
            owner_id=owner_id,
            id=file_id,
            data=data,
            access_key=secrets.token_hex(9),
            title=title,
            ext=ext,
            path=f"{kind}/{owner_id}_{file_id}_{secret}.{ext}",
            date=int(time.time()),
            attributes=attributes,
        )
        self._files[(kind, owner_id, file_id)] = stored
        self._files_by_path[stored.path] = stored
        return stored

    def _file_url(self, stored: StoredFile) -> str:
        return f"{self.base_url}/files/{stored.path}"

    def _attachment(self, stored: StoredFile) -> dict[str, Any]:
        return {"type": stored.kind, stored.kind: self._file_object(stored)}

    def _file_object(self, stored: StoredFile) -> dict[str, Any]:
        """The photo/doc/audio_message/video object VK shows for a stored file."""
        base = {"id": stored.id, "owner_id": stored.owner_id, "access_key": stored.access_key}
        url = self._file_url(stored)
        match stored.kind:
            case "photo":
                sizes = [
                    {"type": kind, "url": url, "width": width, "height": width * 3 // 4}
                    for kind, width in PHOTO_SIZES
                ]
                return base | {
                    "album_id": -3,
                    "date": stored.date,
                    "sizes": sizes,
                    "text": "",
                    "has_tags": False,
                }
            case "doc":
                return base | {
                    "title": stored.title,
                    "size": len(stored.data),
                    "ext": stored.ext,
                    "date": stored.date,
                    "type": DOC_TYPES.get(stored.ext, 8),
                    "url": url,
                }
            case "audio_message":
                duration = stored.attributes.get("duration") or max(1, len(stored.data) // 4000)
                waveform = [(b * 7) % 32 for b in hashlib.sha1(stored.data).digest()][:20]
                return base | {
                    "duration": duration,
                    "waveform": waveform,
                    "link_ogg": url,
                    "link_mp3": url.rsplit(".", 1)[0] + ".mp3",
                }
            case "graffiti":
                return base | {"url": url, "width": 512, "height": 512}
            case "video":
                return base | {
                    "title": stored.title,
                    "duration": stored.attributes.get("duration", 5),
                    "date": stored.date,
                    "width": 640,
                    "height": 480,
                    "type": "video",
                    "image": [{"url": url, "width": 320, "height": 240}],
                    "player": url,
                }
        raise ValueError(f"unknown file kind {stored.kind}")

    def _sticker(self, sticker_id: int) -> dict[str, Any]:
        path = f"stickers/{sticker_id}.png"
        if path not in self._files_by_path:
            self._files_by_path[path] = StoredFile(
                "sticker", 0, sticker_id, b"\x89PNG emulated sticker", "", "sticker", "png",
                path, int(time.time()),
            )  # fmt: skip
        url = f"{self.base_url}/files/{path}"
        images = [{"url": url, "width": size, "height": size} for size in (64, 128, 256)]
        return {
            "inner_type": "base_sticker_new",
            "product_id": 1,
            "sticker_id": sticker_id,
            "images": images,
            "images_with_background": images,
            "is_allowed": True,
        }

    def _bot_message(
        self,
        chat: VkChat,
        params: dict[str, Any],
        attachments: list[dict[str, Any]],
        keyboard: dict[str, Any] | None,
        reply: dict[str, Any] | None,
    ) -> ChatMessage:
        raw = self._base_message(chat, -self.group_id)
        raw |= {
            "out": 1,
            "text": params.get("message", ""),
            "attachments": attachments,
            "random_id": params.get("random_id", 0),
        }
        if "payload" in params:
            raw["payload"] = params["payload"]
        if reply is not None:
            raw["reply_message"] = reply
        if keyboard is not None:
            raw["keyboard"] = keyboard | {"author_id": -self.group_id}
            self._show_keyboard(chat, keyboard)
        message = chat._add(raw, from_bot=True)
        self._enqueue("message_reply", message.raw)
        return message

    @staticmethod
    def _show_keyboard(chat: VkChat, keyboard: dict[str, Any]) -> None:
        if keyboard.get("inline"):
            return
        chat.keyboard_raw = keyboard if keyboard.get("buttons") else None

    def _find_message(self, chat: VkChat, params: dict[str, Any]) -> ChatMessage | None:
        if "conversation_message_id" in params or "cmid" in params:
            cmid = params.get("conversation_message_id", params.get("cmid"))
            found = chat.message(cmid)
        else:
            message_id = params.get("message_id")
            found = next(
                (m for m in chat.messages if message_id and m.id == message_id), None
            )
        return None if found is None or found.deleted or found.deleted_for_bot else found

    def _reply_for(self, chat: VkChat, params: dict[str, Any]) -> dict[str, Any] | None:
        """The message a bot message replies to: reply_to (a message id) or forward is_reply."""
        if "reply_to" in params:
            replied = next((m for m in chat.messages if m.id and m.id == params["reply_to"]), None)
            if replied is None:
                raise param_error("reply_to: message not found")
            return self._quoted(chat, replied.conversation_message_id)
        if "forward" in params:
            forward = json.loads(params["forward"])
            cmids = forward.get("conversation_message_ids") or forward.get("cmids") or []
            if forward.get("is_reply") and cmids:
                if forward.get("peer_id", chat.peer_id) != chat.peer_id:
                    raise param_error("forward: a reply must be to a message of the same peer")
                replied = chat.message(cmids[0])
                if replied is None or replied.deleted:
                    raise param_error("forward: message not found")
                return self._quoted(chat, cmids[0])
        return None

    # endpoints

    @endpoint("groups.getById")
    async def _groups_get_by_id(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = list(params.get("group_ids", []))
        if "group_id" in params:
            wanted.append(params["group_id"])
        for value in wanted:
            if str(value) not in (str(self.group_id), self.screen_name, f"club{self.group_id}"):
                raise param_error(f"group_ids: group {value} not found")
        return {"groups": [self._group_object()], "profiles": []}

    def _group_object(self) -> dict[str, Any]:
        photo = "https://vk.ru/images/community_100.png"
        return {
            "id": self.group_id,
            "name": self.name,
            "screen_name": self.screen_name,
            "is_closed": 0,
            "type": "group",
            "photo_50": photo,
            "photo_100": photo,
            "photo_200": photo,
        }

    @endpoint("groups.getLongPollServer")
    async def _groups_get_long_poll_server(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_group(params)
        if not self.longpoll_settings["is_enabled"]:
            raise param_error("Bots Long Poll API is disabled in the community settings")
        key = secrets.token_hex(20)
        self._lp_keys.add(key)
        # VK answers with the newest ts; the emulator hands over events no a_check confirmed
        # yet, so a bot that starts after a user wrote still gets the message
        return {
            "key": key,
            "server": f"{self.base_url}/longpoll/{self.group_id}",
            "ts": str(self._lp_confirmed),
        }

    @endpoint("groups.getLongPollSettings")
    async def _groups_get_long_poll_settings(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_group(params)
        settings = copy.deepcopy(self.longpoll_settings)
        settings["events"] = {kind: int(on) for kind, on in settings["events"].items()}
        return settings

    @endpoint("groups.setLongPollSettings")
    async def _groups_set_long_poll_settings(self, params: dict[str, Any]) -> int:
        self._check_group(params)
        if "enabled" in params:
            self.longpoll_settings["is_enabled"] = params["enabled"]
        if "api_version" in params:
            self.longpoll_settings["api_version"] = params["api_version"]
        for kind, value in params.items():
            if kind not in ("group_id", "enabled", "api_version"):
                self.longpoll_settings["events"][kind] = value
        return 1

    def _check_group(self, params: dict[str, Any]) -> None:
        if params["group_id"] != self.group_id:
            raise api_error(15, f"no access to group {params['group_id']}")

    @endpoint("users.get")
    async def _users_get(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        fields = set(params.get("fields", []))
        result = []
        for value in params.get("user_ids", []):
            text = str(value)
            user = None
            if text.isdigit():
                user = self._users.get(int(text))
                if user is None:
                    deleted = {"id": int(text), "first_name": "DELETED", "last_name": ""}
                    result.append(deleted | {"deactivated": "deleted"})
                    continue
            else:
                user = next(
                    (u for u in self._users.values() if u.raw["screen_name"] == text), None
                )
                if user is None:
                    raise api_error(113, f"{text} is not a user")
            result.append(self._user_object(user, fields))
        return result

    def _user_object(self, user: VkUser, fields: set[str]) -> dict[str, Any]:
        raw = user.raw
        keys = ["id", "first_name", "last_name", "can_access_closed", "is_closed"]
        obj = {key: raw[key] for key in keys}
        if "screen_name" in fields:
            obj["screen_name"] = raw["screen_name"]
        if "domain" in fields:
            obj["domain"] = raw["screen_name"]
        if "sex" in fields:
            obj["sex"] = raw["sex"]
        for size in ("photo_50", "photo_100", "photo_200"):
            if size in fields:
                obj[size] = "https://vk.ru/images/camera_100.png"
        if "can_write_private_message" in fields:
            obj["can_write_private_message"] = int(user.allowed and not user.blocked)
        return obj

    @endpoint("messages.send")
    async def _messages_send(self, params: dict[str, Any]) -> Any:
        if "random_id" not in params:
            raise param_error("random_id is a required parameter")
        targets = self._target_peers(params)
        text = params.get("message", "")
        content_params = ("attachment", "sticker_id", "forward_messages", "forward")
        if not text.strip() and not any(name in params for name in content_params):
            raise param_error("message is empty or invalid")
        if len(text) > MESSAGE_MAX_LENGTH:
            raise api_error(914)
        if "template" in params:
            raise param_error("template (carousel) is not emulated")
        keyboard = validate_keyboard(params["keyboard"]) if "keyboard" in params else None
        if "payload" in params:
            validate_message_payload(params["payload"])
        attachments = self._attachments(params.get("attachment", ""))
        if "sticker_id" in params:
            attachments.append({"type": "sticker", "sticker": self._sticker(params["sticker_id"])})
        if isinstance(targets, int):
            chat = self._writable(targets)
            return self._send_once(chat, params, attachments, keyboard).id
        results: list[dict[str, Any]] = []
        for peer_id in targets:
            try:
                chat = self._writable(peer_id)
                message = self._send_once(chat, params, attachments, keyboard)
            except VkApiError as error:
                if error.rejected:
                    raise
                results.append(
                    {"peer_id": peer_id, "error": {"code": error.error_code,
                                                   "description": error.error_msg}}
                )  # fmt: skip
                continue
            results.append(
                {
                    "peer_id": peer_id,
                    "message_id": message.id,
                    "conversation_message_id": message.conversation_message_id,
                }
            )
        return results

    def _send_once(
        self,
        chat: VkChat,
        params: dict[str, Any],
        attachments: list[dict[str, Any]],
        keyboard: dict[str, Any] | None,
    ) -> ChatMessage:
        """Send unless this random_id already went to this peer within the hour."""
        random_id = params["random_id"]
        now = time.monotonic()
        key = (chat.peer_id, random_id)
        if random_id != 0 and key in self._sent and now - self._sent[key][0] < DEDUP_SECONDS:
            return self._sent[key][1]
        reply = self._reply_for(chat, params)
        message = self._bot_message(chat, params, copy.deepcopy(attachments), keyboard, reply)
        if "forward_messages" in params:
            message.raw["fwd_messages"] = self._forwarded(params["forward_messages"])
        if random_id != 0:
            self._sent[key] = (now, message)
        return message

    def _forwarded(self, message_ids: list[int]) -> list[dict[str, Any]]:
        found = []
        for message_id in message_ids:
            message = next(
                (m for chat in self._chats.values() for m in chat.messages
                 if m.id and m.id == message_id and not m.deleted),
                None,
            )  # fmt: skip
            if message is None:
                raise api_error(921, f"message {message_id} not found")
            found.append(_foreign(message.raw, with_id=False))
        return found

    @endpoint("messages.edit")
    async def _messages_edit(self, params: dict[str, Any]) -> int:
        ids = [name for name in ("message_id", "conversation_message_id", "cmid") if name in params]
        if len(ids) != 1:
            raise param_error(
                "exactly one of message_id, conversation_message_id, cmid is required"
            )
        chat = self._writable(params["peer_id"])
        message = self._find_message(chat, params)
        if message is None:
            raise param_error(f"message not found in peer {params['peer_id']}")
        if not message.from_bot:
            raise api_error(15, "can't edit a message of another author")
        text = params.get("message", "")
        if not text.strip() and "attachment" not in params:
            raise param_error("message is empty or invalid")
        if len(text) > MESSAGE_MAX_LENGTH:
            raise api_error(914)
        keyboard = validate_keyboard(params["keyboard"]) if "keyboard" in params else None
        attachments = self._attachments(params.get("attachment", ""))
        if "template" in params:
            raise param_error("template (carousel) is not emulated")
        # VK rewrites the message: text, attachments and keyboard not passed again are gone
        message.raw["text"] = text
        message.raw["attachments"] = attachments
        if not params.get("keep_forward_messages"):
            message.raw["fwd_messages"] = []
        if keyboard is not None:
            message.raw["keyboard"] = keyboard | {"author_id": -self.group_id}
            self._show_keyboard(chat, keyboard)
        else:
            message.raw.pop("keyboard", None)
        message.raw["update_time"] = int(time.time())
        message.raw["version"] = next(self._versions)
        message.edited = True
        self._enqueue("message_edit", message.raw)
        return 1

    @endpoint("messages.delete")
    async def _messages_delete(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        cmids = params.get("cmids", []) + params.get("conversation_message_ids", [])
        message_ids = params.get("message_ids", [])
        if not cmids and not message_ids:
            raise param_error("message_ids or cmids is required")
        if cmids and "peer_id" not in params:
            raise param_error("peer_id is required with cmids")
        chats = [self._chats[params["peer_id"]]] if params.get("peer_id") in self._chats else []
        if "peer_id" not in params:
            chats = list(self._chats.values())
        found: list[tuple[ChatMessage | None, dict[str, Any]]] = []
        for cmid in cmids:
            message = chats[0].message(cmid) if chats else None
            found.append((message, {"peer_id": params["peer_id"], "conversation_message_id": cmid}))
        for message_id in message_ids:
            message = next(
                (m for chat in chats for m in chat.messages if m.id and m.id == message_id), None
            )
            found.append((message, {"message_id": message_id}))
        results = []
        for message, item in found:
            if message is None or message.deleted or message.deleted_for_bot:
                results.append(item | {"error": {"code": 104, "description": "Not found"}})
                continue
            item = {
                "peer_id": message.peer_id,
                "message_id": message.id,
                "conversation_message_id": message.conversation_message_id,
            }
            if params.get("delete_for_all"):
                chat = self._chats[message.peer_id]
                admin_in_chat = isinstance(chat, VkGroupChat) and chat.bot_admin
                if not message.from_bot and not admin_in_chat:
                    text = "Can't delete this message for everybody"
                    results.append(item | {"error": {"code": 924, "description": text}})
                    continue
                message.deleted = True
            else:
                message.deleted_for_bot = True
            results.append(item | {"response": 1})
        return results

    @endpoint("messages.sendMessageEventAnswer")
    async def _messages_send_message_event_answer(self, params: dict[str, Any]) -> int:
        answer = self._answers.get(params["event_id"])
        if (
            answer is None
            or answer.user_id != params["user_id"]
            or answer.peer_id != params["peer_id"]
        ):
            raise param_error("event_id, user_id and peer_id do not name an event the bot got")
        if answer.answered:
            raise param_error(f"event {params['event_id']} has already been answered")
        event_data = validate_event_data(params["event_data"]) if "event_data" in params else None
        answer.answered = True
        answer.event_data = event_data
        return 1

    @endpoint("messages.setActivity")
    async def _messages_set_activity(self, params: dict[str, Any]) -> int:
        peer_id = params.get("peer_id", params.get("user_id"))
        if peer_id is None:
            raise param_error("peer_id is a required parameter")
        chat = self._writable(peer_id)
        chat.actions.append(params.get("type", "typing"))
        return 1

    @endpoint("messages.markAsRead")
    async def _messages_mark_as_read(self, params: dict[str, Any]) -> int:
        return 1

    @endpoint("messages.getConversationMembers")
    async def _messages_get_conversation_members(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chats.get(params["peer_id"])
        if not isinstance(chat, VkGroupChat):
            raise param_error(f"peer_id {params['peer_id']} is not a chat")
        if not chat.bot_member or not chat.bot_admin:
            raise api_error(917, rejected=False)
        members = sorted(chat.members)
        items = [
            {
                "member_id": user_id,
                "invited_by": chat.owner_id or user_id,
                "join_date": int(time.time()),
                "is_admin": user_id in chat.admins,
                "can_kick": True,
            }
            for user_id in members
        ]
        items.append({"member_id": -self.group_id, "invited_by": chat.owner_id or 0,
                      "join_date": int(time.time()), "is_admin": True})  # fmt: skip
        profiles = [self._user_object(self._users[u], set()) for u in members if u in self._users]
        return {"count": len(items), "items": items, "profiles": profiles,
                "groups": [self._group_object()]}  # fmt: skip

    @endpoint("messages.getConversationsById")
    async def _messages_get_conversations_by_id(self, params: dict[str, Any]) -> dict[str, Any]:
        items = []
        for peer_id in params["peer_ids"]:
            chat = self._chats.get(peer_id)
            if chat is None:
                continue
            last = chat.messages[-1] if chat.messages else None
            conversation: dict[str, Any] = {
                "peer": {
                    "id": peer_id,
                    "type": "user" if chat.is_private else "chat",
                    "local_id": peer_id if chat.is_private else peer_id - CHAT_PEER_START,
                },
                "last_message_id": last.id if last else 0,
                "last_conversation_message_id": last.conversation_message_id if last else 0,
                "in_read": last.id if last else 0,
                "out_read": last.id if last else 0,
                "version": next(self._versions),
            }
            try:
                self._writable(peer_id)
                conversation["can_write"] = {"allowed": True}
            except VkApiError as error:
                conversation["can_write"] = {"allowed": False, "reason": error.error_code}
            if isinstance(chat, VkGroupChat):
                conversation["chat_settings"] = {
                    "title": chat.title,
                    "members_count": len(chat.members),
                    "owner_id": chat.owner_id or 0,
                    "state": "in" if chat.bot_member else "kicked",
                    "admin_ids": sorted(chat.admins),
                }
            items.append(conversation)
        return {"count": len(items), "items": items}

    @endpoint("messages.getByConversationMessageId")
    async def _messages_get_by_cmid(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chats.get(params["peer_id"])
        items = []
        for cmid in params["conversation_message_ids"]:
            message = chat.message(cmid) if chat else None
            if message is not None and not message.deleted and not message.deleted_for_bot:
                items.append(copy.deepcopy(message.raw))
        return {"count": len(items), "items": items}

    @endpoint("photos.getMessagesUploadServer")
    async def _photos_get_messages_upload_server(self, params: dict[str, Any]) -> dict[str, Any]:
        peer_id = params.get("peer_id")
        if peer_id:
            self._writable(peer_id)
        return {
            "upload_url": self._upload_server("photo", "", peer_id),
            "album_id": -3,
            "group_id": self.group_id,
            "user_id": 0,
        }

    @endpoint("photos.saveMessagesPhoto")
    async def _photos_save_messages_photo(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        photo, server = params["photo"], params.get("server", 0)
        if params.get("hash") != self._hash(server, photo):
            raise api_error(121)
        try:
            entries = json.loads(photo)
        except ValueError:
            raise param_error("photos_list is invalid") from None
        tokens = [entry.get("photo") for entry in entries if isinstance(entry, dict)]
        uploads = [self._uploads.pop(token, None) for token in tokens]
        if not uploads or None in uploads:
            raise param_error("photos_list is invalid")
        saved = []
        for upload in uploads:
            assert upload is not None
            ext = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else "jpg"
            stored = self._store_file(
                "photo", -self.group_id, upload.data, title=upload.filename, ext=ext
            )
            saved.append(self._file_object(stored))
        return saved

    @endpoint("docs.getMessagesUploadServer")
    async def _docs_get_messages_upload_server(self, params: dict[str, Any]) -> dict[str, Any]:
        peer_id = params.get("peer_id")
        if peer_id:
            self._writable(peer_id)
        return {"upload_url": self._upload_server("doc", params.get("type", "doc"), peer_id)}

    @endpoint("docs.save")
    async def _docs_save(self, params: dict[str, Any]) -> dict[str, Any]:
        upload = self._uploads.pop(params["file"], None)
        if upload is None:
            raise param_error("file is invalid")
        title = params.get("title") or upload.filename
        ext = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
        kind = upload.doc_type if upload.doc_type in ("audio_message", "graffiti") else "doc"
        ext = ext or {"audio_message": "ogg", "graffiti": "png"}.get(kind, "")
        stored = self._store_file(kind, -self.group_id, upload.data, title=title, ext=ext)
        return {"type": stored.kind, stored.kind: self._file_object(stored)}


def _foreign(raw: dict[str, Any], with_id: bool) -> dict[str, Any]:
    """A message as reply_message or fwd_messages show it."""
    keys = ["date", "from_id", "text", "attachments", "conversation_message_id", "peer_id"]
    keys += ["id"] if with_id else []
    return {key: copy.deepcopy(raw[key]) for key in keys if key in raw}


def _describe(event: Any) -> str:
    """An event's type and the start of its id, for messages; an injected event may lack both."""
    if not isinstance(event, dict):
        return f"raw {type(event).__name__}"
    return f"{event.get('type')} {str(event.get('event_id'))[:8]}"


def _client_info() -> dict[str, Any]:
    return {
        "button_actions": list(BUTTON_ACTIONS),
        "keyboard": True,
        "inline_keyboard": True,
        "carousel": True,
        "lang_id": 0,
    }


def _peer_of(params: dict[str, Any]) -> Any:
    for name in ("peer_id", "user_id", "peer_ids", "chat_id"):
        if name in params:
            return params[name]
    return None


def _decode(payload: Any) -> Any:
    """A button payload as VK delivers it in message_event: the decoded JSON."""
    if not isinstance(payload, str):
        return payload
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def _button_view(button: dict[str, Any]) -> tuple[str | None, str | None]:
    action = button["action"]
    return action.get("label"), action.get("link", action.get("payload"))


def _matches(button: dict[str, Any], target: Any) -> bool:
    action = button["action"]
    payload = action.get("payload")
    if isinstance(target, str):
        return target in (action.get("label"), payload)
    return payload is not None and _decode(payload) == target


async def _read_params(request: web.Request) -> dict[str, str]:
    """Params from the query string and a urlencoded or multipart body, as VK reads them."""
    params: dict[str, str] = dict(request.query)
    if request.body_exists and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        for name, value in (await request.post()).items():
            if isinstance(value, str):
                params[name] = value
    return params


async def _read_files(request: web.Request) -> list[tuple[str, tuple[str, bytes]]]:
    """(field name, (file name, data)) of every file part of a multipart upload."""
    if request.content_type != "multipart/form-data":
        return []
    files = []
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            files.append((name, (value.filename or "file", value.file.read())))
    return files


__all__ = [
    "CallbackAnswer",
    "ChatMessage",
    "StoredFile",
    "VkChat",
    "VkEmulator",
    "VkGroupChat",
    "VkUser",
]
