"""Update benchmark: what one update costs the bot, against a bare aiogram echo bot.

Run from the project root:

    python bench/updates.py [--parents 2000] [--rounds 3] [--no-start] [--postgres postgresql://user@host/db]

`--parents` registered parents are seeded through the services into a fresh database. Each round,
every parent sends `/menu` at once (a burst of `--parents` updates), and the real bot (bot.app
create_app + serve, long polling through bot.platforms.telegram) answers them; then a bare aiogram
echo bot (a Dispatcher with one message handler answering the text), polling the same emulator
through the same Polling class, answers the same burst. Unless `--no-start`, the real bot also
answers a burst of `/start`. The sides alternate round by round; each is reported by its median.

Per burst: updates per second (the burst's size over the time from the first update being queued
until the last reply arrived), p50 and p99 reply latency (from an update being queued in the
emulator until the bot's reply to that chat arrived there), and the bot's CPU time per update.
Every bot is started afresh for its burst and warmed up with a small burst first (not timed).

The Telegram emulator runs in its own process, so the bot and the emulator get a core each.
Progress goes to stderr; stdout's last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Dispatcher
from aiogram.types import Message

from bot.app import create_app, freeze_startup_heap, serve
from bot.config import load_settings
from bot.emulator.telegram import TelegramEmulator
from bot.platforms import telegram
from bot.services.people import register
from tests.helpers import throwaway_postgres

TOKEN = "123456789:AAEmulatorTokenForTheVmesteTestSuite"
FIRST_ID = 3_000_000
WARM_UP = 100
BURST_TIMEOUT = 120.0
PROFILE = os.environ.get("BENCH_PROFILE")  # a file name prefix: cProfile the timed bursts of the main thread


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# the emulator process


class BurstEmulator(TelegramEmulator):
    """Notes the first sendMessage to each chat of the burst under way."""

    def __init__(self) -> None:
        super().__init__(bot_username="vmeste_bench_bot")
        self.replied: dict[int, float] = {}

    async def _run(self, token, name, params, uploads):
        if name == "sendMessage":
            self.replied.setdefault(int(params["chat_id"]), time.monotonic())  # form fields are strings
        return await super()._run(token, name, params, uploads)

    async def burst(self, user_ids: list[int], text: str) -> dict:
        """Every user sends `text` at once; waits for a reply in every chat; the burst's figures."""
        self.replied.clear()
        queued = {}
        for user_id in user_ids:
            queued[user_id] = time.monotonic()
            self.user(user_id).send(text)
        deadline = time.monotonic() + BURST_TIMEOUT
        while len(self.replied.keys() & queued.keys()) < len(queued):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(queued) - len(self.replied)} of {len(queued)} chats got no reply to {text}")
            await asyncio.sleep(0.02)
        latencies = sorted(self.replied[user_id] - queued[user_id] for user_id in user_ids)
        span = max(self.replied[user_id] for user_id in user_ids) - min(queued.values())
        return {
            "updates_per_s": len(user_ids) / span,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        }


def emulator_process(conn, user_ids: list[int]) -> None:
    asyncio.run(serve_emulator(conn, user_ids))


async def serve_emulator(conn, user_ids: list[int]) -> None:
    emulator = BurstEmulator()
    for user_id in user_ids:
        emulator.user(user_id, language_code="en", started=True)
    # as in bench/delivery.py: the emulator stands in for Telegram, whose pauses are not the bot's
    gc.collect()
    gc.freeze()
    gc.disable()
    conn.send(await emulator.start())
    while True:
        await asyncio.to_thread(conn.poll, None)  # a thread waits for the next command (a pipe is not awaitable)
        command = conn.recv()
        if command == "stop":
            break
        count, text = command
        conn.send(await emulator.burst(user_ids[:count], text))
    await emulator.stop()
    conn.send(len(emulator.rejected))


class EmulatorProcess:
    """A BurstEmulator in a spawned process: `url` while running."""

    def __init__(self, user_ids: list[int]) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=emulator_process, args=(child, user_ids), daemon=True)
        self.process.start()
        self.url: str = self.conn.recv()

    async def burst(self, count: int, text: str) -> dict:
        self.conn.send((count, text))
        return await asyncio.to_thread(self.conn.recv)

    def close(self) -> int:
        self.conn.send("stop")
        rejected = self.conn.recv()
        self.process.join(10)
        return rejected


# the bots


def bot_settings(url: str, database_url: str):
    return load_settings(env_file=None, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=url, DATABASE_URL=database_url, LOG_LEVEL="WARNING")


