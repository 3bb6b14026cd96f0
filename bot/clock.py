"""The one source of "now": services, the scheduler and the delivery engine ask a Clock, so a test
moves time forward instead of editing rows.

Who asks how: the composition root (bot.app.create_app) makes the one clock. Services are pure in
time: they take `now=` (keyword-only) from their caller and never read a clock themselves. Parts
that live as long as the app (the delivery engine and its senders, the scheduler's jobs) hold the
clock; handlers and middlewares get it from the dispatcher as `clock`. Pacing (rate limits, flood
windows) keeps the event loop's monotonic time: it measures intervals, not moments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """The system's time moved by an offset a test changes: time keeps flowing (retries and
    rate limits still come due) and `advance` jumps it forward."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
