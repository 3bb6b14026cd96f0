"""People and their messenger accounts, roles, consent decisions, invite and link codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.models.base import Base, new_pseudonym, utcnow


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
    __table_args__ = (UniqueConstraint("person_id", "role", "specialty"), Index("ix_roles_role_specialty", "role", "specialty"))

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
