"""The tables. Times are UTC; people are referred to by id, never by messenger id, outside accounts."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_pseudonym() -> str:
    """A person's name in the events table: random, so it says nothing once the person is gone."""
    return secrets.token_hex(16)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class CampaignKind(StrEnum):
    broadcast = "broadcast"
    lesson = "lesson"  # one lesson in one language: running for good, a row per family it reaches
    reminder = "reminder"  # the nudge about an unopened lesson, likewise
    chat_notice = "chat_notice"  # to a parent chat, not to people: an office hour's announcement or reminder (one row)
    survey = "survey"  # a survey's first question in one language, for one wave: running for good, a row per family asked


class CampaignStatus(StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    sending = "sending"
    done = "done"
    cancelled = "cancelled"


class OutboxStatus(StrEnum):
    pending = "pending"  # to be tried (again) at next_attempt_at
    sent = "sent"
    unreachable = "unreachable"
    failed = "failed"
    cancelled = "cancelled"


class MediaKind(StrEnum):
    photo = "photo"
    video = "video"
    document = "document"


# Row ids are Integer columns: 32-bit on PostgreSQL. An id from outside (callback data) beyond this
# names no row, and PostgreSQL would refuse it as a query parameter.
MAX_ROW_ID = 2**31 - 1

# Named constraints, so later SQLite batch migrations can find them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar = {datetime: DateTime(timezone=True)}


class Person(Base):
    """One human, whatever messengers they use. No names, no diagnosis."""

    __tablename__ = "people"
    __table_args__ = ({"sqlite_autoincrement": True},)  # an id is never given to a newcomer again

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True, default=new_pseudonym)
    language: Mapped[str] = mapped_column(String(2))
    district: Mapped[str | None] = mapped_column(String(64))
    child_age_group: Mapped[str | None] = mapped_column(String(16))
    display_name: Mapped[str | None] = mapped_column(String(64))  # staff only: the name families see on their answers
    timezone: Mapped[str | None] = mapped_column(String(64))  # the family's own, when not the centre's (lesson times)
    surveys_declined_at: Mapped[datetime | None] = mapped_column()  # "don't ask me": no survey is planned or asked since
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    accounts: Mapped[list[Account]] = relationship(back_populates="person", cascade="all, delete-orphan", passive_deletes=True)
    roles: Mapped[list[Role]] = relationship(back_populates="person", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")


class Account(Base):
    """A messenger account: (platform, external id) is unique, so VK and Telegram ids never collide."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "external_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the messenger refused a message (blocked, denied, deleted); cleared when they write again.
    unreachable_since: Mapped[datetime | None] = mapped_column()

    person: Mapped[Person] = relationship(back_populates="accounts", lazy="joined")


class Role(Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("person_id", "role", "specialty"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    specialty: Mapped[str] = mapped_column(String(32), default="")
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="roles")


class ConsentRecord(Base):
    """Proof of a decision on a consent text. A decline keeps only this row, with no person."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    text_version: Mapped[str] = mapped_column(String(16))
    text_language: Mapped[str] = mapped_column(String(2))
    text_sha256: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    # A decline keeps no person, so the random nonce of the consent screen makes its button idempotent.
    nonce: Mapped[str | None] = mapped_column(String(32), unique=True)


class InviteCode(Base):
    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    specialty: Mapped[str] = mapped_column(String(32), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None] = mapped_column()


class LinkCode(Base):
    """A one-time code that joins another messenger account to a person."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class LinkAttempt(Base):
    """A wrong link code, kept for an hour to limit guessing. The account is a keyed hash, never its id."""

    __tablename__ = "link_attempts"
    __table_args__ = (Index("ix_link_attempts_account_at", "account_key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Event(Base):
    """Append-only monitoring: reports are SQL aggregates over this table. Who did it is the
    person's pseudonym, which only the people table links to a person: deleting them breaks it."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str | None] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    platform: Mapped[str | None] = mapped_column(String(16))
    district: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedUpdate(Base):
    """Update ids already handled, so a replayed update after a crash does nothing twice."""

    __tablename__ = "processed_updates"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class PlatformState(Base):
    """Small durable values a platform adapter needs across restarts (e.g. the VK long poll position)."""

    __tablename__ = "platform_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Campaign(Base):
    """One message to many people (a broadcast, later lessons and survey waves): its content,
    audience and state. A coordinator's draft is a campaign in status "draft"; which question the
    composer is answering lives in their conversation state (ConversationState)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="broadcast")
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft, scheduled, sending, done, cancelled
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")  # HTML, as the composer formatted it
    media_kind: Mapped[str | None] = mapped_column(String(16))  # photo, video, document
    media_platform: Mapped[str | None] = mapped_column(String(16))
    media_file_id: Mapped[str | None] = mapped_column(String(512))
    media_ids: Mapped[dict] = mapped_column(JSON, default=dict)  # the file id on each other platform, once uploaded
    buttons: Mapped[list] = mapped_column(JSON, default=list)  # [[label, url], ...]
    markup: Mapped[dict | None] = mapped_column(JSON)  # a ready inline keyboard (a lesson's buttons), instead of `buttons`
    key: Mapped[str | None] = mapped_column(String(96), unique=True)  # what a standing campaign is for: "lesson:home:3:ru"
    audience: Mapped[dict] = mapped_column(JSON, default=dict)  # criterion name -> chosen values
    origin_platform: Mapped[str | None] = mapped_column(String(16))
    origin_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    status_message_id: Mapped[int | None] = mapped_column(BigInteger)
    send_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class OutboxMessage(Base):
    """A campaign's message to one recipient, and what became of it. A parent chat's row (a
    chat_notice) has no person or account: its chat_id is the group's."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("campaign_id", "person_id"),
        Index("ix_outbox_due", "platform", "status", "next_attempt_at"),
        Index("ix_outbox_campaign_status", "campaign_id", "status"),  # progress counts read the index alone
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, unreachable, failed, cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column()  # claimed by a sender until then
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column()


class ConversationState(Base):
    """aiogram's FSM state and data of one person in one chat, per platform (a Telegram user 123 and
    a VK user 123 are two people). The user id leads the key, so forgetting someone is an index range."""

    __tablename__ = "conversation_states"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    thread_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, default=0)
    destiny: Mapped[str] = mapped_column(String(64), primary_key=True, default="default")
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


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


