"""Last router: whatever nobody else handled gets a short, helpful answer, never silence."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.filters import Command, ExceptionTypeFilter, MagicData
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot.content import Texts
from bot.db.models import Person
from bot.filters import InPrivateChat
from bot.lengths import shortened
from bot.platforms import Channel
from bot.services.broadcasts import SENDERS
from bot.services.people import RoleName
from handlers.ui import menu_button

log = logging.getLogger(__name__)

MEDIA_KINDS = ("voice", "photo", "video", "document")
ECHO_LIMIT = 40  # an unknown command is echoed at most this long, the cut shown by "…"


def build_router() -> Router:
    router = Router(name="fallback")
    router.message.register(help_command, Command("help"), MagicData(F.event.chat.type == ChatType.PRIVATE))
    router.message.register(private_message, MagicData(F.event.chat.type == ChatType.PRIVATE))
    router.message.register(group_command, Command("start", "help"))
    router.callback_query.register(private_only, ~InPrivateChat())
    router.callback_query.register(outdated_button)
    router.errors.register(apologise, ExceptionTypeFilter(Exception))
    return router


# (command, roles that have it; None = everyone registered), in the order /help lists them
HELP_COMMANDS: tuple[tuple[str, frozenset[str] | None], ...] = (
    ("start", None), ("menu", None), ("language", None), ("link", None), ("mydata", None),
    ("broadcasts", SENDERS), ("invite", frozenset({RoleName.admin})), ("help", None),
)


async def help_command(message: Message, l10n: Texts, person: Person | None = None, roles: frozenset[str] = frozenset()) -> None:
    """The commands of the person's own roles; someone not registered yet is pointed to /start."""
    if person is None:
        commands = ["start", "help"]
    else:
        commands = [name for name, allowed in HELP_COMMANDS if allowed is None or allowed & roles]
    lines = [l10n("help.intro", centre=l10n("centre.name")), *(l10n(f"help.{name}") for name in commands)]
    await message.answer("\n".join(lines))


async def private_message(message: Message, person: Person | None, l10n: Texts) -> None:
    if person is None:
        await message.answer(l10n("fallback.not_registered"))
        return
    await message.answer(fallback_text(message, l10n), reply_markup=menu_button(l10n))


def fallback_text(message: Message, l10n: Texts) -> str:
    if message.text and message.text.startswith("/"):
        return l10n("fallback.command", command=shortened(message.text.split()[0], ECHO_LIMIT))
    if message.text:
        return l10n("fallback.text")
    if message.sticker:
        return l10n("fallback.sticker")
    kind = next((kind for kind in MEDIA_KINDS if getattr(message, kind)), "other")
    return l10n("fallback.media", kind=l10n(f"kind.{kind}"))


async def group_command(message: Message, l10n: Texts, bot: Bot, channel: Channel) -> None:
    """In a group only /start and /help get an answer: a link to the private chat. Chatter is not ours."""
    await message.reply(l10n("fallback.group", link=await channel.link_to_bot(bot)))


async def private_only(callback: CallbackQuery, l10n: Texts) -> None:
    await callback.answer(l10n("privacy.private_only"), show_alert=True)


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
