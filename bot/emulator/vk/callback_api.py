"""The Callback API: instead of the long poll, events POSTed to the bot's server, after
it answers the confirmation request; each event is confirmed by the body "ok".
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.emulator.common import cancel_task, retry_delay
from bot.emulator.vk.longpoll import VkLongPoll

CALLBACK_TIMEOUT = 10.0
CALLBACK_ATTEMPTS = 5  # VK re-sends an event a few times, then gives up on it


@dataclass
class _CallbackServer:
    url: str
    secret: str | None
    confirmation_code: str
    confirmed: bool = False
    task: asyncio.Task | None = None


class VkCallbackApi(VkLongPoll):
    """The callback server, once set, confirms events instead of the long poll."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.callback_errors: list[tuple[str, str]] = []  # event_id or "confirmation", what
        self._callback: _CallbackServer | None = None
        self._cb_next = 1  # number of the next event to POST to the callback server

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

    def _first_unconfirmed(self) -> int:
        return self._cb_next if self._callback else super()._first_unconfirmed()

    def _confirmer(self) -> str:
        if self._callback is None:
            return super()._confirmer()
        if not self._callback.confirmed:
            return "the callback server (not confirmed yet)"
        return "the callback server"

    # delivery

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
                    await self._wait_for_wake()
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
