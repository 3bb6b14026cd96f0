"""What the survey services share: the events' object, the statuses of an open wave, calendar months."""

from __future__ import annotations

import calendar
from datetime import datetime

from bot.db.models import WaveStatus

SURVEY = "survey"  # the events' object_type
OPEN = (WaveStatus.scheduled, WaveStatus.asked)
TICK_LIMIT = 5000  # waves one tick plans or asks at most


def wave_object(survey: str, wave: str) -> str:
    """A wave's events' object_id ("results:6", "quality:consultation"); an answer's adds ":question"."""
    return f"{survey}:{wave}"


def months_after(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months later (the month's last day if it is shorter)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))
