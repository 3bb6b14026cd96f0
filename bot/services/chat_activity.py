"""A parent chat's activity without anyone's words: messages, joins, leaves and reactions per chat
and day, counted in memory as they come (no database write per message) and added to the day's
row once a minute by the scheduler. A crash loses at most the last minute's counts."""

from __future__ import annotations

from collections import Counter, OrderedDict
from datetime import date, datetime, tzinfo
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ChatActivity
from bot.db.upsert import DIALECT_INSERTS

REMEMBERED = 20_000  # messages whose reaction totals are kept


class Activity(StrEnum):
    messages = "messages"
    joins = "joins"
    leaves = "leaves"
    reactions = "reactions"


class ActivityCounter:
    """The counts since the last flush, per (chat, day, what)."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.counts: Counter[tuple[str, date, Activity]] = Counter()
        self.reaction_totals: OrderedDict[tuple[str, int], int] = OrderedDict()  # the last total seen per message

    def reacted(self, chat: str, message_id: int, total: int, at: datetime) -> None:
        """A message's anonymous reaction count is now `total`: its growth since the last count
        seen is the day's. The last totals of the latest REMEMBERED messages are kept in memory
        (after a restart a message's next count counts from zero)."""
        key = (chat, message_id)
        grown = total - self.reaction_totals.pop(key, 0)
        self.reaction_totals[key] = total
        while len(self.reaction_totals) > REMEMBERED:
            self.reaction_totals.popitem(last=False)
        if grown > 0:
            self.add(chat, Activity.reactions, at, grown)

    def add(self, chat: str, what: Activity, at: datetime, number: int = 1) -> None:
        self.counts[(chat, at.astimezone(self.zone).date(), what)] += number

    async def flush(self, session: AsyncSession) -> int:
        """Add the counts to their days' rows (one upsert per chat and day); how many rows."""
        counts, self.counts = self.counts, Counter()
        rows: dict[tuple[str, date], dict[Activity, int]] = {}
        for (chat, day, what), number in counts.items():
            rows.setdefault((chat, day), dict.fromkeys(Activity, 0))[what] += number
        if not rows:
            return 0
        upsert = DIALECT_INSERTS[session.get_bind().dialect.name](ChatActivity)
        statement = upsert.on_conflict_do_update(
            index_elements=["chat", "day"], set_={what.value: getattr(ChatActivity, what.value) + getattr(upsert.excluded, what.value) for what in Activity}
        )
        values = [{"chat": chat, "day": day, **{what.value: number for what, number in figures.items()}} for (chat, day), figures in rows.items()]
        try:
            await session.execute(statement, values)
        except Exception:
            self.counts.update(counts)  # written at the next flush
            raise
        return len(rows)

