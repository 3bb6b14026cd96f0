"""Reports for heads and coordinators: a month of synthetic events, tickets, broadcasts and chat
days (and some just outside the month) make a report whose every figure is checked against a
direct count of the same rows in Python; the workbook opens with openpyxl with its sheets and
headers in the reader's language; the charts are real PNGs with something drawn; /report sends
the files on both messengers; the monthly report goes to the heads by itself, once, even with two
ticks; `python -m bot report` writes the files."""

from __future__ import annotations

import asyncio
import io
import os
import random
import statistics
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from bot.db.engine import create_engine
from bot.db.models import Account, Campaign, ChatActivity, Event, OutboxMessage, Person, Role, Ticket
from bot.services.events import EventKind
from bot.services.reports.build import report_files
from bot.services.reports.figures import REACH_KIND_NAMES, Report, compute, percentile
from bot.services.reports.period import BadPeriod, Period
from bot.services.reports.text import period_name, summary
from handlers.reports import ReportPick, ReportStep
from scheduler.reports import due_reports, send_reports
from tests.conftest import RunningBot, make_settings
from tests.helpers import CONTENT, TEXTS, step
from tests.test_office_hours import plain

pytestmark = pytest.mark.both_databases

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


@pytest.fixture
async def sessionmaker(database_url):
    from sqlalchemy.ext.asyncio import async_sessionmaker

    engine = create_engine(database_url)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def october_report(sessionmaker, month: Month) -> Report:
    await write(sessionmaker, month)
    async with sessionmaker() as session:
        return await compute(session, REPORT_CONTENT, OCTOBER)


# every figure against a direct count


