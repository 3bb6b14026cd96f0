"""Joining a person's accounts on different messengers with a one-time code, and parting them again."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, Campaign, LinkAttempt, LinkCode, Person, PlatformState
from bot.db.upsert import insert_or_nothing
from bot.services import codes
from bot.services.events import EventKind, record_event
from bot.services.people import accounts_of

LINK_CODE_TTL = timedelta(minutes=15)
# Easy to read aloud and to type on a phone: no 0/O, 1/I/L.
LINK_CODE_FORMAT = codes.CodeFormat("23456789ABCDEFGHJKMNPQRSTUVWXYZ", 8)
WRONG_CODES_ALLOWED = 5
WRONG_CODES_WINDOW = timedelta(hours=1)
ATTEMPT_KEY_STATE = "link_attempts.hmac_key"


class LinkRefusal(StrEnum):
    """Why a code was not taken. Invalid, expired, used, same-messenger and already-registered are
    one answer, so a code cannot be told from a fake by anyone trying it."""

    refused = "refused"
    too_many = "too_many"


async def create_link_code(session: AsyncSession, person: Person, platform: str, *, now: datetime) -> LinkCode:
    """A new code replaces the person's old one; codes past their time go as well."""
    await lock(session, person)  # a double tap makes one code, not two
    await codes.purge(session, LinkCode, now, LinkCode.person_id == person.id)
    return await codes.issue(session, LinkCode, LINK_CODE_FORMAT, now, LINK_CODE_TTL, person_id=person.id, platform=platform)


async def link_account(session: AsyncSession, code: str, platform: str, external_id: int, registered: bool, *, now: datetime) -> Person | LinkRefusal:
    """The person the account now belongs to, or why it was not linked. After
    WRONG_CODES_ALLOWED refusals within WRONG_CODES_WINDOW an account is refused without a look at the code."""
    key = await attempt_key(session, platform, external_id, now=now)
    await session.execute(delete(LinkAttempt).where(LinkAttempt.at <= now - WRONG_CODES_WINDOW))
    wrong = (await session.execute(select(func.count()).select_from(LinkAttempt).where(LinkAttempt.account_key == key))).scalar_one()
    if wrong >= WRONG_CODES_ALLOWED:
        return LinkRefusal.too_many
    person = None if registered else await _claim(session, code, platform, external_id, now)
    if person is None:
        session.add(LinkAttempt(account_key=key, at=now))
        return LinkRefusal.refused
    return person


async def _claim(session: AsyncSession, code: str, platform: str, external_id: int, now: datetime) -> Person | None:
    person_id = await codes.take(session, LinkCode, now, LinkCode.code == code.strip().upper(), LinkCode.platform != platform, returning=LinkCode.person_id)
    if person_id is None:
        return None
    person = await session.get_one(Person, person_id)  # the code goes with its person (ondelete)
    session.add(Account(person_id=person.id, platform=platform, external_id=external_id, created_at=now))
    await session.flush()
    record_event(session, EventKind.account_linked, at=now, person=person, platform=platform)
    return person


async def attempt_key(session: AsyncSession, platform: str, external_id: int, *, now: datetime) -> str:
    """A keyed hash of the account, so the attempts table holds no messenger id (the key is made
    once, at random, and kept in platform_state)."""
    stored = select(PlatformState.value).where(PlatformState.key == ATTEMPT_KEY_STATE)
    secret = await session.scalar(stored)
    if secret is None:
        await insert_or_nothing(session, PlatformState(key=ATTEMPT_KEY_STATE, value=secrets.token_hex(32), updated_at=now), key=["key"])
        secret = (await session.execute(stored)).scalar_one()  # ours, or a concurrent first's
    return hmac.new(secret.encode(), f"{platform}:{external_id}".encode(), hashlib.sha256).hexdigest()


async def lock(session: AsyncSession, person: Person) -> None:
    """Hold the person's row until the update commits (PostgreSQL; SQLite has one writer anyway)."""
    await session.execute(select(Person.id).where(Person.id == person.id).with_for_update())


async def own_account(session: AsyncSession, person: Person, account_id: int) -> Account | None:
    """The person's account with this id, if it is theirs and not their only one."""
    accounts = await accounts_of(session, person)
    found = next((account for account in accounts if account.id == account_id), None)
    return found if len(accounts) > 1 else None


async def unlink_account(session: AsyncSession, person: Person, account_id: int, *, now: datetime) -> Account | None:
    """Part the account from the person (it is a stranger to the bot again); None if it is not
    theirs or is their last one. The person's row is locked first, so two accounts parting each
    other at once cannot leave the person with none."""
    await lock(session, person)
    account = await own_account(session, person, account_id)
    if account is None:
        return None
    await session.execute(  # their broadcasts stop reporting to the chat they were composed in
        update(Campaign)
        .where(Campaign.created_by == person.id, Campaign.origin_platform == account.platform, Campaign.origin_chat_id == account.external_id)
        .values(origin_platform=None, origin_chat_id=None, status_message_id=None)
    )
    await session.delete(account)
    await session.flush()
    record_event(session, EventKind.account_unlinked, at=now, person=person, platform=account.platform)
    return account
