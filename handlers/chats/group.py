"""What the bot does for the catalog's chats: a join request from a registered parent is approved;
anyone else is told in a private message how to register, and their request waits until they do
(`let_in_after_registering`, called by onboarding). Members coming and going are counted; what
they write is never read."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot, Router
from aiogram.enums import ContentType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import ChatJoinRequest, Message, MessageReactionCountUpdated, TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat_content import ThemedChat
from bot.clock import Clock
from bot.config import Settings
from bot.content import Content, Texts
from bot.db.models import Person
from bot.platforms import CHANNELS
from bot.services import chats
from bot.services.chat_activity import Activity, ActivityCounter
from bot.services.events import EventKind, record_event
from bot.services.people import RoleName, has_role

log = logging.getLogger(__name__)


def build_router() -> Router:
    router = Router(name="chats_members")
    router.message.outer_middleware(CountMessages())
    router.chat_join_request.register(join_request)
    router.message.register(joined, newcomers)
    router.message.register(left, leaver)
    router.message.register(show_rules, Command("rules"))
    router.message_reaction_count.register(count_reactions)  # Telegram, where the bot is an admin
    return router


async def count_reactions(update: MessageReactionCountUpdated, content: Content, clock: Clock, platform: str, chat_activity: ActivityCounter) -> None:
    chat = chats.by_chat_id(content.chats, platform, update.chat.id)
    if chat is not None:
        chat_activity.reacted(chat.id, update.message_id, sum(reaction.total_count for reaction in update.reactions), clock.now())


# service messages: not a member's words
SERVICE = {ContentType.NEW_CHAT_MEMBERS, ContentType.LEFT_CHAT_MEMBER, ContentType.PINNED_MESSAGE, ContentType.NEW_CHAT_TITLE, ContentType.NEW_CHAT_PHOTO,
           ContentType.DELETE_CHAT_PHOTO, ContentType.GROUP_CHAT_CREATED, ContentType.SUPERGROUP_CHAT_CREATED, ContentType.MIGRATE_TO_CHAT_ID,
           ContentType.MIGRATE_FROM_CHAT_ID}


class CountMessages(BaseMiddleware):
    """Each message in a catalog chat adds one to the chat's day, in memory: no database work."""

    async def __call__(self, handler: Any, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Message) and event.content_type not in SERVICE and not (event.text or "").startswith("/"):
            chat = chats.by_chat_id(data["content"].chats, data["platform"], event.chat.id)
            if chat is not None:
                counter: ActivityCounter = data["chat_activity"]
                counter.add(chat.id, Activity.messages, data["clock"].now())
        return await handler(event, data)


async def newcomers(message: Message) -> bool:  # async: aiogram runs a sync filter in a thread
    return bool(message.new_chat_members)


async def leaver(message: Message) -> bool:
    return message.left_chat_member is not None


async def join_request(request: ChatJoinRequest, session: AsyncSession, content: Content, l10n: Texts, clock: Clock, platform: str, bot: Bot) -> None:
    chat = chats.by_chat_id(content.chats, platform, request.chat.id)
    if chat is None:
        return  # not one of the catalog's chats: another admin's business
    person = await chats.person_of(session, platform, request.from_user.id)
    if chats.may_join(person) or chats.is_staff(person) or chats.moderates(chat, platform, request.from_user.id):
        try:
            await request.approve()
        except TelegramAPIError as error:  # handled by another admin meanwhile, or the bot lost the right
            log.info("a request to join a parent chat could not be approved (%s)", type(error).__name__)
        return
    now = clock.now()
    if await chats.hold(session, platform, request.from_user.id, request.chat.id, now=now):
        record_event(session, EventKind.chat_request_held, at=now, platform=platform, object_type=chats.CHAT, object_id=chat.id)
    link = await CHANNELS[platform].link_to_bot(bot)
    try:  # Telegram lets the bot write to someone who asked to join, for a while, though they never started it
        await bot.send_message(request.user_chat_id, l10n("chats.register_first", chat=chat.title(l10n.language), link=link))
    except TelegramAPIError as error:
        log.info("the request to join a parent chat was held without a message (%s)", type(error).__name__)


