"""Update benchmark: what one update costs the bot, against a bare aiogram echo bot.

Run from the project root:

    python bench/updates.py [--parents 2000] [--rounds 3] [--no-start] [--no-questions] [--no-paced]
                            [--paced-rate 100] [--paced-updates 2000] [--postgres postgresql://user@host/db]

`--parents` registered parents are seeded through the services into a fresh database. Each round,
every parent sends `/menu` at once (a burst of `--parents` updates), and the real bot (bot.app
create_app + serve, long polling through bot.platforms.telegram) answers them; then a bare aiogram
echo bot (a Dispatcher with one message handler answering the text), polling the same emulator
through the same Polling class, answers the same burst. Unless `--no-start`, the real bot also
answers a burst of `/start`. The sides alternate round by round; each is reported by its median.

Unless `--no-questions`, parents also ask a specialist (handlers/consultations/parent.py), on a
Monday morning in the specialists' hours (no specialist registered: nobody is told of the new
question). Each round has `--parents` parents of its own, each registered like the others and,
through the bot's own conversation storage, at "specialty chosen" (Asking.describing, as the
specialty button leaves it). They then do what a parent does after the specialty button, each step
a burst (every parent at once, the next step once every parent got the previous step's reply):

    text   the question in words, which the FAQ answers first (a sendMessage listing its entries)
    still  "✍️ Still ask the specialist" under the FAQ's answer (the draft screen: an edit)
    photo  a photo to go with it (a new draft message)
    send   "📨 Send" under the draft (the ticket is written: "sent", position in the queue: an edit)

Unless `--no-paced`, the same steps are also sent at a steady `--paced-rate` updates a second
(not a burst) to a fresh bot, `--paced-updates` in all: parents in groups of rate/4, one group's
texts interleaved with the previous group's "still" presses, photos and sends, so each parent's
next step comes about a second after the previous one and its reply (a step whose previous reply
has not come yet waits for it, counted as `question_paced_deferred`). Its latency is the steady
state's: from the update being queued to its reply, `question_p99_ms`.

After the run every asking parent must have exactly one ticket with a text and a photo piece, no
conversation state left, and nobody else a ticket: otherwise the bench fails (exit 1, the figures
on stderr).

Per burst: updates per second (the burst's size over the time from the first update being queued
until the last reply arrived), p50 and p99 reply latency (from an update being queued in the
emulator until the bot's reply to that chat, a sendMessage or editMessageText, arrived there and
was accepted), and the bot's CPU time per update. Every bot is started afresh for its side and
warmed up first (not timed): a small burst, or for the questions `WARM_UP` parents of their own
going through the steps. The questions' rate is all their updates over the sum of their bursts'
spans; `question_vs_echo` is its median over the echo's.

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
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Dispatcher
from aiogram.types import Message
from sqlalchemy import select

from bot.app import create_app, freeze_startup_heap, serve
from bot.clock import ShiftedClock
from bot.config import load_settings
from bot.db.models import Account, ConversationState, Ticket, TicketPiece
from bot.emulator.telegram import TelegramEmulator
from bot.fsm import conversation
from bot.platforms import telegram
from bot.services.people import register
from bot.services.updates import handling
from handlers.consultations.common import Ask, Asking, AskStep
from tests.helpers import throwaway_postgres

TOKEN = "123456789:AAEmulatorTokenForTheVmesteTestSuite"
BOT_ID = int(TOKEN.split(":")[0])
FIRST_ID = 3_000_000
WARM_UP = 100
BURST_TIMEOUT = 120.0
PROFILE = os.environ.get("BENCH_PROFILE")  # a file name prefix: cProfile the timed bursts of the main thread

# Asking: a Monday morning in the specialists' hours (content/consultations/specialties.toml, UTC)
AT_WORK = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
SPECIALTY = "speech"
QUESTION = "My son is 3 and still does not talk, only gestures. How can we help his speech at home?"
PHOTO = b"\xff\xd8\xff\xe0 a drawing of the family"
# (kind, action): what a parent does after choosing the specialty, in order; each action is one
# update: ("text", words), ("photo", data) or ("press", callback data) on the bot's last message
QUESTION_STEPS: tuple[tuple[str, tuple[str, object]], ...] = (
    ("text", ("text", QUESTION)),
    ("still", ("press", Ask(step=AskStep.still).pack())),
    ("photo", ("photo", PHOTO)),
    ("send", ("press", Ask(step=AskStep.send).pack())),
)
REPLY_METHODS = frozenset({"sendMessage", "editMessageText"})


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# the emulator process


class BurstEmulator(TelegramEmulator):
    """Queues users' updates and times each to its reply: the next sendMessage or editMessageText
    to that chat accepted after it was queued (one reply per update, in order per chat)."""

    def __init__(self) -> None:
        super().__init__(bot_username="vmeste_bench_bot")
        self.waiting: dict[int, deque[tuple[str, float]]] = {}  # chat: (kind, queued) of updates not yet answered
        self.answered: list[tuple[int, str, float, float]] = []  # chat, kind, queued, replied
        self.expected = 0
        self.all_answered = asyncio.Event()

    async def _run(self, token, name, params, uploads):
        result = await super()._run(token, name, params, uploads)
        if name in REPLY_METHODS and "chat_id" in params:
            chat_id = int(params["chat_id"])  # form fields are strings
            waiting = self.waiting.get(chat_id)
            if waiting:  # a second message for one update (none of these steps sends one) counts nothing
                kind, queued = waiting.popleft()
                self.answered.append((chat_id, kind, queued, time.monotonic()))
                if len(self.answered) >= self.expected:
                    self.all_answered.set()
        return result

    def queue(self, user_id: int, kind: str, action: tuple[str, object]) -> None:
        """The user does `action` now: its update is queued for the bot's next getUpdates."""
        user = self.user(user_id)
        self.waiting.setdefault(user_id, deque()).append((kind, time.monotonic()))
        what, argument = action
        if what == "text":
            user.send(str(argument))
        elif what == "photo":
            user.send_photo(data=argument if isinstance(argument, bytes) else None)
        elif what == "press":  # on the bot's last message in the chat, as user.click_data does
            user.click_data(str(argument))
        else:
            raise ValueError(f"no such action: {what}")

    def expect(self, count: int) -> None:
        self.answered = []
        self.expected = count
        self.all_answered.clear()

    async def answers(self, what: str) -> list[tuple[int, str, float, float]]:
        """Waits until every expected update was answered."""
        try:
            await asyncio.wait_for(self.all_answered.wait(), BURST_TIMEOUT)
        except TimeoutError:
            missing = [chat for chat, waiting in self.waiting.items() if waiting]
            raise TimeoutError(f"{len(missing)} of {self.expected} chats got no reply to {what}, e.g. {missing[:5]}") from None
        return self.answered

    async def burst(self, user_ids: range, kind: str, action: tuple[str, object]) -> dict:
        """Every user does `action` at once; waits for a reply in every chat; the burst's figures."""
        self.expect(len(user_ids))
        for user_id in user_ids:
            self.queue(user_id, kind, action)
        return figures_of(await self.answers(kind))

    async def paced(self, user_ids: range, steps, rate: float) -> dict:
        """Each user goes through `steps`, the updates queued at a steady `rate` a second (see
        `paced_order`): each user's step only once its previous one was answered, as a person
        cannot press a button that has not come yet (those waits are counted as `deferred`)."""
        order = paced_order(user_ids, len(steps), max(1, round(rate / len(steps))))
        self.expect(len(order))
        deferred: dict[int, deque[int]] = {}  # user: their steps held until the previous one is answered, in order
        late = 0

        def release() -> None:
            for user_id in [user_id for user_id in deferred if not self.waiting.get(user_id)]:
                self.queue(user_id, *steps[deferred[user_id].popleft()])
                if not deferred[user_id]:
                    del deferred[user_id]

        started = time.monotonic()
        for number, (user_id, step) in enumerate(order):
            delay = started + number / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            release()
            if self.waiting.get(user_id) or user_id in deferred:
                deferred.setdefault(user_id, deque()).append(step)
                late += 1
            else:
                self.queue(user_id, *steps[step])
        deadline = time.monotonic() + BURST_TIMEOUT
        while deferred and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
            release()
        answers = await self.answers("the paced steps")
        figures = figures_of(answers)
        queued = sorted(queued for _, _, queued, _ in answers)
        figures["updates_per_s"] = (len(queued) - 1) / (queued[-1] - queued[0])  # the rate they were queued at
        figures["deferred"] = late
        for kind, _ in steps:
            latencies = sorted(replied - queued for _, answered_kind, queued, replied in answers if answered_kind == kind)
            figures[f"{kind}_p99_ms"] = 1000 * percentile(latencies, 0.99)
        return figures


