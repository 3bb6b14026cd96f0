"""One person, two messengers: a code made in one is sent to the bot in the other."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content, Texts
from bot.db.models import Person
from bot.filters import InPrivateChat, Registered
from bot.services.linking import LINK_CODE_TTL, LinkResult, create_link_code, link_account
from handlers.menu import menu_screen
from handlers.ui import MenuAction, show


def build_router() -> Router:
    router = Router(name="linking")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(InPrivateChat())
    router.message.register(link_with_code, Command("link", magic=F.args))
    router.message.register(show_code, Command("link"), Registered())
    router.callback_query.register(show_code, MenuAction.filter(F.action == "link"), Registered())
    return router


async def show_code(event: Message | CallbackQuery, session: AsyncSession, person: Person, l10n: Texts, platform: str) -> None:
    link = await create_link_code(session, person, platform)
    builder = InlineKeyboardBuilder()
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action="home"))
    minutes = int(LINK_CODE_TTL.total_seconds() // 60)
    await show(event, l10n("link.code", code=link.code, minutes=minutes), builder.as_markup())


async def link_with_code(message: Message, command: CommandObject, session: AsyncSession, person: Person | None, content: Content, l10n: Texts, platform: str) -> None:
    linked = await link_account(session, command.args, platform, message.from_user.id, registered=person is not None)
    if isinstance(linked, LinkResult):
        await message.answer(l10n(f"link.{linked}"))
        return
    l10n = content.texts[linked.language]
    await show(message, *menu_screen(linked, l10n, note=l10n("link.linked")))
