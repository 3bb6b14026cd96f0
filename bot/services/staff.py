"""The centre's staff: ADMINS deciding who is admin, the staff list, and revoking a role."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import MAX_ROW_ID, Account, Person, Role
from bot.services.events import EventKind, record_event
from bot.services.people import STAFF_ROLES, RoleName, grant_role


async def apply_admins(session: AsyncSession, admin_accounts: Collection[tuple[str, int]], *, now: datetime) -> tuple[int, int]:
    """Every person with an account in ADMINS is admin and nobody else is; returns (granted, revoked)."""
    listed = await _people_with_accounts(session, admin_accounts)
    holders = set(await session.scalars(select(Role.person_id).where(Role.role == RoleName.admin)))
    granted = 0
    for person in await _people(session, listed - holders):
        granted += await grant_role(session, person, RoleName.admin, now=now)
    revoked = 0
    for person in await _people(session, holders - listed):
        for role in [role for role in person.roles if role.role == RoleName.admin]:
            await _revoke(session, person, role, now)
            revoked += 1
    return granted, revoked


async def staff_members(session: AsyncSession) -> list[Person]:
    """Everyone holding a staff role, oldest first."""
    holders = select(Role.person_id).where(Role.role.in_([str(role) for role in STAFF_ROLES]))
    return list(await session.scalars(select(Person).where(Person.id.in_(holders)).order_by(Person.id)))


async def find_person(session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id) if 0 < person_id <= MAX_ROW_ID else None


async def find_role(session: AsyncSession, person_id: int, role_id: int) -> tuple[Person, Role] | None:
    """The person and their role, if both still exist and belong together (who may revoke it is
    bot.permissions's to say)."""
    person = await find_person(session, person_id)
    if person is None:
        return None
    role = next((role for role in person.roles if role.id == role_id), None)
    return (person, role) if role is not None else None


async def revoke_role(session: AsyncSession, person: Person, role: Role, *, now: datetime) -> None:
    await _revoke(session, person, role, now)


async def _revoke(session: AsyncSession, person: Person, role: Role, now: datetime) -> None:
    person.roles.remove(role)
    await session.flush()
    record_event(session, EventKind.role_revoked, at=now, person=person, object_type="role", object_id=role.role)


async def _people_with_accounts(session: AsyncSession, accounts: Collection[tuple[str, int]]) -> set[int]:
    if not accounts:
        return set()
    matches = or_(*(and_(Account.platform == platform, Account.external_id == external_id) for platform, external_id in accounts))
    return set(await session.scalars(select(Account.person_id).where(matches)))


async def _people(session: AsyncSession, ids: set[int]) -> list[Person]:
    if not ids:
        return []
    return list(await session.scalars(select(Person).where(Person.id.in_(ids)).order_by(Person.id)))
