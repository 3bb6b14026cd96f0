"""Monitoring: one row per thing that happened, for reports to aggregate."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Event, Person


def record_event(
    session: AsyncSession,
    kind: str,
    *,
    person: Person | None = None,
    platform: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    value: float | None = None,
) -> None:
    session.add(
        Event(
            kind=kind,
            pseudonym=person.pseudonym if person else None,
            district=person.district if person else None,
            platform=platform,
            object_type=object_type,
            object_id=object_id,
            value=value,
        )
    )
