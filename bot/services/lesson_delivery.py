"""Lessons into the delivery outbox: the due enrolments, their lessons queued and each enrolment
moved on, and the one reminder for a lesson left untouched.

Each lesson in each language is a standing campaign (`Campaign.key` "lesson:home:3:ru"); a family
receiving it is that campaign's outbox row, unique per person, so a lesson is never queued twice.
The tick reads the due enrolments in one query on `ix_enrolments_due` and, in one transaction,
moves each on and queues the lessons of those it moved. The move is a compare-and-set (the
status and lesson read must still hold): an enrolment paused or left while the tick ran, or taken
by another instance's tick, is not moved again and gets nothing twice. A crash before the commit
leaves everything as it was; after it, the outbox sends what was queued."""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.course_content import Course
from bot.db.models import (
    Account,
    CampaignKind,
    Enrolment,
    EnrolmentStatus,
    Event,
    LessonDelivery,
    Person,
    as_utc,
)
from bot.db.upsert import insert_rows_or_nothing
from bot.delivery import outbox
from bot.services.course_schedule import QuietHours, deliverable, next_delivery
from bot.services.courses import LESSON, lesson_count, lesson_object, plan_of
from bot.services.events import EventKind

TICK_LIMIT = 5000  # due enrolments taken per tick; the rest come at the next one
PARKED = timedelta(days=1)  # an enrolment in a course the content no longer has: looked at again after this

