"""What the Telegram and VK emulators share.

EmulatorServer is the HTTP server's lifecycle and the bookkeeping tests wait on: calls
in flight, the wake-up of long polls and push senders, settle(). EmulatedChatBase and
EmulatedUserBase are a chat's message log and a user's view of their private chat.
FaultQueue, SlidingWindow and Endpoints are the fault injection, flood windows and method
tables. What each API says and how it says it stays in the telegram and vk packages.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from abc import ABC, abstractmethod
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from aiohttp import web

QUIET_WINDOW = 0.1  # settle() without the bot's own count: how long idle must last
SETTLE_POLL = 0.005  # how often settle() looks again while something is busy
RETRY_DELAY = 0.1  # before re-sending a pushed update; doubled after each failure, up to 1 s


def retry_delay(failures: int) -> float:
    """How long a push sender waits after `failures` failures in a row."""
    return min(RETRY_DELAY * 2 ** (failures - 1), 1.0)


def sample_data(kind: str, data: bytes | None) -> bytes:
    """The content of a file a user sends: data, or made-up bytes unique to this file."""
    return data if data is not None else f"emulated {kind} {secrets.token_hex(8)}".encode()


async def cancel_task(task: asyncio.Task | None) -> None:
    """Cancel a background task and wait until it has ended."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class _MessageLike(Protocol):
    from_bot: bool
    deleted: bool

    @property
    def message_id(self) -> int: ...


MessageT = TypeVar("MessageT", bound=_MessageLike)
ChatT = TypeVar("ChatT", bound="EmulatedChatBase[Any]")


class EmulatedChatBase(ABC, Generic[MessageT]):
    """A chat's messages, in order, as its members see them."""

    noun: ClassVar[str] = "chat"  # how assertion messages name a chat: chat (Telegram), peer (VK)

    @property
    @abstractmethod
    def keyboard(self) -> list[list[str]] | None:
        """Labels of the reply keyboard shown now."""

    @abstractmethod
    def new_message(self, raw: dict[str, Any], from_bot: bool) -> MessageT:
        """A message of this platform's kind, from its raw form."""

    def __init__(self, emulator: Any) -> None:
        self._emulator = emulator
        self.messages: list[MessageT] = []
        self.actions: list[str] = []  # the chat actions (typing, ...) the bot sent, in order
        self._numbers = itertools.count(1)  # numbers messages in the chat: 1, 2, ...

    @property
    @abstractmethod
    def id(self) -> int:
        """The chat's id on its platform."""

    @property
    def bot_messages(self) -> list[MessageT]:
        """The bot's messages the user can still see."""
        return [message for message in self.messages if message.from_bot and not message.deleted]

    @property
    def last(self) -> MessageT:
        """The latest bot message still shown."""
        shown = self.bot_messages
        if not shown:
            raise AssertionError(f"the bot has sent nothing to {self.noun} {self.id} yet")
        return shown[-1]

    def message(self, message_id: int) -> MessageT | None:
        return next((m for m in self.messages if m.message_id == message_id), None)

    def shown(self, message: MessageT | int) -> MessageT:
        """The message (or the one with this id), which must not be deleted."""
        message_id = message if isinstance(message, int) else message.message_id
        found = self.message(message_id)
        if found is None or found.deleted:
            raise AssertionError(f"message {message_id} is not shown in {self.noun} {self.id}")
        return found

    def _append(self, raw: dict[str, Any], from_bot: bool) -> MessageT:
        message = self.new_message(raw, from_bot)
        self.messages.append(message)
        return message


class EmulatedUserBase(Generic[ChatT]):
    """A user; what they see of the bot is their private chat with it."""

    chat: ChatT

    def __init__(self, emulator: Any, raw: dict[str, Any]) -> None:
        self._emulator = emulator
        self.raw = raw
        self.callback_answers: list[Any] = []  # the callback buttons pressed, in order

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.raw['first_name']}>"

    @property
    def id(self) -> int:
        return self.raw["id"]

    @property
    def messages(self) -> list[Any]:
        return self.chat.messages

    @property
    def bot_messages(self) -> list[Any]:
        return self.chat.bot_messages

    @property
    def last(self) -> Any:
        return self.chat.last

    @property
    def keyboard(self) -> list[list[str]] | None:
        return self.chat.keyboard


def find_button(
    candidates: list[Any], matches: Callable[[dict[str, Any]], bool]
) -> tuple[Any, dict[str, Any]] | None:
    """The first inline button that matches, searching the messages in order."""
    for candidate in candidates:
        for row in candidate.inline_keyboard:
            for button in row:
                if matches(button):
                    return candidate, button
    return None


class _FaultLike(Protocol):
    times: int  # how many more calls it answers
    delay: float  # seconds to sleep before answering


FaultT = TypeVar("FaultT", bound=_FaultLike)


