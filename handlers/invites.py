"""Admins create one-time invite links that make specialists, coordinators and heads (ADMINS makes admins)."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.content import Content, Texts
from bot.db.models import Person
from bot.filters import Allowed
from bot.permissions import Action, Actor, may
from bot.platforms import Channel
from bot.services.invites import create_invite
from bot.services.people import INVITE_ROLES, STAFF_ROLES, RoleName
from handlers.menu import back_button
from handlers.ui import Buttons, CallbackInt, MenuAction, Screen, choices_keyboard, keyboard, role_name, show


class InviteFor(CallbackData, prefix="invite"):
    role: str
    specialty: str = ""  # "" for a specialist shows `page` of the specialties
    page: CallbackInt = 0


def build_router() -> Router:
    router = Router(name="invites")
    router.message.filter(Allowed(Action.invite_staff))
    router.callback_query.filter(Allowed(Action.invite_staff))
    router.message.register(invite_command, Command("invite"))
    router.callback_query.register(choose_role, MenuAction.filter(F.action == Screen.invite))
    router.callback_query.register(choose_specialty, InviteFor.filter((F.role == RoleName.specialist) & (F.specialty == "")))
    router.callback_query.register(invite_button, InviteFor.filter())
    return router


async def choose_role(callback: CallbackQuery, l10n: Texts) -> None:
    builder = Buttons()
    for role in INVITE_ROLES:
        builder.button(text=role_name(l10n, role), callback_data=InviteFor(role=role))
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action=Screen.home))
    await show(callback, l10n("invite.choose_role"), keyboard(builder, 2))


async def choose_specialty(callback: CallbackQuery, callback_data: InviteFor, l10n: Texts, content: Content) -> None:
    markup = choices_keyboard(
        content.specialties, l10n.language, lambda specialty: InviteFor(role=RoleName.specialist, specialty=specialty), [back_button(l10n, Screen.invite)],
        page=callback_data.page, make_page=lambda page: InviteFor(role=RoleName.specialist, page=page),
    )
    await show(callback, l10n("invite.choose_specialty"), markup)


async def invite_button(callback: CallbackQuery, callback_data: InviteFor, **deps) -> None:
    await show(callback, await invite_text(callback_data.role, callback_data.specialty, **deps))


async def invite_command(message: Message, command: CommandObject, **deps) -> None:
    role, _, specialty = (command.args or "").strip().partition(" ")
    await message.answer(await invite_text(role, specialty.strip(), **deps))


async def invite_text(
    role: str,
    specialty: str,
    *,
    session: AsyncSession,
    actor: Actor,
    person: Person,
    l10n: Texts,
    content: Content,
    settings: Settings,
    bot: Bot,
    channel: Channel,
    clock: Clock,
    **_,
) -> str:
    """Check the role (re-authorised: the button or the command names it) and specialty, create the code, and word the answer."""
    specialties = ", ".join(choice.id for choice in content.specialties)
    if not role:
        return l10n("invite.usage", roles=", ".join(INVITE_ROLES), specialties=specialties)
    if role not in STAFF_ROLES:
        return l10n("invite.unknown_role", role=role, roles=", ".join(INVITE_ROLES))
    if not may(actor, Action.invite_staff, RoleName(role)):  # the router let an admin in: only the role can be refused
        return l10n("staff.no_admin_invites", roles=", ".join(INVITE_ROLES))
    role = RoleName(role)
    specialty_choice = Content.find(content.specialties, specialty) if role == RoleName.specialist else None
    if role == RoleName.specialist and specialty_choice is None:
        return l10n("invite.unknown_specialty", specialties=specialties)
    ttl = timedelta(hours=settings.invite_ttl_hours)
    invite = await create_invite(session, role, specialty_choice.id if specialty_choice else "", person, ttl, now=clock.now())
    role_label = role_name(l10n, role)
    if specialty_choice is not None:
        role_label += f" ({specialty_choice.label(l10n.language)})"
    link = await channel.link_to_bot(bot, invite.code)
    return l10n("invite.created", role=role_label, expires=l10n.date_time(invite.expires_at), link=link)
