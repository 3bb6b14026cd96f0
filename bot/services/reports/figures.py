"""A report's figures: a dataclass per section, each filled by one or two set-based SQL aggregates
over the event store (bot.services.events), the tickets, the outbox and the chats' daily counts.
Nothing here loops over events in Python: the largest Python work is the period's tickets (one row
per consultation, which the anonymised sheet needs anyway, and the percentiles of their waits).

What each figure counts (the README's "Reports" section says the same for readers):
- results: per wave of the results survey, the share of answers with value 1 to each question that
  has a target (rural families only when the question is among "rural"), over every answer given
  before the period's end: the programme's state then, and its trend across the waves;
- courses: lesson events in the period, per course (object "lesson", id "course:number");
- consultations: the questions asked in the period (tickets created in it) and what became of
  them; targets missed are the period's question_target_missed events;
- broadcasts: the broadcasts started in the period and their recipients' outcomes;
- chats: members at the period's end (joins minus leaves the bot saw, ever), and the period's
  daily counts;
- reach: distinct families (pseudonyms) with a family's event in the period, and how many of them
  live in a rural district (Content.rural_districts; "other" or none is not rural)."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.db.models import Campaign, CampaignKind, ChatActivity, Event, OutboxMessage, OutboxStatus, Person, Ticket, as_utc
from bot.services.events import EventKind
from bot.services.reports.period import Period
from bot.services.wall_posts import WallFigures
from bot.survey_content import Survey

RESULTS_SURVEY = "results"
RESULT_WAVES = ("0", "6", "12")
RURAL = "rural"

# What a family does (or is sent): a pseudonym with one of these in the period is a family reached.
# Staff's own events (roles, office hours) and registrations (staff register too) are left out.
REACH_KINDS: tuple[EventKind, ...] = (
    EventKind.question_asked,
    EventKind.faq_helped,
    EventKind.question_rated,
    EventKind.course_enrolled,
    EventKind.course_rated,
    EventKind.lesson_sent,
    EventKind.lesson_opened,
    EventKind.lesson_liked,
    EventKind.lesson_disliked,
    EventKind.lesson_commented,
    EventKind.lesson_done,
    EventKind.chat_joined,
    EventKind.survey_answered,
)
REACH_KIND_NAMES: tuple[str, ...] = tuple(kind.value for kind in REACH_KINDS)

COURSE_KINDS: tuple[EventKind, ...] = (
    EventKind.course_enrolled,
    EventKind.course_rated,
    EventKind.lesson_sent,
    EventKind.lesson_opened,
    EventKind.lesson_liked,
    EventKind.lesson_disliked,
    EventKind.lesson_commented,
    EventKind.lesson_done,
)
# the period's counts by kind and object: the courses, the targets missed, the parents registered
COUNTED_KINDS: tuple[str, ...] = (*(kind.value for kind in COURSE_KINDS), EventKind.question_target_missed.value, EventKind.registered.value)


@dataclass(frozen=True)
class WaveResult:
    wave: str
    answers: int
    yes: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.yes / self.answers if self.answers else None


@dataclass(frozen=True)
class Result:
    """One of the programme's results: a question of the results survey with a target (percent)."""

    question: str
    texts: dict[str, str]  # language -> the question as asked
    target: int
    among: str  # "all" or "rural"
    waves: tuple[WaveResult, ...]

    def text(self, language: str) -> str:
        return self.texts.get(language) or next(iter(self.texts.values()), self.question)


