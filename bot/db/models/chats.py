"""Parent chats: held join requests, daily activity, cleanups, reports, newcomers and office hours."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models.base import Base, utcnow


class HeldJoinRequest(Base):
    """A request to join a parent chat from someone not (yet) a registered parent: approved once they
    register. By messenger account, as the request came; nothing else of them is kept."""

    __tablename__ = "held_join_requests"
    __table_args__ = (UniqueConstraint("platform", "user_id", "chat_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ChatActivity(Base):
    """A parent chat's day in figures: counted in memory as messages come and written as sums each
    minute (bot.services.chat_activity). No message's words, no author."""

    __tablename__ = "chat_activity"
    __table_args__ = (UniqueConstraint("chat", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat: Mapped[str] = mapped_column(String(32))  # the catalog's id
    day: Mapped[date] = mapped_column(Date)  # in the centre's time zone
    messages: Mapped[int] = mapped_column(Integer, default=0)
    joins: Mapped[int] = mapped_column(Integer, default=0)
    leaves: Mapped[int] = mapped_column(Integer, default=0)
    reactions: Mapped[int] = mapped_column(Integer, default=0)


class ChatCleanup(Base):
    """A message of the bot's in a group to remove at `delete_at` (a newcomer's welcome): kept in the
    database, so a restart in between still removes it."""

    __tablename__ = "chat_cleanups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    delete_at: Mapped[datetime] = mapped_column(index=True)


class ChatReport(Base):
    """A member's /report of a message in a parent chat: who reported which message, never what it says."""

    __tablename__ = "chat_reports"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "message_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    reporter_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ChatNewcomer(Base):
    """Someone who joined a parent chat lately: their links and forwards wait for the moderators
    until CHAT_NEWCOMER_HOURS have passed (then the row goes)."""

    __tablename__ = "chat_newcomers"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OfficeHour(Base):
    """A specialist's hour in a parent chat ("the psychologist answers questions here on Tuesday at
    18:00"): the chat is told the day before and reminded an hour before, each a chat_notice campaign.
    A weekly one moves on by a week once it has begun, with new campaigns."""

    __tablename__ = "office_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat: Mapped[str] = mapped_column(String(64))  # the catalog's id
    specialty: Mapped[str] = mapped_column(String(32))
    host_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))  # named in the notices, if chosen
    starts_at: Mapped[datetime] = mapped_column(index=True)
    weekly: Mapped[bool] = mapped_column(Boolean, default=False)
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column()
