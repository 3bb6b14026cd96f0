"""People, their messenger accounts, roles and consent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, exists, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from bot.content import ConsentText
from bot.db.models import Account, Base, Campaign, CampaignStatus, ConsentRecord, ConversationState, InviteCode, LinkCode, OutboxMessage, Person, Role, as_utc
from bot.db.upsert import insert_or_nothing
from bot.services.events import EventKind, record_event


class RoleName(StrEnum):
    """A role's name as stored in `roles.role`."""

    parent = "parent"
    specialist = "specialist"
    coordinator = "coordinator"
    head = "head"
    admin = "admin"


class ConsentDecision(StrEnum):
    """A consent record's `decision`."""

    accepted = "accepted"
    declined = "declined"


T = TypeVar("T")
STAFF_ROLES = (RoleName.specialist, RoleName.coordinator, RoleName.head, RoleName.admin)
INVITE_ROLES = STAFF_ROLES[:-1]  # ADMINS alone decides who is admin, at every start
ROLES = tuple(RoleName)


# The identity as plain columns, so that it can be read on the loop's thread (bot.db.loop_reads) as
# well as through a session: an account's row joined to its person's and to each of the person's
# roles; `account_from_rows` maps them. Built once: every update asks it, and building a statement
# and its cache key costs more than running it.
_IDENTITY_TABLES = (Account.__table__, Person.__table__, Role.__table__)
_ACCOUNT_END = len(Account.__table__.columns)
_PERSON_END = _ACCOUNT_END + len(Person.__table__.columns)
_ROLE_END = _PERSON_END + len(Role.__table__.columns)
IDENTITY_ROWS = (
    select(*(column for table in _IDENTITY_TABLES for column in table.columns))
    .select_from(Account.__table__.join(Person.__table__).outerjoin(Role.__table__))
    .where(Account.platform == bindparam("platform"), Account.external_id == bindparam("external_id"))
    .order_by(Role.id)
)


_ACCOUNT_COLUMNS, _PERSON_COLUMNS = Account.__table__.columns.keys(), Person.__table__.columns.keys()
_ACCOUNT_ID, _PLATFORM, _UNREACHABLE_SINCE = (_ACCOUNT_COLUMNS.index(name) for name in ("id", "platform", "unreachable_since"))
_PERSON_ID, _PERSON_LANGUAGE, _PSEUDONYM, _DISTRICT = (_ACCOUNT_END + _PERSON_COLUMNS.index(name) for name in ("id", "language", "pseudonym", "district"))
_ROLE_ID, _ROLE_NAME, _ROLE_SPECIALTY = (_PERSON_END + Role.__table__.columns.keys().index(name) for name in ("id", "role", "specialty"))


@dataclass(frozen=True)
class Identity:
    """An account as IDENTITY_ROWS read it, not mapped: what most screens need (whose account, which
    roles, which language) read off the rows as they are. Mapping them into ORM objects cost more
    than the rest of a read-only update (bench/updates.py), so `account()` does it only for a
    handler that asks for the account or the person (bot.middlewares.OrmIdentity)."""

    rows: Sequence[Sequence[Any]]  # never empty

    @property
    def account_id(self) -> int:
        return self.rows[0][_ACCOUNT_ID]

    @property
    def platform(self) -> str:
        return self.rows[0][_PLATFORM]

    @property
    def person_id(self) -> int:
        return self.rows[0][_PERSON_ID]

    @property
    def language(self) -> str:
        return self.rows[0][_PERSON_LANGUAGE]

    @property
    def pseudonym(self) -> str:
        return self.rows[0][_PSEUDONYM]

    @property
    def district(self) -> str | None:
        return self.rows[0][_DISTRICT]

    @property
    def unreachable(self) -> bool:
        return self.rows[0][_UNREACHABLE_SINCE] is not None

    @property
    def roles(self) -> list[tuple[str, str]]:
        """(role, specialty) of each of the person's roles."""
        return [(row[_ROLE_NAME], row[_ROLE_SPECIALTY]) for row in self.rows if row[_ROLE_ID] is not None]

    def account(self, session: Session) -> Account:
        """The account, person and roles in the session, as if it had loaded them."""
        account = account_from_rows(session, self.rows)
        assert account is not None  # rows is never empty
        return account


async def find_account(session: AsyncSession, platform: str, external_id: int) -> Account | None:
    """The account with its person and the person's roles, in one statement."""
    rows = (await session.execute(IDENTITY_ROWS, {"platform": platform, "external_id": external_id})).all()
    return account_from_rows(session.sync_session, rows)


def account_from_rows(session: Session, rows: Sequence[Sequence[Any]]) -> Account | None:
    """The account, person and roles of IDENTITY_ROWS' rows (extra columns after them are ignored),
    in the session as if it had loaded them: unchanged, so only what a handler then changes is written."""
    if not rows:
        return None
    account_values, person_values = rows[0][:_ACCOUNT_END], rows[0][_ACCOUNT_END:_PERSON_END]
    if (present := _present(session, Account, account_values)) is not None:  # loaded already: the session's copy stands, as it is
        return present
    account, person = _loaded(session, Account, account_values), _loaded(session, Person, person_values)
    roles = [_loaded(session, Role, row[_PERSON_END:_ROLE_END]) for row in rows if row[_PERSON_END] is not None]
    set_committed_value(account, "person", person)
    set_committed_value(person, "roles", roles)
    for role in roles:
        set_committed_value(role, "person", person)
    return account


def _present(session: Session, model: type[T], values: Sequence[Any]) -> T | None:
    """The session's own copy of the row, if it has loaded it already."""
    primary_key = _ATTRIBUTE_KEYS[model][1]
    return session.identity_map.get(inspect(model).identity_key_from_primary_key([values[position] for position in primary_key]))


