"""The lesson tick: each minute (on the app's clock) the due enrolments' lessons go into the
delivery outbox, and, when COURSE_REMINDER_DAYS is set, one reminder for each lesson left
untouched that long. What is due is asked of the database, so a restart loses nothing: lessons
due while the bot was down go out on the first tick after it (outside the quiet hours)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.content import Content
from bot.services import lesson_delivery
from bot.services.lesson_delivery import Delivered
from handlers.courses.catalog import quiet_of
from handlers.courses.common import renderer

log = logging.getLogger(__name__)


async def deliver_lessons(
    sessionmaker: async_sessionmaker[AsyncSession],
    content: Content,
    settings: Settings,
    clock: Clock,
    platforms: Iterable[str],
    wake: Callable[[], None] | None = None,
) -> Delivered:
    now, platforms = clock.now(), list(platforms)
    by_id = {course.id: course for course in content.courses}
    quiet = quiet_of(settings)
    tracked = bool(settings.public_url)
    async with sessionmaker() as session:
        due = await lesson_delivery.due_enrolments(session, platforms, now)
        delivered = await lesson_delivery.deliver(session, due, by_id, renderer(content, tracked), quiet, now=now)
        reminded = 0
        if settings.course_reminder_days:
            reminded = await lesson_delivery.remind_unopened(
                session, by_id, renderer(content, tracked, reminder=True), quiet, platforms, settings.course_reminder_days, now=now
            )
        await session.commit()
    if delivered.lessons or reminded:
        if wake is not None:
            wake()
        log.info("lessons queued: %d (%d deferred past the quiet hours, %d unreachable); reminders: %d",
                 delivered.lessons, delivered.deferred, delivered.unreachable, reminded)
    return delivered
