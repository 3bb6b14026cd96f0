"""A month of synthetic report data for the reports' tests: events, tickets, broadcasts and chat
days from mid-September to mid-November 2026 (some on October's very edges, in Europe/Moscow), what
was written kept in Python so a test can count it directly; the results survey with its targets."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import insert

from bot.db.engine import create_engine
from bot.db.models import Campaign, ChatActivity, Event, OutboxMessage, Person, Role, Ticket
from bot.services.events import EventKind
from bot.services.reports.figures import Report, compute
from bot.services.reports.period import Period
from tests.helpers import CONTENT

ZONE = "Europe/Moscow"
OCTOBER = Period(2026, 10, ZONE)
RURAL = sorted(CONTENT.rural_districts)
CITY = next(district.id for district in CONTENT.districts if not district.rural)
SPECIALTIES = [specialty.id for specialty in CONTENT.specialties[:3]]
COURSES = [course.id for course in CONTENT.courses] or ["home"]
CHATS = [chat.id for chat in CONTENT.chats][:2] or ["speech", "autism"]

# the results survey as the surveys' content gives it (bot/survey_content.py): questions with targets
RESULTS = SimpleNamespace(
    id="results",
    waves=("0", "6", "12"),
    questions=(
        SimpleNamespace(id="informed", texts={"en": "I know where to get help", "ru": "Я знаю, где получить помощь", "ro": "Știu unde primesc ajutor"},
                        target=80, among="all"),
        SimpleNamespace(id="skills", texts={"en": "I use the exercises at home", "ru": "Я делаю упражнения дома", "ro": "Fac exercițiile acasă"},
                        target=60, among="all"),
        SimpleNamespace(id="distance", texts={"en": "Help reaches us at home", "ru": "Помощь доходит до нас", "ro": "Ajutorul ajunge la noi"},
                        target=65, among="rural"),
        SimpleNamespace(id="together", texts={"en": "We are not alone", "ru": "Мы не одни", "ro": "Nu suntem singuri"}, target=70, among="all"),
        SimpleNamespace(id="comment", texts={"en": "Anything else?", "ru": "Что ещё?", "ro": "Altceva?"}, target=None, among="all"),
    ),
)


class ContentWithResults:
    """The project's content and the results survey (whatever the surveys' content ships)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(CONTENT, name)

    def survey(self, survey_id: str | None) -> Any:
        if survey_id != "results":
            return None
        return RESULTS


REPORT_CONTENT = ContentWithResults()


@dataclass
class Month:
    """What was written, to count directly."""

    events: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    days: list[dict[str, Any]] = field(default_factory=list)
    specialists: dict[int, str] = field(default_factory=dict)


def inside(moment: datetime, period: Period = OCTOBER) -> bool:
    return period.since <= moment < period.until


