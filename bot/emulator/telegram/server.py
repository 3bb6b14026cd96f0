"""The Bot API server: HTTP, one call's way through validation, faults and flood limits
to its handler, and the control API tests use (fail_next, set_limits, calls, rejected).

Handlers are registered on ENDPOINTS by the method-group modules (updates, files,
messages, ...); TelegramServer only looks them up by the spec's method name.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from bot.emulator.common import EmulatorServer, Endpoints, FaultQueue, SlidingWindow
from bot.emulator.telegram.spec import (
    ApiError,
    Upload,
    bad_request,
    load_spec,
    validate_call,
)

TOKEN_RE = re.compile(r"(\d+):[A-Za-z0-9_-]{30,}")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


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
class Call:
    method: str
    params: dict[str, Any]
    bot: dict[str, Any]  # the bot's User object
    token: str


# a handler gets the emulator (TelegramEmulator, which has every method group) and the call
Endpoint = Callable[[Any, "Call"], Awaitable[Any]]
ENDPOINTS: Endpoints[Endpoint] = Endpoints()
endpoint = ENDPOINTS.register  # registers an emulated Bot API method under its spec name


class TelegramServer(EmulatorServer):
    """The bot's identity, the HTTP routes of the API, and how one call is answered."""

    title = "Telegram emulator"
    max_upload_bytes = MAX_UPLOAD_BYTES

    def __init__(self, *, bot_username: str, bot_name: str, privacy_mode: bool) -> None:
        super().__init__()
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.privacy_mode = privacy_mode  # True: in groups the bot gets commands and replies only
        self.bot_id = 0  # learnt from the token of the latest call
        self.throttled: list[
            tuple[str, Any, int]
        ] = []  # every 429 sent: method, chat_id, retry_after
        self._faults: FaultQueue[_Fault] = FaultQueue()  # by method name in lower case
        # each window with how it keys a chat_id (None: the window does not apply)
        self._windows: list[tuple[SlidingWindow, Callable[[Any], Any]]] = []

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/bot{token}/{method}", self._handle_api)

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

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return error_response(ApiError(404, "Not Found"))

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
            return await handler(self, Call(name, params, self._bot_user(), token))
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

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }


def _is_message_method(name: str) -> bool:
    """Calls that send or edit messages are the ones Telegram's flood limits count."""
    return name.startswith(("send", "copy", "forward", "edit")) and name != "sendChatAction"


def _is_group_id(chat_id: Any) -> bool:
    return isinstance(chat_id, int) and chat_id < 0


def error_response(error: ApiError) -> web.Response:
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
