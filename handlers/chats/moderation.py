"""Moderation in a parent chat, with the chat's moderators one tap away.

- /report: a member replies to a message with /report; at the first report the moderators get the
  message (copied, never stored) with "remove it", "remove it and mute the author for a day" (where
  the messenger can) and "keep it"; at CHAT_REPORTS_TO_ACT reports from different members the bot
  removes it by itself and tells them.
- A newcomer's message with a link or a forward, in their first CHAT_NEWCOMER_HOURS: taken out of
  the chat and shown to the moderators with "publish", "delete" and "mute for a day". Each
  moderator's copy is what "publish" puts back, so the bot keeps no message anywhere."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, ChatPermissions, InlineKeyboardMarkup, Message
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat_content import ThemedChat
from bot.clock import Clock
from bot.config import Settings
from bot.content import Content, Texts
from bot.platforms import CHANNELS
from bot.services import chats
from bot.services.events import EventKind, record_event
from handlers.ui import Buttons, keyboard, show

log = logging.getLogger(__name__)
MUTED_FOR = timedelta(days=1)


class ModStep(StrEnum):
    remove = "remove"
    mute = "mute"
    keep = "keep"
    publish = "publish"  # a held message: `message` is the moderator's copy
    discard = "discard"
    mute_newcomer = "mute_newcomer"  # a held message's author (the message is out of the chat already)


class Moderate(CallbackData, prefix="mod"):
    step: ModStep
    chat: str  # the catalog's id
    message: int = Field(ge=0)
    author: int = Field(ge=0)  # a messenger's user id (Telegram's exceed 32 bits)


def build_group_router() -> Router:
    router = Router(name="chats_reports")
    router.message.register(report_message, Command("report"))
    router.message.register(pin_announcement, Command("pin"))
    router.message.register(hold_newcomers_link, carries_link_or_forward)
    return router


async def hint(message: Message, session: AsyncSession, text: str, clock: Clock, platform: str, settings: Settings) -> None:
    """A how-to in the chat, removed with the welcomes, so a member cannot make the bot fill the chat."""
    sent = await message.reply(text)
    chats.clean_up_later(session, platform, message.chat.id, sent.message_id, at=clock.now() + timedelta(minutes=settings.chat_welcome_minutes or 10))


async def pin_announcement(
    message: Message, session: AsyncSession, content: Content, clock: Clock, platform: str, settings: Settings, bot: Bot
) -> None:
    """/pin as a reply: the centre's staff and the chat's moderators pin an announcement."""
    chat = chats.by_chat_id(content.chats, platform, message.chat.id)
    if chat is None or message.from_user is None:
        return
    l10n = content.texts[settings.default_language]
    person = await chats.person_of(session, platform, message.from_user.id)
    if not (chats.moderates(chat, platform, message.from_user.id) or chats.is_staff(person)):
        await hint(message, session, l10n("chats.pin_who"), clock, platform, settings)
        return
    if message.reply_to_message is None:
        await hint(message, session, l10n("chats.pin_how"), clock, platform, settings)
        return
    try:
        await bot.pin_chat_message(message.chat.id, message.reply_to_message.message_id, disable_notification=False)
    except TelegramAPIError as error:
        log.info("an announcement could not be pinned in a parent chat (%s)", type(error).__name__)
        await message.reply(l10n("chats.pin_failed"))
        return
    with contextlib.suppress(TelegramAPIError):
        await message.delete()


async def carries_link_or_forward(message: Message) -> bool:  # async: aiogram runs a sync filter in a thread
    if message.forward_origin is not None:
        return True
    entities = (message.entities or []) + (message.caption_entities or [])
    return any(entity.type in ("url", "text_link") for entity in entities) or "://" in (message.text or message.caption or "")


async def hold_newcomers_link(message: Message, session: AsyncSession, content: Content, clock: Clock, platform: str, settings: Settings, bot: Bot) -> None:
    chat = chats.by_chat_id(content.chats, platform, message.chat.id)
    if chat is None or message.from_user is None or not settings.chat_newcomer_hours or not chat.moderators:
        return
    now = clock.now()
    if not await chats.is_newcomer(session, platform, message.chat.id, message.from_user.id, now - timedelta(hours=settings.chat_newcomer_hours)):
        return
    told = 0
    for moderator in moderators_on(chat, platform):
        texts = await texts_of(session, content, platform, moderator, content.texts[settings.default_language])
        try:
            copy = await bot.copy_message(moderator, chat.chat_id, message.message_id)
            markup = held_actions(texts, chat, platform, copy.message_id, message.from_user.id)
            await bot.send_message(moderator, texts("chats.held", chat=chat.title(texts.language)), reply_markup=markup)
            told += 1
        except TelegramAPIError as error:
            log.info("a moderator of a parent chat could not be shown a held message (%s)", type(error).__name__)
    if not told:
        return  # nobody could see it: it stays in the chat rather than vanish
    with contextlib.suppress(TelegramAPIError):
        await message.delete()
    record_event(session, EventKind.chat_message_held, at=now, platform=platform, object_type=chats.CHAT, object_id=chat.id)


def held_actions(texts: Texts, chat: ThemedChat, platform: str, copy_id: int, author: int) -> InlineKeyboardMarkup:
    builder = Buttons()
    steps = [(ModStep.publish, "chats.publish"), (ModStep.discard, "chats.discard")]
    if CHANNELS[platform].can_mute:
        steps.append((ModStep.mute_newcomer, "chats.mute_newcomer"))
    for step, key in steps:
        builder.button(text=texts(key), callback_data=Moderate(step=step, chat=chat.id, message=copy_id, author=author))
    return keyboard(builder, 1)


def moderators_on(chat: ThemedChat, platform: str) -> list[int]:
    """The chat's moderators who can act on it: those on its messenger."""
    return [moderator for moderator_platform, moderator in sorted(chat.moderators) if moderator_platform == platform]


