"""Consultations: a parent's question to a specialty (a ticket) and the messages of its exchange."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models.base import Base, utcnow


class TicketStatus(StrEnum):
    waiting = "waiting"  # in its specialty's queue (or a named colleague's, when transferred to one)
    claimed = "claimed"  # a specialist works on it
    closed = "closed"


class PieceAuthor(StrEnum):
    parent = "parent"
    specialist = "specialist"
    note = "note"  # a specialist's private note: the family never sees it


class PieceKind(StrEnum):
    text = "text"
    voice = "voice"
    photo = "photo"
    video = "video"
    document = "document"


class Ticket(Base):
    """A parent's question to a specialty, and where it stands. The timers the scheduler watches
    are columns: due_at (unclaimed past it: heads and the specialty are told), reply_due_at (claimed
    and the family waits for a reply: past it the specialist is reminded) and return_at (past it,
    back to the queue)."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue", "status", "specialty", "queued_at"),
        Index("ix_tickets_assignee", "assignee_id", "status"),
        Index("ix_tickets_person", "person_id", "created_at"),
        Index("ix_tickets_due", "status", "due_at"),
        Index("ix_tickets_reply_due", "status", "reply_due_at"),
        {"sqlite_autoincrement": True},  # a ticket number is never given twice
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    parent_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))  # the chat the answers go to
    specialty: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.waiting)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    alias: Mapped[str] = mapped_column(String(16))  # what the specialist calls an anonymous family
    parent_name: Mapped[str | None] = mapped_column(String(64))  # the messenger's name for the parent; never kept when anonymous
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    assignee_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))  # where the specialist works on it
    transferred_to: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)  # a named colleague alone may take it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)  # entered the queue (again)
    claimed_at: Mapped[datetime | None] = mapped_column()  # first claimed
    first_answer_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column()
    alerted_at: Mapped[datetime | None] = mapped_column()
    reply_due_at: Mapped[datetime | None] = mapped_column()
    reminded_at: Mapped[datetime | None] = mapped_column()
    return_at: Mapped[datetime | None] = mapped_column()
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)


class TicketPiece(Base):
    """One message of a question's exchange, kept as it came: its text (or caption) and the file on
    the messenger it came from (relayed to another messenger by downloading and uploading it)."""

    __tablename__ = "ticket_pieces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(512))
    file_name: Mapped[str | None] = mapped_column(String(255))
    transcript: Mapped[str | None] = mapped_column(Text)  # VK's speech-to-text of a voice note
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
