"""The reach's section: distinct families (pseudonyms) with a family's event in the period, how many
of them live in a rural district (Content.rural_districts; "other" or none is not rural), and the
parents who registered in the period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Event
from bot.services.events import EventKind
from bot.services.reports.counted import COURSE_KINDS, Counted
from bot.services.reports.period import Period, in_period

# What a family does (or is sent): a pseudonym with one of these in the period is a family reached.
# Staff's own events (roles, office hours) and registrations (staff register too) are left out.
REACH_KINDS: tuple[EventKind, ...] = (
    EventKind.question_asked, EventKind.faq_helped, EventKind.question_rated, *COURSE_KINDS, EventKind.chat_joined, EventKind.survey_answered
)
REACH_KIND_NAMES: tuple[str, ...] = tuple(kind.value for kind in REACH_KINDS)


@dataclass(frozen=True)
class ReachFigures:
    families: int = 0
    rural: int = 0
    registered: int = 0  # parents who registered in the period

    @property
    def rural_share(self) -> float | None:
        return 100.0 * self.rural / self.families if self.families else None


def reach_statement(period: Period, rural: Sequence[str]) -> Any:
    rural_family = case((Event.district.in_(rural), Event.pseudonym)) if rural else literal(None)
    return select(func.count(func.distinct(Event.pseudonym)), func.count(func.distinct(rural_family))).where(
        Event.kind.in_(REACH_KIND_NAMES), in_period(Event.at, period), Event.pseudonym.is_not(None)
    )


async def reach_figures(session: AsyncSession, period: Period, rural: Sequence[str], counted: Counted) -> ReachFigures:
    families, rural_families = (await session.execute(reach_statement(period, rural))).one()
    registered = counted.get((EventKind.registered.value, "parent"), (0, 0.0))[0]
    return ReachFigures(int(families or 0), int(rural_families or 0), registered)
