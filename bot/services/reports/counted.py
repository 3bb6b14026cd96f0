"""The period's events of the counted kinds, by kind and object, with the count and the sum of their
values: one statement whose rows three sections read (courses: every lesson figure; consultations:
the targets missed; reach: the parents registered)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Event
from bot.services.events import EventKind
from bot.services.reports.period import Period, in_period

# (kind, object id) -> (how many events, the sum of their values)
Counted = dict[tuple[str, str | None], tuple[int, float]]

COURSE_KINDS: tuple[EventKind, ...] = (
    EventKind.course_enrolled,
    EventKind.course_rated,
    EventKind.lesson_sent,
    EventKind.lesson_opened,
    EventKind.lesson_liked,
    EventKind.lesson_disliked,
    EventKind.lesson_commented,
    EventKind.lesson_done,
)
# the period's counts by kind and object: the courses, the targets missed, the parents registered
COUNTED_KINDS: tuple[str, ...] = (*(kind.value for kind in COURSE_KINDS), EventKind.question_target_missed.value, EventKind.registered.value)


def counted_statement(period: Period) -> Any:
    """The period's events of the counted kinds by kind and object: count and sum of values."""
    return (
        select(Event.kind, Event.object_id, func.count(), func.sum(Event.value))
        .where(Event.kind.in_(COUNTED_KINDS), in_period(Event.at, period))
        .group_by(Event.kind, Event.object_id)
    )


async def counted_events(session: AsyncSession, period: Period) -> Counted:
    rows = await session.execute(counted_statement(period))
    return {(kind, object_id): (count, float(total or 0)) for kind, object_id, count, total in rows}
