"""The consultations' section: the questions asked in the period (tickets created in it) and what
became of them, in all, by specialty and by specialist (the name families see on the answers), with
the median and the 90th percentile of the time to the first answer; targets missed are the period's
question_target_missed events. And the anonymised rows: one per question, no person, no text."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Person, Ticket, as_utc
from bot.services.events import EventKind
from bot.services.reports.counted import Counted
from bot.services.reports.period import Period, in_period


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


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest rank: the smallest value that `share` of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


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


async def consultation_figures(session: AsyncSession, period: Period, counted: Counted) -> ConsultationFigures:
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


def _utc(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None
