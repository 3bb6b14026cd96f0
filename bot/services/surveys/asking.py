"""Asking the due waves (`ask_due`, each minute). Waves left too long are closed first
(closing.py). Then the due waves that can be asked now are asked in one transaction: each moves
from scheduled to asked by a compare-and-set (a wave another instance's tick took is not asked
twice) and its first question is queued as the outbox row of a standing campaign, one per survey,
round and language.

A wave that cannot be asked now keeps its due time, so it is missed once that is more than
expire_days past: the family has no reachable account, another survey of theirs is open, or the
survey is no longer in content (left out of the query), or it is the family's quiet hours (the
courses' COURSE_QUIET_HOURS: moved to when they end). A due wave of a family who has said "don't
ask me" meanwhile (a wave planned as they said it) is cancelled."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.course_content import Rhythm
from bot.db.models import Account, CampaignKind, Event, Person, SurveyWave, WaveStatus
from bot.delivery import outbox
from bot.services.course_schedule import QuietHours, Schedule, deliverable
from bot.services.events import EventKind
from bot.services.surveys.closing import expire_stale, miss_late
from bot.services.surveys.waves import SURVEY, TICK_LIMIT, wave_object
from bot.survey_content import Survey

_WAVES = cast(Table, SurveyWave.__table__)

# (survey, wave row's round, language) -> the first question's message: its HTML text and inline keyboard (as a dict)
Render = Callable[[Survey, int, str], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Due:
    """A due wave with what asking it needs: the person and where to reach them."""

    wave: SurveyWave
    language: str
    timezone: str | None
    pseudonym: str
    district: str | None
    declined: datetime | None
    account_id: int
    platform: str
    chat_id: int


@dataclass
class Asked:
    asked: int = 0  # first questions queued in the outbox
    waiting: int = 0  # in the family's quiet hours: when they end
    expired: int = 0
    missed: int = 0
    cancelled: int = 0  # due for a family who has said "don't ask me"


def _reachable_account(platforms: Iterable[str]) -> Any:
    return (
        select(func.min(Account.id))
        .where(Account.person_id == SurveyWave.person_id, Account.unreachable_since.is_(None), Account.platform.in_(list(platforms)))
        .correlate(SurveyWave)
        .scalar_subquery()
    )


async def due_waves(session: AsyncSession, surveys: Iterable[str], platforms: Iterable[str], now: datetime, limit: int = TICK_LIMIT) -> list[Due]:
    """Scheduled waves due at `now` that can be asked, oldest first, on the index of (status, due_at):
    of a survey in content, of a family reachable on one of `platforms` with no survey open."""
    surveys = list(surveys)
    other = aliased(SurveyWave)
    open_survey = exists().where(other.person_id == SurveyWave.person_id, other.status == WaveStatus.asked, other.survey.in_(surveys)).correlate(SurveyWave)
    query = (
        select(SurveyWave, Person.language, Person.timezone, Person.pseudonym, Person.district, Person.surveys_declined_at,
               Account.id, Account.platform, Account.external_id)
        .join(Person, Person.id == SurveyWave.person_id)
        .join(Account, Account.id == _reachable_account(platforms))
        .where(SurveyWave.status == WaveStatus.scheduled, SurveyWave.due_at <= now, SurveyWave.survey.in_(surveys), ~open_survey)
        .order_by(SurveyWave.due_at, SurveyWave.id)
        .limit(limit)
    )
    return [Due(*row) for row in (await session.execute(query)).all()]


def _free_at(item: Due, quiet: QuietHours, zone: str, now: datetime) -> datetime:
    """When the family's quiet hours let a survey be asked: now, or when they end."""
    schedule = Schedule(Rhythm(every_days=1), time(0), zoneinfo.ZoneInfo(item.timezone or zone), quiet)
    return deliverable(schedule, now, now)


