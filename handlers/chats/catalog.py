"""The parent chats a family can join, their child's age group first: a chat's description and
its link. On Telegram the link asks to join and the bot lets registered parents in (group.py); on
VK, which has no join requests, only registered parents are ever given the link."""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from enum import StrEnum

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat_content import ThemedChat
from bot.content import Content, Texts
from bot.db.models import Person
from bot.platforms import CHANNELS
from bot.services import chats
from bot.services.state import get_state, set_state
from handlers.ui import CallbackInt, MenuAction, Screen, paged_keyboard, show

log = logging.getLogger(__name__)
PER_PAGE = 4  # a row each, the arrows and "back": within VK's six rows
LINK_KEY = "chat_link:{chat}"


class ChatStep(StrEnum):
    list = "list"
    show = "show"


class ChatAction(CallbackData, prefix="pc"):
    step: ChatStep
    chat: str = ""
    page: CallbackInt = 0


def build_router() -> Router:
    router = Router(name="chats_catalog_screens")
    router.message.register(chat_list, Command("chats"))
    router.callback_query.register(chat_list, MenuAction.filter(F.action == Screen.chats))
    router.callback_query.register(chat_list, ChatAction.filter(F.step == ChatStep.list))
    router.callback_query.register(chat_screen, ChatAction.filter(F.step == ChatStep.show))
    return router


async def chat_list(event: Message | CallbackQuery, person: Person, l10n: Texts, content: Content, bots: Mapping[str, Bot], **data) -> None:
    pressed = data.get("callback_data")
    shown = chats.catalog(content.chats, bots, person.child_age_group)
    page = pressed.page if isinstance(pressed, ChatAction) else 0
    items = [(chat.title(l10n.language), ChatAction(step=ChatStep.show, chat=chat.id)) for chat in shown]
    back = (l10n("menu.back"), MenuAction(action=Screen.home))
    markup = paged_keyboard(items, page, PER_PAGE, lambda target: ChatAction(step=ChatStep.list, page=target), back)
    await show(event, l10n("chats.title") if shown else l10n("chats.none"), markup)


async def chat_screen(
    callback: CallbackQuery, callback_data: ChatAction, session: AsyncSession, l10n: Texts, content: Content, bots: Mapping[str, Bot]
) -> None:
    chat = Content.find(chats.catalog(content.chats, bots, None), callback_data.chat)
    if chat is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    back = InlineKeyboardButton(text=l10n("menu.back"), callback_data=ChatAction(step=ChatStep.list).pack())
    title = f"<b>{html.escape(chat.title(l10n.language), quote=False)}</b>\n\n{html.escape(chat.descriptions[l10n.language], quote=False)}"
    link = await invite_link(session, bots[chat.platform], chat)
    if link is None:
        await show(callback, f"{title}\n\n{l10n('chats.unavailable')}", InlineKeyboardMarkup(inline_keyboard=[[back]]))
        return
    hint = l10n("chats.join_hint_requests" if CHANNELS[chat.platform].join_requests else "chats.join_hint_link")
    join = InlineKeyboardButton(text=l10n("chats.join"), url=link)
    await show(callback, f"{title}\n\n{hint}", InlineKeyboardMarkup(inline_keyboard=[[join], [back]]))


async def invite_link(session: AsyncSession, bot: Bot, chat: ThemedChat) -> str | None:
    """The chat's link, made once and kept: on Telegram one that asks to join (the bot decides),
    on VK the conversation's own. None when the messenger refuses (the bot is not an admin there)."""
    key = LINK_KEY.format(chat=chat.id)
    if (known := await get_state(session, key)) is not None:
        return known
    try:
        made = await bot.create_chat_invite_link(chat.chat_id, name="Vmeste", creates_join_request=CHANNELS[chat.platform].join_requests)
    except TelegramAPIError as error:  # for the operator: which chat, not who asked
        log.warning("no invite link for the parent chat %r (%s): make the bot an administrator who may invite users", chat.id, type(error).__name__)
        return None
    await set_state(session, key, made.invite_link)
    return made.invite_link