def _loaded(session: Session, model: type[T], values: Sequence[Any]) -> T:
    if (present := _present(session, model, values)) is not None:
        return present
    instance = model(**dict(zip(_ATTRIBUTE_KEYS[model][0], values, strict=True)))
    make_transient_to_detached(instance)  # as if read from the database: no pending changes
    session.add(instance)
    return instance


def _attribute_keys(model: type[Base]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The model's attribute per column of its table, and the positions of the primary key's columns."""
    mapper = inspect(model)
    names = [column.name for column in mapper.local_table.columns]
    keys = tuple(mapper.get_property_by_column(column).key for column in mapper.local_table.columns)
    return keys, tuple(names.index(column.name) for column in mapper.primary_key)


_ATTRIBUTE_KEYS: dict[type, tuple[tuple[str, ...], tuple[int, ...]]] = {model: _attribute_keys(model) for model in (Account, Person, Role)}


async def accounts_of(session: AsyncSession, person: Person) -> list[Account]:
    """The person's messenger accounts, oldest first."""
    return list(await session.scalars(select(Account).where(Account.person_id == person.id).order_by(Account.id)))


async def record_decline(session: AsyncSession, platform: str, consent: ConsentText, nonce: str, *, now: datetime) -> bool:
    """Keep only the fact of the decline: no person, no account, no profile. `nonce` comes from the
    consent screen, so the same screen's button pressed again records nothing (returns False)."""
    row = _consent_row(None, platform, consent, ConsentDecision.declined, now)
    row.nonce = nonce
    if not await insert_or_nothing(session, row, key=["nonce"]):
        return False
    record_event(session, EventKind.consent_declined, at=now, platform=platform, object_type="consent", object_id=consent.version)
    return True


async def register(
    session: AsyncSession, platform: str, external_id: int, consent: ConsentText, role: str = RoleName.parent, specialty: str = "", *, now: datetime
) -> Person:
    person = Person(language=consent.language, created_at=now, roles=[Role(role=role, specialty=specialty, granted_at=now)])
    person.accounts = [Account(platform=platform, external_id=external_id, created_at=now)]
    session.add(person)
    await session.flush()
    session.add(_consent_row(person, platform, consent, ConsentDecision.accepted, now))
    record_event(session, EventKind.registered, at=now, person=person, platform=platform, object_type="role", object_id=role)
    return person


def has_role(person: Person, role: str, specialty: str = "") -> bool:
    return any(r.role == role and r.specialty == specialty for r in person.roles)


async def grant_role(session: AsyncSession, person: Person, role: str, specialty: str = "", *, now: datetime) -> bool:
    """Give a role; False if the person already had it."""
    if has_role(person, role, specialty):
        return False
    person.roles.append(Role(role=role, specialty=specialty, granted_at=now))
    await session.flush()
    record_event(session, EventKind.role_granted, at=now, person=person, object_type="role", object_id=role)
    return True


def role_names(person: Person) -> list[str]:
    return ordered_roles(role.role for role in person.roles)


def ordered_roles(names: Iterable[str]) -> list[str]:
    """Role names, each once, in the order of RoleName."""
    return sorted(set(names), key=ROLES.index)


async def latest_consent(session: AsyncSession, person: Person) -> ConsentRecord | None:
    return await session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.person_id == person.id, ConsentRecord.decision == ConsentDecision.accepted)
        .order_by(ConsentRecord.decided_at.desc())
        .limit(1)
    )


async def forget(session: AsyncSession, person: Person, platform: str, *, now: datetime) -> None:
    """Withdraw consent and delete the person and every row that names them or their accounts.

    The consent rows stay as proof, detached and dated to the day only, so their times match no
    event's. Events keep the person's pseudonym, which nothing links to anyone once the person row
    is gone: report counts stay, the person goes. Their broadcasts that are already on their way
    still go out, but with nobody to report to."""
    for record in await session.scalars(select(ConsentRecord).where(ConsentRecord.person_id == person.id)):
        record.person_id = None
        record.decided_at = to_the_day(record.decided_at)
        record.withdrawn_at = to_the_day(record.withdrawn_at or now)
    await session.execute(delete(OutboxMessage).where(OutboxMessage.person_id == person.id))
    await session.execute(delete(Campaign).where(Campaign.created_by == person.id, Campaign.status == CampaignStatus.draft))
    await session.execute(
        update(Campaign)
        .where(Campaign.created_by == person.id)
        .values(created_by=None, origin_platform=None, origin_chat_id=None, status_message_id=None)
    )
    await session.execute(update(InviteCode).where(InviteCode.created_by == person.id).values(created_by=None))
    await session.execute(update(InviteCode).where(InviteCode.used_by == person.id).values(used_by=None))
    await session.execute(delete(LinkCode).where(LinkCode.person_id == person.id))
    await session.execute(delete(ConversationState).where(exists().where(  # the FSM's state of every account (bot.fsm)
        Account.person_id == person.id, Account.platform == ConversationState.platform, Account.external_id == ConversationState.user_id)))
    record_event(session, EventKind.consent_withdrawn, at=now, platform=platform)
    await session.delete(person)
    await session.flush()


def to_the_day(moment: datetime) -> datetime:
    return as_utc(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def _consent_row(person: Person | None, platform: str, consent: ConsentText, decision: ConsentDecision, now: datetime) -> ConsentRecord:
    return ConsentRecord(
        person_id=person.id if person else None,
        platform=platform,
        text_version=consent.version,
        text_language=consent.language,
        text_sha256=consent.sha256,
        decision=decision,
        decided_at=now,
    )

