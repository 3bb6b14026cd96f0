"""Client-side rate limits, so the platform never has to answer 429."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

# Even spacing at exactly the configured rate would make the window check below hold back a call
# whenever jitter bunches a few; 1.5% headroom keeps the pace smooth. The check, not the headroom,
# is what keeps the platform's every second within the limit.
HEADROOM = 0.985


class Pacer:
    """Spaces calls evenly at `rate` per second (0: no limit), and keeps any second of the server's
    clock within `rate` calls whatever the delays between here and there: a call counts against
    the limit from when it leaves until a second after its answer came (by then it has arrived)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.interval = 1 / (rate * HEADROOM) if rate else 0.0
        self.next_slot = 0.0
        self.paused_until = 0.0
        self.in_flight = 0
        self.answered: deque[float] = deque()  # when the calls of the last second were answered

    async def __aenter__(self) -> None:
        """Wait for an evenly spaced turn; the call is made inside the `async with` block."""
        if self.interval:  # else there are no turns: take() alone waits out a pause
            loop = asyncio.get_running_loop()
            now = loop.time()
            slot = max(self.next_slot, self.paused_until, now)
            self.next_slot = slot + self.interval
            if slot > now:
                await asyncio.sleep(slot - now)
        await self.take()

    async def __aexit__(self, *_exc_info: object) -> None:
        self.release()

    async def take(self) -> None:
        """Room for one call in the window, without queueing behind the evenly spaced turns (a
        reply a person is waiting for); `release()` once it is answered."""
        loop = asyncio.get_running_loop()
        if self.paused_until > loop.time():
            await asyncio.sleep(self.paused_until - loop.time())
        if self.interval:
            await self.window_room(loop)
        self.in_flight += 1

    def release(self) -> None:
        self.in_flight -= 1
        if self.interval:
            self.answered.append(asyncio.get_running_loop().time())

    async def window_room(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait until fewer than `rate` calls are in flight or were answered within the last second."""
        while True:
            now = loop.time()
            while self.answered and self.answered[0] <= now - 1:
                self.answered.popleft()
            if self.in_flight + len(self.answered) < self.rate:
                return
            await asyncio.sleep(self.answered[0] + 1 - now if self.answered else self.interval)

    def pause(self, seconds: float) -> None:
        """The platform asked us to wait (429 retry_after): nothing leaves before then."""
        self.paused_until = max(self.paused_until, asyncio.get_running_loop().time() + seconds)


class ChatPacer:
    """Per-chat limits: `private_rate` messages/s to a person, `group_per_minute` to a group chat."""

    def __init__(self, private_rate: float, group_per_minute: float, is_group: Callable[[int], bool]) -> None:
        self.private_interval = 1 / private_rate if private_rate else 0.0
        self.group_interval = 60 / group_per_minute if group_per_minute else 0.0
        self.is_group = is_group
        self.next_slot: dict[int, float] = {}

    def reserve(self, chat_id: int) -> float:
        """0 and the chat's slot is taken now; otherwise the seconds until the chat is free."""
        interval = self.group_interval if self.is_group(chat_id) else self.private_interval
        if not interval:  # no limit for this kind of chat: it never holds a slot
            return 0.0
        now = asyncio.get_running_loop().time()
        free_at = self.next_slot.get(chat_id, 0.0)
        if free_at > now:
            return free_at - now
        self.next_slot[chat_id] = now + interval
        if len(self.next_slot) > 50_000:
            self.next_slot = {chat: at for chat, at in self.next_slot.items() if at > now}
        return 0.0
