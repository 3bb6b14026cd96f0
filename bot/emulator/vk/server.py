"""The VK API server: HTTP, one call's way through the token and version checks (the
community's token, or the app's service key where the schema lets one call), the schema,
faults and the rate limit to its handler, and the control API tests use (fail_next,
set_limits; calls, rejected, throttled).

Handlers are registered on ENDPOINTS by the method-group modules (longpoll, messages,
uploads, ...); VkServer only looks them up by method name.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.emulator.common import EmulatorServer, Endpoints, FaultQueue, SlidingWindow
from bot.emulator.vk.spec import VkApiError, api_error, validate_call

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
FLOOD_CODES = frozenset({6, 9, 29})
STATE_CODES = frozenset({900, 901, 902, 917})  # about the recipient, not a malformed call


@dataclass
class _Fault:
    error_code: int | None
    http_status: int | None
    error_msg: str | None
    delay: float
    times: int


class _HttpFault(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


# a handler gets the emulator (VkEmulator, which has every method group) and the params
Endpoint = Callable[[Any, dict[str, Any]], Awaitable[Any]]
ENDPOINTS: Endpoints[Endpoint] = Endpoints()
endpoint = ENDPOINTS.register  # registers an emulated VK API method under its schema name


class VkServer(EmulatorServer):
    """The community's identity, the /method route, and how one call is answered."""

    title = "VK emulator"
    max_upload_bytes = MAX_UPLOAD_BYTES

    def __init__(self, *, group_id: int, screen_name: str, name: str, token: str, service_token: str) -> None:
        super().__init__()
        self.group_id = group_id
        self.screen_name = screen_name
        self.name = name
        self.token = token  # the community's token: the bot's
        self.service_token = service_token  # the VK app's service key: reads public data (wall.get)
        self.throttled: list[tuple[str, Any, int]] = []  # method, peer, error_code
        self._faults: FaultQueue[_Fault] = FaultQueue()  # by method name, and "longpoll"
        self._window: SlidingWindow | None = None

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/method/{method}", self._handle_method)

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

    # HTTP

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await read_params(request)
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
            unemulated = api_error(3, f"{method} is known to VK but not emulated")
            self.rejected.append((method, params, unemulated.error_code, unemulated.error_msg))
            raise unemulated
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
        kind = self._token_kind(token)
        if kind is None:
            raise api_error(5, "invalid access_token (4).")
        version = raw.get("v")
        if not version:
            raise api_error(8, "v (version) is required")
        if not re.fullmatch(r"5\.\d+", version):
            raise api_error(8, f"invalid v (version): {version}")
        spec, params = validate_call(method, raw)
        if spec.token_types and kind not in spec.token_types:
            if kind == "group":
                raise api_error(27, "method is unavailable with group auth.")
            raise api_error(28, "method is unavailable with service token.")
        return params

    def _token_kind(self, token: str) -> str | None:
        """What a token is, in the schema's words (access_token_type): "group" or "service"."""
        if hmac.compare_digest(token, self.token):
            return "group"
        if hmac.compare_digest(token, self.service_token):
            return "service"
        return None

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


def _peer_of(params: dict[str, Any]) -> Any:
    for name in ("peer_id", "user_id", "peer_ids", "chat_id"):
        if name in params:
            return params[name]
    return None


async def read_params(request: web.Request) -> dict[str, str]:
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
