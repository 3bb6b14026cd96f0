"""The outbox tables: fill a campaign's rows, claim due rows, record what happened, count progress.

Every function takes a session and leaves the commit to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, func, insert, literal, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, Campaign, CampaignKind, CampaignStatus, OutboxMessage, OutboxStatus
from bot.db.upsert import insert_rows_or_nothing
from bot.services.audiences import recipients

# The hot statements use Core: no ORM bookkeeping per row. (A declarative class's __table__ is a
# Table; SQLAlchemy types it as the FromClause it may be for other mappings.)
_rows = cast(Table, OutboxMessage.__table__)
OPEN = (OutboxStatus.pending,)
CLOSED = (OutboxStatus.sent, OutboxStatus.unreachable, OutboxStatus.failed, OutboxStatus.cancelled)
GROUP = "group"  # a chat_notice's audience: {"group": {"platform": ..., "chat_id": ...}}


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    campaign_id: int
    account_id: int | None  # None: a group chat's row
    chat_id: int
    attempts: int


@dataclass(slots=True)
class Outcome:
    """What one attempt did to a row at `at` (when the platform answered: a sent row's sent_at);
    status pending means try again at `retry_at`."""

    row: Claimed
    status: OutboxStatus
    at: datetime
    message_id: int | None = None
    error: str | None = None
    retry_at: datetime | None = None
    attempts: int = 0


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


async def enqueue(session: AsyncSession, campaign: Campaign, platforms: Iterable[str], now: datetime) -> int:
    """A pending row for everyone in the campaign's audience reachable on one of `platforms`
    (the messengers this instance serves), due `now`, in one INSERT ... SELECT. A chat_notice has
    one row instead: its group's."""
    if campaign.kind == CampaignKind.chat_notice:
        return enqueue_group(session, campaign, platforms, now)
    audience = recipients(campaign.audience, platforms).subquery()
    rows = select(
        literal(campaign.id), audience.c.person_id, audience.c.id, audience.c.platform, audience.c.external_id,
        literal(OutboxStatus.pending.value), literal(0), literal(now, OutboxMessage.next_attempt_at.type),
    )
    columns = ["campaign_id", "person_id", "account_id", "platform", "chat_id", "status", "attempts", "next_attempt_at"]
    # an INSERT's result is a CursorResult (rowcount); AsyncSession.execute is typed as any Result
    result = cast(CursorResult[Any], await session.execute(insert(OutboxMessage).from_select(columns, rows)))
    return result.rowcount


def enqueue_group(session: AsyncSession, campaign: Campaign, platforms: Iterable[str], now: datetime) -> int:
    group = campaign.audience[GROUP]
    if group["platform"] not in platforms:
        return 0
    session.add(OutboxMessage(campaign_id=campaign.id, platform=group["platform"], chat_id=group["chat_id"], next_attempt_at=now))
    return 1


async def standing_campaigns(
    session: AsyncSession, kind: CampaignKind, wanted: set[tuple[str, int, str]], render: Callable[[str, int, str], tuple[str, dict[str, Any]]], now: datetime
) -> dict[tuple[str, int, str], int]:
    """The standing campaign of each (what, number, language) of `kind`: a lesson of a course, a
    survey's round. Created on first use (insert-or-nothing: another instance may be creating it
    too) and brought up to the content when the centre changed it; `render` gives its text and keyboard."""
    keys = {f"{kind}:{what}:{number}:{language}": (what, number, language) for what, number, language in wanted}
    found = {campaign.key: campaign for campaign in await session.scalars(select(Campaign).where(Campaign.key.in_(keys)))}
    ids = {}
    for key, (what, number, language) in keys.items():
        message, markup = render(what, number, language)
        campaign = found.get(key)
        if campaign is None:
            values: dict[str, Any] = {
                "key": key, "kind": kind.value, "status": CampaignStatus.sending.value, "text": message, "markup": markup, "created_at": now,
                "started_at": now, "media_ids": {}, "buttons": [], "audience": {},
            }
            await insert_rows_or_nothing(session, Campaign, [values], ["key"])
            campaign = await session.scalar(select(Campaign).where(Campaign.key == key))
            assert campaign is not None
        elif campaign.text != message or campaign.markup != markup:
            campaign.text, campaign.markup = message, markup
        ids[(what, number, language)] = campaign.id
    return ids


async def queue_once(session: AsyncSession, rows: Iterable[tuple[int, int, int | None, str | None, int | None]], now: datetime) -> None:
    """An outbox row, due now, per (campaign id, person id, account id, platform, chat id), unless
    that person has that campaign's row already (the caller passes reachable accounts only)."""
    columns = ("campaign_id", "person_id", "account_id", "platform", "chat_id")
    values = [dict(zip(columns, row, strict=True)) | {"status": OutboxStatus.pending.value, "attempts": 0, "next_attempt_at": now} for row in rows]
    await insert_rows_or_nothing(session, OutboxMessage, values, ["campaign_id", "person_id"])


async def claim(session: AsyncSession, platform: str, limit: int, lease_seconds: float, now: datetime) -> list[Claimed]:
    """Take up to `limit` rows of running campaigns due at `now`, oldest due first, for the lease. A
    claimed row stays pending (so claiming rewrites no index): an instance killed mid-send leaves
    rows whose lease runs out, and they are due again."""
    due = (
        select(_rows.c.id)
        .join(Campaign, Campaign.id == _rows.c.campaign_id)
        .where(
            _rows.c.platform == platform,
            _rows.c.status == OutboxStatus.pending,
            _rows.c.next_attempt_at <= now,
            or_(_rows.c.lease_until.is_(None), _rows.c.lease_until < now),
            Campaign.status == CampaignStatus.sending,
        )
        .order_by(_rows.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=_rows)  # several instances on PostgreSQL
    )
    statement = (
        update(_rows)
        .where(_rows.c.id.in_(due))
        .values(lease_until=now + timedelta(seconds=lease_seconds))
        .returning(_rows.c.id, _rows.c.campaign_id, _rows.c.account_id, _rows.c.chat_id, _rows.c.attempts)
    )
    rows = [Claimed(*row) for row in await session.execute(statement)]
    return sorted(rows, key=lambda row: row.id)


async def next_due(session: AsyncSession, platform: str) -> datetime | None:
    """When the earliest waiting row of a running campaign falls due."""
    return await session.scalar(
        select(func.min(OutboxMessage.next_attempt_at))
        .join(Campaign, Campaign.id == OutboxMessage.campaign_id)
        .where(OutboxMessage.platform == platform, OutboxMessage.status == OutboxStatus.pending, Campaign.status == CampaignStatus.sending)
    )


# A batch of outcomes is one UPDATE whatever its size, its rows one JSON parameter: an executemany
# would step SQLite once per row, and under load each step waits for the event loop to let go of
# the GIL (700 rows took half a second).
RECORD = {
    "sqlite": text(
        "UPDATE outbox SET status = json_extract(value, '$.status'), attempts = json_extract(value, '$.attempts'),"
        " next_attempt_at = json_extract(value, '$.next_attempt_at'), lease_until = NULL,"
        " message_id = json_extract(value, '$.message_id'), error = json_extract(value, '$.error'), sent_at = json_extract(value, '$.sent_at')"
        " FROM json_each(:outcomes) WHERE outbox.id = json_extract(value, '$.id')"
    ),
    "postgresql": text(
        "UPDATE outbox SET status = o.status, attempts = o.attempts, next_attempt_at = o.next_attempt_at, lease_until = NULL,"
        " message_id = o.message_id, error = o.error, sent_at = o.sent_at"
        " FROM jsonb_to_recordset(CAST(:outcomes AS jsonb)) AS o(id integer, status varchar, attempts integer,"
        " next_attempt_at timestamptz, message_id bigint, error varchar, sent_at timestamptz)"
        " WHERE outbox.id = o.id"
    ),
}


async def record(session: AsyncSession, outcomes: list[Outcome], now: datetime) -> None:
    """Write a batch of outcomes, and mark refusing accounts unreachable as of `now`."""
    if not outcomes:
        return
    dialect = session.get_bind().dialect
    stamp = _rows.c.sent_at.type.dialect_impl(dialect).bind_processor(dialect) or datetime.isoformat  # as the dialect stores it
    stamped_now = stamp(now)  # most rows': formatting a moment costs more than the rest of a row
    rows = [
        {
            "id": outcome.row.id,
            "status": outcome.status,
            "attempts": outcome.attempts,
            "next_attempt_at": stamp(outcome.retry_at) if outcome.retry_at else stamped_now,
            "message_id": outcome.message_id,
            "error": outcome.error[:255] if outcome.error else None,
            "sent_at": stamp(outcome.at) if outcome.status == OutboxStatus.sent else None,
        }
        for outcome in outcomes
    ]
    await session.execute(RECORD[dialect.name], {"outcomes": json.dumps(rows)})
    unreachable = {outcome.row.account_id for outcome in outcomes if outcome.status == OutboxStatus.unreachable and outcome.row.account_id}
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
            sent=found.get(OutboxStatus.sent, 0),
            unreachable=found.get(OutboxStatus.unreachable, 0),
            failed=found.get(OutboxStatus.failed, 0),
            left=found.get(OutboxStatus.pending, 0),
            cancelled=found.get(OutboxStatus.cancelled, 0),
        )
        for campaign_id, found in counts.items()
    }


async def in_flight(session: AsyncSession, campaign_id: int, now: datetime) -> int:
    """Rows an instance is sending at `now` (their lease has not run out)."""
    return await session.scalar(
        select(func.count()).where(OutboxMessage.campaign_id == campaign_id, OutboxMessage.status == OutboxStatus.pending, OutboxMessage.lease_until >= now)
    ) or 0


async def cancel_waiting(session: AsyncSession, campaign_id: int) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.campaign_id == campaign_id, OutboxMessage.status.in_(OPEN))
        .values(status=OutboxStatus.cancelled, lease_until=None)
    )
