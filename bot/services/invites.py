"""One-time invite codes that give staff their role (specialist, coordinator, head; never admin)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import InviteCode, Person, as_utc, utcnow
from bot.services.people import INVITE_ROLES


class InviteProblem(StrEnum):
    invalid = "invalid"
    expired = "expired"
    used = "used"


async def create_invite(session: AsyncSession, role: str, specialty: str, created_by: Person, ttl: timedelta) -> InviteCode:
    if role not in INVITE_ROLES:
        raise ValueError(f"unknown staff role {role!r}")
    invite = InviteCode(
        code=secrets.token_urlsafe(9),
        role=role,
        specialty=specialty,
        created_by=created_by.id,
        expires_at=utcnow() + ttl,
    )
    session.add(invite)
    await session.flush()
    return invite


async def check_invite(session: AsyncSession, code: str) -> InviteCode | InviteProblem:
    invite = await session.scalar(select(InviteCode).where(InviteCode.code == code))
    if invite is None or invite.role not in INVITE_ROLES:  # an admin invite made before ADMINS alone decided
        return InviteProblem.invalid
    if invite.used_at is not None:
        return InviteProblem.used
    if as_utc(invite.expires_at) <= utcnow():
        return InviteProblem.expired
    return invite


async def claim_invite(session: AsyncSession, invite: InviteCode, person: Person) -> bool:
    """Mark a checked code used by this person; atomic, so two people racing for one code can't both win."""
    claimed = await session.execute(
        update(InviteCode)
        .where(InviteCode.id == invite.id, InviteCode.used_at.is_(None))
        .values(used_at=utcnow(), used_by=person.id)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1