def paced_order(user_ids: range, steps: int, group: int) -> list[tuple[int, int]]:
    """(user, step) in the order they are sent: the users in groups of `group`; slot k interleaves
    step 0 of group k, step 1 of group k-1, and so on, so every step is sent at the same rate and
    a user's next step comes about steps * group updates after the previous one."""
    groups = [user_ids[start : start + group] for start in range(0, len(user_ids), group)]
    order = []
    for slot in range(len(groups) + steps - 1):
        lanes = [(step, groups[slot - step]) for step in range(steps) if 0 <= slot - step < len(groups)]
        for position in range(group):
            order += [(members[position], step) for step, members in lanes if position < len(members)]
    return order


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(len(values) * share))]


def figures_of(answers: list[tuple[int, str, float, float]]) -> dict:
    latencies = sorted(replied - queued for _, _, queued, replied in answers)
    span = max(replied for *_, replied in answers) - min(queued for _, _, queued, _ in answers)
    return {"updates_per_s": len(answers) / span, "p50_ms": 1000 * percentile(latencies, 0.5), "p99_ms": 1000 * percentile(latencies, 0.99)}


def emulator_process(conn, user_ids: range) -> None:
    asyncio.run(serve_emulator(conn, user_ids))


async def serve_emulator(conn, user_ids: range) -> None:
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
        name, *arguments = command
        try:
            conn.send(await getattr(emulator, name)(*arguments))
        except Exception as error:  # the bench's side raises it
            conn.send(error)
    await emulator.stop()
    conn.send(len(emulator.rejected))


