"""Courses: a family's enrolment, the lessons they received and their comments on them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models.base import Base, utcnow


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
