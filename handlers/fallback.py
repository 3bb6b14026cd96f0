"""Last router: whatever nobody else handled gets a short, helpful answer, never silence."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.filters import Command, ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot.content import Texts
from bot.db.models import Person
from bot.platforms import Channel
from handlers.ui import menu_button

log = logging.getLogger(__name__)

MEDIA_KINDS = ("voice", "photo", "video", "document")


def build_router() -> Router:
    router = Router(name="fallback")
    router.message.register(help_command, Command("help"), F.chat.type == ChatType.PRIVATE)
    router.message.register(private_message, F.chat.type == ChatType.PRIVATE)
    router.message.register(group_command, Command("start", "help"))
    router.callback_query.register(outdated_button)
    router.errors.register(apologise, ExceptionTypeFilter(Exception))
    return router


async def help_command(message: Message, l10n: Texts) -> None:
    await message.answer(l10n("fallback.help", centre=l10n("centre.name")))


async def private_message(message: Message, person: Person | None, l10n: Texts) -> None:
    if person is None:
        await message.answer(l10n("fallback.not_registered"))
        return
    await message.answer(fallback_text(message, l10n), reply_markup=menu_button(l10n))


def fallback_text(message: Message, l10n: Texts) -> str:
    if message.text and message.text.startswith("/"):
        return l10n("fallback.command", command=message.text.split()[0])
    if message.text:
        return l10n("fallback.text")
    if message.sticker:
        return l10n("fallback.sticker")
    kind = next((kind for kind in MEDIA_KINDS if getattr(message, kind)), "other")
    return l10n("fallback.media", kind=l10n(f"kind.{kind}"))


async def group_command(message: Message, l10n: Texts, bot: Bot, channel: Channel) -> None:
    """In a group only /start and /help get an answer: a link to the private chat. Chatter is not ours."""
    await message.reply(l10n("fallback.group", link=await channel.link_to_bot(bot)))


async def outdated_button(callback: CallbackQuery, l10n: Texts) -> None:
    await callback.answer(l10n("fallback.button_outdated"))


async def apologise(event: ErrorEvent, bot: Bot, l10n: Texts | None = None) -> None:
    if isinstance(event.exception, TelegramRetryAfter):  # the platform's flood limit, not a bug: an apology would be throttled too
        log.warning("update %s: the reply was throttled (retry after %s s)", event.update.update_id, event.exception.retry_after)
        return
    log.error("update %s failed", event.update.update_id, exc_info=event.exception)
    if l10n is None:
        return
    try:
        if event.update.callback_query:
            await event.update.callback_query.answer(l10n("fallback.error"), show_alert=True)
        elif event.update.message and event.update.message.chat.type == ChatType.PRIVATE:
            await event.update.message.answer(l10n("fallback.error"))
    except TelegramAPIError as error:  # the failure is logged above; a second traceback tells nothing new
        log.warning("update %s: the apology was not delivered (%s)", event.update.update_id, type(error).__name__)
