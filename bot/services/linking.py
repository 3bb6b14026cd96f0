"""Joining a person's accounts on different messengers with a one-time code."""

from __future__ import annotations

import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, LinkCode, Person, as_utc, utcnow
from bot.services.events import record_event

LINK_CODE_TTL = timedelta(minutes=15)
# Easy to read aloud and to type on a phone: no 0/O, 1/I/L.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class LinkResult(StrEnum):
    invalid = "invalid"
    expired = "expired"
    used = "used"
    already_registered = "already_registered"
    same_platform = "same_platform"


async def create_link_code(session: AsyncSession, person: Person, platform: str) -> LinkCode:
    link = LinkCode(code="".join(secrets.choice(ALPHABET) for _ in range(8)), person_id=person.id, platform=platform, expires_at=utcnow() + LINK_CODE_TTL)
    session.add(link)
    await session.flush()
    return link


async def link_account(session: AsyncSession, code: str, platform: str, external_id: int, registered: bool) -> Person | LinkResult:
    """The person the account now belongs to, or why it could not be linked."""
    link = await session.scalar(select(LinkCode).where(LinkCode.code == code.strip().upper()))
    if link is None:
        return LinkResult.invalid
    if link.platform == platform:
        return LinkResult.same_platform
    if registered:
        return LinkResult.already_registered
    if link.used_at is not None:
        return LinkResult.used
    if as_utc(link.expires_at) <= utcnow():
        return LinkResult.expired
    claimed = await session.execute(
        update(LinkCode).where(LinkCode.id == link.id, LinkCode.used_at.is_(None)).values(used_at=utcnow()).execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return LinkResult.used
    person = await session.get(Person, link.person_id)
    session.add(Account(person_id=person.id, platform=platform, external_id=external_id))
    await session.flush()
    record_event(session, "account_linked", person=person, platform=platform)
    return person
