"""A report's period: a calendar month or year in the centre's time zone, as UTC bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_

MONTH = re.compile(r"(\d{4})-(\d{2})")
YEAR = re.compile(r"\d{4}")


class BadPeriod(ValueError):
    """Not a month (YYYY-MM) or a year (YYYY): str() says which form was expected."""


@dataclass(frozen=True)
class Period:
    """[first_day, end_day) in the centre's time zone; since/until the same bounds in UTC."""

    year: int
    month: int | None  # None: the whole year
    zone: str

    @classmethod
    def parse(cls, text: str, zone: str) -> Period:
        """"2026-10" (a month) or "2026" (a year)."""
        text = text.strip()
        if (found := MONTH.fullmatch(text)) and 1 <= int(found[2]) <= 12 and int(found[1]) >= 2000:
            return cls(int(found[1]), int(found[2]), zone)
        if YEAR.fullmatch(text) and int(text) >= 2000:
            return cls(int(text), None, zone)
        raise BadPeriod(f"{text!r} is neither a month (YYYY-MM, e.g. 2026-10) nor a year (YYYY, e.g. 2026)")

    @classmethod
    def month_of(cls, moment: datetime, zone: str, back: int = 0) -> Period:
        """The month `moment` falls in (locally), or the one `back` months before it."""
        local = moment.astimezone(ZoneInfo(zone))
        index = local.year * 12 + local.month - 1 - back
        return cls(index // 12, index % 12 + 1, zone)

    @classmethod
    def year_of(cls, moment: datetime, zone: str, back: int = 0) -> Period:
        return cls(moment.astimezone(ZoneInfo(zone)).year - back, None, zone)

    @property
    def monthly(self) -> bool:
        return self.month is not None

    @property
    def key(self) -> str:
        """"2026-10" or "2026": what the CLI and the buttons say, and the files are named by."""
        return f"{self.year}-{self.month:02d}" if self.month is not None else str(self.year)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def end_day(self) -> date:
        """The day after the period."""
        if self.month is None or self.month == 12:
            return date(self.year + 1, 1, 1)
        return date(self.year, self.month + 1, 1)

    @property
    def since(self) -> datetime:
        return self._utc(self.first_day)

    @property
    def until(self) -> datetime:
        return self._utc(self.end_day)

    def _utc(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(self.zone)).astimezone(UTC)


def in_period(column: Any, period: Period) -> Any:
    """`column` (a UTC time) within the period: since <= column < until."""
    return and_(column >= period.since, column < period.until)