class EmulatorProcess:
    """A BurstEmulator in a spawned process: `url` while running."""

    def __init__(self, user_ids: range) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=emulator_process, args=(child, user_ids), daemon=True)
        self.process.start()
        self.url: str = self.conn.recv()

    async def call(self, *command) -> dict:
        self.conn.send(command)
        answer = await asyncio.to_thread(self.conn.recv)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def burst(self, user_ids: range, kind: str, action: tuple[str, object]) -> dict:
        return await self.call("burst", user_ids, kind, action)

    async def paced(self, user_ids: range, steps, rate: float) -> dict:
        return await self.call("paced", user_ids, steps, rate)

    def close(self) -> int:
        self.conn.send("stop")
        rejected = self.conn.recv()
        self.process.join(10)
        return rejected


# the bots


def bot_settings(url: str, database_url: str):
    return load_settings(env_file=None, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=url, DATABASE_URL=database_url, LOG_LEVEL="WARNING")


async def seed_parents(settings, user_ids: range, asking: list[range]) -> None:
    """Registered parents, as the consent screen registers them; those in `asking` at "specialty
    chosen", as the specialty button leaves them, through the bot's conversation storage in the
    same transaction (not timed)."""
    app = await create_app(settings)
    consent = app.content.consent_text("en")
    storage = app.dispatcher.storage
    try:
        async with app.sessionmaker() as session:
            for user_id in [*user_ids, *(user_id for cohort in asking for user_id in cohort)]:
                person = await register(session, "telegram", user_id, consent, now=app.clock.now())
                person.district, person.child_age_group = "cherepovets-district", "4-7"
            with handling(session):  # the storage writes through this session, as it does in an update
                for cohort in asking:
                    for user_id in cohort:
                        state = conversation(storage, "telegram", BOT_ID, user_id, user_id)
                        await state.set_state(Asking.describing)
                        await state.set_data({"specialty": SPECIALTY, "pieces": [], "anonymous": False})
            await session.commit()
    finally:
        await app.close()


