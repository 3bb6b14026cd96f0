"""Lesson tick benchmark: one scheduler tick over a large table of enrolments, a share of them due.

Run from the project root:

    python bench/schedule_tick.py [--enrolments 100000] [--due-share 0.01] [--rounds 3] [--postgres postgresql://user@host/db]

Each round seeds a fresh, migrated database (a SQLite file, or a throw-away PostgreSQL database)
with `--enrolments` parents, each with a Telegram account and one active enrolment in a shipped
course; `--due-share` of them, spread over the table, are due at the benchmark's fixed `now` (a
weekday at noon in Moscow, outside the quiet hours), the rest a day or two later. The seeding is
not timed (PostgreSQL's statistics are gathered after it, with ANALYZE, as autovacuum would;
SQLite runs without ANALYZE, as the bot does). Then the real tick (scheduler.courses.deliver_lessons) runs once, timed, and its work is
checked in the database (an outbox row and a lesson delivery per due enrolment, none left due);
a second tick right after it, with nothing due, is timed too. The query plan of the due query the
tick ran is reported, to show it reads the index ix_enrolments_due.

Progress goes to stderr; stdout's last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, insert, select, text

from bot.config import PROJECT_ROOT, load_settings
from bot.content import load_content
from bot.db.engine import create_sessionmaker, open_database
from bot.db.models import Account, Enrolment, LessonDelivery, OutboxMessage, Person, Role
from scheduler.courses import deliver_lessons
from tests.helpers import throwaway_postgres

TOKEN = "123456789:AAEmulatorTokenForTheVmesteTestSuite"
NOW = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)  # a Tuesday, 12:00 in Moscow: outside the default quiet hours
ZONE = "Europe/Moscow"
LANGUAGES = ("ru", "ro", "en")
PLATFORMS = ["telegram"]
CHUNK = 10_000
TARGET_S = 0.5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class FixedClock:
    def now(self) -> datetime:
        return NOW


class Statements:
    """The statements run on an engine while `recording`: how many, and the due query's SQL,
    parameters and time (the tick's own, as it ran)."""

    def __init__(self, engine) -> None:
        self.recording, self.count, self.due, self.due_s, self._started = False, 0, None, 0.0, 0.0
        event.listen(engine.sync_engine, "before_cursor_execute", self.before)
        event.listen(engine.sync_engine, "after_cursor_execute", self.after)

    def before(self, _conn, _cursor, statement, parameters, _context, _executemany) -> None:
        if self.recording:
            self.count += 1
            self._started = time.perf_counter()

    def after(self, _conn, _cursor, statement, parameters, _context, _executemany) -> None:
        if self.recording and "FROM enrolments" in statement and "enrolments.next_at <=" in statement:
            self.due, self.due_s = (statement, parameters), time.perf_counter() - self._started


async def seed(sessionmaker, courses: list[str], enrolments: int, due: set[int]) -> None:
    """People 1..n, a parent each, a Telegram account each and one enrolment each: Core bulk inserts."""
    rng = random.Random(7)
    async with sessionmaker() as session:
        for start in range(1, enrolments + 1, CHUNK):
            ids = range(start, min(start + CHUNK, enrolments + 1))
            await session.execute(insert(Person), [{"id": i, "pseudonym": f"{i:032x}", "language": LANGUAGES[i % 3], "district": "bench"} for i in ids])
            await session.execute(insert(Role), [{"person_id": i, "role": "parent"} for i in ids])
            await session.execute(insert(Account), [{"id": i, "person_id": i, "platform": "telegram", "external_id": 1_000_000 + i} for i in ids])
            await session.execute(insert(Enrolment), [
                {
                    "id": i, "person_id": i, "course": courses[i % len(courses)], "status": "active", "every_days": 2, "weekdays": "",
                    "at_minute": 600, "timezone": ZONE, "next_lesson": rng.randint(1, 5), "enrolled_at": NOW - timedelta(days=30),
                    "next_at": NOW - timedelta(minutes=rng.randint(1, 2 * 24 * 60)) if i in due else NOW + timedelta(minutes=rng.randint(24 * 60, 2 * 24 * 60)),
                }
                for i in ids
            ])
        await session.commit()
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("ANALYZE"))  # what autovacuum does after a bulk load: the planner's statistics
            await session.commit()


async def query_plan(engine, due_statement) -> list[str]:
    statement, parameters = due_statement
    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        rows = await connection.exec_driver_sql(f"{'EXPLAIN QUERY PLAN' if sqlite else 'EXPLAIN'} {statement}", parameters)
        return [row[-1] for row in rows]  # SQLite's detail column; PostgreSQL's one


