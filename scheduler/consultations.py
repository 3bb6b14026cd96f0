"""The watch over consultations: nobody waits unseen. Each minute (on the app's clock) the tick asks
the database what fell due: unclaimed past the specialty's target (the heads and the specialty are
told), claimed and unanswered past it (the specialist is reminded), and, a period later, back to
the queue. The timers are columns, so a restart loses none; a conditional UPDATE takes each, so
with several instances only one tells anybody."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.consultation_content import Specialty
from bot.content import Content
from bot.db.models import as_utc
from bot.services.consultations import Overdue, overdue
from handlers.consultations.notices import family_label, reader, send_notice, staff_to_alert, tell_staff

log = logging.getLogger(__name__)


def return_period(settings: Settings) -> ReturnPeriod:
    return ReturnPeriod(settings.consultation_return_minutes)


class ReturnPeriod:
    """CONSULTATION_RETURN_MINUTES: how long after the reminder a question goes back to the queue
    (unset: the specialty's target again; 0: never)."""

    def __init__(self, minutes: int | None) -> None:
        self.minutes = minutes

    def __call__(self, specialty: Specialty) -> timedelta | None:
        if self.minutes is None:
            return specialty.target
        return timedelta(minutes=self.minutes) if self.minutes else None


async def watch_questions(
    sessionmaker: async_sessionmaker[AsyncSession], bots: Mapping[str, Bot], content: Content, settings: Settings, clock: Clock
) -> Overdue:
    now = clock.now()
    specialty_of = {specialty.id: specialty for specialty in content.specialties}
    async with sessionmaker() as session:
        due = await overdue(session, specialty_of, return_period(settings), now)
        await session.commit()  # taken: another instance's tick finds nothing of it
        for ticket in due.unclaimed:
            minutes = int((now - as_utc(ticket.created_at)).total_seconds() // 60)
            await tell_staff(session, bots, content, staff_to_alert(ticket), "alert.unclaimed", id=ticket.id, specialty=ticket.specialty, waited=minutes)
        for ticket in due.unanswered:
            found = await reader(session, content, ticket.assignee_account_id)
            if found is not None:
                account, l10n = found
                await send_notice(bots, account, l10n("alert.remind", id=ticket.id, family=family_label(l10n, ticket)))
        for ticket in due.returned:
            await tell_staff(session, bots, content, staff_to_alert(ticket), "alert.returned", id=ticket.id, specialty=ticket.specialty)
    if due.unclaimed or due.unanswered or due.returned:
        log.info("questions overdue: %d unclaimed, %d reminded, %d back in the queue", len(due.unclaimed), len(due.unanswered), len(due.returned))
    return due