async def ask_due(
    session: AsyncSession, surveys: Mapping[str, Survey], render: Render, quiet: QuietHours, zone: str, platforms: Iterable[str], *, now: datetime
) -> Asked:
    """Close what was left too long, then ask the due waves: each moved to asked by a
    compare-and-set and its first question queued, in the caller's transaction. `zone`: the
    centre's, for families without their own."""
    result = Asked(expired=await expire_stale(session, surveys, now), missed=await miss_late(session, surveys, now))
    later: list[tuple[Due, datetime]] = []
    ready: list[Due] = []
    declined: list[Due] = []
    taken: set[int] = set()
    for item in await due_waves(session, surveys, platforms, now):
        free_at = _free_at(item, quiet, zone, now)
        if item.declined is not None:
            declined.append(item)
        elif item.wave.person_id in taken:
            continue  # a family's second due wave waits for the first to close
        elif free_at > now:
            later.append((item, free_at))
        else:
            ready.append(item)
            taken.add(item.wave.person_id)
    result.cancelled = await _cancel(session, declined, now)
    await _postpone(session, later)
    result.waiting = len(later)
    asked_ids = await _mark_asked(session, ready, surveys, now)
    ready = [item for item in ready if item.wave.id in asked_ids]
    result.asked = len(ready)
    if ready:
        wanted = {(item.wave.survey, item.wave.round, item.language) for item in ready}
        first_questions = lambda survey, number, language: render(surveys[survey], number, language)  # noqa: E731
        campaigns = await outbox.standing_campaigns(session, CampaignKind.survey, wanted, first_questions, now)
        await _queue(session, [(campaigns[(item.wave.survey, item.wave.round, item.language)], item) for item in ready], now)
        await session.execute(insert(Event), [_asked_event(item, now) for item in ready])
    return result


async def _cancel(session: AsyncSession, declined: list[Due], now: datetime) -> int:
    if not declined:
        return 0
    result = await session.execute(
        update(SurveyWave).where(SurveyWave.id.in_([item.wave.id for item in declined]), SurveyWave.status == WaveStatus.scheduled)
        .values(status=WaveStatus.cancelled, finished_at=now).execution_options(synchronize_session=False)
    )
    return cast(int, result.rowcount)  # type: ignore[attr-defined]


async def _postpone(session: AsyncSession, later: list[tuple[Due, datetime]]) -> None:
    if later:
        statement = (
            update(_WAVES).where(_WAVES.c.id == bindparam("wave_id"), _WAVES.c.status == WaveStatus.scheduled).values(due_at=bindparam("new_due"))
        )
        await session.execute(statement, [{"wave_id": item.wave.id, "new_due": at} for item, at in later], execution_options={"synchronize_session": False})


async def _mark_asked(session: AsyncSession, ready: list[Due], surveys: Mapping[str, Survey], now: datetime) -> set[int]:
    """Scheduled -> asked, awaiting the first question, for those still scheduled (compare-and-set)."""
    moved: set[int] = set()
    for survey_id in {item.wave.survey for item in ready}:
        ids = [item.wave.id for item in ready if item.wave.survey == survey_id]
        statement = (
            update(SurveyWave)
            .where(SurveyWave.id.in_(ids), SurveyWave.status == WaveStatus.scheduled)
            .values(status=WaveStatus.asked, asked_at=now, question=surveys[survey_id].questions[0].id)
            .returning(SurveyWave.id)
            .execution_options(synchronize_session=False)
        )
        moved |= set((await session.execute(statement)).scalars())
    return moved


def _asked_event(item: Due, now: datetime) -> dict[str, Any]:
    """The survey_asked event's row for a bulk insert (no ORM object per family)."""
    return {
        "kind": EventKind.survey_asked.value, "at": now, "pseudonym": item.pseudonym, "district": item.district, "platform": item.platform,
        "object_type": SURVEY, "object_id": wave_object(item.wave.survey, item.wave.wave), "value": None,
    }


async def _queue(session: AsyncSession, rows: list[tuple[int, Due]], now: datetime) -> None:
    await outbox.queue_once(session, [(campaign_id, item.wave.person_id, item.account_id, item.platform, item.chat_id) for campaign_id, item in rows], now)