@contextlib.asynccontextmanager
async def real_bot(settings, clock=None):
    app = await create_app(settings, clock=clock)
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


def at_work() -> ShiftedClock:
    return ShiftedClock(AT_WORK - datetime.now(UTC))


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


async def measured(run, count: int, name: str) -> dict:
    """`run()`'s figures, with the bot's CPU and collector time per update (of `count`); cProfiled
    into BENCH_PROFILE.`name` when asked."""
    gc.collect()
    collector = CollectorTime()
    profile = cProfile.Profile() if PROFILE else None
    if profile:
        profile.enable()
    cpu = time.process_time()
    with collector.installed():
        figures = await run()
    figures["cpu_ms_per_update"] = 1000 * (time.process_time() - cpu) / count
    figures["gc_ms_per_update"] = 1000 * sum(collector.seconds) / count
    log(f"gc seconds by generation {collector.seconds}")
    if profile:
        profile.disable()
        profile.dump_stats(f"{PROFILE}.{name}")
    return figures


@dataclass
class Cohorts:
    """Who takes part: the /menu parents, and for each round the asking parents of their own."""

    menu: range
    questions: list[tuple[range, range]]  # per round: (warm-up, timed)
    paced: list[tuple[range, range]]

    @classmethod
    def of(cls, parents: int, rounds: int, questions: bool, paced_parents: int) -> Cohorts:
        next_id = FIRST_ID

        def take(count: int) -> range:
            nonlocal next_id
            next_id += count
            return range(next_id - count, next_id)

        menu = take(parents)
        asking = [(take(WARM_UP), take(parents)) for _ in range(rounds)] if questions else []
        paced = [(take(WARM_UP), take(paced_parents)) for _ in range(rounds)] if paced_parents else []
        return cls(menu, asking, paced)

    @property
    def everyone(self) -> range:
        return range(FIRST_ID, max([self.menu.stop] + [cohort.stop for pair in self.questions + self.paced for cohort in pair]))

    @property
    def asking(self) -> list[range]:
        return [cohort for pair in self.questions + self.paced for cohort in pair]


async def go_through_steps(emulator: EmulatorProcess, user_ids: range) -> None:
    for kind, action in QUESTION_STEPS:
        await emulator.burst(user_ids, kind, action)


async def simple_side(emulator: EmulatorProcess, bot, users: range, text: str) -> dict:
    async with bot:
        await emulator.burst(users[: min(WARM_UP, len(users))], text, ("text", text))
        return await measured(lambda: emulator.burst(users, text, ("text", text)), len(users), text.strip("/"))


async def question_side(emulator: EmulatorProcess, settings, warm_up: range, users: range) -> dict:
    """The asking parents' steps, a burst each; their figures by kind, and all of them together."""
    async with real_bot(settings, at_work()):
        await go_through_steps(emulator, warm_up)
        by_kind = {}
        for kind, action in QUESTION_STEPS:
            by_kind[kind] = await measured(lambda kind=kind, action=action: emulator.burst(users, kind, action), len(users), f"question_{kind}")
    updates = len(users) * len(QUESTION_STEPS)
    seconds = sum(len(users) / figures["updates_per_s"] for figures in by_kind.values())
    figures = {
        "updates_per_s": updates / seconds,
        "cpu_ms_per_update": statistics.fmean(figures["cpu_ms_per_update"] for figures in by_kind.values()),
        "gc_ms_per_update": statistics.fmean(figures["gc_ms_per_update"] for figures in by_kind.values()),
    }
    for kind, kind_figures in by_kind.items():
        figures |= {f"{kind}_{key}": value for key, value in kind_figures.items()}
    return figures


