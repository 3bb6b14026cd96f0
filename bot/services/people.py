"""People, their messenger accounts, roles and consent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import ConsentText
from bot.db.models import Account, ConsentRecord, Person, Role, utcnow
from bot.db.upsert import insert_or_nothing
from bot.services.events import record_event

STAFF_ROLES = ("specialist", "coordinator", "head", "admin")
ROLES = ("parent", *STAFF_ROLES)


async def find_account(session: AsyncSession, platform: str, external_id: int) -> Account | None:
    return await session.scalar(select(Account).where(Account.platform == platform, Account.external_id == external_id))


async def record_decline(session: AsyncSession, platform: str, consent: ConsentText, nonce: str) -> bool:
    """Keep only the fact of the decline: no person, no account, no profile. `nonce` comes from the
    consent screen, so the same screen's button pressed again records nothing (returns False)."""
    row = _consent_row(None, platform, consent, "declined")
    row.nonce = nonce
    if not await insert_or_nothing(session, row, key=["nonce"]):
        return False
    record_event(session, "consent_declined", platform=platform, object_type="consent", object_id=consent.version)
    return True


async def register(session: AsyncSession, platform: str, external_id: int, consent: ConsentText, role: str = "parent", specialty: str = "") -> Person:
    person = Person(language=consent.language, roles=[Role(role=role, specialty=specialty)])
    person.accounts = [Account(platform=platform, external_id=external_id)]
    session.add(person)
    await session.flush()
    session.add(_consent_row(person, platform, consent, "accepted"))
    record_event(session, "registered", person=person, platform=platform, object_type="role", object_id=role)
    return person


def has_role(person: Person, role: str, specialty: str = "") -> bool:
    return any(r.role == role and r.specialty == specialty for r in person.roles)


async def grant_role(session: AsyncSession, person: Person, role: str, specialty: str = "") -> bool:
    """Give a role; False if the person already had it."""
    if has_role(person, role, specialty):
        return False
    person.roles.append(Role(role=role, specialty=specialty))
    await session.flush()
    record_event(session, "role_granted", person=person, object_type="role", object_id=role)
    return True


def role_names(person: Person) -> list[str]:
    return sorted({role.role for role in person.roles}, key=ROLES.index)


async def latest_consent(session: AsyncSession, person: Person) -> ConsentRecord | None:
    return await session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.person_id == person.id, ConsentRecord.decision == "accepted")
        .order_by(ConsentRecord.decided_at.desc())
        .limit(1)
    )


async def forget(session: AsyncSession, person: Person, platform: str) -> None:
    """Withdraw consent and delete the person; the consent rows stay as proof, detached from them."""
    await session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.person_id == person.id, ConsentRecord.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow(), person_id=None)
    )
    record_event(session, "consent_withdrawn", platform=platform)
    await session.delete(person)
    await session.flush()


def _consent_row(person: Person | None, platform: str, consent: ConsentText, decision: str) -> ConsentRecord:
    return ConsentRecord(
        person_id=person.id if person else None,
        platform=platform,
        text_version=consent.version,
        text_language=consent.language,
        text_sha256=consent.sha256,
        decision=decision,
    )


def format_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
