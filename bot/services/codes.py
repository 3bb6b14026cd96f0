"""One-time codes: a random code, good until it expires, taken once, and purged once past its time.
Invites (a staff role) and link codes (a second messenger) are such codes, each in its own table
with the columns `code`, `created_at`, `expires_at` and `used_at`."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.db.models import InviteCode, LinkCode, as_utc

Code = TypeVar("Code", InviteCode, LinkCode)


class CodeProblem(StrEnum):
    """Why a code cannot be taken."""

    invalid = "invalid"
    expired = "expired"
    used = "used"


@dataclass(frozen=True)
class CodeFormat:
    alphabet: str
    length: int

    def make(self) -> str:
        return "".join(secrets.choice(self.alphabet) for _ in range(self.length))


URL_SAFE = CodeFormat(string.ascii_letters + string.digits + "-_", 12)  # 72 random bits, fits a start link


async def issue(session: AsyncSession, model: type[Code], code_format: CodeFormat, now: datetime, ttl: timedelta, **columns: Any) -> Code:
    """A new code, good for `ttl` from `now`."""
    row = model(code=code_format.make(), created_at=now, expires_at=now + ttl, **columns)
    session.add(row)
    await session.flush()
    return row


async def find(session: AsyncSession, model: type[Code], code: str) -> Code | None:
    return await session.scalar(select(model).where(model.code == code))


def problem(row: InviteCode | LinkCode | None, now: datetime) -> CodeProblem | None:
    """What stops the code from being taken at `now`, or None if it may be."""
    if row is None:
        return CodeProblem.invalid
    if row.used_at is not None:
        return CodeProblem.used
    if as_utc(row.expires_at) <= now:
        return CodeProblem.expired
    return None


async def take(
    session: AsyncSession, model: type[Code], now: datetime, *where: ColumnElement[bool], returning: InstrumentedAttribute, **values: Any
) -> Any | None:
    """Mark the live code matching `where` used (and set `values`) in one statement, so two takers
    racing for a code cannot both win; the `returning` column of the code taken, or None."""
    taken = await session.execute(
        update(model)
        .where(*where, model.used_at.is_(None), model.expires_at > now)
        .values(used_at=now, **values)
        .returning(returning)
        .execution_options(synchronize_session=False)
    )
    return taken.scalar_one_or_none()


async def purge(session: AsyncSession, model: type[Code], now: datetime, *also: ColumnElement[bool]) -> None:
    """Delete the codes past their time, and those matching any of `also`."""
    await session.execute(delete(model).where(or_(model.expires_at <= now, *also)))
