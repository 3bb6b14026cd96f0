"""Processed update ids: a replayed update (after a crash, or a webhook retry) is handled once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ProcessedUpdate
from bot.db.upsert import insert_or_nothing


async def claim(session: AsyncSession, platform: str, update_id: int, now: datetime) -> bool:
    """Claim the update for this transaction: True for the one caller that inserted its id, False
    for every other (an update seen before, or one another transaction holds: on PostgreSQL that
    waits for the holder's commit or rollback, so a failed attempt leaves the update to a retry)."""
    row = ProcessedUpdate(platform=platform, update_id=update_id, processed_at=now)
    return await insert_or_nothing(session, row, ["platform", "update_id"])


async def prune_processed(session: AsyncSession, older_than: timedelta, now: datetime) -> int:
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < now - older_than))
    return result.rowcount