async def seed_parents(settings, user_ids: list[int]) -> None:
    """Registered parents, as the consent screen registers them (not timed)."""
    app = await create_app(settings)
    consent = app.content.consent_text("en")
    try:
        async with app.sessionmaker() as session:
            for user_id in user_ids:
                person = await register(session, "telegram", user_id, consent, now=app.clock.now())
                person.district, person.child_age_group = "north", "4-7"
            await session.commit()
    finally:
        await app.close()


@contextlib.asynccontextmanager
async def real_bot(settings):
    app = await create_app(settings)
    freeze_startup_heap()  # as bot.app.run does
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, app.bots, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await app.close()


@contextlib.asynccontextmanager
async def echo_bot(settings):
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    bot = telegram.build_bot(settings)
    freeze_startup_heap()  # started as the real bot is: what came before need not be walked by the collector
    stop = asyncio.Event()
    task = asyncio.create_task(telegram.poll(bot, dispatcher, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await bot.session.close()


class CollectorTime:
    """The time the garbage collector takes, per generation, while installed (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.seconds[info["generation"]] += time.perf_counter() - self.started

    @contextlib.contextmanager
    def installed(self):
        gc.callbacks.append(self)
        try:
            yield self
        finally:
            gc.callbacks.remove(self)


async def timed_burst(emulator: EmulatorProcess, bot, count: int, text: str) -> dict:
    async with bot:
        await emulator.burst(min(WARM_UP, count), text)
        gc.collect()
        collector = CollectorTime()
        profile = cProfile.Profile() if PROFILE else None
        if profile:
            profile.enable()
        cpu = time.process_time()
        with collector.installed():
            figures = await emulator.burst(count, text)
        figures["cpu_ms_per_update"] = 1000 * (time.process_time() - cpu) / count
        figures["gc_ms_per_update"] = 1000 * sum(collector.seconds) / count
        log(f"gc seconds by generation {collector.seconds}")
        if profile:
            profile.disable()
            profile.dump_stats(f"{PROFILE}.{text.strip('/')}")
    return figures


SIDES = {  # name: (bot, text)
    "echo": (echo_bot, "/menu"),
    "menu": (real_bot, "/menu"),
    "start": (real_bot, "/start"),
}


def medians(runs: list[dict]) -> dict:
    return {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}


async def run(emulator: EmulatorProcess, database_url: str, parents: int, rounds: int, sides: list[str]) -> dict:
    settings = bot_settings(emulator.url, database_url)
    user_ids = list(range(FIRST_ID, FIRST_ID + parents))
    await seed_parents(settings, user_ids)
    gc.collect()
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    for round_number in range(rounds):
        # this machine's speed swings run to run: alternate the order, report medians
        for side in sides if round_number % 2 == 0 else reversed(sides):
            bot, text = SIDES[side]
            runs[side].append(await timed_burst(emulator, bot(settings), parents, text))
            log(f"round {round_number + 1} {side}: " + ", ".join(f"{key} {value:.1f}" for key, value in runs[side][-1].items()))
    figures = {side: medians(side_runs) for side, side_runs in runs.items()}
    result = {f"{side}_{key}": value for side, side_figures in figures.items() for key, value in side_figures.items()}
    echo_rate = figures["echo"]["updates_per_s"]
    result["menu_vs_echo"] = round(figures["menu"]["updates_per_s"] / echo_rate, 3)
    if "start" in figures:
        result["start_vs_echo"] = round(figures["start"]["updates_per_s"] / echo_rate, 3)
    result["rounds_updates_per_s"] = {side: [round(run["updates_per_s"], 1) for run in side_runs] for side, side_runs in runs.items()}
    return result


async def main(args) -> dict:
    sides = ["echo", "menu"] + ([] if args.no_start else ["start"])
    started = time.perf_counter()
    emulator = EmulatorProcess(list(range(FIRST_ID, FIRST_ID + args.parents)))
    try:
        with tempfile.TemporaryDirectory(prefix="vmeste-bench-") as folder:
            if args.postgres:
                async with throwaway_postgres(args.postgres) as database_url:
                    result = await run(emulator, database_url, args.parents, args.rounds, sides)
            else:
                result = await run(emulator, f"sqlite+aiosqlite:///{folder}/vmeste.db", args.parents, args.rounds, sides)
    finally:
        rejected = emulator.close()
    load = os.getloadavg()
    return {
        **result,
        "parents": args.parents,
        "rounds": args.rounds,
        "rejected_calls": rejected,
        "database": "postgresql" if args.postgres else "sqlite",
        "load_average": [round(value, 2) for value in load],
        "total_seconds": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parents", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-start", action="store_true", help="skip the /start bursts")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to run on (a throw-away database) instead of a SQLite file")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(json.dumps(asyncio.run(main(arguments))))
