"""Campaigns (one message to many) and the outbox of their messages to each recipient."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models.base import Base, utcnow


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
