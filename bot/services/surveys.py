"""Surveys: the results survey in waves (at registration, after 6 and 12 months) and the quality
survey after a closed consultation or a finished course, one row per family and wave
(`SurveyWave`), asked through the delivery outbox and answered one tap per question.

Planning. A parent's results waves are planned when they register (`plan_waves`): wave 0 a few
minutes later, so it does not cut into onboarding, the others that many calendar months after.
Families who were parents before surveys existed, or became parents later, are planned by
`plan_missing_waves` from the day they became parents; a wave whose time has passed by more than
the survey's expire_days is written as missed and never asked (so a family registered a year ago
is not asked "at registration"). A quality wave is planned a day after a consultation closes or a
course's last lesson goes out, read from the tickets and enrolments of the last days
(`plan_quality`), at most one per family in QUALITY_GAP.

Asking (`ask_due`). Due waves are asked in one transaction: each moves from scheduled to asked
by a compare-and-set (a wave another instance's tick took is not asked twice) and its first
question is queued as the outbox row of a standing campaign, one per survey, round and language.
A wave due in the family's quiet hours (the courses' COURSE_QUIET_HOURS), or while another survey
of theirs is open, or while they cannot be reached, waits. Waves asked and left unfinished past
expire_days are expired; waves never asked by then are missed. Neither is asked again.

Answering. Every press is checked against the presser's own wave: asked, and awaiting the
question the button is for. Moving on is a compare-and-set too, so a double tap counts once; an
answered question is never answered again (one `survey_answered` event per family, wave and
question). "Don't ask me" cancels the family's open waves and no more are planned."""

from __future__ import annotations

import calendar
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.course_content import Rhythm
from bot.db.models import (
    Account,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Enrolment,
    Event,
    OutboxMessage,
    OutboxStatus,
    Person,
    Role,
    SurveyWave,
    Ticket,
    TicketStatus,
    WaveStatus,
    as_utc,
)
from bot.db.upsert import insert_rows_or_nothing
from bot.services.course_schedule import QuietHours, Schedule, deliverable
from bot.services.events import EventKind, record_event
from bot.services.people import RoleName
from bot.survey_content import Question, Survey

SURVEY = "survey"  # the events' object_type
FIRST_DELAY = timedelta(minutes=10)  # wave 0 after registering: after onboarding's questions, not among them
QUALITY_DELAY = timedelta(days=1)  # the quality survey this long after the consultation or course
QUALITY_GAP = timedelta(days=30)  # at most one quality survey per family in this time
OCCASION_LOOKBACK = timedelta(days=2)  # closed consultations and finished courses the tick looks at
WAIT = timedelta(days=1)  # a wave that cannot be asked now (no account, another survey open, survey gone): looked at again after this
TICK_LIMIT = 5000
OPEN = (WaveStatus.scheduled, WaveStatus.asked)

_WAVES = cast(Table, SurveyWave.__table__)

# (survey, wave row's round, language) -> the first question's message: its HTML text and inline keyboard (as a dict)
Render = Callable[[Survey, int, str], tuple[str, dict[str, Any]]]


class Occasion(StrEnum):
    """What a quality survey is asked after (a survey's `after`)."""

    consultation = "consultation"
    course = "course"


class Outcome(StrEnum):
    """What became of a press on a question's button."""

    next = "next"  # counted; the next question is awaited
    finished = "finished"  # counted; it was the last
    answered = "answered"  # that question was answered already (a double tap, an old message)
    closed = "closed"  # the wave is not open (finished, skipped, expired, cancelled) or not the presser's


def wave_object(survey: str, wave: str) -> str:
    return f"{survey}:{wave}"


