"""Updates: the queue of what the bot has not confirmed yet, getUpdates (the long poll)
and the webhook that pushes updates instead (setWebhook, deleteWebhook, getWebhookInfo).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import re
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.emulator.common import cancel_task, retry_delay
from bot.emulator.telegram.server import Call, TelegramServer, endpoint
from bot.emulator.telegram.spec import ApiError, Upload, bad_request, load_spec

SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_TIMEOUT = 30.0
# update types Telegram sends only when asked for them by name
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    token: str  # the bot token that set it, used for method calls in webhook replies
    max_connections: int
    task: asyncio.Task | None = None


class TelegramUpdates(TelegramServer):
    """The update queue, and the two ways the bot takes updates from it."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.webhook_errors: list[tuple[int, str]] = []  # update_id, what went wrong
        self._webhook_error_date = 0
        self._pending: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []  # every update ever queued, confirmed or not
        self._update_ids = itertools.count(1)
        self._allowed_updates = self._default_updates()
        self._poll_generation = 0
        self._webhook: _Webhook | None = None

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not confirmed by the bot yet."""
        return list(self._pending)

    # waiting for the bot (settle is EmulatorServer's)

    def _pending_reason(self) -> str | None:
        """Updates not confirmed by a later getUpdates offset or a webhook's 2xx answer."""
        if self._pending:
            ids = ", ".join(str(update["update_id"]) for update in self._pending[:10])
            how = "the webhook" if self._webhook else "getUpdates"
            return f"{len(self._pending)} update(s) not confirmed by {how} (ids {ids})"
        return None

    async def _stop_delivery(self) -> None:
        await self._drop_webhook()

    # the queue

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

    # getUpdates and the webhook methods

    @endpoint("getUpdates")
    async def _get_updates(self, call: Call) -> list[dict[str, Any]]:
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
    async def _set_webhook(self, call: Call) -> bool:
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
    async def _delete_webhook(self, call: Call) -> bool:
        await self._drop_webhook()
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    @endpoint("getWebhookInfo")
    async def _get_webhook_info(self, call: Call) -> dict[str, Any]:
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
                    await self._wait_for_wake()
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