async def texts_of(session: AsyncSession, content: Content, platform: str, user_id: int, centre: Texts) -> Texts:
    """A moderator's language; the centre's for a trusted parent who never registered with the bot."""
    person = await chats.person_of(session, platform, user_id)
    return content.texts[person.language] if person else centre


def build_private_router() -> Router:
    """The moderators' presses, in their own chat with the bot; each checked against the catalog."""
    router = Router(name="chats_moderation")
    router.callback_query.register(moderate, Moderate.filter())
    return router


async def report_message(message: Message, session: AsyncSession, content: Content, clock: Clock, platform: str, settings: Settings, bot: Bot) -> None:
    chat = chats.by_chat_id(content.chats, platform, message.chat.id)
    if chat is None or message.from_user is None:
        return
    l10n = content.texts[settings.default_language]
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.is_bot:
        await hint(message, session, l10n("chats.report_how"), clock, platform, settings)
        return
    now = clock.now()
    count = await chats.report(session, platform, message.chat.id, target.message_id, message.from_user.id, now=now)
    with contextlib.suppress(TelegramAPIError):  # the /report itself goes: the chat stays clean
        await message.delete()
    if not count:
        return  # they had reported it already
    record_event(session, EventKind.chat_message_reported, at=now, platform=platform, object_type=chats.CHAT, object_id=chat.id, value=count)
    if count >= settings.chat_reports_to_act:
        await remove(session, bot, chat, platform, target.message_id, now)
        removed = lambda texts: texts("chats.report_removed", chat=chat.title(texts.language), count=count)  # noqa: E731
        await tell_moderators(session, bot, content, chat, platform, removed, l10n)
    elif count == 1:
        buttons = actions(chat, platform, target.message_id, target.from_user.id)
        await tell_moderators(
            session, bot, content, chat, platform, lambda texts: texts("chats.reported", chat=chat.title(texts.language)), l10n, buttons, target.message_id
        )


def actions(chat: ThemedChat, platform: str, message_id: int, author: int) -> Callable[[Texts], InlineKeyboardMarkup]:
    def markup(texts: Texts) -> InlineKeyboardMarkup:
        builder = Buttons()
        steps = [(ModStep.remove, "chats.remove")] + ([(ModStep.mute, "chats.mute")] if CHANNELS[platform].can_mute else []) + [(ModStep.keep, "chats.keep")]
        for step, key in steps:
            builder.button(text=texts(key), callback_data=Moderate(step=step, chat=chat.id, message=message_id, author=author))
        return keyboard(builder, 1)

    return markup


