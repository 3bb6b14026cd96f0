"""Surveys on the clock: a new family's results survey ten minutes after registering, one tap per
answer; again after 6 and 12 months; a skipped or expired wave is never asked again; "don't ask
me" ends them; a survey goes on after a restart; a stale or forged press changes nothing; a short
quality survey the day after a closed consultation; families from before surveys get their waves."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.db.models import Account, Enrolment, EnrolmentStatus, Event, Person, Role, SurveyWave, Ticket, TicketStatus, WaveStatus, as_utc
from bot.services.events import EventKind
from bot.services.surveys import answering
from bot.services.surveys.asking import Asked
from bot.services.surveys.waves import months_after
from bot.survey_content import EXPIRE_DAYS
from handlers.surveys.common import SurveyPress, SurveyStep
from scheduler.surveys import ask_surveys, plan_missing_waves
from tests.conftest import RunningBot, make_settings
from tests.helpers import CONTENT, TEXTS, button_texts, count, register, step
from tests.test_courses import clock_at, sent_out

pytestmark = pytest.mark.both_databases

T = TEXTS["en"]
RESULTS = CONTENT.survey("results")
QUALITY = CONTENT.survey("quality")
MONDAY_10 = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # outside the quiet hours (21:00-09:00 in the centre's zone, UTC in the tests)


async def tick(running: RunningBot) -> Asked:
    app = running.app
    return await ask_surveys(app.sessionmaker, app.content, app.settings, app.clock, app.bots.by_platform(), app.delivery.wake)


async def asked_now(running: RunningBot, emulator) -> int:
    """A tick, and whatever it queued delivered."""
    asked = (await tick(running)).asked
    await sent_out(running, emulator)
    return asked


def shown(survey, index: int, first: bool = False) -> str:
    question = survey.questions[index]
    text = T("survey.question", number=index + 1, total=len(survey.questions), question=question.text("en"))
    return plain(T("survey.intro", title=survey.title("en")) + "\n\n" + text if first else text)


def plain(html: str) -> str:
    """A text as the messenger shows it: without its HTML tags (its values escaped by the texts, none here)."""
    return re.sub(r"<[^>]+>", "", html)


def label(survey, index: int, option: str) -> str:
    found = survey.questions[index].option(option)
    assert found is not None
    return found.label("en")


async def waves(running: RunningBot) -> dict[str, str]:
    """Each wave of the results survey and the quality survey: "results:6" -> its status."""
    async with running.session() as session:
        rows = await session.scalars(select(SurveyWave).order_by(SurveyWave.id))
        return {f"{row.survey}:{row.wave}": row.status for row in rows}


async def events(running: RunningBot, kind: EventKind) -> list[tuple[str | None, float | None]]:
    async with running.session() as session:
        rows = await session.execute(select(Event.object_id, Event.value).where(Event.kind == kind).order_by(Event.id))
        return [tuple(row) for row in rows]


async def answer_all(emulator, parent, survey, options: list[str]) -> None:
    for index, option in enumerate(options):
        assert parent.last.text == shown(survey, index, first=index == 0)
        await step(emulator, lambda index=index, option=option: parent.click(label(survey, index, option)))


async def advance_to(running: RunningBot, moment: datetime) -> None:
    running.clock.advance(moment - running.clock.now())


async def test_a_new_family_is_asked_ten_minutes_after_registering_one_tap_per_answer(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_10)) as running:
        parent = emulator.user(7101, language_code="en")
        await register(emulator, parent)
        async with running.session() as session:
            planned = {row.wave: as_utc(row.due_at) for row in await session.scalars(select(SurveyWave))}
        registered = as_utc((await first_person(running)).created_at)
        assert planned == {"0": registered + timedelta(minutes=10), "6": months_after(registered, 6), "12": months_after(registered, 12)}

        assert await asked_now(running, emulator) == 0  # not in the middle of onboarding
        running.clock.advance(timedelta(minutes=10))
        assert await asked_now(running, emulator) == 1
        first = parent.last
        assert first.text == shown(RESULTS, 0, first=True)
        assert button_texts(first) == [option.label("en") for option in RESULTS.questions[0].options] + [T("survey.skip"), T("survey.decline")]
        assert await asked_now(running, emulator) == 0  # asked once

        await answer_all(emulator, parent, RESULTS, ["yes", "sometimes", "yes", "no"])
        assert parent.last is first and first.text == plain(T("survey.thanks"))  # the one message, edited question by question
        assert await events(running, EventKind.survey_asked) == [("results:0", None)]
        assert await events(running, EventKind.survey_answered) == [
            ("results:0:informed", 1.0), ("results:0:remote_use", 0.0), ("results:0:continuous", 1.0), ("results:0:accessible", 0.0),
        ]
        assert await events(running, EventKind.survey_finished) == [("results:0", None)]
        async with running.session() as session:
            event = await session.scalar(select(Event).where(Event.kind == EventKind.survey_answered))
            person = await first_person(running)
            assert (event.pseudonym, event.district, event.platform) == (person.pseudonym, "cherepovets-district", emulator.platform)

        # a double tap, or an old button pressed later: told, nothing counted twice
        again = SurveyPress(step=SurveyStep.answer, survey="results", round=0, question="informed", option="no").pack()
        await step(emulator, lambda: emulator.press(parent, again, first))
        assert parent.callback_answers[-1].text == T("survey.closed")
        assert len(await events(running, EventKind.survey_answered)) == 4

        # "my data" tells of them; deleting the data deletes them
        await step(emulator, lambda: parent.send("/mydata"))
        assert T("survey.my_data", planned=2, answered=1) in parent.last.text
        await step(emulator, lambda: parent.click(T("my_data.delete")))
        await step(emulator, lambda: parent.click(T("my_data.delete_yes")))
        async with running.session() as session:
            assert await count(session, SurveyWave) == 0


async def first_person(running: RunningBot) -> Person:
    async with running.session() as session:
        person = await session.scalar(select(Person).order_by(Person.id))
        assert person is not None
        return person


async def test_waves_after_six_and_twelve_months_and_a_skipped_or_expired_wave_is_never_asked_again(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_10)) as running:
        parent = emulator.user(7201, language_code="en")
        await register(emulator, parent)
        registered = as_utc((await first_person(running)).created_at)
        running.clock.advance(timedelta(minutes=10))
        assert await asked_now(running, emulator) == 1
        await step(emulator, lambda: parent.click(T("survey.skip")))
        assert parent.last.text == T("survey.skipped")
        assert await events(running, EventKind.survey_skipped) == [("results:0", None)]
        running.clock.advance(timedelta(days=1))
        assert await asked_now(running, emulator) == 0  # skipped: not asked again

        await advance_to(running, months_after(registered, 6) - timedelta(minutes=1))
        assert await asked_now(running, emulator) == 0
        running.clock.advance(timedelta(minutes=1))
        assert await asked_now(running, emulator) == 1
        await answer_all(emulator, parent, RESULTS, ["yes", "yes", "yes", "yes"])
        assert [object_id for object_id, _ in await events(running, EventKind.survey_answered)] == [
            "results:6:informed", "results:6:remote_use", "results:6:continuous", "results:6:accessible",
        ]

        await advance_to(running, months_after(registered, 12))
        assert await asked_now(running, emulator) == 1
        twelve = parent.last
        await step(emulator, lambda: parent.click(label(RESULTS, 0, "partly")))  # one answer, then nothing for two weeks
        running.clock.advance(timedelta(days=RESULTS.expire_days, minutes=1))
        assert (await tick(running)).expired == 1
        assert await events(running, EventKind.survey_expired) == [("results:12", 1.0)]  # one question answered
        await step(emulator, lambda: parent.click(label(RESULTS, 1, "yes"), twelve))
        assert parent.callback_answers[-1].text == T("survey.closed")
        running.clock.advance(timedelta(days=30))
        assert await asked_now(running, emulator) == 0
        assert await waves(running) == {"results:0": WaveStatus.skipped, "results:6": WaveStatus.finished, "results:12": WaveStatus.expired}


async def test_dont_ask_me_cancels_the_open_waves_and_plans_no_more(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_10)) as running:
        parent = emulator.user(7301, language_code="en")
        await register(emulator, parent)
        running.clock.advance(timedelta(minutes=10))
        assert await asked_now(running, emulator) == 1
        await step(emulator, lambda: parent.click(T("survey.decline")))
        assert parent.last.text == T("survey.declined")
        assert await events(running, EventKind.survey_declined) == [(None, None)]
        assert set((await waves(running)).values()) == {WaveStatus.cancelled}

        person = await first_person(running)
        await closed_consultation(running, person.id)
        app = running.app
        assert await plan_missing_waves(app.sessionmaker, app.content, app.clock) == 0
        running.clock.advance(timedelta(days=400))
        assert await asked_now(running, emulator) == 0
        assert set((await waves(running)).values()) == {WaveStatus.cancelled}
        await step(emulator, lambda: parent.send("/mydata"))
        assert T("survey.my_data_declined") in parent.last.text


async def test_a_survey_goes_on_after_a_restart_at_the_question_it_was_at(emulator, database_url):
    settings = make_settings(emulator, database_url)
    clock = clock_at(MONDAY_10)
    async with RunningBot(settings, clock=clock) as running:
        parent = emulator.user(7401, language_code="en")
        await register(emulator, parent)
        clock.advance(timedelta(minutes=10))
        assert await asked_now(running, emulator) == 1
        await step(emulator, lambda: parent.click(label(RESULTS, 0, "yes")))
        assert parent.last.text == shown(RESULTS, 1)
    clock.advance(timedelta(hours=3))
    async with RunningBot(settings, clock=clock) as running:
        assert await asked_now(running, emulator) == 0
        await step(emulator, lambda: parent.click(label(RESULTS, 1, "no")))
        assert parent.last.text == shown(RESULTS, 2)
        await step(emulator, lambda: parent.click(label(RESULTS, 2, "partly")))
        await step(emulator, lambda: parent.click(label(RESULTS, 3, "yes")))
        assert parent.last.text == plain(T("survey.thanks"))
        assert [value for _, value in await events(running, EventKind.survey_answered)] == [1.0, 0.0, 0.0, 1.0]


async def test_a_forged_press_for_someone_elses_wave_changes_nothing(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_10)) as running:
        parent, stranger = emulator.user(7501, language_code="en"), emulator.user(7502, language_code="en")
        await register(emulator, parent)
        running.clock.advance(timedelta(minutes=10))
        assert await asked_now(running, emulator) == 1
        await register(emulator, stranger)  # their own wave 0 is not asked yet
        for forged in (
            SurveyPress(step=SurveyStep.answer, survey="results", round=0, question="informed", option="yes"),
            SurveyPress(step=SurveyStep.skip, survey="results", round=0),
            SurveyPress(step=SurveyStep.answer, survey="results", round=6, question="informed", option="yes"),
            SurveyPress(step=SurveyStep.answer, survey="nosuch", round=0, question="informed", option="yes"),
        ):
            await step(emulator, lambda forged=forged: emulator.press(stranger, forged.pack()))
            assert stranger.callback_answers[-1].text == T("survey.closed")
        wrong_option = SurveyPress(step=SurveyStep.answer, survey="results", round=0, question="informed", option="maybe").pack()
        await step(emulator, lambda: emulator.press(parent, wrong_option))
        assert parent.callback_answers[-1].text == T("survey.closed")
        assert await events(running, EventKind.survey_answered) == []
        assert await events(running, EventKind.survey_skipped) == []
        assert parent.last.text == shown(RESULTS, 0, first=True)  # still awaiting their first answer


async def closed_consultation(running: RunningBot, person_id: int) -> None:
    now = running.clock.now()
    async with running.session() as session:
        session.add(Ticket(person_id=person_id, specialty="psychologist", status=TicketStatus.closed, alias="A-1", queued_at=now, closed_at=now))
        await session.commit()


async def test_a_short_quality_survey_the_day_after_a_closed_consultation_at_most_once_a_month(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_10)) as running:
        parent = emulator.user(7601, language_code="en")
        await register(emulator, parent)
        running.clock.advance(timedelta(minutes=10))
        assert await asked_now(running, emulator) == 1
        await answer_all(emulator, parent, RESULTS, ["yes", "yes", "yes", "yes"])
        person = await first_person(running)
        await closed_consultation(running, person.id)
        assert await asked_now(running, emulator) == 0  # planned for tomorrow
        assert (await waves(running))["quality:consultation"] == WaveStatus.scheduled
        running.clock.advance(timedelta(days=1))
        assert await asked_now(running, emulator) == 1
        await answer_all(emulator, parent, QUALITY, ["very_good", "yes"])
        assert parent.last.text == plain(T("survey.thanks"))
        assert (await events(running, EventKind.survey_answered))[-2:] == [
            ("quality:consultation:satisfied", 5.0), ("quality:consultation:convenient", 1.0),
        ]
        running.clock.advance(timedelta(days=10))
        await closed_consultation(running, person.id)  # another within the month: not asked again
        running.clock.advance(timedelta(days=1))
        assert await asked_now(running, emulator) == 0
        assert list(await waves(running)).count("quality:consultation") == 1
        async with running.session() as session:
            assert await count(session, SurveyWave, SurveyWave.survey == "quality") == 1


async def test_families_from_before_surveys_get_the_waves_still_to_come(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_10)) as running:
        now = running.clock.now()
        old, recent = emulator.user(7701), emulator.user(7702)
        async with running.session() as session:
            for user_id, days in ((7701, 240), (7702, 3)):
                since = now - timedelta(days=days)
                person = Person(language="en", district="vologda", created_at=since, roles=[Role(role="parent", granted_at=since)])
                person.accounts = [Account(platform=emulator.platform, external_id=user_id)]
                session.add(person)
            await session.commit()
        app = running.app
        assert await plan_missing_waves(app.sessionmaker, app.content, app.clock) == 2
        assert await plan_missing_waves(app.sessionmaker, app.content, app.clock) == 0  # once
        async with running.session() as session:
            rows = (await session.execute(select(SurveyWave.person_id, SurveyWave.wave, SurveyWave.status).order_by(SurveyWave.id))).all()
        assert [(person_id, wave, status) for person_id, wave, status in rows] == [
            (1, "0", WaveStatus.missed), (1, "6", WaveStatus.missed), (1, "12", WaveStatus.scheduled),  # eight months ago: the 12-month wave alone
            (2, "0", WaveStatus.scheduled), (2, "6", WaveStatus.scheduled), (2, "12", WaveStatus.scheduled),
        ]
        assert await asked_now(running, emulator) == 1  # three days ago: their first wave now
        assert recent.last.text == shown(RESULTS, 0, first=True)
        assert old.bot_messages == []


async def test_a_finished_course_brings_the_quality_survey_the_next_day(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_10)) as running:
        parent = emulator.user(7801, language_code="en")
        now = running.clock.now()
        async with running.session() as session:
            person = Person(language="en", district="vologda", roles=[Role(role="parent", granted_at=now - timedelta(days=100))])
            person.accounts = [Account(platform=emulator.platform, external_id=7801)]
            session.add(person)
            await session.flush()
            session.add(Enrolment(person_id=person.id, course="home", status=EnrolmentStatus.finished, at_minute=600, timezone="UTC", finished_at=now))
            await session.commit()
        assert await asked_now(running, emulator) == 0
        assert await waves(running) == {"quality:course": WaveStatus.scheduled}
        running.clock.advance(timedelta(days=1))
        assert await asked_now(running, emulator) == 1
        assert parent.last.text == shown(QUALITY, 0, first=True)
        assert await events(running, EventKind.survey_asked) == [("quality:course", None)]


async def set_account(running: RunningBot, **values) -> None:
    async with running.session() as session:
        await session.execute(update(Account).values(**values))
        await session.commit()


async def test_a_wave_the_family_cannot_be_asked_keeps_its_time_and_is_missed_not_asked_months_late(emulator, database_url):
    # the family blocked the bot (or another survey of theirs stayed open): their wave must not be
    # pushed on day after day and asked whenever they come back
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_10)) as running:
        parent = emulator.user(7901, language_code="en")
        await register(emulator, parent)
        await set_account(running, unreachable_since=running.clock.now())
        for _ in range(RESULTS.expire_days + 2):
            running.clock.advance(timedelta(days=1))
            assert await asked_now(running, emulator) == 0
        assert (await waves(running))["results:0"] == WaveStatus.missed
        await set_account(running, unreachable_since=None)  # back a while later: not asked "at registration" now
        running.clock.advance(timedelta(days=1))
        assert await asked_now(running, emulator) == 0
        assert await events(running, EventKind.survey_asked) == []


async def test_a_survey_removed_from_content_holds_up_nothing_and_its_waves_close(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_10)) as running:
        parent = emulator.user(8001, language_code="en")
        await register(emulator, parent)
        person, now = await first_person(running), running.clock.now()
        async with running.session() as session:  # a survey the centre has since taken out of content/surveys
            session.add_all([
                SurveyWave(person_id=person.id, survey="gone", wave="course", round=1, status=WaveStatus.asked, question="q", due_at=now, asked_at=now),
                SurveyWave(person_id=person.id, survey="gone", wave="course", round=2, status=WaveStatus.scheduled, due_at=now),
            ])
            await session.commit()
        running.clock.advance(timedelta(minutes=10))
        assert await asked_now(running, emulator) == 1  # its open wave does not keep the results survey waiting
        assert parent.last.text == shown(RESULTS, 0, first=True)
        await answer_all(emulator, parent, RESULTS, ["yes", "yes", "yes", "yes"])
        running.clock.advance(timedelta(days=EXPIRE_DAYS, minutes=1))
        asked = await tick(running)
        assert (asked.expired, asked.missed) == (1, 1)
        assert await events(running, EventKind.survey_expired) == [("gone:course", None)]
        async with running.session() as session:
            assert (await answering.kept_of(session, await first_person(running))).planned == 2  # the 6- and 12-month waves alone


async def test_dont_ask_me_pressed_twice_at_once_counts_once(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_10)) as running:
        await register(emulator, emulator.user(8101, language_code="en"))
        now = running.clock.now()
        async with running.session() as first, running.session() as second:
            # both presses read the person before either is committed (two instances, or two updates in flight)
            mine, theirs = await first.get_one(Person, 1), await second.get_one(Person, 1)
            assert await answering.decline(first, mine, emulator.platform, now=now)
            await first.commit()
            assert not await answering.decline(second, theirs, emulator.platform, now=now)
            await second.commit()
        assert await events(running, EventKind.survey_declined) == [(None, None)]
        assert set((await waves(running)).values()) == {WaveStatus.cancelled}


async def test_a_wave_planned_as_the_family_said_dont_ask_me_is_cancelled_not_asked(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_10)) as running:
        parent = emulator.user(8201, language_code="en")
        await register(emulator, parent)
        seen = len(parent.bot_messages)
        async with running.session() as session:  # the planning read them as not declined just before they said it
            await session.execute(update(Person).values(surveys_declined_at=running.clock.now()))
            await session.commit()
        running.clock.advance(timedelta(minutes=10))
        asked = await tick(running)
        assert (asked.asked, asked.cancelled) == (0, 1)
        assert (await waves(running))["results:0"] == WaveStatus.cancelled
        await sent_out(running, emulator)
        assert len(parent.bot_messages) == seen
