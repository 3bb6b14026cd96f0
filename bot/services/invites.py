"""One-time invite codes that give staff their role (specialist, coordinator, head; never admin)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import InviteCode, Person
from bot.services import codes
from bot.services.codes import CodeProblem
from bot.services.people import INVITE_ROLES, RoleName

InviteProblem = CodeProblem  # the name the invite screens know it by


async def create_invite(session: AsyncSession, role: RoleName, specialty: str, created_by: Person, ttl: timedelta, *, now: datetime) -> InviteCode:
    if role not in INVITE_ROLES:
        raise ValueError(f"unknown staff role {role!r}")
    return await codes.issue(session, InviteCode, codes.URL_SAFE, now, ttl, role=role, specialty=specialty, created_by=created_by.id)


async def check_invite(session: AsyncSession, code: str, *, now: datetime) -> InviteCode | InviteProblem:
    invite = await codes.find(session, InviteCode, code)
    if invite is None or invite.role not in INVITE_ROLES:  # or an admin invite made before ADMINS alone decided
        return InviteProblem.invalid
    return codes.problem(invite, now) or invite


async def claim_invite(session: AsyncSession, invite: InviteCode, person: Person, *, now: datetime) -> bool:
    """Mark a checked code used by this person; atomic, so two people racing for one code can't both win."""
    return await codes.take(session, InviteCode, now, InviteCode.id == invite.id, returning=InviteCode.id, used_by=person.id) is not None