async def let_in_after_registering(session: AsyncSession, bot: Bot, content: Content, person: Person, platform: str, user: User, l10n: Texts) -> str | None:
    """A parent who has just registered (or linked this account) asked to join parent chats before:
    those requests are approved now. What to tell them (None: nothing was held)."""
    if not has_role(person, RoleName.parent) or not CHANNELS[platform].join_requests:
        return None
    let_in = await approve_held(session, bot, content, platform, user)
    titles = [chat.title(l10n.language) for chat in content.chats if chat.id in let_in]
    return l10n("chats.let_in", chats=", ".join(titles)) if titles else None


async def approve_held(session: AsyncSession, bot: Bot, content: Content, platform: str, user: User) -> list[str]:
    """The user's held requests, approved; the chats' ids."""
    approved = []
    for chat_id in await chats.held_for(session, platform, user.id):
        chat = chats.by_chat_id(content.chats, platform, chat_id)
        if chat is None:
            continue
        try:
            await bot.approve_chat_join_request(chat_id, user.id)
        except TelegramAPIError as error:  # withdrawn, or too old for Telegram: they can ask again from the catalog
            log.info("a held request to join a parent chat could not be approved (%s)", type(error).__name__)
            continue
        approved.append(chat.id)
    return approved


async def joined(message: Message, session: AsyncSession, content: Content, clock: Clock, platform: str, **data: Any) -> None:
    """Newcomers are counted and welcomed with the chat's rules; the welcome goes after a while."""
    chat = await _count(message, message.new_chat_members or [], session, content, clock, platform, data["chat_activity"], True)
    people = [user for user in message.new_chat_members or [] if not user.is_bot]
    if chat is None or not people:
        return
    settings: Settings = data["settings"]
    if settings.chat_newcomer_hours:  # their links and forwards wait for the moderators for a while
        for user in people:
            await chats.welcome_newcomer(session, platform, message.chat.id, user.id, now=clock.now())
    l10n = content.texts[settings.default_language]  # a group reads the centre's language
    rules = chat.rules[l10n.language]
    named = CHANNELS[platform].tells_names
    text = l10n("chats.welcome", name=", ".join(user.first_name for user in people), rules=rules) if named else l10n("chats.welcome_all", rules=rules)
    welcome = await message.answer(text)
    if settings.chat_welcome_minutes:
        chats.clean_up_later(session, platform, message.chat.id, welcome.message_id, at=clock.now() + timedelta(minutes=settings.chat_welcome_minutes))


async def left(message: Message, session: AsyncSession, content: Content, clock: Clock, platform: str, **data: Any) -> None:
    users = [message.left_chat_member] if message.left_chat_member else []
    await _count(message, users, session, content, clock, platform, data["chat_activity"], False)


async def _count(
    message: Message, users: list[User], session: AsyncSession, content: Content, clock: Clock, platform: str, counter: ActivityCounter, joined: bool
) -> ThemedChat | None:
    chat = chats.by_chat_id(content.chats, platform, message.chat.id)
    if chat is None:
        return None
    now = clock.now()
    for user in users:
        if not user.is_bot:
            chats.membership(session, chat, await chats.person_of(session, platform, user.id), joined, now=now)
            counter.add(chat.id, Activity.joins if joined else Activity.leaves, now)
    return chat


async def show_rules(message: Message, content: Content, platform: str, settings: Settings) -> None:
    chat = chats.by_chat_id(content.chats, platform, message.chat.id)
    if chat is None:
        return
    l10n = content.texts[settings.default_language]
    await message.answer(l10n("chats.rules", chat=chat.title(l10n.language), rules=chat.rules[l10n.language]))

