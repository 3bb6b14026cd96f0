"""The parent chats' section: members at the period's end (joins minus leaves the bot saw, ever),
and the period's daily counts (joins, leaves, messages, reactions, days with a message)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ChatActivity, Event
from bot.services.events import EventKind
from bot.services.reports.period import Period


@dataclass(frozen=True)
class ChatFigures:
    chat: str
    members: int = 0  # at the period's end
    joins: int = 0
    leaves: int = 0
    messages: int = 0
    reactions: int = 0
    active_days: int = 0  # days with a member's message


def members_statement(period: Period) -> Any:
    change = case((Event.kind == EventKind.chat_joined, 1), else_=-1)
    return (
        select(Event.object_id, func.sum(change))
        .where(Event.kind.in_((EventKind.chat_joined.value, EventKind.chat_left.value)), Event.at < period.until)
        .group_by(Event.object_id)
    )


def activity_statement(period: Period) -> Any:
    return (
        select(
            ChatActivity.chat,
            func.sum(ChatActivity.joins),
            func.sum(ChatActivity.leaves),
            func.sum(ChatActivity.messages),
            func.sum(ChatActivity.reactions),
            func.sum(case((ChatActivity.messages > 0, 1), else_=0)),
        )
        .where(ChatActivity.day >= period.first_day, ChatActivity.day < period.end_day)
        .group_by(ChatActivity.chat)
    )


async def chat_figures(session: AsyncSession, period: Period) -> tuple[ChatFigures, ...]:
    members = {chat: int(count or 0) for chat, count in await session.execute(members_statement(period)) if chat}
    activity = {chat: tuple(int(value or 0) for value in values) for chat, *values in await session.execute(activity_statement(period))}
    chats = []
    for chat in sorted(set(members) | set(activity)):
        joins, leaves, messages, reactions, active = activity.get(chat, (0, 0, 0, 0, 0))
        chats.append(ChatFigures(chat, max(members.get(chat, 0), 0), joins, leaves, messages, reactions, active))
    return tuple(chats)
