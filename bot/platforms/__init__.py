"""Platform adapters: updates in, API calls out. Handlers ask a Channel what differs, never isinstance."""

from __future__ import annotations

import asyncio
import logging
import secrets
import traceback
from collections import defaultdict
from collections.abc import Awaitable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from aiogram import Bot, Dispatcher
from aiogram.client.default import Default
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.types import Update

from bot.channels import CHANNELS as CHANNELS
from bot.channels import TELEGRAM as TELEGRAM  # re-exported: where handlers and adapters look
from bot.channels import VK as VK
from bot.channels import Channel

log = logging.getLogger(__name__)
T = TypeVar("T")


class UpdatesInFlight:
    """How many received batches of updates (a push is a batch of one) this process has not
    finished handling, after_commit callbacks included. Whoever drives the bot in-process (the
    tests' settle) waits for zero instead of waiting out a quiet window."""

    def __init__(self) -> None:
        self.batches = 0

    @contextmanager
    def holding(self) -> Iterator[None]:
        self.batches += 1
        try:
            yield
        finally:
            self.batches -= 1


UPDATES_IN_FLIGHT = UpdatesInFlight()


async def feed_batch(dispatcher: Dispatcher, bot: Bot, channel: Channel, events: Sequence[Any], convert: Convert) -> None:
    """Handle a batch of raw events: each chat's updates in order, different chats concurrently.
    Every event is converted and handled inside its own boundary: one that fails is logged and
    skipped, and the batch (with the position after it) goes on."""
    with UPDATES_IN_FLIGHT.holding():
        by_chat: dict[int, list[tuple[Any, Update]]] = defaultdict(list)
        for event in events:
            with skipped_on_failure(channel, convert, event):
                update = convert.update(event, bot)
                if update is not None:
                    by_chat[conversation_key(update)].append((event, update))
        await asyncio.gather(*(_feed_in_order(dispatcher, bot, channel, convert, chat_updates) for chat_updates in by_chat.values()))


async def _feed_in_order(dispatcher: Dispatcher, bot: Bot, channel: Channel, convert: Convert, updates: list[tuple[Any, Update]]) -> None:
    for event, update in updates:
        with skipped_on_failure(channel, convert, event):
            await dispatcher.feed_update(bot, update, channel=channel)


class Convert(Protocol):
    """How a platform's raw events become Updates, and what kind of event one is (for the log)."""

    def update(self, event: Any, bot: Bot) -> Update | None: ...

    def kind(self, event: Any) -> str: ...


@contextmanager
def skipped_on_failure(channel: Channel, convert: Convert, event: Any) -> Iterator[None]:
    """One log line per failed event, with no personal data: the event kind, the exception class
    and where it was raised (its message may quote the event, so it is left out)."""
    try:
        yield
    except Exception as error:  # the errors router already answered the user; the other events go on
        log.error("%s %s event skipped: %s%s", channel.name, convert.kind(event), type(error).__name__, raised_at(error))


def raised_at(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    return f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""


def resolved(bot: Bot, value: Any) -> Any:
    """A method's field as sent: aiogram's Default placeholder (e.g. parse_mode) becomes the bot's default."""
    return bot.default[value.name] if isinstance(value, Default) else value


def secret_matches(given: object, expected: str) -> bool:
    """A push endpoint's secret check in constant time. Compared as bytes: a header or JSON string
    that is no ASCII (even a lone surrogate) is simply wrong, not an error."""
    return isinstance(given, str) and secrets.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def conversation_key(update: Update) -> int:
    context = UserContextMiddleware.resolve_event_context(update)
    return context.chat_id or context.user_id or update.update_id


async def unless_stopped(awaitable: Awaitable[T], stop: asyncio.Event) -> T | None:
    """The awaitable's result, or None once `stop` is set first (the awaitable is then cancelled:
    a long poll that has not answered yet has handed over nothing, so nothing is lost)."""
    request = asyncio.ensure_future(awaitable)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({request, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not request.done():
        request.cancel()
        return None
    return request.result()


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