async def tell_moderators(
    session: AsyncSession, bot: Bot, content: Content, chat: ThemedChat, platform: str, text: Callable[[Texts], str],
    centre: Texts, markup: Callable[[Texts], InlineKeyboardMarkup] | None = None, copy_of: int | None = None,
) -> int:
    """Each moderator on the chat's messenger, in their language: the message (copied from the
    chat, when given) and the notice. A moderator who never started the bot is skipped."""
    told = 0
    for moderator in moderators_on(chat, platform):
        texts = await texts_of(session, content, platform, moderator, centre)
        try:
            if copy_of is not None:
                await bot.copy_message(moderator, chat.chat_id, copy_of)
            await bot.send_message(moderator, text(texts), reply_markup=markup(texts) if markup else None)
            told += 1
        except TelegramAPIError as error:
            log.info("a moderator of a parent chat could not be told (%s)", type(error).__name__)
    return told


async def remove(session: AsyncSession, bot: Bot, chat: ThemedChat, platform: str, message_id: int, now: datetime) -> bool:
    chat_id = chat.chat_id
    await chats.settle_reports(session, platform, chat_id, message_id)
    try:
        await bot.delete_message(chat_id, message_id)
    except TelegramAPIError as error:  # gone already, or the bot lost the right
        log.info("a reported message could not be removed from a parent chat (%s)", type(error).__name__)
        return False
    record_event(session, EventKind.chat_message_removed, at=now, platform=platform, object_type=chats.CHAT, object_id=chat.id)
    return True


async def moderate(
    callback: CallbackQuery, callback_data: Moderate, session: AsyncSession, content: Content, clock: Clock, platform: str, bots: Mapping[str, Bot], l10n: Texts
) -> None:
    chat = Content.find(content.chats, callback_data.chat)
    if chat is None or chat.platform != platform or not chats.moderates(chat, platform, callback.from_user.id):
        await callback.answer(l10n("fallback.button_outdated"))
        return
    bot, now = bots[platform], clock.now()
    if callback_data.step == ModStep.remove:
        note = "chats.removed" if await remove(session, bot, chat, platform, callback_data.message, now) else "chats.already_gone"
    elif callback_data.step in (ModStep.mute, ModStep.mute_newcomer) and CHANNELS[platform].can_mute:
        if callback_data.step == ModStep.mute:  # a reported message goes too
            await remove(session, bot, chat, platform, callback_data.message, now)
        quiet = ChatPermissions(can_send_messages=False, can_send_other_messages=False, can_add_web_page_previews=False)
        try:
            await bot.restrict_chat_member(chat.chat_id, callback_data.author, quiet, until_date=now + MUTED_FOR)
            record_event(session, EventKind.chat_member_muted, at=now, platform=platform, object_type=chats.CHAT, object_id=chat.id)
            note = "chats.muted"
        except TelegramAPIError as error:
            log.info("a member of a parent chat could not be muted (%s)", type(error).__name__)
            note = "chats.cannot_mute"
    elif callback_data.step == ModStep.publish:
        try:  # the moderator's copy first: if it is gone, nothing is said in the chat
            await bot.copy_message(chat.chat_id, callback.from_user.id, callback_data.message)
        except TelegramAPIError as error:
            log.info("a held message could not be published (%s)", type(error).__name__)
            await show(callback, l10n("chats.already_gone", chat=chat.title(l10n.language)))
            return
        with contextlib.suppress(TelegramAPIError):
            await bot.send_message(chat.chat_id, l10n("chats.checked"))
        record_event(session, EventKind.chat_message_published, at=now, platform=platform, object_type=chats.CHAT, object_id=chat.id)
        note = "chats.published"
    elif callback_data.step == ModStep.discard:
        note = "chats.discarded"
    elif callback_data.step == ModStep.keep:
        await chats.settle_reports(session, platform, chat.chat_id, callback_data.message)
        note = "chats.kept"
    else:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await show(callback, l10n(note, chat=chat.title(l10n.language)))