async def paced_side(emulator: EmulatorProcess, settings, warm_up: range, users: range, rate: float) -> dict:
    async with real_bot(settings, at_work()):
        await go_through_steps(emulator, warm_up)
        return await measured(lambda: emulator.paced(users, QUESTION_STEPS, rate), len(users) * len(QUESTION_STEPS), "question_paced")


async def verify_tickets(settings, cohorts: Cohorts) -> list[str]:
    """What is wrong with the tickets the asking parents' steps should have left: [] if nothing."""
    expected = {user_id for cohort in cohorts.asking for user_id in cohort}
    app = await create_app(settings)
    try:
        async with app.sessionmaker() as session:
            rows = await session.execute(
                select(Account.external_id, Ticket.id, Ticket.specialty, TicketPiece.kind, TicketPiece.text, TicketPiece.file_id)
                .join(Ticket, Ticket.parent_account_id == Account.id)
                .outerjoin(TicketPiece, TicketPiece.ticket_id == Ticket.id)
                .order_by(Account.external_id, Ticket.id, TicketPiece.created_at, TicketPiece.id)
            )
            left_in_a_state = set(
                await session.scalars(select(ConversationState.user_id).where(ConversationState.platform == "telegram", ConversationState.state.is_not(None)))
            )
    finally:
        await app.close()
    tickets: dict[int, dict[int, list[tuple]]] = {}
    for user_id, ticket_id, specialty, kind, text, file_id in rows:
        tickets.setdefault(user_id, {}).setdefault(ticket_id, []).append((specialty, kind, text, file_id is not None))
    wanted = [(SPECIALTY, "text", QUESTION, False), (SPECIALTY, "photo", None, True)]
    problems = []
    if strangers := sorted(set(tickets) - expected):
        problems.append(f"{len(strangers)} parents who asked nothing have tickets, e.g. {strangers[:5]}")
    if without := sorted(expected - set(tickets)):
        problems.append(f"{len(without)} of {len(expected)} asking parents have no ticket, e.g. {without[:5]}")
    if several := sorted(user_id for user_id in expected & set(tickets) if len(tickets[user_id]) != 1):
        problems.append(f"{len(several)} asking parents have more than one ticket, e.g. {several[:5]}")
    wrong = sorted(user_id for user_id in expected & set(tickets) if len(tickets[user_id]) == 1 and next(iter(tickets[user_id].values())) != wanted)
    if wrong:
        example = next(iter(tickets[wrong[0]].values()))
        problems.append(f"{len(wrong)} tickets are not the question's text and photo, e.g. parent {wrong[0]}: {example}")
    if stuck := sorted(left_in_a_state & expected):
        problems.append(f"{len(stuck)} asking parents are still in a conversation state, e.g. {stuck[:5]}")
    return problems


def medians(runs: list[dict]) -> dict:
    return {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}


