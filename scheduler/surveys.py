"""The survey ticks. Each minute (on the app's clock): quality surveys planned after the latest
closed consultations and finished courses, unfinished waves expired, and the due waves' first
questions put into the delivery outbox. Every hour (and soon after start): the waves of parents
who have none yet. What is due is asked of the database, so a restart loses nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.content import Content
from bot.services.surveys.asking import Asked, ask_due
from bot.services.surveys.planning import plan_missing_waves as plan_missing
from bot.services.surveys.planning import plan_quality
from handlers.courses.catalog import quiet_of
from handlers.surveys.common import renderer

log = logging.getLogger(__name__)


async def ask_surveys(
    sessionmaker: async_sessionmaker[AsyncSession],
    content: Content,
    settings: Settings,
    clock: Clock,
    platforms: Iterable[str],
    wake: Callable[[], None] | None = None,
) -> Asked:
    now = clock.now()
    by_id = {survey.id: survey for survey in content.surveys}
    async with sessionmaker() as session:
        planned = await plan_quality(session, content.surveys, now=now)
        asked = await ask_due(session, by_id, renderer(content), quiet_of(settings), settings.default_timezone, platforms, now=now)
        await session.commit()
    if asked.asked and wake is not None:
        wake()
    if planned or asked.asked or asked.expired or asked.missed or asked.cancelled:
        log.info("surveys: %d quality planned, %d asked (%d waiting), %d expired, %d missed, %d cancelled",
                 planned, asked.asked, asked.waiting, asked.expired, asked.missed, asked.cancelled)
    return asked


async def plan_missing_waves(sessionmaker: async_sessionmaker[AsyncSession], content: Content, clock: Clock) -> int:
    async with sessionmaker() as session:
        planned = await plan_missing(session, content.surveys, now=clock.now())
        await session.commit()
    if planned:
        log.info("survey waves planned for %d parents who had none", planned)
    return planned
