"""Flash courses: enrolling, the family's rhythm and time, lessons put into the delivery outbox when
due, and what families do with a lesson (open, like, comment, done, rate the course).

Each lesson in each language is a standing campaign (`Campaign.key` "lesson:home:3:ru"); a family
receiving it is that campaign's outbox row, unique per person, so a lesson is never queued twice.
The scheduler's tick reads the due enrolments in one query on `ix_enrolments_due` and, in one
transaction, queues their lessons and moves each enrolment on: a crash before the commit leaves
both as they were, after it both are done."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consultation_content import Weekday
from bot.course_content import Course, Rhythm
from bot.db.models import (
    Account,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Enrolment,
    EnrolmentStatus,
    Event,
    LessonComment,
    LessonDelivery,
    LessonReaction,
    OutboxMessage,
    OutboxStatus,
    Person,
    as_utc,
)
from bot.db.upsert import DIALECT_INSERTS
from bot.services.course_schedule import QuietHours, Schedule, deliverable, first_delivery, next_delivery
from bot.services.events import EventKind, record_event

TICK_LIMIT = 5000  # due enrolments taken per tick; the rest come at the next one
LESSON = "lesson"
COURSE = "course"

# (course, lesson number, language) -> the lesson message: its HTML text and inline keyboard (as a dict)
Render = Callable[[Course, int, str], tuple[str, dict[str, Any]]]


class Press(StrEnum):
    """What a family can do with a lesson's message."""

    like = "like"
    dislike = "dislike"
    done = "done"
    watch = "watch"


@dataclass(frozen=True)
class Plan:
    """When a family wants their lessons: the rhythm, at a time of day in their time zone."""

    rhythm: Rhythm
    at: time
    zone: str

    def schedule(self, quiet: QuietHours) -> Schedule:
        return Schedule(self.rhythm, self.at, zoneinfo.ZoneInfo(self.zone), quiet)


