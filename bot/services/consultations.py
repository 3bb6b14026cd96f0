"""Consultations: a parent's question (a ticket) in a specialty's queue, claimed by a specialist,
answered in pieces of any media, closed and rated. Platform-neutral: pieces name the messenger
their file is on, and the handlers relay them.

Timers are columns (bot.db.models.Ticket) counted in the specialty's working time; the scheduler
asks `overdue` what fell due (bot.services.consultation_timers)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.consultation_content import Specialty
from bot.db.models import Account, Person, PieceAuthor, PieceKind, Role, Ticket, TicketPiece, TicketStatus, as_utc
from bot.hours import WorkingHours
from bot.services.events import INSERT_EVENT, EventKind, event_values, record_event
from bot.services.people import Identity, RoleName

MAX_DRAFT_PIECES = 20  # a question in the making: enough for a long story with an album, not a flood
REOPEN_WITHIN = timedelta(days=7)  # a closed question can be reopened this long after
ALIAS_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


LOST_SPECIALTY_TARGET = timedelta(hours=4)


def timing_of(specialty_of: Mapping[str, Specialty], specialty_id: str) -> Specialty:
    """A specialty's hours and target. One the content no longer lists (removed while its questions
    were open) counts around the clock, so its questions are still watched and nothing fails."""
    return specialty_of.get(specialty_id) or Specialty(specialty_id, {}, WorkingHours.always(), LOST_SPECIALTY_TARGET)


class Stage(StrEnum):
    """Where a question stands, as its family sees it."""

    queued = "queued"
    taken = "taken"
    answered = "answered"  # the specialist wrote last
    closed = "closed"


@dataclass(frozen=True)
class Piece:
    """One message of a question or an answer, as it is kept (and held in a draft's conversation data)."""

    kind: str  # a PieceKind
    platform: str
    text: str | None = None
    file_id: str | None = None
    file_name: str | None = None
    transcript: str | None = None

    def as_data(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def of_data(cls, data: dict[str, Any]) -> Piece:
        return cls(**data)

    @classmethod
    def of_row(cls, row: TicketPiece) -> Piece:
        return cls(row.kind, row.platform, row.text, row.file_id, row.file_name, row.transcript)


def stage_of(ticket: Ticket) -> Stage:
    if ticket.status == TicketStatus.closed:
        return Stage.closed
    if ticket.status == TicketStatus.waiting:
        return Stage.queued
    return Stage.answered if ticket.first_answer_at is not None and ticket.reply_due_at is None else Stage.taken


def new_alias() -> str:
    """What the specialist calls an anonymous family: random, so it says nothing about them."""
    return secrets.choice(ALIAS_LETTERS) + "-" + "".join(secrets.choice("0123456789") for _ in range(4))


# Asking


# A queue is counted this far back: counting costs a queue's length, and every question sent counts
# it (a burst of 2,000 questions into one queue spent more on counting than on the rest of sending).
PLACES_COUNTED = 100


@dataclass(frozen=True)
class NewTicket:
    id: int
    position: int  # in its specialty's queue: 1 for the next to be taken; PLACES_COUNTED: that far back or further
    due_at: datetime | None

    @property
    def place(self) -> int | str:
        """The position as a text shows it: "100+" at the end of what is counted."""
        return f"{PLACES_COUNTED}+" if self.position >= PLACES_COUNTED else self.position


def open_ticket(
    executor: Connection | Session,
    asker: Identity,
    specialty: Specialty,
    pieces: Sequence[Piece],
    *,
    anonymous: bool,
    parent_name: str | None,
    now: datetime,
) -> NewTicket:
    """The ticket, its pieces and its event, as Core statements built once: the work of
    bot.db.loop_writes, run on the loop's thread on a SQLite file (nothing here is an ORM object,
    the asker neither: the update's identity, as read)."""
    due_at = specialty.hours.add(now, specialty.target)
    ticket = {
        "person_id": asker.person_id,
        "parent_account_id": asker.account_id,
        "specialty": specialty.id,
        "status": TicketStatus.waiting,
        "anonymous": anonymous,
        "alias": new_alias(),
        "parent_name": None if anonymous else parent_name,
        "created_at": now,
        "queued_at": now,
        "due_at": due_at,
    }
    ticket_id = executor.execute(_INSERT_TICKET, ticket).scalar_one()
    executor.execute(_INSERT_PIECES, _piece_rows(ticket_id, PieceAuthor.parent, asker.person_id, pieces, now))
    event = event_values(EventKind.question_asked, at=now, person=asker, platform=asker.platform, object_type="specialty", object_id=specialty.id)
    executor.execute(INSERT_EVENT, event)
    ahead = executor.execute(_AHEAD, {"specialty": specialty.id, "queued_at": now}).scalar_one()
    return NewTicket(ticket_id, ahead + 1, due_at)


_TICKETS = cast(Table, Ticket.__table__)
_INSERT_TICKET = insert(_TICKETS).returning(_TICKETS.c.id)
# Built once, values bound at each call: a statement built anew costs SQLAlchemy more than SQLite
# takes to run it (its cache key is worked out again every time)
_AHEAD = select(func.count()).select_from(
    select(Ticket.id)
    .where(Ticket.status == TicketStatus.waiting, Ticket.specialty == bindparam("specialty"), Ticket.queued_at < bindparam("queued_at"))
    .limit(PLACES_COUNTED - 1)
    .subquery()
)


async def add_from_parent(session: AsyncSession, ticket: Ticket, pieces: Sequence[Piece], specialty: Specialty, now: datetime) -> None:
    """The family writes more: a claimed question now waits for the specialist's reply."""
    await _add_rows(session, ticket, PieceAuthor.parent, ticket.person_id, pieces, now)
    if ticket.status == TicketStatus.claimed and ticket.reply_due_at is None:
        _await_reply(ticket, specialty, now)


async def _event(session: AsyncSession, kind: EventKind, ticket: Ticket, now: datetime, value: float | None = None) -> None:
    """A question's monitoring event: the family (by pseudonym and district), the messenger they asked on, the specialty."""
    person = await session.get(Person, ticket.person_id)
    account = await session.get(Account, ticket.parent_account_id) if ticket.parent_account_id is not None else None
    platform = account.platform if account is not None else None
    record_event(session, kind, at=now, person=person, platform=platform, object_type="specialty", object_id=ticket.specialty, value=value)


_INSERT_PIECES = insert(cast(Table, TicketPiece.__table__))  # on the table: no ORM bulk machinery, nothing needs the rows as objects


async def _add_rows(session: AsyncSession, ticket: Ticket, author: PieceAuthor, author_id: int | None, pieces: Sequence[Piece], now: datetime) -> None:
    """All the pieces in one statement (nothing needs their ids back)."""
    await session.execute(_INSERT_PIECES, _piece_rows(ticket.id, author, author_id, pieces, now))


def _piece_rows(ticket_id: int, author: PieceAuthor, author_id: int | None, pieces: Sequence[Piece], now: datetime) -> list[dict[str, Any]]:
    """In the order they were written: a microsecond apart."""
    return [
        {"ticket_id": ticket_id, "author": author, "author_id": author_id, "created_at": now + timedelta(microseconds=number), **asdict(piece)}
        for number, piece in enumerate(pieces)
    ]


async def tickets_of_parent(session: AsyncSession, person_id: int, limit: int = 10) -> list[Ticket]:
    """Open questions first, then the latest closed ones."""
    order = (Ticket.status == TicketStatus.closed, Ticket.created_at.desc())
    return list(await session.scalars(select(Ticket).where(Ticket.person_id == person_id).order_by(*order).limit(limit)))


async def close_by_parent(session: AsyncSession, ticket: Ticket, now: datetime) -> bool:
    return await _close(session, ticket, now)


def may_reopen(ticket: Ticket, now: datetime) -> bool:
    return ticket.status == TicketStatus.closed and ticket.closed_at is not None and now - as_utc(ticket.closed_at) <= REOPEN_WITHIN


async def reopen(session: AsyncSession, ticket: Ticket, specialty: Specialty, now: datetime) -> bool:
    """Back to the specialist who had it while they still work in its specialty, else to the queue."""
    if not may_reopen(ticket, now):
        return False
    ticket.closed_at = None
    ticket.alerted_at = ticket.reminded_at = None
    if ticket.assignee_id is not None and await _works_in(session, ticket.assignee_id, ticket.specialty):
        ticket.status = TicketStatus.claimed
        _await_reply(ticket, specialty, now)
    else:
        ticket.assignee_id = ticket.assignee_account_id = None
        _requeue(ticket, specialty, now)
    await _event(session, EventKind.question_reopened, ticket, now)
    return True


async def _works_in(session: AsyncSession, person_id: int, specialty: str) -> bool:
    role = select(Role.id).where(Role.person_id == person_id, Role.role == RoleName.specialist, Role.specialty == specialty)
    return await session.scalar(role.limit(1)) is not None


async def rate(session: AsyncSession, ticket: Ticket, rating: int, now: datetime) -> bool:
    """The family's rating, once (a second press changes nothing)."""
    if ticket.status != TicketStatus.closed or ticket.rating is not None or not 1 <= rating <= 5:
        return False
    ticket.rating = rating
    await _event(session, EventKind.question_rated, ticket, now, value=rating)
    return True


# The specialist's side


@dataclass(frozen=True)
class QueueLine:
    specialty: str
    waiting: int
    oldest: datetime | None


async def queue_lines(session: AsyncSession, specialties: Sequence[str], person_id: int) -> list[QueueLine]:
    """How many wait, and since when the longest, in each of `specialties` ("" : passed to the person by name)."""
    rows = await session.execute(
        select(Ticket.specialty, func.count(), func.min(Ticket.queued_at))
        .where(Ticket.status == TicketStatus.waiting, Ticket.specialty.in_(specialties), Ticket.transferred_to.is_(None))
        .group_by(Ticket.specialty)
    )
    found = {specialty: (count, oldest) for specialty, count, oldest in rows}
    lines = [QueueLine(specialty, *found.get(specialty, (0, None))) for specialty in specialties]
    named = (
        await session.execute(select(func.count(), func.min(Ticket.queued_at)).where(Ticket.status == TicketStatus.waiting, Ticket.transferred_to == person_id))
    ).one()
    return [*lines, QueueLine("", named[0], named[1])]


def _takeable(specialties: Sequence[str], person_id: int) -> Any:
    mine_by_name = Ticket.transferred_to == person_id
    return and_(Ticket.status == TicketStatus.waiting, or_(mine_by_name, and_(Ticket.specialty.in_(specialties), Ticket.transferred_to.is_(None))))


async def claim_next(
    session: AsyncSession, person_id: int, account_id: int, specialties: Sequence[str], only: str | None, specialty_of: dict[str, Specialty], now: datetime
) -> Ticket | None:
    """Take the question that has waited longest (of specialty `only`, when given; "" : those
    passed to this person by name). One statement: two specialists pressing at once never get the
    same question, and on PostgreSQL the second skips the row the first holds and gets the next."""
    where = _takeable(specialties, person_id)
    if only == "":
        where = and_(Ticket.status == TicketStatus.waiting, Ticket.transferred_to == person_id)
    elif only is not None:
        where = and_(where, Ticket.specialty == only)
    oldest = select(Ticket.id).where(where).order_by(Ticket.queued_at, Ticket.id).limit(1).with_for_update(skip_locked=True)
    claimed = await session.scalar(
        update(Ticket)
        .where(Ticket.id == oldest.scalar_subquery(), Ticket.status == TicketStatus.waiting)
        .values(status=TicketStatus.claimed, assignee_id=person_id, assignee_account_id=account_id, transferred_to=None)
        .returning(Ticket.id)
    )
    if claimed is None:
        return None
    ticket = await session.get(Ticket, claimed, populate_existing=True)
    assert ticket is not None
    first = ticket.claimed_at is None
    ticket.claimed_at = ticket.claimed_at or now
    _await_reply(ticket, timing_of(specialty_of, ticket.specialty), now)
    if first:
        waited = (now - as_utc(ticket.created_at)).total_seconds()
        await _event(session, EventKind.question_claimed, ticket, now, value=waited)
    return ticket


async def open_tickets_of(session: AsyncSession, person_id: int, page: int, per_page: int) -> tuple[list[Ticket], int]:
    """A specialist's claimed questions, those waiting for their reply first (longest first)."""
    mine = and_(Ticket.assignee_id == person_id, Ticket.status == TicketStatus.claimed)
    total = await session.scalar(select(func.count()).select_from(Ticket).where(mine)) or 0
    order = (Ticket.reply_due_at.is_(None), Ticket.reply_due_at, Ticket.id)
    tickets = await session.scalars(select(Ticket).where(mine).order_by(*order).offset(page * per_page).limit(per_page))
    return list(tickets), total


async def pieces_of(session: AsyncSession, ticket: Ticket) -> list[TicketPiece]:
    return list(await session.scalars(select(TicketPiece).where(TicketPiece.ticket_id == ticket.id).order_by(TicketPiece.created_at, TicketPiece.id)))


async def earlier_tickets(session: AsyncSession, ticket: Ticket, limit: int = 5) -> list[Ticket]:
    """The family's other questions, latest first: never for an anonymous one."""
    if ticket.anonymous:
        return []
    query = select(Ticket).where(Ticket.person_id == ticket.person_id, Ticket.id != ticket.id, Ticket.anonymous.is_(False))
    return list(await session.scalars(query.order_by(Ticket.created_at.desc()).limit(limit)))


async def answer(session: AsyncSession, ticket: Ticket, author_id: int, pieces: Sequence[Piece], now: datetime) -> None:
    """The specialist's reply: the family waits no more."""
    await _add_rows(session, ticket, PieceAuthor.specialist, author_id, pieces, now)
    if ticket.first_answer_at is None:
        ticket.first_answer_at = now
        since = (now - as_utc(ticket.created_at)).total_seconds()
        await _event(session, EventKind.question_answered, ticket, now, value=since)
    ticket.reply_due_at = ticket.reminded_at = ticket.return_at = None


async def add_note(session: AsyncSession, ticket: Ticket, author_id: int, text: str, now: datetime) -> None:
    await _add_rows(session, ticket, PieceAuthor.note, author_id, [Piece(PieceKind.text, "", text=text)], now)


async def close_by_specialist(session: AsyncSession, ticket: Ticket, now: datetime) -> bool:
    return await _close(session, ticket, now)


async def _close(session: AsyncSession, ticket: Ticket, now: datetime) -> bool:
    if ticket.status == TicketStatus.closed:
        return False
    ticket.status = TicketStatus.closed
    ticket.closed_at = now
    ticket.reply_due_at = ticket.return_at = None
    since = (now - as_utc(ticket.created_at)).total_seconds()
    await _event(session, EventKind.question_closed, ticket, now, value=since)
    return True


async def transfer(session: AsyncSession, ticket: Ticket, by: int, specialty: Specialty, colleague_id: int | None, note: str | None, now: datetime) -> None:
    """To another specialty's queue, or to a named colleague (who alone may take it)."""
    if note:
        await add_note(session, ticket, by, note, now)
    ticket.specialty = specialty.id
    ticket.transferred_to = colleague_id
    ticket.assignee_id = ticket.assignee_account_id = None
    ticket.status = TicketStatus.waiting
    _requeue(ticket, specialty, now)
    await _event(session, EventKind.question_transferred, ticket, now)


async def colleagues(session: AsyncSession, specialty: str, except_id: int) -> list[Person]:
    """The specialists of a specialty a question can be passed to by name."""
    query = (
        select(Person)
        .join(Role, Role.person_id == Person.id)
        .where(Role.role == RoleName.specialist, Role.specialty == specialty, Person.id != except_id)
        .order_by(Person.display_name, Person.id)
    )
    return list(await session.scalars(query))


def _requeue(ticket: Ticket, specialty: Specialty, now: datetime) -> None:
    ticket.status = TicketStatus.waiting
    ticket.queued_at = now
    ticket.due_at = specialty.hours.add(now, specialty.target)
    ticket.alerted_at = ticket.reply_due_at = ticket.reminded_at = ticket.return_at = None


def _await_reply(ticket: Ticket, specialty: Specialty, now: datetime) -> None:
    """The specialist owes a reply by the specialty's target (return_at is set when they are reminded)."""
    ticket.reply_due_at = specialty.hours.add(now, specialty.target)
    ticket.reminded_at = ticket.return_at = None


# Nobody waits unseen: what the scheduler's tick finds due. Each row is taken by a conditional
# UPDATE, so with several instances only one tells anybody.


@dataclass(frozen=True)
class Overdue:
    unclaimed: list[Ticket]  # past due_at in the queue: the heads and the specialty are told
    unanswered: list[Ticket]  # claimed, past reply_due_at: the specialist is reminded
    returned: list[Ticket]  # reminded, past return_at: back in the queue


async def overdue(session: AsyncSession, specialty_of: dict[str, Specialty], return_after: Callable[[Specialty], timedelta | None], now: datetime) -> Overdue:
    """Take what fell due at `now`. `return_after(specialty)`: how long after the reminder a
    question goes back to the queue (working time; None: never)."""
    unclaimed = await _take(session, and_(Ticket.status == TicketStatus.waiting, Ticket.due_at <= now, Ticket.alerted_at.is_(None)), {"alerted_at": now})
    for ticket in unclaimed:
        await _event(session, EventKind.question_target_missed, ticket, now)
    returned = await _take(session, and_(Ticket.status == TicketStatus.claimed, Ticket.return_at <= now), {"status": TicketStatus.waiting})
    for ticket in returned:
        ticket.assignee_id = ticket.assignee_account_id = None
        _requeue(ticket, timing_of(specialty_of, ticket.specialty), now)
        await _event(session, EventKind.question_returned, ticket, now)
    unanswered = await _take(
        session, and_(Ticket.status == TicketStatus.claimed, Ticket.reply_due_at <= now, Ticket.reminded_at.is_(None)), {"reminded_at": now}
    )
    for ticket in unanswered:
        specialty = timing_of(specialty_of, ticket.specialty)
        period = return_after(specialty)
        if period is not None and ticket.reply_due_at is not None:
            ticket.return_at = specialty.hours.add(as_utc(ticket.reply_due_at), period)
    return Overdue(unclaimed, unanswered, returned)


async def _take(session: AsyncSession, where: Any, values: dict[str, Any]) -> list[Ticket]:
    taken = list(await session.scalars(update(Ticket).where(where).values(**values).returning(Ticket.id)))
    if not taken:
        return []
    return list(await session.scalars(select(Ticket).where(Ticket.id.in_(taken)).order_by(Ticket.id).execution_options(populate_existing=True)))