async def test_every_figure_matches_a_direct_count_of_the_month(sessionmaker):
    month = a_month()
    report = await october_report(sessionmaker, month)
    events = [event for event in month.events if inside(event["at"])]

    # courses, per course
    expected_courses: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for event in events:
        if event["object_type"] not in ("lesson", "course") or event["kind"] == EventKind.lesson_reminded:
            continue
        figures = expected_courses[event["object_id"].split(":")[0]]
        kind, value = event["kind"], event["value"]
        if kind == EventKind.lesson_sent:
            figures["delivered"] += 1
        elif kind == EventKind.lesson_opened:
            figures["opens"] += 1
            figures["viewed"] += value
        elif kind == EventKind.lesson_liked:
            figures["likes"] += value
        elif kind == EventKind.lesson_disliked:
            figures["dislikes"] += value
        elif kind == EventKind.lesson_commented:
            figures["comments"] += 1
        elif kind == EventKind.lesson_done:
            figures["done"] += value
        elif kind == EventKind.course_enrolled:
            figures["enrolled"] += 1
        elif kind == EventKind.course_rated:
            figures["ratings"] += 1
            figures["rating_sum"] += value
    assert {course.course for course in report.courses} == set(expected_courses)
    for course in report.courses:
        expected = expected_courses[course.course]
        for name in ("delivered", "opens", "viewed", "likes", "dislikes", "comments", "done", "enrolled", "ratings"):
            assert getattr(course, name) == expected[name], (course.course, name)
        assert course.rating == (pytest.approx(expected["rating_sum"] / expected["ratings"]) if expected["ratings"] else None)
        assert course.completion == (pytest.approx(100 * expected["done"] / expected["delivered"]) if expected["delivered"] else None)

    # consultations: the tickets asked in the month
    tickets = [ticket for ticket in month.tickets if inside(ticket["created_at"])]
    waits = [(ticket["first_answer_at"] - ticket["created_at"]).total_seconds() for ticket in tickets if ticket["first_answer_at"]]
    total = report.consultations.total
    assert total.asked == len(tickets) > 10
    assert total.answered == len(waits)
    assert total.median_s == pytest.approx(statistics.median(waits))
    assert total.p90_s == pytest.approx(sorted(waits)[-(-9 * len(waits) // 10) - 1])
    missed = [event for event in events if event["kind"] == EventKind.question_target_missed]
    assert total.missed == len(missed)
    ratings = [ticket["rating"] for ticket in tickets if ticket["rating"] is not None]
    assert total.ratings == len(ratings) and total.rating == pytest.approx(sum(ratings) / len(ratings))
    for group in report.consultations.by_specialty:
        mine = [ticket for ticket in tickets if ticket["specialty"] == group.key]
        mine_waits = [(ticket["first_answer_at"] - ticket["created_at"]).total_seconds() for ticket in mine if ticket["first_answer_at"]]
        assert (group.asked, group.answered) == (len(mine), len(mine_waits))
        assert group.median_s == (pytest.approx(statistics.median(mine_waits)) if mine_waits else None)
        assert group.missed == sum(1 for event in missed if event["object_id"] == group.key)
    assert sum(group.missed for group in report.consultations.by_specialty) == total.missed
    by_specialist = {group.key: group for group in report.consultations.by_specialist}
    for person_id, name in month.specialists.items():
        mine = [ticket for ticket in tickets if ticket["assignee_id"] == person_id]
        label = name or f"#{person_id}"
        assert by_specialist[label].asked == len(mine)
        assert by_specialist[label].answered == sum(1 for ticket in mine if ticket["first_answer_at"])
    assert [row.number for row in report.consultations.rows] == sorted(ticket["id"] for ticket in tickets)

    # broadcasts: started in the month, lessons' campaigns aside
    started = {campaign["id"] for campaign in month.campaigns if campaign["kind"] == "broadcast" and campaign["started_at"] and inside(campaign["started_at"])}
    rows = [row for row in month.outbox if row["campaign_id"] in started]
    assert report.broadcasts.broadcasts == len(started) == 2
    assert report.broadcasts.sent == sum(1 for row in rows if row["status"] == "sent")
    assert report.broadcasts.unreachable == sum(1 for row in rows if row["status"] == "unreachable")
    assert report.broadcasts.failed == sum(1 for row in rows if row["status"] == "failed")

    # chats: members at the month's end, the month's days
    for chat in report.chats:
        changes = [event for event in month.events if event["object_type"] == "chat" and event["object_id"] == chat.chat and event["at"] < OCTOBER.until]
        joined = sum(1 if event["kind"] == EventKind.chat_joined else -1 for event in changes)
        assert chat.members == max(joined, 0)
        days = [row for row in month.days if row["chat"] == chat.chat and date(2026, 10, 1) <= row["day"] < date(2026, 11, 1)]
        sums = tuple(sum(row[name] for row in days) for name in ("joins", "leaves", "messages", "reactions"))
        assert (chat.joins, chat.leaves, chat.messages, chat.reactions) == sums
        assert chat.active_days == sum(1 for row in days if row["messages"] > 0)
    assert {chat.chat for chat in report.chats} == set(CHATS)

    # reach: families with a family's event in the month, and the rural among them
    reached = {event["pseudonym"]: event["district"] for event in events if event["kind"] in REACH_KIND_NAMES}
    assert report.reach.families == len(reached) > 20
    assert report.reach.rural == len({pseudonym for pseudonym, district in reached.items() if district in RURAL})
    assert report.reach.registered == sum(1 for event in events if event["kind"] == EventKind.registered and event["object_id"] == "parent")

    # results: every answer before the month's end, rural families alone where the question says so
    answers = [
        event for event in month.events if event["kind"] == "survey_answered" and event["at"] < OCTOBER.until and event["object_id"].startswith("results:")
    ]
    assert [result.question for result in report.results] == ["informed", "skills", "distance", "together"]
    for result in report.results:
        for wave in result.waves:
            mine = [event for event in answers if event["object_id"] == f"results:{wave.wave}:{result.question}"]
            if result.among == "rural":
                mine = [event for event in mine if event["district"] in RURAL]
            assert (wave.answers, wave.yes) == (len(mine), sum(1 for event in mine if event["value"] == 1)), (result.question, wave.wave)
            assert wave.answers > 0


async def test_a_month_without_anything_has_a_report_of_zeros(sessionmaker):
    async with sessionmaker() as session:
        report = await compute(session, CONTENT, OCTOBER)
    assert report.courses == () and report.chats == ()
    results = CONTENT.survey("results")
    assert [result.question for result in report.results] == [question.id for question in results.questions if question.target is not None]
    assert all(wave.answers == 0 and wave.percent is None for result in report.results for wave in result.waves)
    assert report.consultations.total.asked == 0 and report.consultations.total.median_s is None
    assert report.reach.families == 0 and report.reach.rural_share is None
    assert "0" in summary(report, TEXTS["en"])


def test_periods_are_the_centres_calendar_months_and_years():
    assert (OCTOBER.since, OCTOBER.until) == (datetime(2026, 9, 30, 21, tzinfo=UTC), datetime(2026, 10, 31, 21, tzinfo=UTC))
    assert Period.parse("2026", "UTC").since == datetime(2026, 1, 1, tzinfo=UTC) and Period.parse("2026", "UTC").until == datetime(2027, 1, 1, tzinfo=UTC)
    assert Period.month_of(datetime(2026, 1, 10, tzinfo=UTC), "UTC", back=1).key == "2025-12"
    assert Period.parse("2026-12", ZONE).end_day == date(2027, 1, 1)
    for wrong in ("2026-13", "26-10", "October", "2026-1"):
        with pytest.raises(BadPeriod):
            Period.parse(wrong, "UTC")
    assert percentile([5, 1, 3, 2, 4], 0.9) == 5 and percentile([], 0.5) is None


# the files


async def test_the_workbook_has_its_sheets_and_headers_in_the_readers_language(sessionmaker):
    from openpyxl import load_workbook

    report = await october_report(sessionmaker, a_month())
    for language in ("ru", "en"):
        texts = TEXTS[language]
        files = report_files(report, texts, charts=False)
        assert [file.name for file in files] == [f"vmeste-report-2026-10-{language}.xlsx"]
        book = load_workbook(io.BytesIO(files[0].data))
        assert book.sheetnames == [texts(key) for key in (
            "report.sheet_summary", "report.sheet_results", "report.sheet_courses", "report.sheet_consultations", "report.sheet_specialists",
            "report.sheet_questions", "report.sheet_broadcasts", "report.sheet_chats",
        )]
        header = [cell.value for cell in book[texts("report.sheet_questions")][1]]
        assert header == [texts(f"report.col_{name}") for name in (
            "number", "specialty", "asked_at", "claimed_at", "answered_at", "closed_at", "to_claim", "to_answer", "to_close", "rating")]
        questions = list(book[texts("report.sheet_questions")].iter_rows(min_row=2, values_only=True))
        assert len(questions) == report.consultations.total.asked
        assert all(isinstance(row[0], int) for row in questions)
        text = "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row)
        assert "Olga" not in text and "thanks" not in text and "K-1" not in text  # no names, no text, no alias
        assert texts("report.col_likes") in [cell.value for cell in book[texts("report.sheet_courses")][1]]
        results = book[texts("report.sheet_results")]
        assert results["A2"].value == RESULTS.questions[0].texts[language] and results["C2"].value == 80
        summary_sheet = book[texts("report.sheet_summary")]
        assert summary_sheet["A1"].value == texts("report.col_figure") and summary_sheet["B3"].value == report.reach.families


async def test_the_charts_are_pngs_with_something_drawn(sessionmaker):
    from PIL import Image

    report = await october_report(sessionmaker, a_month())
    files = report_files(report, TEXTS["ru"])
    charts = [file for file in files if file.is_chart]
    assert [file.name for file in charts][:4] == [f"vmeste-report-2026-10-result-{name}-ru.png" for name in ("informed", "skills", "distance", "together")]
    assert {"courses", "consultations", "chats", "reach"} <= {file.name.split("-")[4] for file in charts}
    for file in charts:
        image = Image.open(io.BytesIO(file.data))
        assert image.format == "PNG"
        width, height = image.size
        assert 800 <= width <= 2000 and 400 <= height <= 1400, (file.name, image.size)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 20, file.name  # text, bars and lines, not a blank
        assert 20_000 < len(file.data) < 1_000_000


# /report on both messengers, the heads' monthly report, the CLI

HEAD, COORDINATOR, PARENT = 7801, 7802, 7803


def file_names(emulator, user) -> list[str]:
    """The names of the files the bot sent the user, in order."""
    if emulator.platform == "telegram":
        return [message.raw["document"]["file_name"] for message in user.bot_messages if "document" in message.raw]
    return [attachment["doc"]["title"] for message in user.bot_messages for attachment in message.attachments if attachment["type"] == "doc"]


async def add_people(running, platform: str) -> None:
    async with running.sessionmaker() as session:
        session.add(Person(language="ru", roles=[Role(role="head")], accounts=[Account(platform=platform, external_id=HEAD)]))
        session.add(Person(language="en", roles=[Role(role="coordinator")], accounts=[Account(platform=platform, external_id=COORDINATOR)]))
        session.add(Person(language="en", roles=[Role(role="parent")], accounts=[Account(platform=platform, external_id=PARENT)]))
        await session.commit()


async def test_report_sends_the_workbook_the_charts_and_the_summary(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url)) as running:
        await add_people(running, emulator.platform)
        await write(running.sessionmaker, a_month())
        coordinator, parent = emulator.user(COORDINATOR, language_code="en"), emulator.user(PARENT, language_code="en")
        texts = TEXTS["en"]
        await step(emulator, lambda: coordinator.send("/broadcasts"))
        await step(emulator, lambda: coordinator.click(texts("report.menu")))
        assert coordinator.last.text == plain(texts("report.choose"))
        await step(emulator, lambda: coordinator.click(texts("report.other_month")))
        now = running.clock.now()
        months_back = (now.year - 2026) * 12 + now.month - 10
        assert coordinator.last.text == texts("report.pick_month")
        if 0 <= months_back < 6:  # October 2026 is on the first page while it is recent: else a month of nothing
            label = period_name(OCTOBER, "en")
        else:
            label = period_name(Period.month_of(now, "UTC", back=1), "en")
        coordinator.click(label)
        await emulator.settle(timeout=60)  # the charts take seconds to draw (matplotlib's import first), more on a busy machine
        names = file_names(emulator, coordinator)
        assert names[0].endswith("-en.xlsx") and len(names) >= 2 and all(name.endswith("-en.png") for name in names[1:])
        assert texts("report.summary_title", period=label) in coordinator.last.text
        # a parent may not: neither the command nor a forged press
        await step(emulator, lambda: parent.send("/report"))
        assert file_names(emulator, parent) == [] and texts("report.choose") not in (parent.last.text or "")
        forged = ReportPick(step=ReportStep.make, period="2026-10").pack()
        await step(emulator, lambda: emulator.press(parent, forged))
        assert file_names(emulator, parent) == []
        # a forged period is refused, not parsed
        before = len(coordinator.bot_messages)
        await step(emulator, lambda: emulator.press(coordinator, ReportPick(step=ReportStep.make, period="2026-13").pack()))
        assert len(coordinator.bot_messages) == before
    assert emulator.rejected == []


async def test_the_monthly_report_goes_to_the_heads_once_even_with_two_ticks(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url, DEFAULT_TIMEZONE=ZONE)) as running:
        await add_people(running, emulator.platform)
        head, coordinator = emulator.user(HEAD, language_code="ru"), emulator.user(COORDINATOR, language_code="en")
        bots, content, settings = running.bots.by_platform(), running.app.content, running.settings
        local = running.clock.now().astimezone(ZoneInfo(ZONE))
        first = (local.replace(day=1) + timedelta(days=32)).replace(day=1, hour=8, minute=59, second=0, microsecond=0)
        running.clock.advance(first - local)
        assert await send_reports(running.sessionmaker, bots, content, settings, running.clock) == []  # not yet: 08:59
        running.clock.advance(timedelta(minutes=2))
        ticks = await asyncio.gather(*(send_reports(running.sessionmaker, bots, content, settings, running.clock) for _ in range(2)))
        await emulator.settle(timeout=30)
        period = Period.month_of(running.clock.now(), ZONE, back=1)
        assert sorted(len(sent) for sent in ticks) == [0, 1] and ticks[0] + ticks[1] == [f"report:monthly:{period.key}"]
        names = file_names(emulator, head)
        assert names[0] == f"vmeste-report-{period.key}-ru.xlsx" and names.count(names[0]) == 1
        ru = TEXTS["ru"]
        assert any(message.caption == ru("report.monthly_caption", period=period_name(period, "ru")) for message in head.bot_messages)
        assert ru("report.summary_title", period=period_name(period, "ru")) in head.last.text
        assert file_names(emulator, coordinator) == []  # the heads alone get it by itself
        running.clock.advance(timedelta(hours=1))
        assert await send_reports(running.sessionmaker, bots, content, settings, running.clock) == []  # sent already
    assert emulator.rejected == []


def test_reports_fall_due_on_the_first_and_on_the_tenth_of_january():
    moscow = ZoneInfo(ZONE)
    assert due_reports(datetime(2026, 11, 1, 9, 0, tzinfo=moscow), ZONE) == [("monthly", OCTOBER)]
    assert due_reports(datetime(2026, 11, 1, 8, 59, tzinfo=moscow), ZONE) == []
    assert due_reports(datetime(2026, 11, 3, 23, 0, tzinfo=moscow), ZONE) == [("monthly", OCTOBER)]  # the bot was down on the day
    assert due_reports(datetime(2026, 11, 5, 9, 0, tzinfo=moscow), ZONE) == []
    assert due_reports(datetime(2027, 1, 10, 9, 30, tzinfo=moscow), ZONE) == [("annual", Period(2026, None, ZONE))]
    assert due_reports(datetime(2027, 1, 1, 9, 30, tzinfo=moscow), ZONE) == [("monthly", Period(2026, 12, ZONE))]


@pytest.mark.starts_processes
def test_the_cli_writes_the_workbook_and_the_charts(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'vmeste.db'}"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "DATABASE_URL": url, "DEFAULT_TIMEZONE": ZONE}
    out = tmp_path / "out" / "report.xlsx"
    command = [sys.executable, "-m", "bot", "report", "--month", "2026-10", "--out", str(out), "--language", "ru"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert TEXTS["ru"]("report.summary_title", period="октябрь 2026") in result.stdout
    assert out.exists() and str(out) in result.stdout
    charts = sorted(path.name for path in out.parent.glob("*.png"))
    assert charts and all(name in result.stdout for name in charts)
    wrong = subprocess.run([*command[:5], "2026-13"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "YYYY-MM" in wrong.stderr and "Traceback" not in wrong.stderr
