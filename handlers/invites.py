"""Admins create one-time invite links that make specialists, coordinators and heads (ADMINS makes admins)."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, MagicData
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.content import Content, Texts
from bot.db.models import Person
from bot.platforms import Channel
from bot.filters import HasRole, InPrivateChat
from bot.services.invites import create_invite
from bot.services.people import INVITE_ROLES, RoleName, format_date
from handlers.menu import back_button
from handlers.ui import CallbackInt, MenuAction, choices_keyboard, show


class InviteFor(CallbackData, prefix="invite"):
    role: str
    specialty: str = ""  # "" for a specialist shows `page` of the specialties
    page: CallbackInt = 0


def build_router() -> Router:
    router = Router(name="invites")
    router.message.filter(MagicData(F.event.chat.type == ChatType.PRIVATE), HasRole("admin"))
    router.callback_query.filter(InPrivateChat(), HasRole("admin"))
    router.message.register(invite_command, Command("invite"))
    router.callback_query.register(choose_role, MenuAction.filter(F.action == "invite"))
    router.callback_query.register(choose_specialty, InviteFor.filter((F.role == "specialist") & (F.specialty == "")))
    router.callback_query.register(invite_button, InviteFor.filter())
    return router


async def choose_role(callback: CallbackQuery, l10n: Texts) -> None:
    builder = InlineKeyboardBuilder()
    for role in INVITE_ROLES:
        builder.button(text=l10n(f"roles.{role}"), callback_data=InviteFor(role=role))
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action="home"))
    await show(callback, l10n("invite.choose_role"), builder.adjust(2).as_markup())


async def choose_specialty(callback: CallbackQuery, callback_data: InviteFor, l10n: Texts, content: Content) -> None:
    markup = choices_keyboard(
        content.specialties, l10n.language, lambda specialty: InviteFor(role="specialist", specialty=specialty), [back_button(l10n, "invite")],
        page=callback_data.page, make_page=lambda page: InviteFor(role="specialist", page=page),
    )
    await show(callback, l10n("invite.choose_specialty"), markup)


async def invite_button(callback: CallbackQuery, callback_data: InviteFor, **deps) -> None:
    await show(callback, await invite_text(callback_data.role, callback_data.specialty, **deps))


async def invite_command(message: Message, command: CommandObject, **deps) -> None:
    role, _, specialty = (command.args or "").strip().partition(" ")
    await message.answer(await invite_text(role, specialty.strip(), **deps))


async def invite_text(
    role: str, specialty: str, *, session: AsyncSession, person: Person, l10n: Texts, content: Content, settings: Settings, bot: Bot, channel: Channel, **_
) -> str:
    """Check the (re-authorised) role and specialty, create the code, and word the answer."""
    specialties = ", ".join(choice.id for choice in content.specialties)
    if not role:
        return l10n("invite.usage", roles=", ".join(INVITE_ROLES), specialties=specialties)
    if role == RoleName.admin:
        return l10n("staff.no_admin_invites", roles=", ".join(INVITE_ROLES))
    if role not in INVITE_ROLES:
        return l10n("invite.unknown_role", role=role, roles=", ".join(INVITE_ROLES))
    if role == "specialist" and Content.find(content.specialties, specialty) is None:
        return l10n("invite.unknown_specialty", specialties=specialties)
    invite = await create_invite(session, role, specialty if role == "specialist" else "", person, timedelta(hours=settings.invite_ttl_hours))
    role_label = l10n(f"roles.{role}")
    if invite.specialty:
        role_label += f" ({Content.find(content.specialties, invite.specialty).label(l10n.language)})"
    link = await channel.link_to_bot(bot, invite.code)
    return l10n("invite.created", role=role_label, expires=format_date(invite.expires_at), link=link)