@dataclass(frozen=True)
class CourseFigures:
    course: str
    enrolled: int = 0
    delivered: int = 0  # lessons sent
    viewed: int = 0  # lessons a family opened for the first time
    opens: int = 0  # every open
    likes: int = 0  # 👍 given, less those taken back
    dislikes: int = 0
    comments: int = 0
    done: int = 0  # lessons marked done (first time)
    ratings: int = 0
    rating_sum: float = 0.0

    @property
    def completion(self) -> float | None:
        """Lessons done per lesson delivered, in percent."""
        return 100.0 * self.done / self.delivered if self.delivered else None

    @property
    def rating(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None


@dataclass(frozen=True)
class ConsultationGroup:
    """The questions asked in the period, of one specialty, one specialist, or all."""

    key: str  # the specialty id, the specialist's label, or "" for all
    asked: int = 0
    answered: int = 0
    median_s: float | None = None  # time to the first answer
    p90_s: float | None = None
    missed: int = 0  # targets missed (not by specialist: a question unclaimed has nobody)
    ratings: int = 0
    rating: float | None = None


@dataclass(frozen=True)
class ConsultationRow:
    """One consultation for the anonymised sheet: no person, no name, no text. Times in UTC."""

    number: int
    specialty: str
    asked_at: datetime
    claimed_at: datetime | None
    first_answer_at: datetime | None
    closed_at: datetime | None
    rating: int | None

    @property
    def to_claim_s(self) -> float | None:
        return (self.claimed_at - self.asked_at).total_seconds() if self.claimed_at else None

    @property
    def to_answer_s(self) -> float | None:
        return (self.first_answer_at - self.asked_at).total_seconds() if self.first_answer_at else None

    @property
    def to_close_s(self) -> float | None:
        return (self.closed_at - self.asked_at).total_seconds() if self.closed_at else None


@dataclass(frozen=True)
class ConsultationFigures:
    total: ConsultationGroup
    by_specialty: tuple[ConsultationGroup, ...]
    by_specialist: tuple[ConsultationGroup, ...]
    rows: tuple[ConsultationRow, ...]


@dataclass(frozen=True)
class BroadcastFigures:
    broadcasts: int = 0
    sent: int = 0
    unreachable: int = 0
    failed: int = 0


@dataclass(frozen=True)
class ChatFigures:
    chat: str
    members: int = 0  # at the period's end
    joins: int = 0
    leaves: int = 0
    messages: int = 0
    reactions: int = 0
    active_days: int = 0  # days with a member's message


@dataclass(frozen=True)
class ReachFigures:
    families: int = 0
    rural: int = 0
    registered: int = 0  # parents who registered in the period

    @property
    def rural_share(self) -> float | None:
        return 100.0 * self.rural / self.families if self.families else None


@dataclass(frozen=True)
class Report:
    period: Period
    results: tuple[Result, ...]
    courses: tuple[CourseFigures, ...]
    consultations: ConsultationFigures
    broadcasts: BroadcastFigures
    chats: tuple[ChatFigures, ...]
    reach: ReachFigures
    wall: WallFigures | None = None  # the VK community's wall posts, when VK_SERVICE_TOKEN is set
    wall_note: str | None = None  # why the wall could not be read (one line)
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # "course:home" -> language -> title, for display


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest rank: the smallest value that `share` of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def in_period(column: Any, period: Period) -> Any:
    return and_(column >= period.since, column < period.until)


async def compute(session: AsyncSession, content: Content, period: Period) -> Report:
    """Every figure of the report but the wall's (read over the network: see read_wall)."""
    rural = sorted(content.rural_districts)
    counted = await _counted(session, period)
    return Report(
        period=period,
        results=await _results(session, content, period, rural),
        courses=_courses(counted),
        consultations=await _consultations(session, period, counted),
        broadcasts=await _broadcasts(session, period),
        chats=await _chats(session, period),
        reach=await _reach(session, period, rural, counted),
        names=_names(content),
    )


def _names(content: Content) -> dict[str, dict[str, str]]:
    names: dict[str, dict[str, str]] = {}
    for course in content.courses:
        names[f"course:{course.id}"] = dict(course.titles)
    for chat in content.chats:
        names[f"chat:{chat.id}"] = dict(chat.titles)
    for specialty in content.specialties:
        names[f"specialty:{specialty.id}"] = dict(specialty.labels)
    return names


# the statements, one per function: bench/report.py times them bare, as SQL


def counted_statement(period: Period) -> Any:
    """The period's events of the counted kinds by kind and object: count and sum of values."""
    return (
        select(Event.kind, Event.object_id, func.count(), func.sum(Event.value))
        .where(Event.kind.in_(COUNTED_KINDS), in_period(Event.at, period))
        .group_by(Event.kind, Event.object_id)
    )


async def _counted(session: AsyncSession, period: Period) -> dict[tuple[str, str | None], tuple[int, float]]:
    rows = await session.execute(counted_statement(period))
    return {(kind, object_id): (count, float(total or 0)) for kind, object_id, count, total in rows}


def _courses(counted: dict[tuple[str, str | None], tuple[int, float]]) -> tuple[CourseFigures, ...]:
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (kind, object_id), (count, total) in counted.items():
        if kind not in {k.value for k in COURSE_KINDS} or not object_id:
            continue
        course = object_id.split(":", 1)[0]
        figures = sums[course]
        if kind == EventKind.course_enrolled:
            figures["enrolled"] += count
        elif kind == EventKind.course_rated:
            figures["ratings"] += count
            figures["rating_sum"] += total
        elif kind == EventKind.lesson_sent:
            figures["delivered"] += count
        elif kind == EventKind.lesson_opened:
            figures["opens"] += count
            figures["viewed"] += total
        elif kind == EventKind.lesson_liked:
            figures["likes"] += total
        elif kind == EventKind.lesson_disliked:
            figures["dislikes"] += total
        elif kind == EventKind.lesson_commented:
            figures["comments"] += count
        elif kind == EventKind.lesson_done:
            figures["done"] += total
    return tuple(
        CourseFigures(
            course=course,
            **{name: int(value) for name, value in figures.items() if name != "rating_sum"},
            rating_sum=figures.get("rating_sum", 0.0),
        )
        for course, figures in sorted(sums.items())
    )


def results_statement(period: Period, rural: Sequence[str]) -> Any:
    """The results survey's answers before the period's end, by question and wave and whether the family is rural."""
    is_rural = case((Event.district.in_(rural), 1), else_=0) if rural else literal(0)
    yes = func.sum(case((Event.value == 1, 1), else_=0))
    return (
        select(Event.object_id, is_rural.label("rural"), func.count(), yes)
        .where(Event.kind == EventKind.survey_answered, Event.object_type == "survey", Event.object_id.like(f"{RESULTS_SURVEY}:%"), Event.at < period.until)
        .group_by(Event.object_id, is_rural)
    )


async def _results(session: AsyncSession, content: Content, period: Period, rural: Sequence[str]) -> tuple[Result, ...]:
    survey = _results_survey(content)
    if survey is None:
        return ()
    questions = [question for question in survey.questions if question.target is not None]
    if not questions:
        return ()
    answers: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # (wave, question) -> all answers, yes, rural answers, rural yes
    for object_id, is_rural, count, yes in await session.execute(results_statement(period, rural)):
        parts = (object_id or "").split(":")
        if len(parts) != 3:
            continue
        tally = answers[(parts[1], parts[2])]
        tally[0] += count
        tally[1] += int(yes or 0)
        if is_rural:
            tally[2] += count
            tally[3] += int(yes or 0)
    waves = tuple(str(wave) for wave in survey.waves) or RESULT_WAVES
    results = []
    for question in questions:
        offset = 2 if question.among == RURAL else 0
        per_wave = tuple(WaveResult(wave, answers[(wave, question.id)][offset], answers[(wave, question.id)][offset + 1]) for wave in waves)
        results.append(Result(question.id, dict(question.texts), question.target or 0, question.among, per_wave))
    return tuple(results)


def _results_survey(content: Content) -> Survey | None:
    return content.survey(RESULTS_SURVEY)


def tickets_statement(period: Period, by: Any) -> Any:
    """The questions asked in the period, grouped by `by`: asked, answered, ratings and their sum."""
    return (
        select(by, func.count(), func.count(Ticket.first_answer_at), func.count(Ticket.rating), func.sum(Ticket.rating))
        .where(in_period(Ticket.created_at, period))
        .group_by(by)
    )


def rows_statement(period: Period) -> Any:
    return (
        select(Ticket.id, Ticket.specialty, Ticket.created_at, Ticket.claimed_at, Ticket.first_answer_at, Ticket.closed_at, Ticket.rating, Ticket.assignee_id)
        .where(in_period(Ticket.created_at, period))
        .order_by(Ticket.id)
    )


def specialists_statement(period: Period) -> Any:
    """The names families see on their answers, of the specialists of the period's questions."""
    assigned = select(Ticket.assignee_id).where(in_period(Ticket.created_at, period), Ticket.assignee_id.is_not(None)).distinct()
    return select(Person.id, Person.display_name).where(Person.id.in_(assigned.scalar_subquery()))


async def _consultations(session: AsyncSession, period: Period, counted: dict[tuple[str, str | None], tuple[int, float]]) -> ConsultationFigures:
    fetched = (await session.execute(rows_statement(period))).all()
    rows = tuple(
        ConsultationRow(number, specialty, as_utc(asked), _utc(claimed), _utc(answered), _utc(closed), rating)
        for number, specialty, asked, claimed, answered, closed, rating, _assignee in fetched
    )
    waits_of: dict[tuple[str, Any], list[float]] = defaultdict(list)  # ("specialty", id) / ("specialist", id) / ("all", "")
    for row, (*_rest, assignee) in zip(rows, fetched, strict=True):
        wait = row.to_answer_s
        if wait is not None:
            for key in (("all", ""), ("specialty", row.specialty), ("specialist", assignee)):
                waits_of[key].append(wait)
    missed = {object_id: count for (kind, object_id), (count, _total) in counted.items() if kind == EventKind.question_target_missed}
    by_specialty = await _groups(session, period, Ticket.specialty, "specialty", waits_of, missed)
    labels = {person_id: name or "" for person_id, name in await session.execute(specialists_statement(period))}
    by_specialist = await _groups(session, period, Ticket.assignee_id, "specialist", waits_of, {}, labels)
    total_asked = sum(group.asked for group in by_specialty)
    ratings = [row.rating for row in rows if row.rating is not None]
    everyone = waits_of[("all", "")]
    total = ConsultationGroup(
        "",
        asked=total_asked,
        answered=sum(group.answered for group in by_specialty),
        median_s=statistics.median(everyone) if everyone else None,
        p90_s=percentile(everyone, 0.9),
        missed=sum(missed.values()),
        ratings=len(ratings),
        rating=sum(ratings) / len(ratings) if ratings else None,
    )
    return ConsultationFigures(total, by_specialty, tuple(group for group in by_specialist if group.key), rows)


async def _groups(
    session: AsyncSession,
    period: Period,
    by: Any,
    kind: str,
    waits_of: dict[tuple[str, Any], list[float]],
    missed: dict[str | None, int],
    labels: dict[int, str] | None = None,
) -> tuple[ConsultationGroup, ...]:
    groups = []
    for key, asked, answered, ratings, rating_sum in await session.execute(tickets_statement(period, by)):
        if kind == "specialist":
            if key is None:
                continue
            label = (labels or {}).get(key) or f"#{key}"
        else:
            label = key
        waits = waits_of.get((kind, key), [])
        groups.append(
            ConsultationGroup(
                label,
                asked=asked,
                answered=answered,
                median_s=statistics.median(waits) if waits else None,
                p90_s=percentile(waits, 0.9),
                missed=missed.get(key, 0) if kind == "specialty" else 0,
                ratings=ratings,
                rating=float(rating_sum) / ratings if ratings else None,
            )
        )
    # a specialty whose only figure is a missed target (its questions asked before the period)
    if kind == "specialty":
        seen = {group.key for group in groups}
        groups.extend(ConsultationGroup(str(key), missed=count) for key, count in missed.items() if key and key not in seen)
    return tuple(sorted(groups, key=lambda group: (-group.asked, group.key)))


def broadcasts_statement(period: Period) -> Any:
    outcome = OutboxMessage.status
    return (
        select(
            func.count(func.distinct(Campaign.id)),
            func.sum(case((outcome == OutboxStatus.sent, 1), else_=0)),
            func.sum(case((outcome == OutboxStatus.unreachable, 1), else_=0)),
            func.sum(case((outcome == OutboxStatus.failed, 1), else_=0)),
        )
        .select_from(Campaign)
        .outerjoin(OutboxMessage, OutboxMessage.campaign_id == Campaign.id)
        .where(Campaign.kind == CampaignKind.broadcast, in_period(Campaign.started_at, period))
    )


async def _broadcasts(session: AsyncSession, period: Period) -> BroadcastFigures:
    count, sent, unreachable, failed = (await session.execute(broadcasts_statement(period))).one()
    return BroadcastFigures(count or 0, int(sent or 0), int(unreachable or 0), int(failed or 0))


def members_statement(period: Period) -> Any:
    change = case((Event.kind == EventKind.chat_joined, 1), else_=-1)
    return (
        select(Event.object_id, func.sum(change))
        .where(Event.kind.in_((EventKind.chat_joined.value, EventKind.chat_left.value)), Event.at < period.until)
        .group_by(Event.object_id)
    )


def activity_statement(period: Period) -> Any:
    return (
        select(
            ChatActivity.chat,
            func.sum(ChatActivity.joins),
            func.sum(ChatActivity.leaves),
            func.sum(ChatActivity.messages),
            func.sum(ChatActivity.reactions),
            func.sum(case((ChatActivity.messages > 0, 1), else_=0)),
        )
        .where(ChatActivity.day >= period.first_day, ChatActivity.day < period.end_day)
        .group_by(ChatActivity.chat)
    )


async def _chats(session: AsyncSession, period: Period) -> tuple[ChatFigures, ...]:
    members = {chat: int(count or 0) for chat, count in await session.execute(members_statement(period)) if chat}
    activity = {chat: tuple(int(value or 0) for value in values) for chat, *values in await session.execute(activity_statement(period))}
    chats = []
    for chat in sorted(set(members) | set(activity)):
        joins, leaves, messages, reactions, active = activity.get(chat, (0, 0, 0, 0, 0))
        chats.append(ChatFigures(chat, max(members.get(chat, 0), 0), joins, leaves, messages, reactions, active))
    return tuple(chats)


def reach_statement(period: Period, rural: Sequence[str]) -> Any:
    rural_family = case((Event.district.in_(rural), Event.pseudonym)) if rural else literal(None)
    return select(func.count(func.distinct(Event.pseudonym)), func.count(func.distinct(rural_family))).where(
        Event.kind.in_(REACH_KIND_NAMES), in_period(Event.at, period), Event.pseudonym.is_not(None)
    )


async def _reach(session: AsyncSession, period: Period, rural: Sequence[str], counted: dict[tuple[str, str | None], tuple[int, float]]) -> ReachFigures:
    families, rural_families = (await session.execute(reach_statement(period, rural))).one()
    registered = counted.get((EventKind.registered.value, "parent"), (0, 0.0))[0]
    return ReachFigures(int(families or 0), int(rural_families or 0), registered)


def _utc(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None


def all_statements(period: Period, rural: Sequence[str]) -> list[Any]:
    """Every statement the report runs, for the bench's bare run."""
    return [
        counted_statement(period),
        results_statement(period, rural),
        rows_statement(period),
        tickets_statement(period, Ticket.specialty),
        specialists_statement(period),
        tickets_statement(period, Ticket.assignee_id),
        broadcasts_statement(period),
        members_statement(period),
        activity_statement(period),
        reach_statement(period, rural),
    ]

