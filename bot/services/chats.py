"""Themed parent chats: which a family sees (their child's age group first), who may join (a
registered parent), requests held until the requester registers, and joins and leaves as
monitoring events. Nothing a member writes in a chat is kept."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from aiogram.types import ChatAdministratorRights
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat_content import ThemedChat
from bot.db.models import ChatCleanup, ChatNewcomer, ChatReport, HeldJoinRequest, Person
from bot.db.upsert import insert_or_nothing
from bot.services.events import EventKind, record_event
from bot.services.people import RoleName, find_account, has_role

CHAT = "chat"
REPORTS_A_DAY = 10  # a member's reports in one chat that reach the moderators in a day


# What the bot needs in a parent chat, and the text key of each right's name: asked for when it is
# made an administrator (Telegram suggests them), checked in each chat (scheduler/chats.py)
NEEDED_RIGHTS = {
    "can_invite_users": "chats.right_invite",
    "can_delete_messages": "chats.right_delete",
    "can_restrict_members": "chats.right_restrict",
    "can_pin_messages": "chats.right_pin",
}


# ChatAdministratorRights' required fields in the Bot API version the bot is written against
API_RIGHTS = (
    "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members", "can_promote_members",
    "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
)


def rights_to_ask() -> ChatAdministratorRights:
    """Exactly the rights the bot needs, every other one off. Built field by field: aiogram's model
    requires rights newer than that API version, which a server of that version refuses."""
    rights: dict[str, Any] = {name: False for name in API_RIGHTS} | {name: True for name in NEEDED_RIGHTS}
    return ChatAdministratorRights.model_construct(None, **rights)


def catalog(chats: Iterable[ThemedChat], platforms: Iterable[str], age_group: str | None) -> list[ThemedChat]:
    """The chats a family can join from here (made, on a messenger this bot serves), those for
    their child's age group first, the rest in the catalog's order."""
    served = set(platforms)
    shown = [chat for chat in chats if chat.connected and chat.platform in served]
    return sorted(shown, key=lambda chat: age_group not in chat.age_groups)


def by_chat_id(chats: Iterable[ThemedChat], platform: str, chat_id: int) -> ThemedChat | None:
    return next((chat for chat in chats if chat.platform == platform and chat.chat_id == chat_id), None)


def may_join(person: Person | None) -> bool:
    """Registered parents only (a person exists once they accepted the consent)."""
    return person is not None and has_role(person, RoleName.parent)


async def hold(session: AsyncSession, platform: str, user_id: int, chat_id: int, *, now: datetime) -> bool:
    """Keep the request until the requester registers; False if it is held already."""
    request = HeldJoinRequest(platform=platform, user_id=user_id, chat_id=chat_id, requested_at=now)
    return await insert_or_nothing(session, request, ["platform", "user_id", "chat_id"])


async def held_for(session: AsyncSession, platform: str, user_id: int) -> list[int]:
    """The chats this account asked to join before registering; they are no longer held after this."""
    where = (HeldJoinRequest.platform == platform, HeldJoinRequest.user_id == user_id)
    chat_ids = list(await session.scalars(select(HeldJoinRequest.chat_id).where(*where)))
    if chat_ids:
        await session.execute(delete(HeldJoinRequest).where(*where))
    return chat_ids


async def person_of(session: AsyncSession, platform: str, user_id: int) -> Person | None:
    account = await find_account(session, platform, user_id)
    return account.person if account else None


def membership(session: AsyncSession, chat: ThemedChat, person: Person | None, joined: bool, *, now: datetime) -> None:
    """A join or a leave: by the person's pseudonym when they are registered, anonymous otherwise."""
    kind = EventKind.chat_joined if joined else EventKind.chat_left
    record_event(session, kind, at=now, person=person, platform=chat.platform, object_type=CHAT, object_id=chat.id)


def clean_up_later(session: AsyncSession, platform: str, chat_id: int, message_id: int, *, at: datetime) -> None:
    """Remove the bot's message from the group at `at` (scheduler/chats.py)."""
    session.add(ChatCleanup(platform=platform, chat_id=chat_id, message_id=message_id, delete_at=at))


async def due_cleanups(session: AsyncSession, platforms: Iterable[str], now: datetime, limit: int = 200) -> list[ChatCleanup]:
    query = select(ChatCleanup).where(ChatCleanup.delete_at <= now, ChatCleanup.platform.in_(list(platforms))).order_by(ChatCleanup.delete_at).limit(limit)
    return list(await session.scalars(query))


async def report(session: AsyncSession, platform: str, chat_id: int, message_id: int, reporter_id: int, *, now: datetime) -> int:
    """Record a member's report of a message: how many members have reported it, or 0 when this
    member had already (a second /report from them counts nothing) or has used up their day's
    reports in this chat (one member cannot flood the moderators)."""
    mine = (ChatReport.platform == platform, ChatReport.chat_id == chat_id, ChatReport.reporter_id == reporter_id, ChatReport.at > now - timedelta(days=1))
    if (await session.scalar(select(func.count()).select_from(ChatReport).where(*mine)) or 0) >= REPORTS_A_DAY:
        return 0
    row = ChatReport(platform=platform, chat_id=chat_id, message_id=message_id, reporter_id=reporter_id, at=now)
    if not await insert_or_nothing(session, row, ["platform", "chat_id", "message_id", "reporter_id"]):
        return 0
    where = (ChatReport.platform == platform, ChatReport.chat_id == chat_id, ChatReport.message_id == message_id)
    return await session.scalar(select(func.count()).select_from(ChatReport).where(*where)) or 0


async def settle_reports(session: AsyncSession, platform: str, chat_id: int, message_id: int) -> None:
    """A moderator decided (or the bot removed the message): its reports are done with."""
    await session.execute(delete(ChatReport).where(ChatReport.platform == platform, ChatReport.chat_id == chat_id, ChatReport.message_id == message_id))


def moderates(chat: ThemedChat, platform: str, user_id: int) -> bool:
    return (platform, user_id) in chat.moderators


async def welcome_newcomer(session: AsyncSession, platform: str, chat_id: int, user_id: int, *, now: datetime) -> None:
    await session.execute(delete(ChatNewcomer).where(ChatNewcomer.platform == platform, ChatNewcomer.chat_id == chat_id, ChatNewcomer.user_id == user_id))
    session.add(ChatNewcomer(platform=platform, chat_id=chat_id, user_id=user_id, joined_at=now))


async def is_newcomer(session: AsyncSession, platform: str, chat_id: int, user_id: int, since: datetime) -> bool:
    """Whether they joined the chat after `since` (a query only for messages with links or forwards)."""
    found = select(ChatNewcomer.id).where(
        ChatNewcomer.platform == platform, ChatNewcomer.chat_id == chat_id, ChatNewcomer.user_id == user_id, ChatNewcomer.joined_at > since
    )
    return await session.scalar(found) is not None


async def forget_old_newcomers(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(ChatNewcomer).where(ChatNewcomer.joined_at <= before))


STAFF_ROLES = (RoleName.coordinator, RoleName.head, RoleName.admin)


def is_staff(person: Person | None) -> bool:
    """The centre's coordinators, heads and admins (they may pin announcements in any parent chat)."""
    return person is not None and any(has_role(person, role) for role in STAFF_ROLES)


async def forget_stale(session: AsyncSession, before: datetime) -> None:
    """Reports nobody acted on and requests from people who never registered, once old: they name accounts."""
    await session.execute(delete(ChatReport).where(ChatReport.at <= before))
    await session.execute(delete(HeldJoinRequest).where(HeldJoinRequest.requested_at <= before))
