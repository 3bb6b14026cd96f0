"""Waves left too long, closed by the minute tick before it asks: asked and left unfinished past
the survey's expire_days (expired, with the questions answered as the event's value), or never
asked by then (missed: the family unreachable, another survey of theirs open, the bot down).
Neither is asked again. The waves of a survey the centre removed from content close the same
way after the default expire_days, so they neither stay open for good nor hold up the family's
other surveys."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Event, Person, SurveyWave, WaveStatus
from bot.services.events import EventKind
from bot.services.surveys.waves import SURVEY, wave_object
from bot.survey_content import EXPIRE_DAYS, Survey


def _kinds(surveys: Mapping[str, Survey]) -> list[tuple[Any, int, Survey | None]]:
    """(which waves, their expire_days, their survey): each survey in content, then those no longer in it."""
    kinds: list[tuple[Any, int, Survey | None]] = [(SurveyWave.survey == survey.id, survey.expire_days, survey) for survey in surveys.values()]
    kinds.append((SurveyWave.survey.not_in(list(surveys)), EXPIRE_DAYS, None))
    return kinds


async def expire_stale(session: AsyncSession, surveys: Mapping[str, Survey], now: datetime) -> int:
    """Asked waves left unfinished past their survey's expire_days: expired, with the questions answered as the value."""
    expired = []
    for which, days, survey in _kinds(surveys):
        statement = (
            update(SurveyWave).where(which, SurveyWave.status == WaveStatus.asked, SurveyWave.asked_at < now - timedelta(days=days))
            .values(status=WaveStatus.expired, finished_at=now)
            .returning(SurveyWave.person_id, SurveyWave.survey, SurveyWave.wave, SurveyWave.question).execution_options(synchronize_session=False)
        )
        expired += [(*row, survey) for row in (await session.execute(statement)).all()]
    if expired:
        people = {row[0]: row[1:] for row in await session.execute(
            select(Person.id, Person.pseudonym, Person.district).where(Person.id.in_({row[0] for row in expired}))
        )}
        await session.execute(insert(Event), [
            {
                "kind": EventKind.survey_expired.value, "at": now, "pseudonym": people[person_id][0], "district": people[person_id][1], "platform": None,
                "object_type": SURVEY, "object_id": wave_object(survey_id, wave), "value": _answered(survey, question),
            }
            for person_id, survey_id, wave, question, survey in expired
        ])
    return len(expired)


def _answered(survey: Survey | None, awaited: str | None) -> float | None:
    """How many questions were answered before the awaited one (None when the survey is gone)."""
    if survey is None:
        return None
    ids = [question.id for question in survey.questions]
    return float(ids.index(awaited)) if awaited in ids else 0.0


async def miss_late(session: AsyncSession, surveys: Mapping[str, Survey], now: datetime) -> int:
    """Waves never asked whose time passed by more than expire_days: missed, never asked."""
    missed = 0
    for which, days, _ in _kinds(surveys):
        result = await session.execute(
            update(SurveyWave).where(which, SurveyWave.status == WaveStatus.scheduled, SurveyWave.due_at < now - timedelta(days=days))
            .values(status=WaveStatus.missed, finished_at=now).execution_options(synchronize_session=False)
        )
        missed += result.rowcount  # type: ignore[attr-defined]
    return missed