def a_month(seed: int = 7) -> Month:
    """Events from mid-September to mid-November, with some on the month's very edges."""
    rng = random.Random(seed)
    month = Month()
    start = datetime(2026, 9, 15, tzinfo=UTC)
    span = (datetime(2026, 11, 15, tzinfo=UTC) - start).total_seconds()
    edges = [OCTOBER.since, OCTOBER.until, OCTOBER.since - timedelta(seconds=1), OCTOBER.until - timedelta(seconds=1)]
    families = [f"{index:032x}" for index in range(60)]
    homes = {pseudonym: rng.choice([*RURAL[:3], CITY, "other", None]) for pseudonym in families}

    def moment() -> datetime:
        return rng.choice(edges) if rng.random() < 0.05 else start + timedelta(seconds=rng.uniform(0, span))

    def event(kind: str, object_type: str | None, object_id: str | None, value: float | None, pseudonym: str | None = None) -> None:
        who = pseudonym or rng.choice(families)
        month.events.append({
            "kind": kind, "at": moment(), "pseudonym": who, "district": homes[who], "platform": rng.choice(["telegram", "vk"]),
            "object_type": object_type, "object_id": object_id, "value": value,
        })

    for _ in range(1500):
        course, lesson = rng.choice(COURSES), rng.randint(1, 6)
        kind = rng.choice([
            EventKind.lesson_sent, EventKind.lesson_opened, EventKind.lesson_liked, EventKind.lesson_disliked,
            EventKind.lesson_commented, EventKind.lesson_done, EventKind.course_enrolled, EventKind.course_rated, EventKind.lesson_reminded,
        ])
        if kind in (EventKind.course_enrolled, EventKind.course_rated):
            event(kind, "course", course, rng.randint(1, 5) if kind == EventKind.course_rated else None)
        elif kind in (EventKind.lesson_liked, EventKind.lesson_disliked):
            event(kind, "lesson", f"{course}:{lesson}", rng.choice([1, 1, 1, 0, -1]))
        elif kind in (EventKind.lesson_opened, EventKind.lesson_done):
            event(kind, "lesson", f"{course}:{lesson}", rng.choice([1, 0]))
        else:
            event(kind, "lesson", f"{course}:{lesson}", lesson)
    for _ in range(300):
        kind = rng.choice([EventKind.chat_joined, EventKind.chat_joined, EventKind.chat_left])
        event(kind, "chat", rng.choice(CHATS), None)
    for _ in range(200):
        kind = rng.choice([EventKind.question_asked, EventKind.faq_helped, EventKind.question_target_missed, EventKind.question_rated])
        event(kind, "specialty", rng.choice(SPECIALTIES), rng.randint(1, 5) if kind == EventKind.question_rated else None)
    for _ in range(100):  # staff and registrations
        kind = rng.choice([EventKind.registered, EventKind.role_granted, EventKind.office_hour_scheduled])
        event(kind, "role", rng.choice(["parent", "parent", "specialist"]), None, pseudonym=rng.choice(families))
    for _ in range(800):  # the results survey's answers, and another survey's
        question = rng.choice(RESULTS.questions)
        survey = "results" if rng.random() < 0.9 else "quality"
        event("survey_answered", "survey", f"{survey}:{rng.choice(['0', '6', '12'])}:{question.id}", rng.choice([1, 1, 0, 2]))

    specialist_ids = [101, 102, 103]
    month.specialists = {101: "Anna Petrova", 102: "", 103: "Irina S."}
    for number in range(1, 61):
        created = moment()
        claimed = created + timedelta(minutes=rng.randint(1, 600)) if rng.random() < 0.8 else None
        answered = claimed + timedelta(minutes=rng.randint(0, 300)) if claimed and rng.random() < 0.85 else None
        closed = answered + timedelta(hours=rng.randint(1, 48)) if answered and rng.random() < 0.7 else None
        month.tickets.append({
            "id": number, "person_id": 100, "specialty": rng.choice(SPECIALTIES), "status": "closed" if closed else ("claimed" if claimed else "waiting"),
            "alias": f"K-{number}", "parent_name": "Olga", "assignee_id": rng.choice(specialist_ids) if claimed else None,
            "created_at": created, "queued_at": created, "claimed_at": claimed, "first_answer_at": answered, "closed_at": closed,
            "rating": rng.randint(1, 5) if closed and rng.random() < 0.7 else None, "rating_comment": "thanks" if closed else None,
        })

    row_id = 0
    for campaign_id, (kind, started) in enumerate(
        [("broadcast", OCTOBER.since + timedelta(days=2)), ("broadcast", OCTOBER.until - timedelta(hours=1)), ("broadcast", OCTOBER.since - timedelta(days=3)),
         ("lesson", OCTOBER.since + timedelta(days=5)), ("broadcast", None)],
        start=1,
    ):
        month.campaigns.append({"id": campaign_id, "kind": kind, "status": "done" if started else "draft", "text": "—", "started_at": started})
        for _ in range(rng.randint(5, 40) if started else 0):
            row_id += 1
            month.outbox.append({
                "id": row_id, "campaign_id": campaign_id, "platform": "telegram", "chat_id": 9000 + row_id,
                "status": rng.choice(["sent", "sent", "sent", "unreachable", "failed", "pending"]),
            })

    day = date(2026, 9, 25)
    while day < date(2026, 11, 6):
        for chat in CHATS:
            if rng.random() < 0.8:
                month.days.append({
                    "chat": chat, "day": day, "messages": rng.choice([0, 0, rng.randint(1, 50)]), "joins": rng.randint(0, 3),
                    "leaves": rng.randint(0, 2), "reactions": rng.randint(0, 20),
                })
        day += timedelta(days=1)
    return month


async def write(sessionmaker, month: Month) -> None:
    async with sessionmaker() as session:
        session.add(Person(id=100, language="ru"))
        for person_id, name in month.specialists.items():
            session.add(Person(id=person_id, language="ru", display_name=name or None, roles=[Role(role="specialist", specialty=SPECIALTIES[0])]))
        await session.flush()
        await session.execute(insert(Event), month.events)
        await session.execute(insert(Ticket), month.tickets)
        await session.execute(insert(Campaign), month.campaigns)
        if month.outbox:
            await session.execute(insert(OutboxMessage), month.outbox)
        await session.execute(insert(ChatActivity), month.days)
        await session.commit()


@pytest.fixture(name="sessionmaker")
async def report_sessionmaker(database_url):
    """A sessionmaker over the test's database (import this to use `sessionmaker` in a test)."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    engine = create_engine(database_url)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def october_report(sessionmaker, month: Month) -> Report:
    await write(sessionmaker, month)
    async with sessionmaker() as session:
        return await compute(session, REPORT_CONTENT, OCTOBER)

