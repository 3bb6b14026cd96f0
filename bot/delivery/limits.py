"""Client-side rate limits, so the platform never has to answer 429."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

# Even spacing at the configured rate could still put one call too many into a server's
# one-second window when requests arrive with a few milliseconds of jitter; 3% headroom absorbs it.
HEADROOM = 0.97


class Pacer:
    """Spaces calls evenly at `rate` per second (0: no limit). Calls are never bunched to catch up
    after a stall, so any window of a second holds at most `rate` of them."""

    def __init__(self, rate: float) -> None:
        self.interval = 1 / (rate * HEADROOM) if rate else 0.0
        self.next_slot = 0.0
        self.paused_until = 0.0

    async def wait(self) -> None:
        now = asyncio.get_running_loop().time()
        slot = max(self.next_slot, self.paused_until, now)
        self.next_slot = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

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
        if not (self.private_interval or self.group_interval):
            return 0.0
        now = asyncio.get_running_loop().time()
        free_at = self.next_slot.get(chat_id, 0.0)
        if free_at > now:
            return free_at - now
        interval = self.group_interval if self.is_group(chat_id) else self.private_interval
        if interval:
            self.next_slot[chat_id] = now + interval
            if len(self.next_slot) > 50_000:
                self.next_slot = {chat: at for chat, at in self.next_slot.items() if at > now}
        return 0.0
