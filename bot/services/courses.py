"""Flash courses: enrolling, the family's rhythm and time, pausing, leaving, and what families do
with a lesson (open, like, comment, done, rate the course). Lessons reach them through
bot/services/lesson_delivery.py."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consultation_content import Weekday
from bot.course_content import Course, Rhythm
from bot.db.models import (
    Campaign,
    CampaignKind,
    Enrolment,
    EnrolmentStatus,
    LessonComment,
    LessonDelivery,
    LessonReaction,
    OutboxMessage,
    Person,
    as_utc,
)
from bot.services.course_schedule import QuietHours, Schedule, first_delivery, next_delivery
from bot.services.events import EventKind, record_event

LESSON = "lesson"
COURSE = "course"


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


async def enrol(session: AsyncSession, person: Person, course: Course, plan: Plan, quiet: QuietHours, *, now: datetime) -> Enrolment | None:
    """Start the course, or take it up again after leaving it, where they stopped. The first lesson
    comes at the plan's next slot. None: they finished it already (its lessons are in their chat)."""
    enrolment = await enrolment_of(session, person.id, course.id)
    if enrolment is None:
        enrolment = Enrolment(person_id=person.id, course=course.id, next_lesson=1, enrolled_at=now)
        session.add(enrolment)
    elif enrolment.status == EnrolmentStatus.finished:
        return None
    _apply_plan(enrolment, plan)
    enrolment.status = EnrolmentStatus.active
    enrolment.next_at = _next(enrolment, quiet, now)
    record_event(session, EventKind.course_enrolled, at=now, person=person, object_type=COURSE, object_id=course.id)
    await session.flush()
    return enrolment


def _next(enrolment: Enrolment, quiet: QuietHours, now: datetime) -> datetime:
    """When the next lesson comes on the enrolment's plan: counted from the last one received (a
    new time set the day a lesson came brings no second one that day), never before now."""
    schedule = plan_of(enrolment).schedule(quiet)
    if enrolment.last_sent_at is None:
        return first_delivery(schedule, now)
    return next_delivery(schedule, as_utc(enrolment.last_sent_at), now)


async def replan(enrolment: Enrolment, plan: Plan, quiet: QuietHours, *, now: datetime) -> None:
    _apply_plan(enrolment, plan)
    if enrolment.status == EnrolmentStatus.active:
        enrolment.next_at = _next(enrolment, quiet, now)


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
    enrolment.next_at = _next(enrolment, quiet, now)
    record_event(session, EventKind.course_resumed, at=now, person=person, object_type=COURSE, object_id=enrolment.course)
    return True


async def leave(session: AsyncSession, enrolment: Enrolment, person: Person, *, now: datetime) -> bool:
    if enrolment.status not in (EnrolmentStatus.active, EnrolmentStatus.paused):
        return False
    enrolment.status, enrolment.next_at = EnrolmentStatus.left, None
    record_event(session, EventKind.course_left, at=now, person=person, object_type=COURSE, object_id=enrolment.course)
    return True


# what families do with a lesson


async def delivery_of(session: AsyncSession, person_id: int, course: str, lesson: int) -> LessonDelivery | None:
    """The family's record of a lesson they received (None: they never did: the press is refused)."""
    return await session.scalar(
        select(LessonDelivery).where(LessonDelivery.person_id == person_id, LessonDelivery.course == course, LessonDelivery.lesson == lesson)
    )


async def opened(session: AsyncSession, delivery: LessonDelivery, person: Person, platform: str | None, *, now: datetime) -> bool:
    """A view: counted once per family and lesson (value 1), every open after it counted as an open
    (value 0). One statement: two opens of a link at once are two opens and one view."""
    counted = update(LessonDelivery).where(LessonDelivery.id == delivery.id)
    changed = counted.values(opens=LessonDelivery.opens + 1, opened_at=func.coalesce(LessonDelivery.opened_at, now)).returning(LessonDelivery.opened_at)
    first_opened = (await session.execute(changed.execution_options(synchronize_session=False))).scalar_one()
    first = first_opened is not None and as_utc(first_opened) == now
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
    if person_id is None:  # a lesson's rows are families': never so
        return None
    _kind, course, number, _language = str(key).split(":")
    delivery = await delivery_of(session, person_id, course, int(number))
    person = await session.get(Person, person_id)
    if delivery is None or person is None:
        return None
    await opened(session, delivery, person, platform, now=now)
    return course, int(number), person
