"""Monthly report benchmark: the figures of a month's report over a year of events, against the bare
SQL aggregate queries the report needs, in the same run.

Run from the project root:

    python bench/report.py [--events 1000000] [--rounds 5] [--month 2026-10]

A fresh, migrated SQLite file is seeded through bulk inserts (not timed) with `--events` events
spread over 2026 (the kinds in the proportions a centre's year would have: lessons sent, opened and
done most, survey answers, questions, chat joins...; 30,000 families, 60% of them in rural
districts), 20,000 consultations, 60 broadcasts with 3,000 recipients each and a year of daily
counts of 10 parent chats. Then, in alternating rounds:

- `report`: bot.services.reports.figures.compute for the month: every figure of the report (what the
  workbook and the charts are drawn from), through SQLAlchemy's ORM session as the bot runs it;
- `bare`: the same SQL statements (compiled to text before timing) sent through the same engine's
  driver connection, every row fetched, nothing made of them.

The workbook and the charts are timed once, after the rounds, for information (`workbook_s`,
`charts_s`). Progress goes to stderr; stdout's last line is one JSON object: `report_s`, `bare_sql_s`
(medians) and `report_vs_sql`; the issue asks report_s <= 2 and report_vs_sql <= 1.5.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import PROJECT_ROOT
from bot.content import load_content
from bot.db.engine import open_database
from bot.db.models import Campaign, ChatActivity, Event, OutboxMessage, Person, Ticket
from bot.services.reports.figures import all_statements, compute
from bot.services.reports.period import Period

ZONE = "Europe/Moscow"
YEAR = 2026
FAMILIES = 30_000
TICKETS = 20_000
BROADCASTS, RECIPIENTS = 60, 3_000
CHUNK = 20_000
TARGET_S, TARGET_RATIO = 2.0, 1.5
# (kind, object type, share of the events)
MIX = [
    ("lesson_sent", "lesson", 0.22), ("lesson_opened", "lesson", 0.18), ("lesson_done", "lesson", 0.10), ("lesson_liked", "lesson", 0.05),
    ("lesson_disliked", "lesson", 0.01), ("lesson_commented", "lesson", 0.01), ("lesson_reminded", "lesson", 0.05),
    ("course_enrolled", "course", 0.02), ("course_rated", "course", 0.01), ("survey_asked", "survey", 0.03), ("survey_answered", "survey", 0.12),
    ("survey_finished", "survey", 0.02), ("question_asked", "specialty", 0.03), ("question_claimed", "specialty", 0.03),
    ("question_answered", "specialty", 0.03), ("question_closed", "specialty", 0.02), ("question_rated", "specialty", 0.01),
    ("question_target_missed", "specialty", 0.005), ("faq_helped", "specialty", 0.01), ("chat_joined", "chat", 0.02), ("chat_left", "chat", 0.005),
    ("registered", "role", 0.01), ("account_linked", None, 0.005),
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def event_rows(count: int, content, rng: random.Random):
    courses = [course.id for course in content.courses]
    specialties = [specialty.id for specialty in content.specialties]
    chats = [chat.id for chat in content.chats] or ["speech"]
    rural = sorted(content.rural_districts)
    city = [district.id for district in content.districts if not district.rural]
    survey = content.survey("results")
    questions = [question.id for question in survey.questions] if survey else ["informed"]
    families = [(f"{index:032x}", rng.choice(rural) if rng.random() < 0.6 else rng.choice([*city, "other"])) for index in range(FAMILIES)]
    kinds = [(kind, object_type) for kind, object_type, _share in MIX]
    weights = [share for _kind, _object_type, share in MIX]
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    seconds = 365 * 86400
    batch = []
    for _ in range(count):
        kind, object_type = rng.choices(kinds, weights)[0]
        pseudonym, district = rng.choice(families)
        value: float | None = None
        if object_type == "lesson":
            object_id = f"{rng.choice(courses)}:{rng.randint(1, 6)}"
            value = rng.choice([1, 1, 0]) if kind != "lesson_sent" else rng.randint(1, 6)
        elif object_type == "course":
            object_id, value = rng.choice(courses), rng.randint(1, 5)
        elif object_type == "survey":
            object_id = f"results:{rng.choice(['0', '6', '12'])}:{rng.choice(questions)}" if kind == "survey_answered" else "results:0"
            value = rng.choice([1, 0])
        elif object_type == "specialty":
            object_id = rng.choice(specialties)
        elif object_type == "chat":
            object_id = rng.choice(chats)
        elif object_type == "role":
            object_id = "parent"
        else:
            object_id = None
        batch.append({
            "kind": kind, "at": start + timedelta(seconds=rng.uniform(0, seconds)), "pseudonym": pseudonym, "district": district,
            "platform": rng.choice(["telegram", "vk"]), "object_type": object_type, "object_id": object_id, "value": value,
        })
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


async def seed(sessionmaker, content, events: int) -> None:
    rng = random.Random(2026)
    specialties = [specialty.id for specialty in content.specialties]
    started = time.perf_counter()
    async with sessionmaker() as session:
        session.add_all([Person(id=1, language="ru"), *(Person(id=10 + index, language="ru", display_name=f"Specialist {index}") for index in range(12))])
        await session.flush()
        written = 0
        for batch in event_rows(events, content, rng):
            await session.execute(insert(Event), batch)
            written += len(batch)
            if written % 200_000 == 0:
                log(f"  {written:,} events")
        start = datetime(YEAR, 1, 1, tzinfo=UTC)
        tickets = []
        for number in range(1, TICKETS + 1):
            created = start + timedelta(seconds=rng.uniform(0, 365 * 86400))
            claimed = created + timedelta(minutes=rng.randint(1, 900)) if rng.random() < 0.9 else None
            answered = claimed + timedelta(minutes=rng.randint(0, 600)) if claimed and rng.random() < 0.9 else None
            closed = answered + timedelta(hours=rng.randint(1, 72)) if answered and rng.random() < 0.8 else None
            tickets.append({
                "id": number, "person_id": 1, "specialty": rng.choice(specialties), "status": "closed" if closed else "claimed" if claimed else "waiting",
                "alias": f"K-{number}", "assignee_id": 10 + rng.randrange(12) if claimed else None, "created_at": created, "queued_at": created,
                "claimed_at": claimed, "first_answer_at": answered, "closed_at": closed, "rating": rng.randint(1, 5) if closed and rng.random() < 0.6 else None,
            })
        await session.execute(insert(Ticket), tickets)
        campaigns, outbox = [], []
        for campaign in range(1, BROADCASTS + 1):
            campaigns.append({"id": campaign, "kind": "broadcast", "status": "done", "text": "-", "started_at": start + timedelta(days=6 * campaign)})
            outbox += [
                {"campaign_id": campaign, "platform": "telegram", "chat_id": recipient, "status": rng.choice(["sent"] * 8 + ["unreachable", "failed"])}
                for recipient in range(RECIPIENTS)
            ]
        await session.execute(insert(Campaign), campaigns)
        for offset in range(0, len(outbox), CHUNK):
            await session.execute(insert(OutboxMessage), outbox[offset : offset + CHUNK])
        days = [
            {"chat": chat.id, "day": date(YEAR, 1, 1) + timedelta(days=day), "messages": rng.randint(0, 80), "joins": rng.randint(0, 3),
             "leaves": rng.randint(0, 2), "reactions": rng.randint(0, 40)}
            for chat in content.chats[:10] for day in range(365)
        ]
        await session.execute(insert(ChatActivity), days)
        await session.commit()
    log(f"seeded {events:,} events, {TICKETS:,} consultations, {len(outbox):,} broadcast messages in {time.perf_counter() - started:.1f} s")


async def time_report(sessionmaker, content, period: Period) -> tuple[float, object]:
    started = time.perf_counter()
    async with sessionmaker() as session:
        report = await compute(session, content, period)
    return time.perf_counter() - started, report


async def time_bare(engine, statements: list[str]) -> float:
    started = time.perf_counter()
    async with engine.connect() as connection:
        for statement in statements:
            (await connection.exec_driver_sql(statement)).fetchall()
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> dict:
    content = load_content(PROJECT_ROOT / "content", ZONE)
    period = Period.parse(args.month, ZONE)
    with tempfile.TemporaryDirectory() as directory:
        engine = await open_database(f"sqlite+aiosqlite:///{directory}/report.db")
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        await seed(sessionmaker, content, args.events)
        rural = sorted(content.rural_districts)
        bare = [str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})) for statement in all_statements(period, rural)]
        await time_report(sessionmaker, content, period)  # warm: the file in the page cache, the statements compiled once, as a running bot has them
        await time_bare(engine, bare)
        reports, bares = [], []
        report = None
        for number in range(args.rounds):
            gc.collect()
            took, report = await time_report(sessionmaker, content, period)
            reports.append(took)
            gc.collect()
            bares.append(await time_bare(engine, bare))
            log(f"round {number + 1}: report {reports[-1]:.3f} s, bare SQL {bares[-1]:.3f} s")
        started = time.perf_counter()
        from bot.services.reports.workbook import build_workbook

        workbook = build_workbook(report, content.texts["ru"])  # type: ignore[arg-type]
        workbook_s = time.perf_counter() - started
        started = time.perf_counter()
        from bot.services.reports.charts import render_charts

        charts = render_charts(report, content.texts["ru"])  # type: ignore[arg-type]
        charts_s = time.perf_counter() - started
        await engine.dispose()
    report_s, bare_s = statistics.median(reports), statistics.median(bares)
    total = report.consultations.total  # type: ignore[attr-defined]
    return {
        "events": args.events, "month": period.key, "rounds": args.rounds,
        "report_s": round(report_s, 3), "bare_sql_s": round(bare_s, 3), "report_vs_sql": round(report_s / bare_s, 3),
        "report_rounds_s": [round(value, 3) for value in reports], "bare_rounds_s": [round(value, 3) for value in bares],
        "report_target_s": TARGET_S, "ratio_target": TARGET_RATIO,
        "met": report_s <= TARGET_S and report_s / bare_s <= TARGET_RATIO,
        "workbook_s": round(workbook_s, 3), "workbook_bytes": len(workbook), "charts_s": round(charts_s, 3), "charts": len(charts),
        "families_reached": report.reach.families, "consultations": total.asked,  # type: ignore[attr-defined]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--month", default=f"{YEAR}-10")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
