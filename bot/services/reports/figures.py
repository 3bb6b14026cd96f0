"""A report's figures: a dataclass per section, each filled by one or two set-based SQL aggregates
over the event store (bot.services.events), the tickets, the outbox and the chats' daily counts.
Nothing loops over events in Python: the largest Python work is the period's tickets (one row per
consultation, which the anonymised sheet needs anyway, and the percentiles of their waits).

A module per section says what each of its figures counts (the README's "Reports" section says the
same for readers): results.py, courses.py, consultations.py, broadcasts.py, chats.py, reach.py; the
events that three of them read are counted once, by counted.py. This module puts them together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.db.models import Ticket
from bot.services.reports.broadcasts import BroadcastFigures, broadcast_figures, broadcasts_statement
from bot.services.reports.chats import ChatFigures, activity_statement, chat_figures, members_statement
from bot.services.reports.consultations import (
    ConsultationFigures,
    consultation_figures,
    rows_statement,
    specialists_statement,
    tickets_statement,
)
from bot.services.reports.counted import counted_events, counted_statement
from bot.services.reports.courses import CourseFigures, course_figures
from bot.services.reports.period import Period
from bot.services.reports.reach import ReachFigures, reach_figures, reach_statement
from bot.services.reports.results import Result, result_figures, results_statement
from bot.services.wall_posts import WallFigures


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


async def compute(session: AsyncSession, content: Content, period: Period) -> Report:
    """Every figure of the report but the wall's (read over the network: see build.make_report)."""
    rural = sorted(content.rural_districts)
    counted = await counted_events(session, period)
    return Report(
        period=period,
        results=await result_figures(session, content, period, rural),
        courses=course_figures(counted),
        consultations=await consultation_figures(session, period, counted),
        broadcasts=await broadcast_figures(session, period),
        chats=await chat_figures(session, period),
        reach=await reach_figures(session, period, rural, counted),
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


def all_statements(period: Period, rural: Sequence[str]) -> list[Any]:
    """Every statement compute() runs, in its order, for the bench's bare run."""
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
