"""A specialist's working hours: when a question can be answered, and how much working time has passed.

Periods are local times of the centre's zone; moments in and out are UTC. A period may end at
midnight, written as its end time 00:00 ("18:00-24:00" in the content files)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

Period = tuple[time, time]
DAYS_IN_WEEK = 7
HORIZON_DAYS = 400  # a search for the next period gives up after this many days without one (a year of holidays, say)
MIDNIGHT = time(0)


def check_day(periods: tuple[Period, ...]) -> None:
    """A ValueError naming the first period that is empty, out of order or overlapping another."""
    previous_end: time | None = None
    for start, end in periods:
        if end != MIDNIGHT and end <= start:
            raise ValueError(f"{_shown(start, end)} ends before it starts")
        if previous_end is None:
            previous_end = end
            continue
        if previous_end == MIDNIGHT or start < previous_end:
            raise ValueError(f"{_shown(start, end)} overlaps the period before it or comes before it")
        previous_end = end


def _shown(start: time, end: time) -> str:
    return f"{start:%H:%M}-{'24:00' if end == MIDNIGHT else f'{end:%H:%M}'}"


@dataclass(frozen=True)
class WorkingHours:
    week: tuple[tuple[Period, ...], ...]  # Monday..Sunday, each day's periods sorted and apart
    holidays: frozenset[date] = frozenset()  # whole local days closed
    zone: tzinfo = UTC

    def __post_init__(self) -> None:
        if len(self.week) != DAYS_IN_WEEK:
            raise ValueError(f"a week has {DAYS_IN_WEEK} days, not {len(self.week)}")
        for periods in self.week:
            check_day(periods)

    @classmethod
    def always(cls, zone: tzinfo = UTC) -> WorkingHours:
        whole_day: tuple[Period, ...] = ((MIDNIGHT, MIDNIGHT),)
        return cls((whole_day,) * DAYS_IN_WEEK, frozenset(), zone)

    @property
    def never_open(self) -> bool:
        return not any(self.week)

    def is_open(self, moment: datetime) -> bool:
        moment = _utc(moment)
        return any(start <= moment for start, _ in self._periods(moment, limit=1))

    def next_opening(self, moment: datetime) -> datetime | None:
        """`moment` (in UTC) when open, else the start of the next period; None if none comes within the horizon."""
        moment = _utc(moment)
        return next((max(start, moment) for start, _ in self._periods(moment, limit=1)), None)

    def add(self, moment: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `moment`; time outside periods does not count."""
        position, remaining = _utc(moment), duration
        for start, end in self._periods(position):
            position = max(start, position)
            if remaining <= end - position:
                return position + remaining
            remaining -= end - position
            position = end
        return position + remaining  # no period at all, or none within the horizon: count the rest as clock time

    def _periods(self, moment: datetime, limit: int | None = None) -> Iterator[tuple[datetime, datetime]]:
        """The periods, in UTC, that end after `moment`, in order; stops after HORIZON_DAYS without one."""
        if self.never_open:
            return
        day = moment.astimezone(self.zone).date() - timedelta(days=1)  # yesterday's last period may still run
        quiet, found = 0, 0
        while quiet < HORIZON_DAYS:
            periods = [(start, end) for start, end in self._day(day) if end > moment]
            quiet = 0 if periods else quiet + 1
            for period in periods:
                yield period
                found += 1
                if limit is not None and found >= limit:
                    return
            day += timedelta(days=1)

    @lru_cache(maxsize=64)  # noqa: B019 - hours live as long as the content; a question sent asks for today's twice
    def _day(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's periods in UTC (worked out through the zone's rules once a day, not per question)."""
        if day in self.holidays:
            return ()
        next_day = day + timedelta(days=1)
        periods = ((self._utc_at(day, start), self._utc_at(next_day if end == MIDNIGHT else day, end)) for start, end in self.week[day.weekday()])
        return tuple((opens, closes) for opens, closes in periods if closes > opens)  # a period inside a skipped DST hour has no length

    def _utc_at(self, day: date, at: time) -> datetime:
        """The UTC moment of a local wall time; one in a DST gap falls forward, one in the repeated hour is its first."""
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
