"""The delivery engine: starts due campaigns, drains the outbox per platform, reports progress.

It runs beside the update loops for as long as the bot serves. Everything it knows is in the
database: a restart (or a SIGKILL) loses at most the outcomes of the calls in flight and of those
answered while the last outcomes were being written; those rows are claimed again when their
lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot
from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db.models import Campaign, CampaignStatus, OutboxStatus, as_utc
from bot.delivery import outbox
from bot.delivery.outbox import Claimed, Outcome, Progress
from bot.delivery.senders import Payload, Sender, build_senders
from bot.platforms import sleep_unless

log = logging.getLogger(__name__)
CONTROL_SECONDS = 0.5  # how often due campaigns are started and finished ones closed
FLUSH_SECONDS = 0.2  # how often learnt media ids are written when no outcomes arrive
WRITE_GAP_SECONDS = 0.02  # between two writes of outcomes: at most 50 small transactions a second
CLAIM_LIMIT = 1000
IDLE_SECONDS = 5.0  # an idle drain's look at the outbox, for rows leased by a run that died
# Claims fetched ahead of the sends (about 2 s of sending at full speed): while the sends keep the
# event loop busy, each database round trip waits its turn and a claim can take half a second;
# the sends must not run dry meanwhile.
CLAIMED_AHEAD = 8

# (campaign, its figures, finished?) -> show them to whoever is watching (a broadcast's status message)
Reporter = Callable[[Campaign, Progress, bool], Awaitable[None]]


class DeliveryEngine:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], bots: dict[str, Bot], settings: Settings, reporters: dict[str, Reporter] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.sessionmaker, self.settings = sessionmaker, settings
        self.clock = clock or SystemClock()  # wall time: when campaigns and retries fall due; pacing keeps the loop's monotonic time
        self.senders = build_senders(bots, settings, self.clock)
        self.reporters = reporters or {}
        self.concurrency = settings.delivery_concurrency
        self.payloads: dict[int, Payload] = {}
        self.outcomes: list[Outcome] = []
        self.outcomes_waiting = asyncio.Event()
        # The engine's own writes take turns: on SQLite a second writer would wait in SQLite's busy
        # handler, which sleeps in steps of up to 100 ms while the sends run dry.
        self.writing = asyncio.Lock()
        self.wakeup = asyncio.Event()
        self.control_wakeup = asyncio.Event()
        self.last_report: dict[int, float] = {}

    def register_reporter(self, kind: str, reporter: Reporter) -> None:
        """A feature shows its campaigns' progress its own way (a broadcast edits a status message)."""
        self.reporters[kind] = reporter

    def wake(self) -> None:
        """Something became due (a campaign confirmed): look now rather than at the next tick."""
        self.wakeup.set()
        self.control_wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        loops = [self.control(stop), self.flush_loop(stop), *(self.drain(sender, stop) for sender in self.senders.values())]
        await asyncio.gather(*loops)
        await self.flush()  # the outcomes of the last calls, which every drain has awaited

    # campaigns

    async def control(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.control_wakeup.clear()
            try:
                await self.start_due()
                await self.watch_running()
            except Exception:
                log.exception("delivery control tick failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CONTROL_SECONDS):
                    await _first(self.control_wakeup.wait(), stop.wait())

    async def start_due(self) -> None:
        """Scheduled campaigns whose time has come get their rows; the audience is taken now."""
        async with self.sessionmaker() as session:
            due_now = select(Campaign.id).where(Campaign.status == CampaignStatus.scheduled, Campaign.send_at <= self.clock.now())
            due = (await session.scalars(due_now)).all()
        for campaign_id in due:
            async with self.sessionmaker() as session:
                now = self.clock.now()
                take = update(Campaign).where(Campaign.id == campaign_id, Campaign.status == CampaignStatus.scheduled)
                taken = await session.execute(take.values(status=CampaignStatus.sending, started_at=now))
                assert isinstance(taken, CursorResult)
                if taken.rowcount != 1:
                    continue  # another instance took it
                count = await outbox.enqueue(session, await session.get_one(Campaign, campaign_id), self.senders, now)
                await session.commit()
            log.info("campaign %s started: %s recipients", campaign_id, count)
            self.wake()

    async def watch_running(self) -> None:
        async with self.sessionmaker() as session:
            # a standing campaign (a lesson's: it has a key) is never over: it gains rows as families reach the lesson
            unfinished = select(Campaign).where(
                Campaign.status.in_((CampaignStatus.sending, CampaignStatus.cancelled)), Campaign.finished_at.is_(None), Campaign.key.is_(None)
            )
            running = (await session.scalars(unfinished)).all()
            if not running:
                return
            figures = await outbox.progress(session, [campaign.id for campaign in running])
            for campaign in running:
                if campaign.status == CampaignStatus.cancelled and campaign.id in self.payloads:
                    self.payloads[campaign.id].cancelled = True
                finished = await self.finish_if_over(session, campaign, figures[campaign.id])
                if finished:
                    figures[campaign.id] = (await outbox.progress(session, [campaign.id]))[campaign.id]
                await session.commit()
                await self.report(campaign, figures[campaign.id], finished)

    async def finish_if_over(self, session: AsyncSession, campaign: Campaign, figures: Progress) -> bool:
        now = self.clock.now()
        if campaign.status == CampaignStatus.sending and figures.left == 0:
            campaign.status = CampaignStatus.done
        elif campaign.status == CampaignStatus.cancelled and await outbox.in_flight(session, campaign.id, now) == 0:
            await outbox.cancel_waiting(session, campaign.id)
        else:
            return False
        campaign.finished_at = now
        self.payloads.pop(campaign.id, None)
        self.last_report.pop(campaign.id, None)
        return True

    async def report(self, campaign: Campaign, figures: Progress, finished: bool) -> None:
        reporter = self.reporters.get(campaign.kind)
        now = asyncio.get_running_loop().time()
        if reporter is None or (not finished and now - self.last_report.get(campaign.id, 0) < self.settings.delivery_progress_seconds):
            return
        self.last_report[campaign.id] = now
        try:
            await reporter(campaign, figures, finished)
        except Exception:
            log.exception("reporting the progress of campaign %s failed", campaign.id)

    # sending

    async def drain(self, sender: Sender, stop: asyncio.Event) -> None:
        """`concurrency` workers send the chunks the claimer fetched ahead of them (CLAIMED_AHEAD
        claims' worth at most), so the calls never wait for the database."""
        limit = min(sender.claim_size(self.concurrency), CLAIM_LIMIT)
        refill_below = (CLAIMED_AHEAD - 1) * max(1, limit // sender.batch_size)
        queue = Claims(refill_below)
        workers = [asyncio.create_task(self.work(sender, queue, stop)) for _ in range(self.concurrency)]
        await self.claim_ahead(sender, limit, queue, stop)
        await asyncio.gather(*workers)

    async def claim_ahead(self, sender: Sender, limit: int, queue: Claims, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await queue.room.wait()
            rows = await self.claim(sender.platform, limit)
            if not rows:
                await self.idle(sender.platform, stop)
            queue.add(await self.chunks(rows, sender.batch_size))
        queue.add([None] * self.concurrency)  # a worker's signal to end

    async def work(self, sender: Sender, queue: Claims, stop: asyncio.Event) -> None:
        """Send chunk after chunk; once stopping, hand the rest back unsent."""
        while (chunk := await queue.take()) is not None:
            payload, rows = chunk
            if stop.is_set():
                self.release(rows)
            else:
                await self.send(sender, payload, rows)

    def release(self, rows: list[Claimed]) -> None:
        """Claimed but not sent (shutting down): due again at once, at no cost of an attempt."""
        now = self.clock.now()
        self.outcomes.extend(Outcome(row, OutboxStatus.pending, now, attempts=row.attempts) for row in rows)

    async def claim(self, platform: str, limit: int) -> list[Claimed]:
        try:
            async with self.writing, self.sessionmaker() as session:
                rows = await outbox.claim(session, platform, limit, self.settings.delivery_lease_seconds, self.clock.now())
                await session.commit()
            return rows
        except Exception:
            log.exception("claiming %s outbox rows failed", platform)
            return []

    async def chunks(self, rows: list[Claimed], size: int) -> list[tuple[Payload, list[Claimed]]]:
        """Rows grouped by campaign, `size` to a call."""
        by_campaign: dict[int, list[Claimed]] = {}
        for row in rows:
            by_campaign.setdefault(row.campaign_id, []).append(row)
        chunks = []
        for campaign_id, campaign_rows in by_campaign.items():
            payload = await self.payload(campaign_id)
            chunks += [(payload, campaign_rows[start : start + size]) for start in range(0, len(campaign_rows), size)]
        return chunks

    async def payload(self, campaign_id: int) -> Payload:
        if campaign_id not in self.payloads:
            async with self.sessionmaker() as session:
                loaded = Payload.of(await session.get_one(Campaign, campaign_id))  # its rows are in the outbox: it exists
            # another platform's claimer may have loaded it meanwhile, and learnt a file id on it already
            self.payloads.setdefault(campaign_id, loaded)
        return self.payloads[campaign_id]

    async def send(self, sender: Sender, payload: Payload, rows: list[Claimed]) -> None:
        try:
            outcomes = await sender.send(payload, rows)
        except Exception as error:  # a bug in a sender: fail these rows loudly rather than loop on them
            log.exception("sending campaign %s failed", payload.campaign_id)
            outcomes = [sender.policy.outcome(row, error, self.clock.now()) for row in rows]
        self.outcomes.extend(outcomes)  # after the await: flush() may have swapped the list meanwhile
        self.outcomes_waiting.set()

    async def idle(self, platform: str, stop: asyncio.Event) -> None:
        """Wait for a wake-up, the next retry falling due or a second, whichever comes first; with
        no row waiting at all, for a wake-up (a campaign started) or IDLE_SECONDS."""
        self.wakeup.clear()
        async with self.sessionmaker() as session:
            due = await outbox.next_due(session, platform)
        seconds = IDLE_SECONDS if due is None else min(max((as_utc(due) - self.clock.now()).total_seconds(), 0.05), 1.0)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await _first(self.wakeup.wait(), stop.wait())

    # writing outcomes

    async def flush_loop(self, stop: asyncio.Event) -> None:
        """Outcomes are written a moment after the previous write is done (what arrived meanwhile
        goes in one write), so a kill loses only the outcomes of the last moment: those messages
        go out again on restart."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_SECONDS):
                    await _first(self.outcomes_waiting.wait(), stop.wait())
            self.outcomes_waiting.clear()
            await self.flush()
            await sleep_unless(stop, WRITE_GAP_SECONDS)

    async def flush(self) -> None:
        outcomes, self.outcomes = self.outcomes, []
        learnt = [payload for payload in self.payloads.values() if payload.learnt]
        if not outcomes and not learnt:
            return
        try:
            async with self.writing, self.sessionmaker() as session:
                await outbox.record(session, outcomes, self.clock.now())
                for payload in learnt:
                    await session.execute(update(Campaign).where(Campaign.id == payload.campaign_id).values(media_ids=payload.media_ids))
                    payload.learnt = False
                await session.commit()
        except Exception:
            log.exception("writing %s delivery outcomes failed; retrying", len(outcomes))
            self.outcomes = outcomes + self.outcomes


Chunk = tuple[Payload, list[Claimed]]


class Claims:
    """The claimed chunks waiting for a worker. The claimer refills it once fewer than
    `refill_below` wait (`room`), a whole claim at a time: a bounded queue would wake the claimer
    for every chunk a worker takes, a loop turn per message."""

    def __init__(self, refill_below: int) -> None:
        self.chunks: asyncio.Queue[Chunk | None] = asyncio.Queue()
        self.refill_below = refill_below
        self.room = asyncio.Event()
        self.room.set()

    def add(self, chunks: list[Chunk] | list[None]) -> None:
        for chunk in chunks:
            self.chunks.put_nowait(chunk)
        if self.chunks.qsize() >= self.refill_below:
            self.room.clear()

    async def take(self) -> Chunk | None:
        chunk = await self.chunks.get()
        if self.chunks.qsize() < self.refill_below:
            self.room.set()
        return chunk


async def _first(*awaitables: Awaitable) -> None:
    """Until the first of them is done (the caller bounds it with asyncio.timeout); the rest are cancelled."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
