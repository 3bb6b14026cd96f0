"""The results' section: per wave of the results survey, the share of answers with value 1 to each
question that has a target (rural families only when the question is among "rural"), over every
answer given before the period's end: the programme's state then, and its trend across the waves."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.db.models import Event
from bot.services.events import EventKind
from bot.services.reports.period import Period

RESULTS_SURVEY = "results"
RESULT_WAVES = ("0", "6", "12")
RURAL = "rural"


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


def results_statement(period: Period, rural: Sequence[str]) -> Any:
    """The results survey's answers before the period's end, by question and wave and whether the family is rural."""
    is_rural = case((Event.district.in_(rural), 1), else_=0) if rural else literal(0)
    yes = func.sum(case((Event.value == 1, 1), else_=0))
    return (
        select(Event.object_id, is_rural.label("rural"), func.count(), yes)
        .where(Event.kind == EventKind.survey_answered, Event.object_type == "survey", Event.object_id.like(f"{RESULTS_SURVEY}:%"), Event.at < period.until)
        .group_by(Event.object_id, is_rural)
    )


async def result_figures(session: AsyncSession, content: Content, period: Period, rural: Sequence[str]) -> tuple[Result, ...]:
    survey = content.survey(RESULTS_SURVEY)
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
