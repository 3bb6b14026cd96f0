"""The outbox tables: fill a campaign's rows, claim due rows, record what happened, count progress.

Every function takes a session and leaves the commit to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, Campaign, OutboxMessage, utcnow
from bot.services.audiences import recipients

OPEN = ("pending", "sending")
CLOSED = ("sent", "unreachable", "failed", "cancelled")


@dataclass(frozen=True)
class Claimed:
    id: int
    campaign_id: int
    account_id: int
    chat_id: int
    attempts: int


@dataclass
class Outcome:
    """What one attempt did to a row; status "pending" means try again at `retry_at`."""

    row: Claimed
    status: str
    message_id: int | None = None
    error: str | None = None
    retry_at: datetime | None = None
    attempts: int = field(default=0)


@dataclass(frozen=True)
class Progress:
    sent: int = 0
    unreachable: int = 0
    failed: int = 0
    left: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.unreachable + self.failed + self.left + self.cancelled

    @property
    def done(self) -> int:
        return self.sent + self.unreachable + self.failed


async def enqueue(session: AsyncSession, campaign: Campaign, platforms: Iterable[str]) -> int:
    """A pending row for everyone in the campaign's audience reachable on one of `platforms`
    (the messengers this instance serves), in one INSERT ... SELECT."""
    audience = recipients(campaign.audience, platforms).subquery()
    now = utcnow()
    rows = select(
        literal(campaign.id), audience.c.person_id, audience.c.id, audience.c.platform, audience.c.external_id,
        literal("pending"), literal(0), literal(now, OutboxMessage.next_attempt_at.type),
    )
    columns = ["campaign_id", "person_id", "account_id", "platform", "chat_id", "status", "attempts", "next_attempt_at"]
    result = await session.execute(insert(OutboxMessage).from_select(columns, rows))
    return result.rowcount


async def claim(session: AsyncSession, platform: str, limit: int, lease_seconds: float) -> list[Claimed]:
    """Take up to `limit` due rows of running campaigns. A row stays claimed for the lease; an
    instance killed mid-send leaves rows whose lease runs out, and they are due again."""
    now = utcnow()
    due = (
        select(OutboxMessage.id)
        .join(Campaign, Campaign.id == OutboxMessage.campaign_id)
        .where(
            OutboxMessage.platform == platform,
            Campaign.status == "sending",
            or_(
                and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
            ),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutboxMessage)  # several instances on PostgreSQL
    )
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due))
        .values(status="sending", lease_until=now + timedelta(seconds=lease_seconds))
        .returning(OutboxMessage.id, OutboxMessage.campaign_id, OutboxMessage.account_id, OutboxMessage.chat_id, OutboxMessage.attempts)
    )
    rows = [Claimed(*row) for row in await session.execute(statement)]
    return sorted(rows, key=lambda row: row.id)


async def next_due(session: AsyncSession, platform: str) -> datetime | None:
    """When the earliest waiting row of a running campaign falls due."""
    return await session.scalar(
        select(func.min(OutboxMessage.next_attempt_at))
        .join(Campaign, Campaign.id == OutboxMessage.campaign_id)
        .where(OutboxMessage.platform == platform, OutboxMessage.status == "pending", Campaign.status == "sending")
    )


async def record(session: AsyncSession, outcomes: list[Outcome]) -> None:
    """Write a batch of outcomes (one executemany), and mark refusing accounts unreachable."""
    if not outcomes:
        return
    now = utcnow()
    values = [
        {
            "id": outcome.row.id,
            "status": outcome.status,
            "attempts": outcome.attempts,
            "next_attempt_at": outcome.retry_at or now,
            "lease_until": None,
            "message_id": outcome.message_id,
            "error": outcome.error[:255] if outcome.error else None,
            "sent_at": now if outcome.status == "sent" else None,
        }
        for outcome in outcomes
    ]
    await session.execute(update(OutboxMessage), values)
    unreachable = {outcome.row.account_id for outcome in outcomes if outcome.status == "unreachable"}
    if unreachable:
        await session.execute(update(Account).where(Account.id.in_(unreachable)).values(unreachable_since=now))


async def progress(session: AsyncSession, campaign_ids: list[int]) -> dict[int, Progress]:
    """Rows per status for each campaign, in one GROUP BY."""
    counts: dict[int, dict[str, int]] = {campaign_id: {} for campaign_id in campaign_ids}
    rows = await session.execute(
        select(OutboxMessage.campaign_id, OutboxMessage.status, func.count())
        .where(OutboxMessage.campaign_id.in_(campaign_ids))
        .group_by(OutboxMessage.campaign_id, OutboxMessage.status)
    )
    for campaign_id, status, number in rows:
        counts[campaign_id][status] = number
    return {
        campaign_id: Progress(
            sent=found.get("sent", 0),
            unreachable=found.get("unreachable", 0),
            failed=found.get("failed", 0),
            left=found.get("pending", 0) + found.get("sending", 0),
            cancelled=found.get("cancelled", 0),
        )
        for campaign_id, found in counts.items()
    }


async def in_flight(session: AsyncSession, campaign_id: int) -> int:
    """Rows an instance is sending right now (their lease has not run out)."""
    return await session.scalar(
        select(func.count()).where(OutboxMessage.campaign_id == campaign_id, OutboxMessage.status == "sending", OutboxMessage.lease_until >= utcnow())
    ) or 0


async def cancel_waiting(session: AsyncSession, campaign_id: int) -> None:
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.campaign_id == campaign_id, OutboxMessage.status.in_(OPEN)).values(status="cancelled", lease_until=None)
    )
