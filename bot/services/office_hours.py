"""Specialists' office hours in the parent chats: a coordinator names the chat, the specialty
(perhaps the specialist) and the time; the chat is told the day before and reminded an hour before.
Each notice is a chat_notice campaign the delivery engine sends at its time, so the notices survive
restarts and go out once whichever instance sends them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat_content import ThemedChat
from bot.consultation_content import Specialty
from bot.content import Content, Texts
from bot.db.models import Campaign, CampaignKind, CampaignStatus, OfficeHour, Person, as_utc
from bot.delivery.outbox import GROUP
from bot.services.events import EventKind, record_event

ANNOUNCE_BEFORE = timedelta(days=1)
REMIND_BEFORE = timedelta(hours=1)
WEEK = timedelta(days=7)


class Notice(StrEnum):
    announcement = "announcement"
    reminder = "reminder"
    cancelled = "cancelled"


NOTICE_KEYS = {Notice.announcement: "office.announcement", Notice.reminder: "office.reminder", Notice.cancelled: "office.cancelled_notice"}


@dataclass(frozen=True)
class Hosting:
    """What an office hour's notices name: where, which specialty, who (if chosen)."""

    chat: ThemedChat
    specialty: Specialty
    host: Person | None

    def who(self, language: str) -> str:
        """The specialty, and the specialist's name if one is named: plain text (texts escape their values)."""
        name = self.host.display_name if self.host is not None else None
        return " · ".join(part for part in (self.specialty.label(language), name) if part)

    def notice(self, kind: Notice, starts_at: datetime, l10n: Texts) -> str:
        return l10n(NOTICE_KEYS[kind], who=self.who(l10n.language), when=l10n.date_time(starts_at), time=l10n.time(starts_at))


async def hosting_of(session: AsyncSession, hour: OfficeHour, content: Content) -> Hosting | None:
    """The chat and specialty as the content has them now; None if either left it (or the chat is disconnected)."""
    chat, specialty = Content.find(content.chats, hour.chat), content.specialty(hour.specialty)
    if chat is None or not chat.connected or specialty is None:
        return None
    host = await session.get(Person, hour.host_id) if hour.host_id is not None else None
    return Hosting(chat, specialty, host)


async def schedule(session: AsyncSession, hosting: Hosting, starts_at: datetime, weekly: bool, by: Person, l10n: Texts, now: datetime) -> OfficeHour:
    """The office hour and its two notices, in the coordinator's transaction; the one already there
    if this chat has one at that time (a double tap, or a colleague quicker by a moment)."""
    await session.execute(select(Person.id).where(Person.id == by.id).with_for_update())  # PostgreSQL: a double tap waits for the first
    same = OfficeHour.chat == hosting.chat.id, OfficeHour.starts_at == starts_at, OfficeHour.cancelled_at.is_(None)
    if (existing := await session.scalar(select(OfficeHour).where(*same))) is not None:
        return existing
    hour = OfficeHour(chat=hosting.chat.id, specialty=hosting.specialty.id, host_id=hosting.host.id if hosting.host else None,
                      starts_at=starts_at, weekly=weekly, created_by=by.id)
    session.add(hour)
    await plan_notices(session, hour, hosting, l10n, now)
    record_event(session, EventKind.office_hour_scheduled, at=now, person=by, object_type="chat", object_id=hosting.chat.id)
    return hour


async def plan_notices(session: AsyncSession, hour: OfficeHour, hosting: Hosting, l10n: Texts, now: datetime) -> None:
    """The announcement a day before (at once if that is past) and the reminder an hour before
    (none if the announcement itself comes within that hour)."""
    starts_at = as_utc(hour.starts_at)
    announce_at = max(now, starts_at - ANNOUNCE_BEFORE)
    announcement = _notice(hosting, Notice.announcement, starts_at, l10n, announce_at, hour.created_by)
    reminder = None
    if starts_at - REMIND_BEFORE > announce_at:
        reminder = _notice(hosting, Notice.reminder, starts_at, l10n, starts_at - REMIND_BEFORE, hour.created_by)
    session.add_all([campaign for campaign in (announcement, reminder) if campaign is not None])
    await session.flush()
    hour.announcement_id, hour.reminder_id = announcement.id, reminder.id if reminder else None


def _notice(hosting: Hosting, kind: Notice, starts_at: datetime, l10n: Texts, send_at: datetime, by: int | None) -> Campaign:
    group = {"platform": hosting.chat.platform, "chat_id": hosting.chat.chat_id}
    return Campaign(kind=CampaignKind.chat_notice, status=CampaignStatus.scheduled, created_by=by, text=hosting.notice(kind, starts_at, l10n),
                    audience={GROUP: group}, send_at=send_at)


async def upcoming(session: AsyncSession, now: datetime) -> list[OfficeHour]:
    """The office hours not yet begun and not cancelled, soonest first."""
    query = select(OfficeHour).where(OfficeHour.cancelled_at.is_(None), OfficeHour.starts_at > now).order_by(OfficeHour.starts_at, OfficeHour.id)
    return list(await session.scalars(query))


async def cancel(session: AsyncSession, hour: OfficeHour, hosting: Hosting | None, by: Person, l10n: Texts, now: datetime) -> bool:
    """Its notices not yet sent are cancelled; if the chat was already told, it is told of the
    cancellation at once. True if the chat is told."""
    hour.cancelled_at = now
    campaign_ids = [campaign_id for campaign_id in (hour.announcement_id, hour.reminder_id) if campaign_id is not None]
    stop = update(Campaign).where(Campaign.id.in_(campaign_ids), Campaign.status == CampaignStatus.scheduled)
    await session.execute(stop.values(status=CampaignStatus.cancelled, finished_at=now))
    announced = await session.scalar(select(Campaign.status).where(Campaign.id == hour.announcement_id)) not in (None, CampaignStatus.cancelled)
    record_event(session, EventKind.office_hour_cancelled, at=now, person=by, object_type="chat", object_id=hour.chat)
    if not announced or hosting is None:
        return False
    session.add(_notice(hosting, Notice.cancelled, as_utc(hour.starts_at), l10n, now, by.id))
    return True


async def roll_weekly(session: AsyncSession, content: Content, l10n: Texts, now: datetime) -> int:
    """Weekly office hours that have begun move on to their next week (past any weeks missed while
    the bot was down), with new notices; one whose chat or specialty left the content stops. The
    move is a compare-and-set, so a second instance's tick moves nothing again. How many moved."""
    moved = 0
    for hour in await session.scalars(select(OfficeHour).where(OfficeHour.weekly, OfficeHour.cancelled_at.is_(None), OfficeHour.starts_at <= now)):
        hosting = await hosting_of(session, hour, content)
        if hosting is None:
            hour.cancelled_at = now
            continue
        began = as_utc(hour.starts_at)
        weeks = (now - began) // WEEK + 1
        move = update(OfficeHour).where(OfficeHour.id == hour.id, OfficeHour.starts_at <= now).values(starts_at=began + weeks * WEEK)
        taken = await session.execute(move.execution_options(synchronize_session=False))  # refreshed below, if moved
        assert isinstance(taken, CursorResult)
        if taken.rowcount != 1:
            continue
        await session.refresh(hour)
        await plan_notices(session, hour, hosting, l10n, now)
        moved += 1
    return moved