# (course, lesson number, language) -> the lesson message: its HTML text and inline keyboard (as a dict)
Render = Callable[[Course, int, str], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Due:
    """An enrolment with what delivering its next lesson needs: the person and where to reach them."""

    enrolment: Enrolment
    language: str
    pseudonym: str
    district: str | None
    account_id: int | None
    platform: str | None
    chat_id: int | None


@dataclass
class Delivered:
    lessons: int = 0  # queued in the outbox
    deferred: int = 0  # due in the quiet hours: moved to their end
    unreachable: int = 0  # no account to reach: the lesson waits for the next slot
    finished: int = 0  # got their last lesson


def _reachable_account(platforms: Iterable[str]) -> Any:
    """The person's first account still reachable on a messenger this instance serves (correlated)."""
    return (
        select(func.min(Account.id))
        .where(Account.person_id == Enrolment.person_id, Account.unreachable_since.is_(None), Account.platform.in_(list(platforms)))
        .correlate(Enrolment)
        .scalar_subquery()
    )


def _due_query(platforms: Iterable[str], *conditions: Any, limit: int = TICK_LIMIT) -> Any:
    """The enrolments meeting `conditions` (oldest due first), each with its person and the account
    to reach them on. The account is chosen inside the limited subquery, so the rest is joined to
    those rows alone (PostgreSQL would otherwise hash-join every person and account)."""
    chosen = (
        select(Enrolment.id.label("enrolment_id"), _reachable_account(platforms).label("account_id"))
        .where(*conditions)
        .order_by(Enrolment.next_at)
        .limit(limit)
        .subquery()
    )
    return (
        select(Enrolment, Person.language, Person.pseudonym, Person.district, Account.id, Account.platform, Account.external_id)
        .join(chosen, chosen.c.enrolment_id == Enrolment.id)
        .join(Person, Person.id == Enrolment.person_id)
        .outerjoin(Account, Account.id == chosen.c.account_id)
        .order_by(Enrolment.next_at)
    )


async def due_enrolments(session: AsyncSession, platforms: Iterable[str], now: datetime, limit: int = TICK_LIMIT) -> list[Due]:
    """Enrolments whose next lesson is due at `now`: one query, on the index of next_at."""
    return [Due(*row) for row in (await session.execute(_due_query(platforms, Enrolment.next_at <= now, limit=limit))).all()]


async def due_now(session: AsyncSession, enrolment_id: int, account: Account) -> Due | None:
    """The enrolment as "next lesson now" delivers it: to the account the family pressed on."""
    row = (await session.execute(_due_query([account.platform], Enrolment.id == enrolment_id))).first()
    if row is None:
        return None
    enrolment, language, pseudonym, district, *_account = row
    return Due(enrolment, language, pseudonym, district, account.id, account.platform, account.external_id)


@dataclass(frozen=True)
class Move:
    """What becomes of one due enrolment, and the lesson it gets now (None: none)."""

    item: Due
    status: str
    next_lesson: int
    next_at: datetime | None
    lesson: int | None = None
    finished: bool = False


def _decide(item: Due, courses: Mapping[str, Course], quiet: QuietHours, now: datetime, asked: bool) -> Move:
    enrolment = item.enrolment
    course, schedule = courses.get(enrolment.course), plan_of(enrolment).schedule(quiet)
    keep = enrolment.status  # "next lesson now" on a paused course leaves it paused
    if course is None:  # the course left the content (perhaps for a while): its families wait
        return Move(item, keep, enrolment.next_lesson, now + PARKED)
    if enrolment.next_lesson > lesson_count(course):  # the course was shortened under them
        return Move(item, EnrolmentStatus.finished, enrolment.next_lesson, None, finished=True)
    if not asked and deliverable(schedule, now, now) > now:
        return Move(item, keep, enrolment.next_lesson, deliverable(schedule, now, now))
    if item.account_id is None:
        return Move(item, keep, enrolment.next_lesson, next_delivery(schedule, now, now))
    if enrolment.next_lesson == lesson_count(course):
        return Move(item, EnrolmentStatus.finished, enrolment.next_lesson + 1, None, enrolment.next_lesson, finished=True)
    following = None if keep == EnrolmentStatus.paused else next_delivery(schedule, now, now)
    return Move(item, keep, enrolment.next_lesson + 1, following, enrolment.next_lesson)


async def deliver(
    session: AsyncSession, due: list[Due], courses: Mapping[str, Course], render: Render, quiet: QuietHours, *, now: datetime, asked: bool = False
) -> Delivered:
    """Move each due enrolment on and queue the lessons of those moved, in the caller's
    transaction. `asked`: the family pressed "next lesson now", so the quiet hours do not hold."""
    moves = [_decide(item, courses, quiet, now, asked) for item in due]
    moved = await _move(session, moves, now)
    moves = [move for move in moves if move.item.enrolment.id in moved]
    sends = [(move.item, move.lesson) for move in moves if move.lesson is not None]
    result = Delivered(
        lessons=len(sends),
        deferred=sum(move.lesson is None and move.next_at is not None and move.item.account_id is not None for move in moves),
        unreachable=sum(move.lesson is None and move.item.account_id is None for move in moves),
        finished=sum(move.finished for move in moves),
    )
    if not sends:
        return result
    wanted = {(item.enrolment.course, number, item.language) for item, number in sends}
    campaigns = await standing_campaigns(session, wanted, courses, render, CampaignKind.lesson, now)
    await _queue(session, [(campaigns[(item.enrolment.course, number, item.language)], item) for item, number in sends], now)
    received = [
        {"person_id": item.enrolment.person_id, "course": item.enrolment.course, "lesson": number, "sent_at": now, "opens": 0} for item, number in sends
    ]
    await insert_rows_or_nothing(session, LessonDelivery, received, ["person_id", "course", "lesson"])
    await session.execute(insert(Event), [_lesson_event(EventKind.lesson_sent, item, item.enrolment.course, number, now) for item, number in sends])
    return result


# The moves of a tick are one UPDATE whatever their number, as JSON (as the outbox's outcomes), each
# only if the enrolment is still as the tick read it; RETURNING says which were moved.
_MOVE_SET = (
    "status = m.status, next_lesson = m.lesson, next_at = m.next_at,"
    " last_sent_at = COALESCE(m.sent, enrolments.last_sent_at), finished_at = COALESCE(m.finished, enrolments.finished_at)"
)
_MOVE_WHERE = "enrolments.id = m.id AND enrolments.status = m.from_status AND enrolments.next_lesson = m.from_lesson RETURNING enrolments.id"
MOVE = {
    "sqlite": text(
        "UPDATE enrolments SET " + _MOVE_SET + " FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.from_status') AS from_status,"
        " json_extract(value, '$.from_lesson') AS from_lesson, json_extract(value, '$.status') AS status, json_extract(value, '$.lesson') AS lesson,"
        " json_extract(value, '$.next_at') AS next_at, json_extract(value, '$.sent') AS sent, json_extract(value, '$.finished') AS finished"
        " FROM json_each(:moves)) AS m WHERE " + _MOVE_WHERE
    ),
    "postgresql": text(
        "UPDATE enrolments SET " + _MOVE_SET + " FROM jsonb_to_recordset(CAST(:moves AS jsonb)) AS m(id integer, from_status varchar,"
        " from_lesson smallint, status varchar, lesson smallint, next_at timestamptz, sent timestamptz, finished timestamptz) WHERE " + _MOVE_WHERE
    ),
}


async def _move(session: AsyncSession, moves: list[Move], now: datetime) -> set[int]:
    if not moves:
        return set()
    dialect = session.get_bind().dialect
    stamp = cast(Table, Enrolment.__table__).c.next_at.type.dialect_impl(dialect).bind_processor(dialect) or datetime.isoformat
    rows = [
        {
            "id": move.item.enrolment.id, "from_status": move.item.enrolment.status, "from_lesson": move.item.enrolment.next_lesson,
            "status": move.status, "lesson": move.next_lesson, "next_at": stamp(move.next_at) if move.next_at else None,
            "sent": stamp(now) if move.lesson is not None else None, "finished": stamp(now) if move.finished else None,
        }
        for move in moves
    ]
    return set((await session.execute(MOVE[dialect.name], {"moves": json.dumps(rows)})).scalars())


def _lesson_event(kind: EventKind, item: Due, course: str, number: int, now: datetime) -> dict[str, Any]:
    """An event row for a bulk insert (no ORM object per family)."""
    return {
        "kind": kind.value, "at": now, "pseudonym": item.pseudonym, "district": item.district, "platform": item.platform,
        "object_type": LESSON, "object_id": lesson_object(course, number), "value": number,
    }


async def _queue(session: AsyncSession, rows: list[tuple[int, Due]], now: datetime) -> None:
    """An outbox row per (campaign, family), unless that family has it already."""
    await outbox.queue_once(session, [(campaign_id, item.enrolment.person_id, item.account_id, item.platform, item.chat_id) for campaign_id, item in rows], now)


async def standing_campaigns(
    session: AsyncSession, lessons: set[tuple[str, int, str]], courses: Mapping[str, Course], render: Render, kind: CampaignKind, now: datetime
) -> dict[tuple[str, int, str], int]:
    """The campaign of each (course, lesson, language)."""
    return await outbox.standing_campaigns(session, kind, lessons, lambda course, number, language: render(courses[course], number, language), now)


async def remind_unopened(
    session: AsyncSession, courses: Mapping[str, Course], render: Render, quiet: QuietHours, platforms: Iterable[str], days: int, *, now: datetime
) -> int:
    """One gentle reminder for each lesson the family has not touched (opened, liked, done) for
    `days` days, while the course runs; outside the family's quiet hours."""
    query = (
        select(LessonDelivery, Enrolment, Person.language, Person.pseudonym, Person.district, Account.id, Account.platform, Account.external_id)
        .join(Enrolment, and_(Enrolment.person_id == LessonDelivery.person_id, Enrolment.course == LessonDelivery.course))
        .join(Person, Person.id == LessonDelivery.person_id)
        .join(Account, Account.id == _reachable_account(platforms))
        .where(
            LessonDelivery.opened_at.is_(None),
            LessonDelivery.reminded_at.is_(None),
            LessonDelivery.sent_at <= now - timedelta(days=days),
            LessonDelivery.reaction.is_(None),
            LessonDelivery.done_at.is_(None),
            LessonDelivery.course.in_(list(courses)),
            Enrolment.status.in_((EnrolmentStatus.active, EnrolmentStatus.finished)),
        )
        .order_by(LessonDelivery.sent_at)
        .limit(TICK_LIMIT)
    )
    rows = [(row[0], Due(*row[1:])) for row in (await session.execute(query)).all()]
    rows = [
        (delivery, item) for delivery, item in rows
        if delivery.lesson <= lesson_count(courses[delivery.course]) and not quiet.holds(_local_time(item.enrolment, now))
    ]
    if not rows:
        return 0
    wanted = {(delivery.course, delivery.lesson, item.language) for delivery, item in rows}
    campaigns = await standing_campaigns(session, wanted, courses, render, CampaignKind.reminder, now)
    await _queue(session, [(campaigns[(delivery.course, delivery.lesson, item.language)], item) for delivery, item in rows], now)
    for delivery, _item in rows:
        delivery.reminded_at = now
    await session.execute(insert(Event), [_lesson_event(EventKind.lesson_reminded, item, delivery.course, delivery.lesson, now) for delivery, item in rows])
    return len(rows)


def _local_time(enrolment: Enrolment, now: datetime) -> time:
    return as_utc(now).astimezone(zoneinfo.ZoneInfo(enrolment.timezone)).time()
