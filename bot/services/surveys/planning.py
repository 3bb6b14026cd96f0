"""Planning survey waves. A parent's results waves are planned when they register (`plan_waves`):
wave 0 a few minutes later, so it does not cut into onboarding, the others that many calendar
months after. Families who were parents before surveys existed, or became parents later, are
planned by `plan_missing_waves` from the day they became parents; a wave whose time has passed by
more than the survey's expire_days is written as missed and never asked (so a family registered a
year ago is not asked "at registration"). A quality wave is planned a day after a consultation
closes or a course's last lesson goes out, read from the tickets and enrolments of the last days
(`plan_quality`), at most one per family in QUALITY_GAP. A family that said "don't ask me" gets none."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Enrolment, Person, Role, SurveyWave, Ticket, TicketStatus, WaveStatus, as_utc
from bot.db.upsert import insert_rows_or_nothing
from bot.services.people import RoleName
from bot.services.surveys.waves import TICK_LIMIT, months_after
from bot.survey_content import Survey

FIRST_DELAY = timedelta(minutes=10)  # wave 0 after registering: after onboarding's questions, not among them
QUALITY_DELAY = timedelta(days=1)  # the quality survey this long after the consultation or course
QUALITY_GAP = timedelta(days=30)  # at most one quality survey per family in this time
OCCASION_LOOKBACK = timedelta(days=2)  # closed consultations and finished courses the tick looks at
WAVE_KEY = ["person_id", "survey", "round"]


class Occasion(StrEnum):
    """What a quality survey is asked after (a survey's `after`)."""

    consultation = "consultation"
    course = "course"


def _wave_rows(person_id: int, survey: Survey, since: datetime, now: datetime) -> list[dict[str, Any]]:
    """The results waves of a family who became a parent at `since`; those too late to ask are missed."""
    rows = []
    for months in survey.waves:
        due = since + FIRST_DELAY if months == 0 else months_after(since, months)
        late = due + timedelta(days=survey.expire_days) < now
        rows.append({
            "person_id": person_id, "survey": survey.id, "wave": str(months), "round": months, "due_at": due, "planned_at": now,
            "status": WaveStatus.missed.value if late else WaveStatus.scheduled.value, "finished_at": now if late else None,
        })
    return rows


async def plan_waves(session: AsyncSession, person: Person, surveys: Iterable[Survey], *, now: datetime) -> None:
    """A new parent's results waves, from now (each only once, however often this runs)."""
    if person.surveys_declined_at is not None:
        return
    rows = [row for survey in surveys for row in _wave_rows(person.id, survey, now, now)]
    await insert_rows_or_nothing(session, SurveyWave, rows, WAVE_KEY)


async def plan_missing_waves(session: AsyncSession, surveys: Iterable[Survey], *, now: datetime, limit: int = TICK_LIMIT) -> int:
    """The waves of parents who have none yet (parents before surveys existed, staff who became
    parents, a wave the centre added), planned from the day they became parents."""
    planned = 0
    for survey in surveys:
        if not survey.waves:
            continue
        lacking = [
            ~exists().where(SurveyWave.person_id == Role.person_id, SurveyWave.survey == survey.id, SurveyWave.round == months) for months in survey.waves
        ]
        query = (
            select(Role.person_id, func.min(Role.granted_at))
            .join(Person, Person.id == Role.person_id)
            .where(Role.role == RoleName.parent, Person.surveys_declined_at.is_(None), or_(*lacking))
            .group_by(Role.person_id)
            .limit(limit)
        )
        rows = [row for person_id, since in (await session.execute(query)).all() for row in _wave_rows(person_id, survey, as_utc(since), now)]
        await insert_rows_or_nothing(session, SurveyWave, rows, WAVE_KEY)
        planned += len({row["person_id"] for row in rows})
    return planned


def _occasions(since: datetime) -> dict[Occasion, Any]:
    """Per occasion: (person, when) of the consultations closed and the courses finished since then."""
    return {
        Occasion.consultation: select(Ticket.person_id, func.max(Ticket.closed_at))
        .where(Ticket.status == TicketStatus.closed, Ticket.closed_at >= since)
        .group_by(Ticket.person_id),
        Occasion.course: select(Enrolment.person_id, func.max(Enrolment.finished_at)).where(Enrolment.finished_at >= since).group_by(Enrolment.person_id),
    }


async def plan_quality(session: AsyncSession, surveys: Iterable[Survey], *, now: datetime) -> int:
    """A quality wave a day after each recent occasion, unless the family had one in QUALITY_GAP or declined."""
    planned = 0
    for occasion, recent in _occasions(now - OCCASION_LOOKBACK).items():
        survey = next((survey for survey in surveys if occasion in survey.after), None)
        if survey is None:
            continue
        found = dict((await session.execute(recent)).all())
        if not found:
            continue
        busy = set(await session.scalars(
            select(SurveyWave.person_id).where(SurveyWave.person_id.in_(found), SurveyWave.survey == survey.id, SurveyWave.planned_at >= now - QUALITY_GAP)
        ))
        declined = set(await session.scalars(select(Person.id).where(Person.id.in_(found), Person.surveys_declined_at.is_not(None))))
        rounds = dict((await session.execute(
            select(SurveyWave.person_id, func.max(SurveyWave.round)).where(SurveyWave.person_id.in_(found), SurveyWave.survey == survey.id)
            .group_by(SurveyWave.person_id)
        )).all())
        rows = [
            {
                "person_id": person_id, "survey": survey.id, "wave": occasion.value, "round": rounds.get(person_id, 0) + 1,
                "due_at": as_utc(at) + QUALITY_DELAY, "planned_at": now, "status": WaveStatus.scheduled.value,
            }
            for person_id, at in found.items() if person_id not in busy | declined
        ]
        await insert_rows_or_nothing(session, SurveyWave, rows, WAVE_KEY)
        planned += len(rows)
    return planned
