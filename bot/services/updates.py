"""Processed update ids: a replayed update (after a crash, or a webhook retry) is handled once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ProcessedUpdate, utcnow


async def was_processed(session: AsyncSession, platform: str, update_id: int) -> bool:
    found = await session.scalar(
        select(ProcessedUpdate.update_id).where(ProcessedUpdate.platform == platform, ProcessedUpdate.update_id == update_id)
    )
    return found is not None


def mark_processed(session: AsyncSession, platform: str, update_id: int) -> None:
    session.add(ProcessedUpdate(platform=platform, update_id=update_id))


async def prune_processed(session: AsyncSession, older_than: timedelta) -> int:
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < utcnow() - older_than))
    return result.rowcount
