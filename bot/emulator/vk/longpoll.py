"""Events and the Bots Long Poll: the queue of events the community sends, the a_check
long poll that hands them over (and confirms them), and the groups.* methods of its key
and settings.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
from typing import Any

from aiohttp import web

from bot.emulator.vk.server import VkServer, endpoint, read_params
from bot.emulator.vk.spec import API_VERSION, api_error, param_error

LONGPOLL_DEFAULT_WAIT = 25
LONGPOLL_MAX_WAIT = 90
# Bots Long Poll / Callback API event types a freshly configured community sends
DEFAULT_EVENTS = frozenset({"message_new", "message_event", "message_allow", "message_deny"})
ALL_EVENTS = DEFAULT_EVENTS | {"message_reply", "message_edit", "message_typing_state"}


class VkLongPoll(VkServer):
    """The event queue, and the long poll that confirms events."""

    def __init__(self, *, events: frozenset[str] | set[str] | None, **options: Any) -> None:
        super().__init__(**options)
        self.updates: list[dict[str, Any]] = []  # every event queued, in order
        self.longpoll_settings: dict[str, Any] = {
            "is_enabled": True,
            "api_version": API_VERSION,
            "events": {kind: kind in (events or DEFAULT_EVENTS) for kind in sorted(ALL_EVENTS)},
        }
        self._lp_keys: set[str] = set()
        self._lp_failure = 2  # what a stale key gets: 2 (key expired) or 3 (information lost)
        self._lp_confirmed = 1  # number of the first event no a_check has confirmed yet

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        super()._add_routes(router)
        router.add_route("*", "/longpoll/{group_id}", self._handle_longpoll)

    @property
    def pending_events(self) -> list[dict[str, Any]]:
        """Events not confirmed by the bot yet (by the long poll, or the callback server)."""
        return self.updates[self._first_unconfirmed() - 1 :]

    pending_updates = pending_events

    def inject_event(self, event: Any) -> None:
        """Queue a raw event exactly as given, for the long poll: it may be malformed in any way
        (a test throwing poison at the bot; VK itself sends only well-formed events)."""
        self.updates.append(copy.deepcopy(event))
        self._wake()

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

    def expire_longpoll_key(self, failed: int = 2) -> None:
        """Invalidate every long poll key: the next a_check gets {"failed": 2} (key expired)
        or {"failed": 3} (information lost), and must call groups.getLongPollServer again."""
        if failed not in (2, 3):
            raise ValueError("a stale key gets failed 2 or 3")
        self._lp_keys.clear()
        self._lp_failure = failed

    # waiting for the bot (settle is EmulatorServer's)

    def _first_unconfirmed(self) -> int:
        """The number of the first event the bot has not confirmed."""
        return self._lp_confirmed

    def _confirmer(self) -> str:
        """What confirms events, as settle() names it."""
        return "the long poll (no later a_check)"

    def _pending_reason(self) -> str | None:
        """Events not confirmed by a later a_check, or an "ok" from the callback server."""
        pending = self.pending_events
        if pending:
            kinds = ", ".join(_describe(event) for event in pending[:10])
            return f"{len(pending)} event(s) not confirmed by {self._confirmer()}: {kinds}"
        return None

    # the long poll and its methods

    async def _handle_longpoll(self, request: web.Request) -> web.Response:
        params = await read_params(request)
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


def _describe(event: Any) -> str:
    """An event's type and the start of its id, for messages; an injected event may lack both."""
    if not isinstance(event, dict):
        return f"raw {type(event).__name__}"
    return f"{event.get('type')} {str(event.get('event_id'))[:8]}"