async def one_round(database_url: str, content, enrolments: int, due_share: float, number: int) -> dict:
    settings = load_settings(env_file=None, BOT_TOKEN=TOKEN, DATABASE_URL=database_url, LOG_LEVEL="WARNING")
    engine = await open_database(database_url)
    sessionmaker = create_sessionmaker(engine)
    statements = Statements(engine)
    try:
        due = set(random.Random(number).sample(range(1, enrolments + 1), round(enrolments * due_share)))
        started = time.perf_counter()
        await seed(sessionmaker, [course.id for course in content.courses], enrolments, due)
        seed_s = time.perf_counter() - started
        log(f"round {number}: seeded {enrolments} enrolments ({len(due)} due) in {seed_s:.1f} s")
        gc.collect()  # the seeding's garbage is not the tick's to collect

        statements.recording = True
        started = time.perf_counter()
        delivered = await deliver_lessons(sessionmaker, content, settings, FixedClock(), PLATFORMS, None)
        tick_s = time.perf_counter() - started
        statements.recording, tick_statements = False, statements.count
        started = time.perf_counter()
        idle = await deliver_lessons(sessionmaker, content, settings, FixedClock(), PLATFORMS, None)
        idle_tick_s = time.perf_counter() - started
        log(f"round {number}: tick {tick_s:.3f} s ({delivered}), idle tick {idle_tick_s:.4f} s")

        async with sessionmaker() as session:
            outbox = await session.scalar(select(func.count()).select_from(OutboxMessage))
            deliveries = await session.scalar(select(func.count()).select_from(LessonDelivery))
            still_due = await session.scalar(select(func.count()).select_from(Enrolment).where(Enrolment.next_at <= NOW))
        assert delivered.lessons == len(due) and delivered.deferred == 0 and delivered.unreachable == 0, delivered
        assert outbox == len(due) and deliveries == len(due) and still_due == 0, (outbox, deliveries, still_due)
        assert idle.lessons == 0, idle
        assert statements.due is not None, "the tick ran no due query (enrolments.next_at <=)"
        plan = await query_plan(engine, statements.due)
        return {
            "tick_s": tick_s, "idle_tick_s": idle_tick_s, "seed_s": seed_s, "due": len(due), "queued": delivered.lessons,
            "idle_queued": idle.lessons, "outbox_rows": outbox, "lesson_deliveries": deliveries, "still_due": still_due,
            "due_query_s": statements.due_s, "tick_statements": tick_statements, "plan": plan,
        }
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def fresh_database(postgres: str | None, directory: str, name: str):
    if postgres is None:
        yield f"sqlite+aiosqlite:///{directory}/{name}.db"
    else:
        async with throwaway_postgres(postgres, prefix="vmeste_bench") as url:
            yield url


async def run(args: argparse.Namespace) -> dict:
    content = load_content(PROJECT_ROOT / "content", ZONE)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="vmeste-bench-") as directory:
        for number in range(1, args.rounds + 1):
            async with fresh_database(args.postgres, directory, f"round{number}") as url:
                rounds.append(await one_round(url, content, args.enrolments, args.due_share, number))

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in rounds), 4)

    def each(key: str, digits: int | None = None) -> list:
        return [r[key] if digits is None else round(r[key], digits) for r in rounds]

    plan = rounds[-1]["plan"]
    return {
        "tick_s": median("tick_s"), "target_s": TARGET_S, "met": median("tick_s") < TARGET_S, "tick_s_rounds": each("tick_s", 4),
        "idle_tick_s": median("idle_tick_s"), "idle_tick_s_rounds": each("idle_tick_s", 4), "due_query_s": median("due_query_s"),
        "tick_statements": rounds[-1]["tick_statements"], "enrolments": args.enrolments, "due": rounds[-1]["due"], "queued": each("queued"),
        "idle_queued": each("idle_queued"), "outbox_rows": each("outbox_rows"), "lesson_deliveries": each("lesson_deliveries"),
        "still_due_after": each("still_due"), "uses_index": any("ix_enrolments_due" in line for line in plan), "plan": plan,
        "seed_s_rounds": each("seed_s", 2), "rounds": args.rounds, "database": "postgresql" if args.postgres else "sqlite",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enrolments", type=int, default=100_000)
    parser.add_argument("--due-share", type=float, default=0.01, help="the share of the enrolments due at the tick")
    parser.add_argument("--rounds", type=int, default=3, help="ticks over a freshly seeded database each; the median is reported")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to run on (a throw-away database per round) instead of SQLite files")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    result = asyncio.run(run(args))
    result["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
