"""Surveys: one survey put to one family once (a wave)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models.base import Base, utcnow


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
