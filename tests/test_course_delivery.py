"""Lessons go out on the clock, through the outbox: never in the quiet hours (also after downtime),
nothing lost or sent twice when the bot dies in the middle of a due batch, one gentle reminder
for a lesson left untouched, and a family nobody can reach keeps their place."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from bot.course_content import Rhythm
from bot.db.models import Account, Enrolment, Event, LessonDelivery, OutboxMessage, OutboxStatus, Person, Role
from bot.services import courses, lesson_delivery
from bot.services.courses import Plan
from tests.conftest import RunningBot, make_settings
from tests.helpers import CONTENT, TEXTS
from tests.test_courses import MONDAY_8, clock_at, heading, sent_out, tick

pytestmark = pytest.mark.both_databases

T = TEXTS["en"]
HOME = next(course for course in CONTENT.courses if course.id == "home")
QUIET = courses.quiet_hours((time(21), time(9)))


async def enrolled(running: RunningBot, emulator, ids: list[int], hour: int = 10) -> list:
    """Registered parents enrolled in "home" every two days at `hour` (UTC), written straight to the database."""
    async with running.session() as session:
        for user_id in ids:
            person = Person(language="en", district="cherepovets-district", roles=[Role(role="parent")])
            person.accounts = [Account(platform=emulator.platform, external_id=user_id)]
            session.add(person)
            await session.flush()
            await courses.enrol(session, person, HOME, Plan(Rhythm(every_days=2), time(hour), "UTC"), QUIET, now=running.clock.now())
        await session.commit()
    return [emulator.user(user_id) for user_id in ids]


def lessons_received(user, number: int = 1) -> int:
    return sum(message.text.startswith(heading(number)) for message in user.bot_messages)


async def test_lessons_due_while_the_bot_was_down_wait_for_the_end_of_the_quiet_hours(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_8)) as running:
        (parent,) = await enrolled(running, emulator, [6101])
        running.clock.advance(timedelta(hours=14))  # down from 08:00 until 22:00: the 10:00 lesson was missed
        result = await tick(running)
        assert (result.lessons, result.deferred) == (0, 1)
        async with running.session() as session:
            enrolment = await session.scalar(select(Enrolment))
            assert enrolment.next_at.replace(tzinfo=UTC) == datetime(2027, 3, 2, 9, 0, tzinfo=UTC)  # when the quiet hours end
        running.clock.advance(timedelta(hours=10, minutes=30))  # 08:30: still quiet
        assert (await tick(running)).lessons == 0
        running.clock.advance(timedelta(minutes=31))
        assert (await tick(running)).lessons == 1
        await sent_out(running, emulator)
        assert lessons_received(parent) == 1
        async with running.session() as session:
            enrolment = await session.scalar(select(Enrolment))
            # every two days from the day it went out, at the family's time again
            assert enrolment.next_at.replace(tzinfo=UTC) == datetime(2027, 3, 4, 10, 0, tzinfo=UTC)


async def test_a_crash_in_the_middle_of_a_due_batch_loses_and_repeats_nothing(emulator, database_url):
    settings = make_settings(emulator, database_url, DELIVERY_TELEGRAM_RATE="20", DELIVERY_VK_RATE="20")
    clock = clock_at(MONDAY_8)
    ids = list(range(6201, 6231))
    async with RunningBot(settings, clock=clock) as running:
        parents = await enrolled(running, emulator, ids)
        clock.advance(timedelta(hours=2))
        # the process dies inside the tick, before its commit: nothing of it happened
        async with running.session() as session:
            due = await lesson_delivery.due_enrolments(session, [emulator.platform], clock.now())
            assert len(due) == len(ids)
            await lesson_delivery.deliver(session, due[:17], {HOME.id: HOME}, lambda *args: ("lesson", {}), QUIET, now=clock.now())
            await session.rollback()
        async with running.session() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert (await tick(running)).lessons == len(ids)
        await wait_until_some_sent(running)
    # stopped in the middle of sending the batch; started again
    async with RunningBot(settings, clock=clock) as running:
        assert (await tick(running)).lessons == 0  # queued once, before the stop
        await sent_out(running, emulator)
        async with running.session() as session:
            statuses = Counter((await session.scalars(select(OutboxMessage.status))).all())
            assert statuses == {OutboxStatus.sent: len(ids)}
            assert await session.scalar(select(func.count()).select_from(LessonDelivery)) == len(ids)
    assert [lessons_received(parent) for parent in parents] == [1] * len(ids)


async def wait_until_some_sent(running: RunningBot) -> None:
    while True:
        async with running.session() as session:
            sent = await session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.sent))
        if sent:
            return
        await asyncio.sleep(0.01)


def reminders_of(user, number: int) -> int:
    return sum(message.text.startswith(T("lesson.reminder")) and heading(number) in message.text for message in user.bot_messages)


async def test_one_gentle_reminder_for_a_lesson_left_untouched(emulator, database_url):
    settings = make_settings(emulator, database_url, COURSE_REMINDER_DAYS="2")
    async with RunningBot(settings, clock=clock_at(MONDAY_8)) as running:
        untouched, liked = await enrolled(running, emulator, [6301, 6302])
        running.clock.advance(timedelta(hours=2))
        await tick(running)
        await sent_out(running, emulator)
        async with running.session() as session:
            record = await session.scalar(select(LessonDelivery).join(Person, Person.id == LessonDelivery.person_id).where(Person.id == 2))
            record.reaction = "like"
            await session.commit()
        running.clock.advance(timedelta(days=1, hours=23))  # Wednesday 09:00: lesson 2 arrives at 10:00, the reminder after two days
        await tick(running)
        await sent_out(running, emulator)
        assert reminders_of(untouched, 1) == 0
        running.clock.advance(timedelta(hours=1, minutes=1))  # Wednesday 10:01: two days since lesson 1
        await tick(running)
        await sent_out(running, emulator)
        assert reminders_of(untouched, 1) == 1
        assert reminders_of(liked, 1) == 0
        running.clock.advance(timedelta(days=3))
        await tick(running)
        await sent_out(running, emulator)
        assert reminders_of(untouched, 1) == 1  # one reminder per lesson, ever
        assert reminders_of(untouched, 2) == 1  # lesson 2, untouched two days too


async def test_reminders_are_off_by_default(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_8)) as running:
        (parent,) = await enrolled(running, emulator, [6401])
        running.clock.advance(timedelta(hours=2))
        await tick(running)
        running.clock.advance(timedelta(days=20))
        await tick(running)
        await sent_out(running, emulator)
        assert not any(message.text.startswith(T("lesson.reminder")) for message in parent.bot_messages)


async def test_a_family_nobody_can_reach_keeps_their_lesson_for_later(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_8)) as running:
        await enrolled(running, emulator, [6501])
        async with running.session() as session:
            account = await session.scalar(select(Account))
            account.unreachable_since = running.clock.now()
            await session.commit()
        running.clock.advance(timedelta(hours=2))
        result = await tick(running)
        assert (result.lessons, result.unreachable) == (0, 1)
        async with running.session() as session:
            enrolment = await session.scalar(select(Enrolment))
            assert enrolment.next_lesson == 1 and enrolment.next_at.replace(tzinfo=UTC) == datetime(2027, 3, 3, 10, 0, tzinfo=UTC)


async def test_a_pause_made_while_the_tick_runs_holds_and_two_ticks_at_once_queue_once(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_8)) as running:
        await enrolled(running, emulator, [6601, 6602])
        running.clock.advance(timedelta(hours=2))
        now, courses_by_id = running.clock.now(), {HOME.id: HOME}
        async with running.session() as other_tick:  # another instance reads the same due rows, and closes its read
            seen_by_other = await lesson_delivery.due_enrolments(other_tick, [emulator.platform], now)
        async with running.session() as ticking:
            due = await lesson_delivery.due_enrolments(ticking, [emulator.platform], now)
            async with running.session() as family:  # the first family pauses meanwhile
                enrolment = await family.get(Enrolment, due[0].enrolment.id)
                person = await family.get(Person, enrolment.person_id)
                assert await courses.pause(family, enrolment, person, now=now)
                await family.commit()
            result = await lesson_delivery.deliver(ticking, due, courses_by_id, render, QUIET, now=now)
            await ticking.commit()
            assert result.lessons == 1  # the paused family gets nothing
        async with running.session() as other_tick:
            again = await lesson_delivery.deliver(other_tick, seen_by_other, courses_by_id, render, QUIET, now=now)
            await other_tick.commit()
            assert again.lessons == 0  # the other instance's tick of the same rows: moved already
        async with running.session() as session:
            paused = await session.get(Enrolment, due[0].enrolment.id)
            assert (paused.status, paused.next_lesson, paused.next_at) == ("paused", 1, None)
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
            assert await session.scalar(select(func.count()).select_from(Event).where(Event.kind == "lesson_sent")) == 1


def render(course, number, language):
    return f"{course.id} {number} {language}", {}


async def test_a_new_time_on_the_day_a_lesson_came_brings_no_second_lesson_that_day(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_8)) as running:
        await enrolled(running, emulator, [6701])
        running.clock.advance(timedelta(hours=2))
        assert (await tick(running)).lessons == 1
        running.clock.advance(timedelta(hours=2))  # 12:00: lessons at 18:00 from now on
        async with running.session() as session:
            enrolment = await session.scalar(select(Enrolment))
            await courses.replan(enrolment, Plan(Rhythm(every_days=2), time(18), "UTC"), QUIET, now=running.clock.now())
            await session.commit()
            assert enrolment.next_at.replace(tzinfo=UTC) == datetime(2027, 3, 3, 18, 0, tzinfo=UTC)  # two days after Monday's


async def test_a_course_gone_from_the_content_parks_its_families_until_it_is_back(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_8)) as running:
        await enrolled(running, emulator, [6801])
        running.clock.advance(timedelta(hours=2))
        now = running.clock.now()
        async with running.session() as session:
            due = await lesson_delivery.due_enrolments(session, [emulator.platform], now)
            result = await lesson_delivery.deliver(session, due, {}, render, QUIET, now=now)  # the folder was renamed
            await session.commit()
            enrolment = await session.get(Enrolment, due[0].enrolment.id)
            await session.refresh(enrolment)
        assert result.lessons == 0 and enrolment.status == "active" and enrolment.next_lesson == 1
        assert enrolment.next_at.replace(tzinfo=UTC) == now + lesson_delivery.PARKED