def months_after(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months later (the month's last day if it is shorter)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


# planning


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
    await insert_rows_or_nothing(session, SurveyWave, rows, ["person_id", "survey", "round"])


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
        await insert_rows_or_nothing(session, SurveyWave, rows, ["person_id", "survey", "round"])
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
        await insert_rows_or_nothing(session, SurveyWave, rows, ["person_id", "survey", "round"])
        planned += len(rows)
    return planned


# asking


@dataclass(frozen=True)
class Due:
    """A due wave with what asking it needs: the person and where to reach them."""

    wave: SurveyWave
    language: str
    timezone: str | None
    pseudonym: str
    district: str | None
    account_id: int | None
    platform: str | None
    chat_id: int | None


@dataclass
class Asked:
    asked: int = 0  # first questions queued in the outbox
    waiting: int = 0  # quiet hours, another survey open, no account: later
    expired: int = 0
    missed: int = 0


def _reachable_account(platforms: Iterable[str]) -> Any:
    return (
        select(func.min(Account.id))
        .where(Account.person_id == SurveyWave.person_id, Account.unreachable_since.is_(None), Account.platform.in_(list(platforms)))
        .correlate(SurveyWave)
        .scalar_subquery()
    )


async def due_waves(session: AsyncSession, platforms: Iterable[str], now: datetime, limit: int = TICK_LIMIT) -> list[Due]:
    """Scheduled waves due at `now`, oldest first, on the index of (status, due_at)."""
    chosen = (
        select(SurveyWave.id.label("wave_id"), _reachable_account(platforms).label("account_id"))
        .where(SurveyWave.status == WaveStatus.scheduled, SurveyWave.due_at <= now)
        .order_by(SurveyWave.due_at)
        .limit(limit)
        .subquery()
    )
    query = (
        select(SurveyWave, Person.language, Person.timezone, Person.pseudonym, Person.district, Account.id, Account.platform, Account.external_id)
        .join(chosen, chosen.c.wave_id == SurveyWave.id)
        .join(Person, Person.id == SurveyWave.person_id)
        .outerjoin(Account, Account.id == chosen.c.account_id)
        .order_by(SurveyWave.due_at)
    )
    return [Due(*row) for row in (await session.execute(query)).all()]


def _free_at(item: Due, quiet: QuietHours, zone: str, now: datetime) -> datetime:
    """When the family's quiet hours let a survey be asked: now, or when they end."""
    schedule = Schedule(Rhythm(every_days=1), time(0), zoneinfo.ZoneInfo(item.timezone or zone), quiet)
    return deliverable(schedule, now, now)


async def ask_due(
    session: AsyncSession, surveys: Mapping[str, Survey], render: Render, quiet: QuietHours, zone: str, platforms: Iterable[str], *, now: datetime
) -> Asked:
    """Expire what was left too long, then ask the due waves: each moved to asked by a
    compare-and-set and its first question queued, in the caller's transaction. `zone`: the
    centre's, for families without their own."""
    platforms = list(platforms)
    result = Asked(expired=await _expire(session, surveys, now), missed=await _miss(session, surveys, now))
    due = await due_waves(session, platforms, now)
    busy = set(await session.scalars(
        select(SurveyWave.person_id).where(SurveyWave.person_id.in_({item.wave.person_id for item in due}), SurveyWave.status == WaveStatus.asked)
    )) if due else set()
    later: list[tuple[Due, datetime]] = []
    ready: list[Due] = []
    for item in due:
        free_at = _free_at(item, quiet, zone, now)
        if item.wave.survey not in surveys or item.account_id is None or item.wave.person_id in busy:
            later.append((item, now + WAIT))
        elif free_at > now:
            later.append((item, free_at))
        else:
            ready.append(item)
            busy.add(item.wave.person_id)  # a family's second due wave waits for the first
    await _postpone(session, later)
    result.waiting = len(later)
    asked_ids = await _mark_asked(session, ready, surveys, now)
    ready = [item for item in ready if item.wave.id in asked_ids]
    result.asked = len(ready)
    if ready:
        campaigns = await _standing_campaigns(session, {(item.wave.survey, item.wave.round, item.language) for item in ready}, surveys, render, now)
        await _queue(session, [(campaigns[(item.wave.survey, item.wave.round, item.language)], item) for item in ready], now)
        await session.execute(insert(Event), [_event(EventKind.survey_asked, item, now) for item in ready])
    return result


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


async def _expire(session: AsyncSession, surveys: Mapping[str, Survey], now: datetime) -> int:
    """Asked waves left unfinished past their survey's expire_days: expired, with the questions answered as the value."""
    expired = 0
    for survey in surveys.values():
        stale = (SurveyWave.survey == survey.id, SurveyWave.status == WaveStatus.asked, SurveyWave.asked_at < now - timedelta(days=survey.expire_days))
        statement = (
            update(SurveyWave).where(*stale).values(status=WaveStatus.expired, finished_at=now)
            .returning(SurveyWave.person_id, SurveyWave.wave, SurveyWave.question).execution_options(synchronize_session=False)
        )
        rows = (await session.execute(statement)).all()
        if not rows:
            continue
        people = dict((await session.execute(select(Person.id, Person).where(Person.id.in_({row[0] for row in rows})))).all())
        ids = [question.id for question in survey.questions]
        for person_id, wave, question in rows:
            answered = ids.index(question) if question in ids else 0
            record_event(session, EventKind.survey_expired, at=now, person=people[person_id], object_type=SURVEY, object_id=wave_object(survey.id, wave),
                         value=answered)
        expired += len(rows)
    return expired


async def _miss(session: AsyncSession, surveys: Mapping[str, Survey], now: datetime) -> int:
    """Waves never asked whose time passed by more than expire_days (the family unreachable, the bot down): missed, never asked."""
    missed = 0
    for survey in surveys.values():
        late = (SurveyWave.survey == survey.id, SurveyWave.status == WaveStatus.scheduled, SurveyWave.due_at < now - timedelta(days=survey.expire_days))
        result = await session.execute(
            update(SurveyWave).where(*late).values(status=WaveStatus.missed, finished_at=now).execution_options(synchronize_session=False)
        )
        missed += result.rowcount  # type: ignore[attr-defined]
    return missed


def _event(kind: EventKind, item: Due, now: datetime) -> dict[str, Any]:
    """An event row for a bulk insert (no ORM object per family)."""
    return {
        "kind": kind.value, "at": now, "pseudonym": item.pseudonym, "district": item.district, "platform": item.platform,
        "object_type": SURVEY, "object_id": wave_object(item.wave.survey, item.wave.wave), "value": None,
    }


async def _standing_campaigns(
    session: AsyncSession, wanted: set[tuple[str, int, str]], surveys: Mapping[str, Survey], render: Render, now: datetime
) -> dict[tuple[str, int, str], int]:
    """The campaign of each (survey, round, language): its first question, created on first use and
    brought up to the content when the centre changed the survey."""
    keys = {f"{CampaignKind.survey}:{survey}:{number}:{language}": (survey, number, language) for survey, number, language in wanted}
    found = {campaign.key: campaign for campaign in await session.scalars(select(Campaign).where(Campaign.key.in_(keys)))}
    ids = {}
    for key, (survey, number, language) in keys.items():
        message, markup = render(surveys[survey], number, language)
        campaign = found.get(key)
        if campaign is None:
            values = {
                "key": key, "kind": CampaignKind.survey.value, "status": CampaignStatus.sending.value, "text": message, "markup": markup, "created_at": now,
                "started_at": now, "media_ids": {}, "buttons": [], "audience": {},
            }
            await insert_rows_or_nothing(session, Campaign, [values], ["key"])
            campaign = await session.scalar(select(Campaign).where(Campaign.key == key))
            assert campaign is not None
        elif campaign.text != message or campaign.markup != markup:
            campaign.text, campaign.markup = message, markup
        ids[(survey, number, language)] = campaign.id
    return ids


async def _queue(session: AsyncSession, rows: list[tuple[int, Due]], now: datetime) -> None:
    await insert_rows_or_nothing(
        session,
        OutboxMessage,
        [
            {
                "campaign_id": campaign_id, "person_id": item.wave.person_id, "account_id": item.account_id, "platform": item.platform,
                "chat_id": item.chat_id, "status": OutboxStatus.pending.value, "attempts": 0, "next_attempt_at": now,
            }
            for campaign_id, item in rows
        ],
        ["campaign_id", "person_id"],
    )


# answering


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
    """"Don't ask me": every open wave of the family is cancelled and none is planned again; False if they had said so already."""
    await session.execute(
        update(SurveyWave).where(SurveyWave.person_id == person.id, SurveyWave.status.in_(OPEN))
        .values(status=WaveStatus.cancelled, finished_at=now).execution_options(synchronize_session=False)
    )
    if person.surveys_declined_at is not None:
        return False
    person.surveys_declined_at = now
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

