"""A family's presses on a survey's message, and what "My data" says of their surveys. Every
press is checked against the presser's own wave: asked, and awaiting the question the button is
for. Moving on is a compare-and-set, so a double tap counts once; an answered question is never
answered again (one `survey_answered` event per family, wave and question). "Don't ask me"
cancels the family's open waves and no more are planned; said twice at once, it counts once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.db.models import Person, SurveyWave, WaveStatus
from bot.services.events import EventKind, record_event
from bot.services.surveys.waves import OPEN, SURVEY, wave_object
from bot.survey_content import Question, Survey


class Outcome(StrEnum):
    """What became of a press on a question's button."""

    next = "next"  # counted; the next question is awaited
    finished = "finished"  # counted; it was the last
    answered = "answered"  # that question was answered already (a double tap, an old message)
    closed = "closed"  # the wave is not open (finished, skipped, expired, cancelled) or not the presser's


async def wave_of(session: AsyncSession, person_id: int, survey: str, number: int) -> SurveyWave | None:
    """The person's own wave (a press names the survey and round; the presser is the person)."""
    return await session.scalar(select(SurveyWave).where(SurveyWave.person_id == person_id, SurveyWave.survey == survey, SurveyWave.round == number))


async def answer(
    session: AsyncSession, wave: SurveyWave | None, survey: Survey, question_id: str, option_id: str, person: Person, platform: str | None, *, now: datetime
) -> tuple[Outcome, Question | None]:
    """Count the answer if the wave awaits this question, and move it on (compare-and-set); the next question, if any."""
    if wave is None or wave.person_id != person.id or wave.status != WaveStatus.asked:
        return Outcome.closed, None
    question = survey.question(question_id)
    if wave.question != question_id or question is None:
        return Outcome.answered, None
    option = question.option(option_id)
    if option is None:
        return Outcome.closed, None
    following = survey.after_question(question_id)
    moved = await session.execute(
        update(SurveyWave)
        .where(SurveyWave.id == wave.id, SurveyWave.status == WaveStatus.asked, SurveyWave.question == question_id)
        .values(
            question=following.id if following else None,
            status=WaveStatus.asked if following else WaveStatus.finished,
            finished_at=None if following else now,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return Outcome.answered, None
    wave_id = wave_object(survey.id, wave.wave)
    record_event(session, EventKind.survey_answered, at=now, person=person, platform=platform, object_type=SURVEY, object_id=f"{wave_id}:{question.id}",
                 value=option.value)
    if following is None:
        record_event(session, EventKind.survey_finished, at=now, person=person, platform=platform, object_type=SURVEY, object_id=wave_id)
        return Outcome.finished, None
    return Outcome.next, following


async def skip(session: AsyncSession, wave: SurveyWave | None, person: Person, platform: str | None, *, now: datetime) -> bool:
    """"Skip this survey": the open wave closes; False if it was not open (or not the presser's)."""
    if wave is None or wave.person_id != person.id:
        return False
    moved = await session.execute(
        update(SurveyWave).where(SurveyWave.id == wave.id, SurveyWave.status == WaveStatus.asked)
        .values(status=WaveStatus.skipped, finished_at=now).execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    record_event(session, EventKind.survey_skipped, at=now, person=person, platform=platform, object_type=SURVEY, object_id=wave_object(wave.survey, wave.wave))
    return True


async def decline(session: AsyncSession, person: Person, platform: str | None, *, now: datetime) -> bool:
    """"Don't ask me": every open wave of the family is cancelled and none is planned again; False
    if they had said so already (a compare-and-set on the person: a double tap, or two instances,
    count one survey_declined)."""
    await session.execute(
        update(SurveyWave).where(SurveyWave.person_id == person.id, SurveyWave.status.in_(OPEN))
        .values(status=WaveStatus.cancelled, finished_at=now).execution_options(synchronize_session=False)
    )
    moved = await session.execute(
        update(Person).where(Person.id == person.id, Person.surveys_declined_at.is_(None))
        .values(surveys_declined_at=now).execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(person, "surveys_declined_at", now)
    record_event(session, EventKind.survey_declined, at=now, person=person, platform=platform)
    return True


@dataclass(frozen=True)
class Kept:
    """What "My data" says of the family's surveys."""

    planned: int
    answered: int
    declined: bool


async def kept_of(session: AsyncSession, person: Person) -> Kept:
    counts = dict((await session.execute(
        select(SurveyWave.status, func.count()).where(SurveyWave.person_id == person.id).group_by(SurveyWave.status)
    )).all())
    planned = sum(counts.get(status, 0) for status in OPEN)
    return Kept(planned, counts.get(WaveStatus.finished, 0), person.surveys_declined_at is not None)
