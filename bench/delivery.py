"""Delivery benchmark: the outbox against a bare aiogram loop, and the outbox under a global limit.

Run from the project root:

    python bench/delivery.py [--recipients 10000] [--limited-recipients 3000] [--limit 300] [--concurrency 32] [--rounds 5]
                             [--postgres postgresql://user@host/db]

Part 1, limits off: a campaign to `--recipients` parents goes through the real DeliveryEngine
(filling the outbox, claiming, sending, recording outcomes), timed from committing the campaign
until the last outcome is written. In the same process and against the same emulator, a bare
`bot.send_message` loop, a fixed pool of `--concurrency` workers, sends to the same number of chats. The two
alternate for `--rounds` rounds; each is reported by its median.
Part 2: a fresh emulator answers 429 past `--limit` sendMessage calls in any second, the bot is
configured to that limit, and `--limited-recipients` messages go out through the outbox.

The Telegram emulator runs in its own process, so the bot and the emulator get a core each.
Progress goes to stderr; stdout's last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import json
import logging
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select

from bot.app import create_app, freeze_startup_heap
from bot.config import load_settings
from bot.db.models import Account, Campaign, OutboxMessage, Person, Role, as_utc, utcnow
from bot.delivery.engine import DeliveryEngine
from bot.delivery.outbox import OPEN
from bot.emulator.telegram import TelegramEmulator
from tests.helpers import throwaway_postgres

TOKEN = "123456789:AAEmulatorTokenForTheVmesteTestSuite"
TEXT = "Tomorrow's webinar starts at <b>18:00</b>"
UNLIMITED_IDS, LIMITED_IDS = 1_000_000, 2_000_000
WARM_UP = 200
CAMPAIGN_TIMEOUT = 600  # seconds for one outbox run


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# the emulator process


class TimedEmulator(TelegramEmulator):
    """Also notes when each sendMessage arrived, for the rate over the span of the sends."""

    def __init__(self) -> None:
        super().__init__(bot_username="vmeste_bench_bot")
        self.send_times: list[float] = []

    async def _run(self, token, name, params, uploads):
        if name == "sendMessage":
            self.send_times.append(time.monotonic())
        return await super()._run(token, name, params, uploads)


def emulator_process(conn, user_ids: range, limit: int) -> None:
    asyncio.run(serve_emulator(conn, user_ids, limit))


async def serve_emulator(conn, user_ids: range, limit: int) -> None:
    emulator = TimedEmulator()
    for user_id in user_ids:
        emulator.user(user_id, started=True)
    if limit:
        emulator.set_limits(global_per_second=limit)
    # The emulator stands in for Telegram, whose pauses are not the bot's: a full collection over
    # the users, chats, API spec and every message kept stalls it for a quarter of a second and more
    # as the rounds add messages (requests pile up, then arrive in a burst). It collects nothing
    # while it serves; a run keeps well under a gigabyte.
    gc.collect()
    gc.freeze()
    gc.disable()
    conn.send(await emulator.start())
    await asyncio.to_thread(conn.poll, None)  # a thread waits for the "stop" (a pipe is not awaitable)
    conn.recv()
    times = emulator.send_times
    span_rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
    sends = sum(1 for method, _ in emulator.calls if method == "sendMessage")
    await emulator.stop()
    conn.send({"throttled": len(emulator.throttled), "send_messages": sends, "span_rate": span_rate})


class EmulatorProcess:
    """A TelegramEmulator in a spawned process: `url` while running; `close()` returns its counts."""

    def __init__(self, user_ids: range, limit: int = 0) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=emulator_process, args=(child, user_ids, limit), daemon=True)
        self.process.start()
        self.url: str = self.conn.recv()

    def close(self) -> dict:
        self.conn.send("stop")
        counts = self.conn.recv()
        self.process.join(10)
        return counts


# the bot side


def bot_settings(url: str, database_url: str, concurrency: int, rate: int = 0, chat_rate: int = 0):
    return load_settings(
        env_file=None, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=url, DATABASE_URL=database_url,
        DELIVERY_TELEGRAM_RATE=str(rate), DELIVERY_CHAT_RATE=str(chat_rate),
        DELIVERY_CONCURRENCY=str(concurrency), LOG_LEVEL="WARNING",
    )


async def seed_parents(sessionmaker, user_ids: range, district: str) -> None:
    """One parent per user id, with a Telegram account; bulk inserts in one transaction (not timed)."""
    async with sessionmaker() as session:
        people = [{"language": "en", "district": district} for _ in user_ids]
        person_ids = (await session.scalars(insert(Person).returning(Person.id, sort_by_parameter_order=True), people)).all()
        await session.execute(insert(Role), [{"person_id": person_id, "role": "parent"} for person_id in person_ids])
        accounts = [{"person_id": person_id, "platform": "telegram", "external_id": user_id} for person_id, user_id in zip(person_ids, user_ids, strict=True)]
        await session.execute(insert(Account), accounts)
        await session.commit()


async def outbox_run(sessionmaker, engine: DeliveryEngine, district: str) -> tuple[float, dict[str, int], float]:
    """Seconds from committing a campaign until the last outcome was written (its rows' latest
    sent_at), the rows by status, and the seconds until the engine started the campaign."""
    async with sessionmaker() as session:
        campaign = Campaign(text=TEXT, audience={"role": ["parent"], "district": [district]}, status="scheduled", send_at=utcnow(), media_ids={}, buttons=[])
        session.add(campaign)
        started, committed_at = time.perf_counter(), utcnow()
        await session.commit()
    engine.wake()
    # Polled seldom, so that the benchmark's own queries hardly compete with the engine for the
    # database; the end time comes from the rows themselves, not from the poll.
    open_rows = select(func.count()).where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.status.in_(OPEN)).scalar_subquery()
    state = select(Campaign.status, Campaign.started_at, open_rows).where(Campaign.id == campaign.id)
    while True:
        await asyncio.sleep(0.5)
        async with sessionmaker() as session:
            status, started_at, left = (await session.execute(state)).one()
        # the engine marks the campaign "sending" in the transaction that fills its outbox
        if status != "scheduled" and left == 0:
            break
        if time.perf_counter() - started > CAMPAIGN_TIMEOUT:
            raise TimeoutError(f"campaign {campaign.id} still {status} after {CAMPAIGN_TIMEOUT} s, {left} rows open")
    async with sessionmaker() as session:
        last_written = await session.scalar(select(func.max(OutboxMessage.sent_at)).where(OutboxMessage.campaign_id == campaign.id))
        by_status = select(OutboxMessage.status, func.count()).where(OutboxMessage.campaign_id == campaign.id).group_by(OutboxMessage.status)
        counts = dict((await session.execute(by_status)).all())
    seconds = (as_utc(last_written) - committed_at).total_seconds()
    return seconds, counts, (as_utc(started_at) - committed_at).total_seconds()


async def bare_run(bot, chat_ids, concurrency: int) -> float:
    """Seconds for a plain send_message to each chat from a fixed pool of `concurrency` workers
    (as the engine's drain has): not a task per chat, whose thousands of pending tasks cost the
    collector up to a second a round."""
    chats = iter(chat_ids)

    async def worker() -> None:
        for chat_id in chats:  # one iterator shared by the workers: each chat is taken once
            await bot.send_message(chat_id, TEXT)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


@contextlib.asynccontextmanager
async def fresh_database(postgres: str | None, directory: str, name: str):
    """A new database for one part: a SQLite file, or a throw-away database on the PostgreSQL server."""
    if postgres is None:
        yield f"sqlite+aiosqlite:///{directory}/{name}.db"
    else:
        async with throwaway_postgres(postgres) as url:
            yield url


async def with_engine(settings, user_ids: range, district: str, body):
    """Migrate and seed the database, run the delivery engine around `body(app, bots, engine)`, shut down."""
    app = await create_app(settings)
    bots = app.bots
    await seed_parents(app.sessionmaker, user_ids, district)
    freeze_startup_heap()  # as bot.app.run does after start-up (the seeding's garbage collected first), for both sides
    engine = app.delivery
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        return await body(app, bots, engine)
    finally:
        stop.set()
        await task
        await app.close()


async def unlimited_part(url: str, database, recipients: int, concurrency: int, rounds: int) -> dict:
    user_ids = range(UNLIMITED_IDS, UNLIMITED_IDS + recipients)

    async def body(app, bots, engine):
        # Run to run, this 2-core machine's speed swings by +-15%, more than the difference being
        # measured; so bare and outbox alternate (bare first in odd rounds, outbox first in even
        # ones) and each side is reported by its median. Every outbox round is a new campaign
        # to the same parents.
        await bare_run(bots.telegram, user_ids[:WARM_UP], concurrency)
        bare, outbox = [], []
        cpu: dict[str, list[float]] = {"bare": [], "outbox": []}  # the bot process's CPU (every thread) per message
        for round_number in range(rounds):
            for side in ("bare", "outbox") if round_number % 2 == 0 else ("outbox", "bare"):
                started = time.process_time()
                if side == "bare":
                    bare.append(await bare_run(bots.telegram, user_ids, concurrency))
                    log(f"bare: {recipients / bare[-1]:.0f} msg/s")
                else:
                    outbox.append(await outbox_run(app.sessionmaker, engine, "unlimited"))
                    log(f"outbox: {recipients / outbox[-1][0]:.0f} msg/s {outbox[-1][1]}")
                cpu[side].append(1000 * (time.process_time() - started) / recipients)
        return outbox, bare, cpu

    async with database("unlimited") as database_url:
        outbox, bare, cpu = await with_engine(bot_settings(url, database_url, concurrency), user_ids, "unlimited", body)
    outbox_rate = recipients / statistics.median(seconds for seconds, _, _ in outbox)
    bare_rate = recipients / statistics.median(bare)
    return {
        "outbox_msgs_per_s": round(outbox_rate, 1),
        "bare_msgs_per_s": round(bare_rate, 1),
        "outbox_vs_bare": round(outbox_rate / bare_rate, 3),
        "outbox_seconds": [round(seconds, 3) for seconds, _, _ in outbox],
        "outbox_start_seconds": [round(start, 3) for _, _, start in outbox],
        "outbox_sent": [counts.get("sent", 0) for _, counts, _ in outbox],
        "bare_seconds": [round(seconds, 3) for seconds in bare],
        "outbox_cpu_ms_per_msg": round(statistics.median(cpu["outbox"]), 3),
        "bare_cpu_ms_per_msg": round(statistics.median(cpu["bare"]), 3),
    }


async def limited_part(url: str, database, recipients: int, concurrency: int, limit: int) -> dict:
    user_ids = range(LIMITED_IDS, LIMITED_IDS + recipients)

    async def body(app, bots, engine):
        # The engine has only just started, so its first control tick usually takes the campaign
        # at once; in the unlimited part the campaign waits for a tick (up to 0.5 s). *_start_seconds says.
        return await outbox_run(app.sessionmaker, engine, "limited")

    async with database("limited") as database_url:
        settings = bot_settings(url, database_url, concurrency, rate=limit, chat_rate=1)
        seconds, counts, start = await with_engine(settings, user_ids, "limited", body)
    sent = counts.get("sent", 0)
    log(f"limited outbox: {sent / seconds:.1f} msg/s against a limit of {limit} {counts}")
    return {
        "limited_rate_share": round(sent / seconds / limit, 3),
        "limited_seconds": round(seconds, 3),
        "limited_start_seconds": round(start, 3),
        "limited_sent": sent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--limited-recipients", type=int, default=3_000)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5, help="alternating bare / outbox rounds of the unlimited part")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to run on (a throw-away database per part) instead of SQLite files")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    tmp = tempfile.TemporaryDirectory(prefix="vmeste-bench-")
    database = functools.partial(fresh_database, args.postgres, tmp.name)
    started = time.perf_counter()

    emulator = EmulatorProcess(range(UNLIMITED_IDS, UNLIMITED_IDS + args.recipients))
    try:
        unlimited = asyncio.run(unlimited_part(emulator.url, database, args.recipients, args.concurrency, args.rounds))
    finally:
        unlimited_counts = emulator.close()

    emulator = EmulatorProcess(range(LIMITED_IDS, LIMITED_IDS + args.limited_recipients), limit=args.limit)
    try:
        limited = asyncio.run(limited_part(emulator.url, database, args.limited_recipients, args.concurrency, args.limit))
    finally:
        limited_counts = emulator.close()

    result = {
        **unlimited,
        **limited,
        "limited_429s": limited_counts["throttled"],
        "limited_send_span_share": round(limited_counts["span_rate"] / args.limit, 3),  # rate between the first and last send
        "recipients": args.recipients,
        "limited_recipients": args.limited_recipients,
        "limit": args.limit,
        "concurrency": args.concurrency,
        "emulator_send_messages": unlimited_counts["send_messages"],
        "unlimited_429s": unlimited_counts["throttled"],
        "database": "postgresql" if args.postgres else "sqlite",
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    tmp.cleanup()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