class EnrolmentStatus(StrEnum):
    active = "active"
    paused = "paused"
    left = "left"
    finished = "finished"


class Enrolment(Base):
    """A family in a course: their rhythm and time, and which lesson comes next when. `next_at` is
    set only while the lessons come (active), so the scheduler's tick reads one index range."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("person_id", "course"), Index("ix_enrolments_due", "next_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    course: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=EnrolmentStatus.active)
    every_days: Mapped[int | None] = mapped_column(SmallInteger)
    weekdays: Mapped[str] = mapped_column(String(32), default="")  # "tue,fri" when the rhythm is weekdays
    at_minute: Mapped[int] = mapped_column(SmallInteger)  # the family's time of day, minutes after midnight in `timezone`
    timezone: Mapped[str] = mapped_column(String(64))
    next_lesson: Mapped[int] = mapped_column(SmallInteger, default=1)  # its number in the course, from 1
    next_at: Mapped[datetime | None] = mapped_column()
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    rating: Mapped[int | None] = mapped_column(SmallInteger)  # usefulness, 1-5, at the end
    recommend: Mapped[bool | None] = mapped_column(Boolean)


class LessonReaction(StrEnum):
    like = "like"
    dislike = "dislike"


class LessonDelivery(Base):
    """A lesson a family received, and what they did with it: opened (first time and how often),
    liked or not, done. Presses on its message, however old, find this row."""

    __tablename__ = "lesson_deliveries"
    __table_args__ = (UniqueConstraint("person_id", "course", "lesson"), Index("ix_lesson_deliveries_unopened", "opened_at", "reminded_at", "sent_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    course: Mapped[str] = mapped_column(String(40))
    lesson: Mapped[int] = mapped_column(SmallInteger)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column()
    opens: Mapped[int] = mapped_column(Integer, default=0)
    reaction: Mapped[str | None] = mapped_column(String(8))
    done_at: Mapped[datetime | None] = mapped_column()
    reminded_at: Mapped[datetime | None] = mapped_column()


class LessonComment(Base):
    """A family's comment on a lesson, for the course's specialists to read."""

    __tablename__ = "lesson_comments"
    __table_args__ = (Index("ix_lesson_comments_lesson", "course", "lesson", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    course: Mapped[str] = mapped_column(String(40))
    lesson: Mapped[int] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


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


class WaveStatus(StrEnum):
    scheduled = "scheduled"  # to be asked at due_at
    asked = "asked"  # its first question went out; `question` is the one awaited
    finished = "finished"  # every question answered
    skipped = "skipped"  # the family said "skip this survey"
    expired = "expired"  # asked, and left unfinished past the survey's expire_days
    missed = "missed"  # never asked: its time had passed (planned late, or the family could not be reached)
    cancelled = "cancelled"  # the family said "don't ask me"


class SurveyWave(Base):
    """One survey put to one family once: a wave of the results survey (`round` = `wave` = the
    months after registration) or a quality survey after an occasion (`wave` = the occasion,
    `round` = the family's nth quality survey). All of a survey's progress lives here, so it goes
    on across restarts; a press is checked against this row."""

    __tablename__ = "survey_waves"
    __table_args__ = (UniqueConstraint("person_id", "survey", "round"), Index("ix_survey_waves_due", "status", "due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    survey: Mapped[str] = mapped_column(String(16))
    wave: Mapped[str] = mapped_column(String(16))  # "0", "6", "12"; "consultation", "course"
    round: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16), default=WaveStatus.scheduled)
    question: Mapped[str | None] = mapped_column(String(16))  # the question awaited while asked
    due_at: Mapped[datetime] = mapped_column()
    planned_at: Mapped[datetime] = mapped_column(default=utcnow)
    asked_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()  # finished, skipped, expired, missed or cancelled
