"""Last routers: whatever nobody else handled gets a short, helpful answer, never silence; in a
group, a pointer to the private chat; and the apology when a handler fails."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.filters import Command, ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content, Texts
from bot.db.models import MediaKind
from bot.lengths import shortened
from bot.permissions import NOBODY, Action, Actor, may
from bot.platforms import Channel
from bot.platforms.media import RELAYED_KINDS, VOICE, media_of
from bot.services.people import find_account
from handlers.ui import menu_button

log = logging.getLogger(__name__)

# the message attribute of each kind of media, and the text key that names it
MEDIA_KINDS = {VOICE: "kind.voice", MediaKind.photo: "kind.photo", MediaKind.video: "kind.video", MediaKind.document: "kind.document"}
ECHO_LIMIT = 40  # an unknown command is echoed at most this long, the cut shown by "…"


def build_private_router() -> Router:
    """Last in the private tier: whatever no feature took there."""
    router = Router(name="fallback")
    router.message.register(help_command, Command("help"))
    router.message.register(private_message)
    router.callback_query.register(outdated_button)
    return router


def build_group_router() -> Router:
    """The group tier: /start and /help get a pointer to the private chat, and a press on a
    personal screen's button outside the private chat is told so."""
    router = Router(name="group_fallback")
    router.message.register(group_command, Command("start", "help"))
    router.callback_query.register(private_only)
    return router


def build_errors_router() -> Router:
    router = Router(name="errors")
    router.errors.register(apologise, ExceptionTypeFilter(Exception))
    return router


# (the command's help line, what it does; None = everyone, registered or not), in the order /help lists them
HELP_COMMANDS: tuple[tuple[str, Action | None], ...] = (
    ("help.start", None),
    ("help.menu", Action.use_menu),
    ("help.language", Action.use_menu),
    ("help.link", Action.link_accounts),
    ("help.mydata", Action.use_menu),
    ("help.courses", Action.take_courses),
    ("help.chats", Action.join_chats),
    ("help.ask", Action.ask_question),
    ("help.myquestions", Action.ask_question),
    ("help.queue", Action.work_questions),
    ("help.broadcasts", Action.compose_broadcast),
    ("help.officehours", Action.schedule_office_hours),
    ("report.help", Action.read_reports),
    ("help.invite", Action.invite_staff),
    ("help.help", None),
)


async def help_command(message: Message, l10n: Texts, actor: Actor = NOBODY) -> None:
    """The commands the person may use; someone not registered yet is pointed to /start."""
    keys = [key for key, action in HELP_COMMANDS if action is None or may(actor, action)]
    lines = [l10n("help.intro", centre=l10n("centre.name")), *(l10n(key) for key in keys)]
    await message.answer("\n".join(lines))


async def private_message(message: Message, actor: Actor, l10n: Texts) -> None:
    if not actor.registered:
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
    media = media_of(message, RELAYED_KINDS)
    return l10n("fallback.media", kind=l10n(MEDIA_KINDS[media.kind] if media else "kind.other"))


async def group_command(message: Message, l10n: Texts, bot: Bot, channel: Channel, session: AsyncSession, platform: str, content: Content) -> None:
    """In a group only /start and /help get an answer: a link to the private chat. Chatter is not ours."""
    l10n = await writers_texts(session, platform, message.from_user, content, l10n)
    await message.reply(l10n("fallback.group", link=await channel.link_to_bot(bot)))


async def private_only(callback: CallbackQuery, l10n: Texts, session: AsyncSession, platform: str, content: Content) -> None:
    l10n = await writers_texts(session, platform, callback.from_user, content, l10n)
    await callback.answer(l10n("privacy.private_only"), show_alert=True)


async def writers_texts(session: AsyncSession, platform: str, user: User | None, content: Content, guessed: Texts) -> Texts:
    """The writer's own language when the bot answers them outside the private chat. The identity
    middleware looks nobody up for group traffic (most of it is chatter the bot ignores), so the
    rare group update that gets an answer looks its writer up here."""
    account = await find_account(session, platform, user.id) if user else None
    return content.texts[account.person.language] if account is not None else guessed


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
