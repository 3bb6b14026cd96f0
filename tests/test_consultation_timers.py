"""Nobody waits unseen: a question unclaimed past its specialty's target tells the heads and the
specialty; a claimed one unanswered past it reminds the specialist, then goes back to the queue.
The clock moves, the scheduler's tick runs, and a restart in between loses no timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ShiftedClock
from bot.db.models import TicketStatus
from scheduler.consultations import watch_questions
from tests.conftest import RunningBot, make_settings
from tests.helpers import TEXTS, register, step
from tests.test_consultations import MONDAY_MORNING, SPEECH, add_staff, ask, shown, ticket_of

pytestmark = pytest.mark.both_databases

T = TEXTS["en"]
NEXT_DAY = timedelta(days=1)  # Monday 10:00 to Tuesday 10:00: past any specialty's target in working time


async def tick(running: RunningBot):
    app = running.app
    return await watch_questions(app.sessionmaker, app.bots.by_platform(), app.content, app.settings, app.clock)


def clock_on_monday() -> ShiftedClock:
    return ShiftedClock(MONDAY_MORNING - datetime.now(UTC))


async def test_an_unclaimed_question_past_its_target_tells_the_heads_and_the_specialty_once(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_on_monday()) as running:
        specialist = await add_staff(running, emulator, 7201)
        head = await add_staff(running, emulator, 7202, role="head", name="Olga")
        other = await add_staff(running, emulator, 7203, specialty="psychologist")
        parent = emulator.user(5201, language_code="en")
        await register(emulator, parent)
        await ask(emulator, parent)

        assert (await tick(running)).unclaimed == []  # within the target
        running.clock.advance(NEXT_DAY)
        due = await tick(running)
        await emulator.settle()
        assert [ticket.id for ticket in due.unclaimed] == [1]
        alert = shown("alert.unclaimed", id=1, specialty=SPEECH, waited=24 * 60)
        assert specialist.last.text == alert and head.last.text == alert
        assert other.bot_messages == []  # another specialty's specialist is not bothered
        assert (await tick(running)).unclaimed == []  # told once


async def test_a_claimed_question_without_a_reply_reminds_then_goes_back_to_the_queue(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_on_monday()) as running:
        specialist = await add_staff(running, emulator, 7211)
        parent = emulator.user(5211, language_code="en")
        await register(emulator, parent)
        await ask(emulator, parent)
        await step(emulator, lambda: specialist.send("/queue"))
        await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))

        running.clock.advance(NEXT_DAY)
        due = await tick(running)
        await emulator.settle()
        assert [ticket.id for ticket in due.unanswered] == [1] and due.returned == []
        assert specialist.last.text == shown("alert.remind", id=1, family=T("ticket.family") if not emulator.channel.tells_names else "User5211")

        running.clock.advance(NEXT_DAY)
        due = await tick(running)
        await emulator.settle()
        assert [ticket.id for ticket in due.returned] == [1]
        ticket = await ticket_of(running)
        assert ticket.status == TicketStatus.waiting and ticket.assignee_id is None
        assert specialist.last.text == shown("alert.returned", id=1, specialty=SPEECH)


async def test_a_reply_stops_the_reminder(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_on_monday()) as running:
        specialist = await add_staff(running, emulator, 7221)
        parent = emulator.user(5221, language_code="en")
        await register(emulator, parent)
        await ask(emulator, parent)
        await step(emulator, lambda: specialist.send("/queue"))
        await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
        await step(emulator, lambda: specialist.click(T("work.reply")))
        await step(emulator, lambda: specialist.send("Here is what to try."))
        running.clock.advance(NEXT_DAY * 3)
        due = await tick(running)
        assert due.unanswered == [] and due.returned == []


async def test_timers_survive_a_restart(emulator, database_url):
    clock = clock_on_monday()
    settings = make_settings(emulator, database_url)
    async with RunningBot(settings, clock=clock) as running:
        head = await add_staff(running, emulator, 7231, role="head", name="Olga")
        parent = emulator.user(5231, language_code="en")
        await register(emulator, parent)
        await ask(emulator, parent)
    clock.advance(NEXT_DAY)  # the bot is down meanwhile
    async with RunningBot(settings, clock=clock) as running:
        due = await tick(running)
        await emulator.settle()
        assert [ticket.id for ticket in due.unclaimed] == [1]
        assert head.last.text == shown("alert.unclaimed", id=1, specialty=SPEECH, waited=24 * 60)


async def test_a_reminder_and_the_return_to_the_queue_survive_restarts(emulator, database_url):
    clock = clock_on_monday()
    settings = make_settings(emulator, database_url)
    async with RunningBot(settings, clock=clock) as running:
        specialist = await add_staff(running, emulator, 7241)
        parent = emulator.user(5241, language_code="en")
        await register(emulator, parent)
        await ask(emulator, parent)
        await step(emulator, lambda: specialist.send("/queue"))
        await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
    clock.advance(NEXT_DAY)
    async with RunningBot(settings, clock=clock) as running:
        assert [ticket.id for ticket in (await tick(running)).unanswered] == [1]
    clock.advance(NEXT_DAY)
    async with RunningBot(settings, clock=clock) as running:
        assert [ticket.id for ticket in (await tick(running)).returned] == [1]
        assert (await ticket_of(running)).status == TicketStatus.waiting
