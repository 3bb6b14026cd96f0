"""Durable key/value state for platform adapters."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import PlatformState


async def get_state(session: AsyncSession, key: str) -> str | None:
    row = await session.get(PlatformState, key)
    return row.value if row else None


async def set_state(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(PlatformState, key)
    if row is None:
        session.add(PlatformState(key=key, value=value))
    else:
        row.value = value