def plan_of(enrolment: Enrolment) -> Plan:
    weekdays = tuple(Weekday(day) for day in enrolment.weekdays.split(",") if day)
    rhythm = Rhythm(every_days=enrolment.every_days) if enrolment.every_days else Rhythm(weekdays=weekdays)
    return Plan(rhythm, time(enrolment.at_minute // 60, enrolment.at_minute % 60), enrolment.timezone)


def quiet_hours(span: tuple[time, time] | None) -> QuietHours:
    return QuietHours(*span) if span else QuietHours(time(0), time(0))


def lesson_count(course: Course) -> int:
    return len(next(iter(course.lessons.values())))


def lesson_object(course: str, number: int) -> str:
    return f"{course}:{number}"


# enrolling


async def enrolment_of(session: AsyncSession, person_id: int, course: str) -> Enrolment | None:
    return await session.scalar(select(Enrolment).where(Enrolment.person_id == person_id, Enrolment.course == course))


async def enrolments_of(session: AsyncSession, person_id: int) -> list[Enrolment]:
    return list(await session.scalars(select(Enrolment).where(Enrolment.person_id == person_id).order_by(Enrolment.enrolled_at)))


def _apply_plan(enrolment: Enrolment, plan: Plan) -> None:
    enrolment.every_days = plan.rhythm.every_days
    enrolment.weekdays = ",".join(plan.rhythm.weekdays)
    enrolment.at_minute = plan.at.hour * 60 + plan.at.minute
    enrolment.timezone = plan.zone


async def enrol(session: AsyncSession, person: Person, course: Course, plan: Plan, quiet: QuietHours, *, now: datetime) -> Enrolment:
    """Start the course (or take it up again after leaving it: where they stopped; after finishing
    it: from the start). The first lesson comes at the plan's next slot."""
    enrolment = await enrolment_of(session, person.id, course.id)
    if enrolment is None:
        enrolment = Enrolment(person_id=person.id, course=course.id, next_lesson=1, enrolled_at=now)
        session.add(enrolment)
    elif enrolment.status == EnrolmentStatus.finished:
        enrolment.next_lesson, enrolment.finished_at = 1, None
    _apply_plan(enrolment, plan)
    enrolment.status = EnrolmentStatus.active
    enrolment.next_at = first_delivery(plan.schedule(quiet), now)
    record_event(session, EventKind.course_enrolled, at=now, person=person, object_type=COURSE, object_id=course.id)
    await session.flush()
    return enrolment


async def replan(enrolment: Enrolment, plan: Plan, quiet: QuietHours, *, now: datetime) -> None:
    _apply_plan(enrolment, plan)
    if enrolment.status == EnrolmentStatus.active:
        enrolment.next_at = first_delivery(plan.schedule(quiet), now)


async def pause(session: AsyncSession, enrolment: Enrolment, person: Person, *, now: datetime) -> bool:
    if enrolment.status != EnrolmentStatus.active:
        return False  # a double tap
    enrolment.status, enrolment.next_at = EnrolmentStatus.paused, None
    record_event(session, EventKind.course_paused, at=now, person=person, object_type=COURSE, object_id=enrolment.course)
    return True


async def resume(session: AsyncSession, enrolment: Enrolment, person: Person, quiet: QuietHours, *, now: datetime) -> bool:
    if enrolment.status != EnrolmentStatus.paused:
        return False
    enrolment.status = EnrolmentStatus.active
    enrolment.next_at = first_delivery(plan_of(enrolment).schedule(quiet), now)
    record_event(session, EventKind.course_resumed, at=now, person=person, object_type=COURSE, object_id=enrolment.course)
    return True


async def leave(session: AsyncSession, enrolment: Enrolment, person: Person, *, now: datetime) -> bool:
    if enrolment.status not in (EnrolmentStatus.active, EnrolmentStatus.paused):
        return False
    enrolment.status, enrolment.next_at = EnrolmentStatus.left, None
    record_event(session, EventKind.course_left, at=now, person=person, object_type=COURSE, object_id=enrolment.course)
    return True


# delivering


@dataclass(frozen=True)
class Due:
    """A due enrolment with what delivering its next lesson needs: the person and where to reach them."""

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


async def due_now(session: AsyncSession, enrolment_id: int, platforms: Iterable[str]) -> Due | None:
    row = (await session.execute(_due_query(platforms, Enrolment.id == enrolment_id))).first()
    return Due(*row) if row else None


async def deliver(
    session: AsyncSession,
    due: list[Due],
    courses: Mapping[str, Course],
    render: Render,
    quiet: QuietHours,
    *,
    now: datetime,
    asked: bool = False,
) -> Delivered:
    """Queue each due enrolment's next lesson and move the enrolment on, in the caller's
    transaction. `asked`: the family pressed "next lesson now", so the quiet hours do not hold."""
    result = Delivered()
    sends: list[tuple[Due, int]] = []
    moves: list[dict[str, Any]] = []
    for item in due:
        enrolment, course = item.enrolment, courses.get(item.enrolment.course)
        schedule = plan_of(enrolment).schedule(quiet)
        if course is None or enrolment.next_lesson > lesson_count(course):  # the course was removed or shortened
            moves.append(_move(enrolment, EnrolmentStatus.finished, enrolment.next_lesson, None, now))
            continue
        if not asked and deliverable(schedule, now, now) > now:
            result.deferred += 1
            moves.append(_move(enrolment, enrolment.status, enrolment.next_lesson, deliverable(schedule, now, now), enrolment.last_sent_at))
            continue
        if item.account_id is None:
            result.unreachable += 1
            moves.append(_move(enrolment, enrolment.status, enrolment.next_lesson, next_delivery(schedule, now, now), enrolment.last_sent_at))
            continue
        sends.append((item, enrolment.next_lesson))
        last = enrolment.next_lesson == lesson_count(course)
        result.finished += last
        if last:
            moves.append(_move(enrolment, EnrolmentStatus.finished, enrolment.next_lesson + 1, None, now))
        else:
            moves.append(_move(enrolment, EnrolmentStatus.active, enrolment.next_lesson + 1, next_delivery(schedule, now, now), now))
    if sends:
        campaigns = await standing_campaigns(
            session, {(item.enrolment.course, number, item.language) for item, number in sends}, courses, render, CampaignKind.lesson, now
        )
        await _queue(session, [(campaigns[(item.enrolment.course, number, item.language)], item) for item, number in sends], now)
        await _insert_ignoring(
            session,
            LessonDelivery,
            [
                {"person_id": item.enrolment.person_id, "course": item.enrolment.course, "lesson": number, "sent_at": now, "opens": 0}
                for item, number in sends
            ],
            ["person_id", "course", "lesson"],
        )
        await session.execute(insert(Event), [_lesson_event(EventKind.lesson_sent, item, item.enrolment.course, number, now) for item, number in sends])
        result.lessons = len(sends)
    if moves:
        await session.execute(MOVE, moves)
    return result


def _lesson_event(kind: EventKind, item: Due, course: str, number: int, now: datetime) -> dict[str, Any]:
    """An event row for a bulk insert (no ORM object per family)."""
    return {
        "kind": kind.value, "at": now, "pseudonym": item.pseudonym, "district": item.district, "platform": item.platform,
        "object_type": LESSON, "object_id": lesson_object(course, number), "value": number,
    }


_enrolments = cast(Table, Enrolment.__table__)
# Core, executed for many rows at once: no ORM object per family
MOVE = (
    update(_enrolments)
    .where(_enrolments.c.id == bindparam("enrolment"))
    .values(status=bindparam("to_status"), next_lesson=bindparam("to_lesson"), next_at=bindparam("due"), last_sent_at=bindparam("sent"))
)


def _move(enrolment: Enrolment, status: str, lesson: int, at: datetime | None, sent: datetime | None) -> dict[str, Any]:
    return {"enrolment": enrolment.id, "to_status": status, "to_lesson": lesson, "due": at, "sent": sent}


async def _queue(session: AsyncSession, rows: list[tuple[int, Due]], now: datetime) -> None:
    """An outbox row per (campaign, family), unless that family has it already."""
    await _insert_ignoring(
        session,
        OutboxMessage,
        [
            {
                "campaign_id": campaign_id, "person_id": item.enrolment.person_id, "account_id": item.account_id, "platform": item.platform,
                "chat_id": item.chat_id, "status": OutboxStatus.pending.value, "attempts": 0, "next_attempt_at": now,
            }
            for campaign_id, item in rows
        ],
        ["campaign_id", "person_id"],
    )


async def _insert_ignoring(session: AsyncSession, model: Any, rows: list[dict[str, Any]], key: list[str]) -> None:
    if rows:
        dialect_insert = DIALECT_INSERTS[session.get_bind().dialect.name]
        await session.execute(dialect_insert(model).on_conflict_do_nothing(index_elements=key), rows)


async def standing_campaigns(
    session: AsyncSession, lessons: set[tuple[str, int, str]], courses: Mapping[str, Course], render: Render, kind: CampaignKind, now: datetime
) -> dict[tuple[str, int, str], int]:
    """The campaign of each (course, lesson, language), created on first use and brought up to the
    content when it changed (the centre edited the lesson)."""
    keys = {f"{kind}:{course}:{number}:{language}": (course, number, language) for course, number, language in lessons}
    found = {campaign.key: campaign for campaign in await session.scalars(select(Campaign).where(Campaign.key.in_(keys)))}
    ids = {}
    for key, (course, number, language) in keys.items():
        text, markup = render(courses[course], number, language)
        campaign = found.get(key)
        if campaign is None:
            dialect_insert = DIALECT_INSERTS[session.get_bind().dialect.name]
            values: dict[str, Any] = {"key": key, "kind": kind.value, "status": CampaignStatus.sending.value, "text": text, "markup": markup, "created_at": now,
                      "started_at": now, "media_ids": {}, "buttons": [], "audience": {}}
            await session.execute(dialect_insert(Campaign).values(**values).on_conflict_do_nothing(index_elements=["key"]))
            campaign = await session.scalar(select(Campaign).where(Campaign.key == key))
            assert campaign is not None
        elif campaign.text != text or campaign.markup != markup:
            campaign.text, campaign.markup = text, markup
        ids[(course, number, language)] = campaign.id
    return ids


# what families do with a lesson


async def delivery_of(session: AsyncSession, person_id: int, course: str, lesson: int) -> LessonDelivery | None:
    """The family's record of a lesson they received (None: they never did: the press is refused)."""
    return await session.scalar(
        select(LessonDelivery).where(LessonDelivery.person_id == person_id, LessonDelivery.course == course, LessonDelivery.lesson == lesson)
    )


def opened(session: AsyncSession, delivery: LessonDelivery, person: Person, platform: str | None, *, now: datetime) -> bool:
    """A view: counted once per family and lesson (value 1), every open after it counted as an open (value 0)."""
    first = delivery.opened_at is None
    if first:
        delivery.opened_at = now
    delivery.opens += 1
    record_event(
        session, EventKind.lesson_opened, at=now, person=person, platform=platform, object_type=LESSON,
        object_id=lesson_object(delivery.course, delivery.lesson), value=1 if first else 0,
    )
    return first


def react(session: AsyncSession, delivery: LessonDelivery, reaction: LessonReaction, person: Person, platform: str | None, *, now: datetime) -> bool:
    """👍 or 👎: every press is an event; the value says what it changed (1 counted, 0 a repeat,
    -1 the earlier reaction taken back), so the sum of values is the likes of a lesson."""
    object_id = lesson_object(delivery.course, delivery.lesson)
    kinds = {LessonReaction.like: EventKind.lesson_liked, LessonReaction.dislike: EventKind.lesson_disliked}
    if delivery.reaction == reaction:
        record_event(session, kinds[reaction], at=now, person=person, platform=platform, object_type=LESSON, object_id=object_id, value=0)
        return False
    if delivery.reaction is not None:
        previous = LessonReaction(delivery.reaction)
        record_event(session, kinds[previous], at=now, person=person, platform=platform, object_type=LESSON, object_id=object_id, value=-1)
    delivery.reaction = reaction
    record_event(session, kinds[reaction], at=now, person=person, platform=platform, object_type=LESSON, object_id=object_id, value=1)
    return True


def mark_done(session: AsyncSession, delivery: LessonDelivery, person: Person, platform: str | None, *, now: datetime) -> bool:
    first = delivery.done_at is None
    if first:
        delivery.done_at = now
    record_event(
        session, EventKind.lesson_done, at=now, person=person, platform=platform, object_type=LESSON,
        object_id=lesson_object(delivery.course, delivery.lesson), value=1 if first else 0,
    )
    return first


def comment(session: AsyncSession, delivery: LessonDelivery, text: str, person: Person, platform: str | None, *, now: datetime) -> None:
    session.add(LessonComment(person_id=person.id, course=delivery.course, lesson=delivery.lesson, text=text, at=now))
    record_event(
        session, EventKind.lesson_commented, at=now, person=person, platform=platform, object_type=LESSON,
        object_id=lesson_object(delivery.course, delivery.lesson),
    )


def rate_course(session: AsyncSession, enrolment: Enrolment, usefulness: int, person: Person, platform: str | None, *, now: datetime) -> bool:
    if enrolment.rating is not None:
        return False
    enrolment.rating = usefulness
    record_event(session, EventKind.course_rated, at=now, person=person, platform=platform, object_type=COURSE, object_id=enrolment.course, value=usefulness)
    return True


def recommend_course(session: AsyncSession, enrolment: Enrolment, recommend: bool, person: Person, platform: str | None, *, now: datetime) -> bool:
    if enrolment.recommend is not None:
        return False
    enrolment.recommend = recommend
    record_event(
        session, EventKind.course_recommended, at=now, person=person, platform=platform, object_type=COURSE, object_id=enrolment.course, value=int(recommend)
    )
    return True


async def opened_through_link(session: AsyncSession, outbox_row: int, *, now: datetime) -> tuple[str, int, Person] | None:
    """A tracked link was opened: the lesson (course, number) of the outbox row it was sent with,
    and its family; the view is counted. None: no such lesson message (any more)."""
    sent = (
        await session.execute(
            select(Campaign.key, OutboxMessage.person_id, OutboxMessage.platform)
            .join(Campaign, Campaign.id == OutboxMessage.campaign_id)
            .where(OutboxMessage.id == outbox_row, Campaign.kind.in_((CampaignKind.lesson, CampaignKind.reminder)))
        )
    ).first()
    if sent is None:
        return None
    key, person_id, platform = sent
    _kind, course, number, _language = str(key).split(":")
    delivery = await delivery_of(session, person_id, course, int(number))
    person = await session.get(Person, person_id)
    if delivery is None or person is None:
        return None
    opened(session, delivery, person, platform, now=now)
    return course, int(number), person


# reminders


async def remind_unopened(
    session: AsyncSession, courses: Mapping[str, Course], render: Render, quiet: QuietHours, platforms: Iterable[str], days: int, *, now: datetime
) -> int:
    """One gentle reminder for each lesson nobody in the family has touched (opened, liked, done)
    for `days` days, while the course runs; outside the family's quiet hours."""
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
            Enrolment.status.in_((EnrolmentStatus.active, EnrolmentStatus.finished)),
        )
        .limit(TICK_LIMIT)
    )
    rows = [(row[0], Due(*row[1:])) for row in (await session.execute(query)).all()]
    rows = [(delivery, item) for delivery, item in rows if not plan_of(item.enrolment).schedule(quiet).quiet.holds(_local_time(item.enrolment, now))]
    rows = [(delivery, item) for delivery, item in rows if delivery.course in courses and delivery.lesson <= lesson_count(courses[delivery.course])]
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
