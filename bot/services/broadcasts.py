"""Coordinators' broadcasts: a draft campaign composed step by step, then scheduled, sent, cancelled."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Campaign, CampaignKind, CampaignStatus, Person, as_utc
from bot.delivery.outbox import Progress, progress
from bot.lengths import BUTTON_LABEL_LIMIT, TELEGRAM_LIMITS, visible_text
from bot.services.audiences import ALL_PARENTS, count_recipients

# Telegram's limits, stricter than VK's (UTF-16 units count an emoji as two): a broadcast fits both
TEXT_LIMIT = TELEGRAM_LIMITS.message
CAPTION_LIMIT = TELEGRAM_LIMITS.caption  # the text under a photo, video or document
BUTTON_LIMIT = 3
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%d.%m %H:%M", "%H:%M")


async def start_draft(session: AsyncSession, person: Person, platform: str, chat_id: int) -> Campaign:
    """A fresh draft for all parents; an unfinished earlier draft of the same person is dropped."""
    await session.execute(delete(Campaign).where(Campaign.created_by == person.id, Campaign.status == CampaignStatus.draft))
    draft = Campaign(
        kind=CampaignKind.broadcast, status=CampaignStatus.draft, created_by=person.id, audience=dict(ALL_PARENTS),
        origin_platform=platform, origin_chat_id=chat_id, media_ids={}, buttons=[],
    )
    session.add(draft)
    await session.flush()
    return draft


async def find_draft(session: AsyncSession, person: Person, campaign_id: int | None = None) -> Campaign | None:
    """The person's own draft (this one, if an id is given)."""
    query = select(Campaign).where(Campaign.created_by == person.id, Campaign.status == CampaignStatus.draft)
    if campaign_id is not None:
        query = query.where(Campaign.id == campaign_id)
    return await session.scalar(query.order_by(Campaign.id.desc()).limit(1))


def text_problem(draft: Campaign, text: str, has_media: bool) -> str | None:
    """The locale key of what is wrong with this HTML text, or None. The length is the visible
    text's, as Telegram counts it (`&amp;` is one character, an emoji two)."""
    visible = visible_text(text)
    if not visible.strip() and not has_media:
        return "broadcast.text_empty"
    return None if TELEGRAM_LIMITS.fits(visible, caption=has_media) else "broadcast.text_too_long"


def text_length(text: str) -> int:
    """The length the limits are counted in, for the coordinator's card."""
    return TELEGRAM_LIMITS.measure(visible_text(text))


def parse_button(text: str) -> tuple[str, str] | None:
    """"Label - https://example.org" (or with | between them) as (label, url)."""
    for separator in (" | ", " - ", "|"):
        label, found, url = text.rpartition(separator)
        label, url = label.strip(), url.strip()
        if found and label and len(label) <= BUTTON_LABEL_LIMIT and is_link(url):
            return label, url
    return None


def is_link(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and "." in parsed.netloc and " " not in url


def toggle(draft: Campaign, criterion: str, value: str) -> None:
    audience = {name: list(values) for name, values in draft.audience.items()}
    chosen = audience.setdefault(criterion, [])
    chosen.remove(value) if value in chosen else chosen.append(value)
    draft.audience = {name: values for name, values in audience.items() if values}  # reassigned: JSON is not tracked in place


def parse_time(text: str, timezone: str, now: datetime) -> datetime | None:
    """A local date and time (or only a time: the next one) as UTC; None if it is not one or is past."""
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    for pattern in TIME_FORMATS:
        try:
            parsed = datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
        if pattern == "%H:%M":
            moment = local_now.replace(hour=parsed.hour, minute=parsed.minute, second=0, microsecond=0)
            moment += timedelta(days=1) if moment <= local_now else timedelta()
        else:
            year = parsed.year if "%Y" in pattern else local_now.year
            moment = parsed.replace(year=year, tzinfo=zone)
        return moment.astimezone(now.tzinfo) if moment > local_now else None
    return None


def confirm(draft: Campaign, now: datetime) -> None:
    """The draft becomes a campaign the delivery engine starts at send_at (now if not set, or if
    the chosen time passed while the coordinator looked at the screen)."""
    if draft.send_at is not None and as_utc(draft.send_at) <= now:
        draft.send_at = None
    draft.status = CampaignStatus.scheduled
    draft.send_at = draft.send_at or now


def cancel(campaign: Campaign, now: datetime) -> bool:
    """Stop a scheduled or running campaign; messages already in flight still arrive."""
    if campaign.status not in (CampaignStatus.scheduled, CampaignStatus.sending):
        return False
    if campaign.status == CampaignStatus.scheduled:
        campaign.finished_at = now  # nothing was queued: it is over at once
    campaign.status = CampaignStatus.cancelled
    return True


async def recent(session: AsyncSession, limit: int = 10) -> list[tuple[Campaign, Progress]]:
    campaigns = (
        await session.scalars(
            select(Campaign).where(Campaign.kind == CampaignKind.broadcast, Campaign.status != CampaignStatus.draft).order_by(Campaign.id.desc()).limit(limit)
        )
    ).all()
    figures = await progress(session, [campaign.id for campaign in campaigns])
    return [(campaign, figures[campaign.id]) for campaign in campaigns]


async def figures(session: AsyncSession, campaign_id: int) -> Progress:
    return (await progress(session, [campaign_id]))[campaign_id]


async def audience_size(session: AsyncSession, draft: Campaign, platforms: Iterable[str] | None = None) -> int:
    return await count_recipients(session, draft.audience, platforms)
