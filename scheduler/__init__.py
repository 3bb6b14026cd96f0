"""Periodic ticks. The jobs only ask the database what is due; nothing lives in the job store."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

from aiogram import Bot
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.content import Content
from bot.services.chat_activity import ActivityCounter
from bot.services.updates import prune_processed
from scheduler.chats import check_rights, roll_office_hours, tidy_chats
from scheduler.consultations import watch_questions
from scheduler.courses import deliver_lessons
from scheduler.reports import send_reports
from scheduler.surveys import ask_surveys, plan_missing_waves

log = logging.getLogger(__name__)

# Telegram re-sends an unconfirmed update for at most a day; after that its id is only clutter.
PROCESSED_UPDATES_KEPT = timedelta(days=2)


def build_scheduler(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    bots: Mapping[str, Bot] | None = None,
    content: Content | None = None,
    settings: Settings | None = None,
    wake: Callable[[], None] | None = None,
    activity: ActivityCounter | None = None,
) -> AsyncIOScheduler:
    """APScheduler only says when to look (in real time); what is due is asked of `clock`. The
    watch over consultations and the lesson tick need the bots, the content and the settings;
    `wake` tells the delivery engine that lessons were queued."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        prune_processed_updates, "interval", hours=1, args=[sessionmaker, clock], id="prune_processed_updates", coalesce=True, max_instances=1
    )
    if bots is not None and content is not None and settings is not None:
        scheduler.add_job(
            watch_questions, "interval", minutes=1, args=[sessionmaker, bots, content, settings, clock], id="watch_questions", coalesce=True, max_instances=1
        )
        scheduler.add_job(
            deliver_lessons, "interval", minutes=1, args=[sessionmaker, content, settings, clock, list(bots), wake], id="deliver_lessons",
            coalesce=True, max_instances=1,
        )
        scheduler.add_job(
            ask_surveys, "interval", minutes=1, args=[sessionmaker, content, settings, clock, list(bots), wake], id="ask_surveys",
            coalesce=True, max_instances=1,
        )
        scheduler.add_job(
            plan_missing_waves, "interval", hours=1, args=[sessionmaker, content, clock], id="plan_missing_waves", coalesce=True, max_instances=1,
            next_run_time=clock.now() + timedelta(minutes=1),
        )
        scheduler.add_job(  # the monthly and annual reports to the heads, when due (scheduler/reports.py)
            send_reports, "interval", minutes=5, args=[sessionmaker, bots, content, settings, clock], id="send_reports", coalesce=True, max_instances=1
        )
        scheduler.add_job(
            roll_office_hours, "interval", minutes=1, args=[sessionmaker, content, settings, clock], id="roll_office_hours", coalesce=True, max_instances=1
        )
    if bots is not None and activity is not None:
        hours = settings.chat_newcomer_hours if settings is not None else 24
        scheduler.add_job(tidy_chats, "interval", minutes=1, args=[sessionmaker, bots, activity, clock, hours], id="tidy_chats", coalesce=True, max_instances=1)
    if bots is not None and content is not None:  # at start, then every six hours: a coordinator hears what the bot lacks
        scheduler.add_job(
            check_rights, "interval", hours=6, args=[sessionmaker, bots, content], id="check_rights", coalesce=True, max_instances=1,
            next_run_time=clock.now() + timedelta(seconds=30),
        )
    return scheduler


async def prune_processed_updates(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> int:
    async with sessionmaker() as session:
        removed = await prune_processed(session, PROCESSED_UPDATES_KEPT, (clock or SystemClock()).now())
        await session.commit()
    log.info("pruned %d processed update ids", removed)
    return removed
