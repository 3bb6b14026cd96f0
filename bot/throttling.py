"""Per-user flood limit: a user's private messages and button presses beyond FLOOD_MESSAGES per
FLOOD_SECONDS are dropped before they cost a database session, with one polite notice.

Why it matters: polling confirms a batch only after every update in it was handled, one chat's
updates in order, so a flooder's chat holds the next batch, and everyone in it, until all of the
flooder's updates were handled (and on VK each reply takes a 1/20 s slot of the community's
20 requests/s). Dropping the excess keeps the flooder's share of a batch small.

The limiter is a Protocol, keyed by platform and user, so a shared one (Redis) can replace the
in-process one when several instances serve the same bot.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiogram import BaseMiddleware, Bot
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.types import TelegramObject, Update

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
NOTICE = "flood_notice"  # in the update's data: this update is answered with the notice only
MAX_KEYS = 100_000  # users tracked at once; past it the longest quiet one is forgotten
NOTICE_RETRY_LIMIT = 30.0  # seconds; a notice the platform asks to hold longer is not worth it


class Verdict(enum.Enum):
    PASS = "pass"  # within the limit: handle it
    NOTICE = "notice"  # the first one past the limit: answer with the notice, nothing else
    DROP = "drop"  # past the limit, already told: ignore it


class FloodLimiter(Protocol):
    async def hit(self, key: str) -> Verdict:
        """Count one update of `key` and say what to do with it."""
        ...


@dataclass
class _Track:
    passed: deque[float] = field(default_factory=deque)  # when the updates in the window passed
    told: bool = False  # the notice went out since the last update passed
    seen: float = 0.0  # the last hit


class MemoryFloodLimiter:
    """A moving window per key in this process: at most `limit` updates pass within any `period`
    seconds; the first one past it gets the notice, the rest are dropped, until the window has
    room again. A key quiet for a whole period is forgotten, and at most `max_keys` are kept."""

    def __init__(self, limit: int, period: float, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS) -> None:
        self.limit, self.period, self.clock, self.max_keys = limit, period, clock, max_keys
        self.tracks: OrderedDict[str, _Track] = OrderedDict()  # least recently hit first

    def __len__(self) -> int:
        return len(self.tracks)

    async def hit(self, key: str) -> Verdict:
        now = self.clock()
        self.forget_quiet(now)
        track = self.tracks.pop(key, None) or _Track()
        track.seen = now
        self.tracks[key] = track
        while track.passed and track.passed[0] <= now - self.period:
            track.passed.popleft()
        if len(track.passed) < self.limit:
            track.passed.append(now)
            track.told = False
            return Verdict.PASS
        if track.told:
            return Verdict.DROP
        track.told = True
        return Verdict.NOTICE

    def forget_quiet(self, now: float) -> None:
        """A key not hit for a period has an empty window: it is the same as a new one."""
        while self.tracks:
            key, track = next(iter(self.tracks.items()))
            if track.seen > now - self.period and len(self.tracks) < self.max_keys:
                return
            del self.tracks[key]


def flood_key(update: Update, platform: str) -> str | None:
    """What the limit counts: messages in a private chat and button presses, per platform and user.
    Group chatter is ignored by the handlers anyway; membership changes must never be dropped."""
    message = update.message or update.edited_message
    if message is not None and message.chat.type == ChatType.PRIVATE and message.from_user:
        return f"{platform}:{message.from_user.id}"
    if update.callback_query is not None:
        return f"{platform}:{update.callback_query.from_user.id}"
    return None


class FloodGate(BaseMiddleware):
    """Outer middleware before the database session: a dropped update costs no database work and is
    not recorded as processed. A noticed one goes on, flagged, to be answered by FloodNotice."""

    def __init__(self, limiter: FloodLimiter) -> None:
        self.limiter = limiter

    async def __call__(self, handler: Handler, update: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(update, Update):  # registered on dp.update: never, but the base class takes any event
            return await handler(update, data)
        key = flood_key(update, data["channel"].name)
        verdict = await self.limiter.hit(key) if key is not None else Verdict.PASS
        if verdict is Verdict.DROP:
            return None
        if verdict is Verdict.NOTICE:
            log.info("%s: a user is over the flood limit; further updates are dropped", data["channel"].name)
            data[NOTICE] = True
        return await handler(update, data)


class FloodNotice(BaseMiddleware):
    """Outer middleware after the identity one (the notice goes out in the person's language):
    a flagged update gets the notice and nothing else. The notice is sent in the background, so a
    throttled one waits out the platform's retry_after without holding the chat's next updates."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task] = set()

    async def __call__(self, handler: Handler, update: TelegramObject, data: dict[str, Any]) -> Any:
        if not data.get(NOTICE) or not isinstance(update, Update):
            return await handler(update, data)
        text = data["l10n"]("flood.notice")
        self.spawn(send_notice(update, data["bot"], text))
        return None

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def send_notice(update: Update, bot: Bot, text: str) -> None:
    """As a pop-up for a button press, as a message otherwise; one retry when the platform asks to wait."""
    for attempt in range(2):
        try:
            message = update.message or update.edited_message
            if update.callback_query is not None:
                await bot.answer_callback_query(update.callback_query.id, text=text, show_alert=True)
            elif message is not None:  # flood_key() counts nothing else
                await bot.send_message(message.chat.id, text)
            return
        except TelegramRetryAfter as error:
            if attempt or error.retry_after > NOTICE_RETRY_LIMIT:
                log.warning("the flood notice was throttled (retry after %s s); not sent", error.retry_after)
                return
            await asyncio.sleep(error.retry_after)
        except TelegramAPIError as error:
            log.warning("the flood notice was not delivered (%s)", type(error).__name__)
            return