async def run(emulator: EmulatorProcess, database_url: str, cohorts: Cohorts, rounds: int, sides: list[str], paced_rate: float) -> dict:
    settings = bot_settings(emulator.url, database_url)
    started = time.perf_counter()
    await seed_parents(settings, cohorts.menu, cohorts.asking)
    log(f"seeded {len(cohorts.everyone)} parents in {time.perf_counter() - started:.1f} s")
    gc.collect()

    def side_run(side: str, round_number: int):
        if side == "echo":
            return simple_side(emulator, echo_bot(settings), cohorts.menu, "/menu")
        if side in ("menu", "start"):
            return simple_side(emulator, real_bot(settings), cohorts.menu, f"/{side}")
        if side == "question":
            return question_side(emulator, settings, *cohorts.questions[round_number])
        return paced_side(emulator, settings, *cohorts.paced[round_number], paced_rate)

    runs: dict[str, list[dict]] = {side: [] for side in sides}
    for round_number in range(rounds):
        # this machine's speed swings run to run: alternate the order, report medians
        for side in sides if round_number % 2 == 0 else reversed(sides):
            runs[side].append(await side_run(side, round_number))
            log(f"round {round_number + 1} {side}: " + ", ".join(f"{key} {value:.1f}" for key, value in runs[side][-1].items()))
    figures = {side: medians(side_runs) for side, side_runs in runs.items()}
    result = {}
    for side, side_figures in figures.items():
        prefix = "question_paced" if side == "paced" else side
        for key, value in side_figures.items():
            result["question_p99_ms" if (side, key) == ("paced", "p99_ms") else f"{prefix}_{key}"] = value
    echo_rate = figures["echo"]["updates_per_s"]
    for side in ("menu", "start"):
        if side in figures:
            result[f"{side}_vs_echo"] = round(figures[side]["updates_per_s"] / echo_rate, 3)
    if "question" in figures:
        result["question_vs_echo"] = round(figures["question"]["updates_per_s"] / echo_rate, 3)
        for kind, _ in QUESTION_STEPS:
            result[f"question_{kind}_vs_echo"] = round(figures["question"][f"{kind}_updates_per_s"] / echo_rate, 3)
    result["rounds_updates_per_s"] = {side: [round(run["updates_per_s"], 1) for run in side_runs] for side, side_runs in runs.items()}
    if "paced" in runs:
        result["rounds_question_p99_ms"] = [round(run["p99_ms"], 1) for run in runs["paced"]]
    if cohorts.asking:
        result["tickets_checked"] = sum(len(cohort) for cohort in cohorts.asking)
        if problems := await verify_tickets(settings, cohorts):
            log(json.dumps(result))
            raise SystemExit("the asking parents' tickets are not what their steps should have left:\n" + "\n".join(problems))
    return result


async def main(args) -> dict:
    sides = ["echo", "menu"] + ([] if args.no_start else ["start"]) + ([] if args.no_questions else ["question"])
    paced_parents = 0 if args.no_questions or args.no_paced else -(-args.paced_updates // len(QUESTION_STEPS))
    if paced_parents:
        sides.append("paced")
    cohorts = Cohorts.of(args.parents, args.rounds, not args.no_questions, paced_parents)
    started = time.perf_counter()
    emulator = EmulatorProcess(cohorts.everyone)
    try:
        with tempfile.TemporaryDirectory(prefix="vmeste-bench-") as folder:
            if args.postgres:
                async with throwaway_postgres(args.postgres) as database_url:
                    result = await run(emulator, database_url, cohorts, args.rounds, sides, args.paced_rate)
            else:
                result = await run(emulator, f"sqlite+aiosqlite:///{folder}/vmeste.db", cohorts, args.rounds, sides, args.paced_rate)
    finally:
        rejected = emulator.close()
    load = os.getloadavg()
    return {
        **result,
        "parents": args.parents,
        "rounds": args.rounds,
        "paced_rate": args.paced_rate if paced_parents else None,
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
    parser.add_argument("--no-questions", action="store_true", help="skip the asking parents (their bursts and the paced run)")
    parser.add_argument("--no-paced", action="store_true", help="skip the questions sent at a steady rate")
    parser.add_argument("--paced-rate", type=float, default=100.0, metavar="PER_S", help="the steady rate of the paced questions' updates")
    parser.add_argument("--paced-updates", type=int, default=2000, help="how many updates the paced run sends (a quarter as many parents)")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to run on (a throw-away database) instead of a SQLite file")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(json.dumps(asyncio.run(main(arguments))))