class FaultQueue(Generic[FaultT]):
    """Faults injected per method, each answering its next `times` calls, in order."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[FaultT]] = defaultdict(deque)

    def add(self, method: str, fault: FaultT) -> None:
        self._queues[method].append(fault)

    def take(self, method: str) -> FaultT | None:
        """The fault for this call of method, if any, using up one of its times."""
        faults = self._queues.get(method)
        if not faults:
            return None
        fault = faults[0]
        fault.times -= 1
        if fault.times <= 0:
            faults.popleft()
        return fault


class SlidingWindow:
    """At most `limit` hits per key within any `period` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.hits: dict[Any, deque[float]] = defaultdict(deque)

    def wait(self, key: Any, now: float) -> float:
        """Seconds until the key may hit again; 0 when it may hit now."""
        hits = self.hits[key]
        while hits and hits[0] <= now - self.period:
            hits.popleft()
        return 0.0 if len(hits) < self.limit else hits[0] + self.period - now

    def hit(self, key: Any, now: float) -> None:
        self.hits[key].append(now)

    def allow(self, key: Any, now: float) -> bool:
        """Hit if the key may hit now; False (and no hit) if not."""
        if self.wait(key, now) > 0:
            return False
        self.hit(key, now)
        return True


HandlerT = TypeVar("HandlerT", bound=Callable[..., Awaitable[Any]])


class Endpoints(dict[str, HandlerT]):
    """The emulated methods of an API: handlers by method name."""

    def register(self, *methods: str) -> Callable[[HandlerT], HandlerT]:
        """A decorator that registers a handler under these method names."""

        def register(handler: HandlerT) -> HandlerT:
            for method in methods:
                self[method] = handler
            return handler

        return register


class EmulatorServer(ABC):
    """An emulator's HTTP server, and how tests wait for the bot to be done.

    A subclass names itself (`title`), adds its routes, says which updates the bot has
    not confirmed yet (`_pending_reason`), and stops pushing updates (`_stop_delivery`).
    """

    title: ClassVar[str]  # as settle() names it in its error
    max_upload_bytes: ClassVar[int]  # the largest request body

    def __init__(self) -> None:
        self.base_url = ""  # set by start()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.rejected: list[tuple[str, dict[str, Any], int, str]] = []
        self._in_flight: list[str] = []
        self._wakeup = asyncio.Event()
        self._last_activity = 0.0
        self._runner: web.AppRunner | None = None
        self._stopped = False

    # lifecycle

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on host:port (a free port by default); returns the base URL."""
        app = web.Application(client_max_size=self.max_upload_bytes)
        self._add_routes(app.router)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        self._stopped = True
        self._wake()
        await self._stop_delivery()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @abstractmethod
    def _add_routes(self, router: web.UrlDispatcher) -> None:
        """Register the platform's API routes."""

    @abstractmethod
    async def _handle_unknown(self, request: web.Request) -> web.Response:
        """Answer a path the platform does not have, the way the platform does."""

    async def _stop_delivery(self) -> None:  # noqa: B027 - a hook, not abstract: a polled emulator pushes nothing
        """Stop pushing updates to the bot (a webhook, a callback server)."""

    # waiting for the bot

    async def settle(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - its TimeoutError says what is still busy; a caller's asyncio.timeout could not
        quiet: float = QUIET_WINDOW,
        bot_busy: Callable[[], str | None] | None = None,
    ) -> None:
        """Return once every update so far is delivered and confirmed by the bot and no API call
        is running.

        A caller that can ask the bot itself passes `bot_busy` (what the bot is still handling,
        or None): then all three must be idle on two checks in a row, one turn of the event loop
        apart, and there is no waiting window. Without it, the idle state must hold for `quiet`
        seconds (a bot in another process may confirm an update before its handler makes the
        first call)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        idle_checks = 0
        while True:
            busy = self._busy_reason() or (bot_busy() if bot_busy is not None else None)
            idle_checks = idle_checks + 1 if busy is None else 0
            if bot_busy is not None and idle_checks >= 2:
                return
            if bot_busy is None and busy is None and loop.time() - self._last_activity >= quiet:
                return
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"{self.title} did not settle within {timeout} s: {busy or 'still busy'}"
                )
            await asyncio.sleep(0 if bot_busy is not None and idle_checks else SETTLE_POLL)

    def _busy_reason(self) -> str | None:
        pending = self._pending_reason()
        if pending is not None:
            return pending
        if self._in_flight:
            return f"API calls still running: {', '.join(self._in_flight)}"
        return None

    @abstractmethod
    def _pending_reason(self) -> str | None:
        """What the bot has not confirmed yet, or None."""

    def _touch(self) -> None:
        with contextlib.suppress(RuntimeError):  # no running loop: nobody is settling
            self._last_activity = asyncio.get_running_loop().time()

    @contextlib.contextmanager
    def _running(self, name: str | None) -> Iterator[None]:
        """Count a call as in flight while it runs (name None: a long poll, not counted)."""
        if name is not None:
            self._in_flight.append(name)
        try:
            yield
        finally:
            if name is not None:
                self._in_flight.remove(name)
            self._touch()

    # waking long polls and push senders

    def _wake(self) -> None:
        """Release every long poll and push sender waiting for an update."""
        self._wakeup.set()
        self._wakeup = asyncio.Event()
        self._touch()

    async def _wait_for_wake(self) -> None:
        await self._wakeup.wait()

    async def _long_poll(
        self,
        seconds: float,
        ready: Callable[[], bool],
        after_wake: Callable[[], None] | None = None,
    ) -> None:
        """Wait until ready(), the server stops or `seconds` pass; after_wake runs after
        every wake-up and may raise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not ready() and not self._stopped:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._wait_for_wake()
            if after_wake is not None:
                after_wake()
