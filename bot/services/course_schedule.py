"""When a family's next lesson is due: their rhythm (every N days, or chosen weekdays) at their
chosen time of day in their time zone, never in the quiet hours. Pure functions of the clock's
`now`; every datetime in and out is aware, in UTC, as the database keeps them.

Wall-clock times are the family's: a lesson at 10:00 stays at 10:00 across a change to or from
summer time, and a time that does not exist that night (the hour the clocks skip) moves on by that hour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.consultation_content import WEEKDAYS
from bot.course_content import Rhythm

DEFAULT_QUIET = (time(21), time(9))


@dataclass(frozen=True)
class QuietHours:
    """No lesson goes out from `start` to `end` local time (the span may cross midnight)."""

    start: time = DEFAULT_QUIET[0]
    end: time = DEFAULT_QUIET[1]

    def holds(self, moment: time) -> bool:
        if self.start == self.end:
            return False  # no quiet hours
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class Schedule:
    rhythm: Rhythm
    at: time  # the family's time of day for a lesson
    zone: tzinfo  # the family's
    quiet: QuietHours = QuietHours()


def first_delivery(schedule: Schedule, now: datetime) -> datetime:
    """The first lesson after enrolling (or resuming) at `now`: the next slot of the rhythm from today on."""
    today = now.astimezone(schedule.zone).date()
    return _next_slot(schedule, today, now)


def next_delivery(schedule: Schedule, delivered: datetime, now: datetime) -> datetime:
    """The lesson after the one delivered at `delivered`: every N days counts from that day; a
    weekday rhythm takes the next chosen weekday after it. Never before `now`."""
    day = delivered.astimezone(schedule.zone).date()
    if schedule.rhythm.every_days:
        due = _deliverable(schedule, _at(schedule, day + timedelta(days=schedule.rhythm.every_days)))
        return due if due >= now else first_delivery(schedule, now)
    return _next_slot(schedule, day + timedelta(days=1), max(now, delivered))


def deliverable(schedule: Schedule, due: datetime, now: datetime) -> datetime:
    """When a lesson due at `due` may go out, seen at `now`: at once, unless now is in the quiet
    hours (e.g. the bot was down and came back at night): then when they end."""
    return _deliverable(schedule, max(due, now))


def _next_slot(schedule: Schedule, day: date, not_before: datetime) -> datetime:
    for offset in range(15):  # a week covers every weekday; two cover a slot today already past
        candidate = day + timedelta(days=offset)
        if schedule.rhythm.weekdays and WEEKDAYS[candidate.weekday()] not in schedule.rhythm.weekdays:
            continue
        due = _deliverable(schedule, _at(schedule, candidate))
        if due >= not_before:
            return due
    raise ValueError(f"no delivery day in {schedule.rhythm}")  # a rhythm with neither days nor weekdays: content check refuses it


def _at(schedule: Schedule, day: date, moment: time | None = None) -> datetime:
    """A local time of day (the family's, by default) on `day`, in UTC. An hour the clocks skip
    moves on by it (fold 0 reads 02:30 of a skipped hour with the offset before the change)."""
    return datetime.combine(day, moment or schedule.at, tzinfo=schedule.zone).astimezone(UTC)


def _deliverable(schedule: Schedule, moment: datetime) -> datetime:
    """`moment`, or the end of the quiet hours it falls in."""
    local = moment.astimezone(schedule.zone)
    if not schedule.quiet.holds(local.time()):
        return moment
    end_day = local.date() if local.time() < schedule.quiet.end else local.date() + timedelta(days=1)
    return _at(schedule, end_day, schedule.quiet.end)
