"""Admins list the centre's staff and revoke a role (a specialist who left); the person is told."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from aiogram import Bot, F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.content import Choice, Content, Texts
from bot.db.models import Person, Role
from bot.filters import Allowed
from bot.lengths import BUTTON_LABEL_LIMIT, shortened
from bot.permissions import Action, Actor, may
from bot.services.people import accounts_of, role_names
from bot.services.staff import find_person, find_role, revoke_role, staff_members
from handlers.ui import Buttons, CallbackInt, MenuAction, Screen, choices_keyboard, keyboard, role_name, show, tell_person


class StaffStep(StrEnum):
    list = "list"
    person = "person"
    revoke = "revoke"  # asks to confirm
    confirm = "confirm"


class StaffScreen(CallbackData, prefix="staff"):
    step: StaffStep
    person: CallbackInt = 0
    role: CallbackInt = 0
    page: CallbackInt = 0


def build_router() -> Router:
    router = Router(name="staff")
    router.callback_query.filter(Allowed(Action.manage_staff))  # asked again on every press: roles are read per update
    router.callback_query.register(open_staff, MenuAction.filter(F.action == Screen.staff))
    router.callback_query.register(staff_page, StaffScreen.filter(F.step == StaffStep.list))
    router.callback_query.register(staff_member, StaffScreen.filter(F.step == StaffStep.person))
    router.callback_query.register(confirm_revoke, StaffScreen.filter(F.step == StaffStep.revoke))
    router.callback_query.register(revoke, StaffScreen.filter(F.step == StaffStep.confirm))
    return router


def fit(text: str) -> str:
    return shortened(text, BUTTON_LABEL_LIMIT)


def role_label(role: Role, l10n: Texts, content: Content) -> str:
    specialty = Content.find(content.specialties, role.specialty) if role.specialty else None
    name = role_name(l10n, role.role)
    return f"{name} ({specialty.label(l10n.language)})" if specialty else name


async def open_staff(callback: CallbackQuery, session: AsyncSession, l10n: Texts) -> None:
    await staff_list(callback, session, l10n, page=0)


async def staff_page(callback: CallbackQuery, callback_data: StaffScreen, session: AsyncSession, l10n: Texts) -> None:
    await staff_list(callback, session, l10n, page=callback_data.page)


async def staff_list(callback: CallbackQuery, session: AsyncSession, l10n: Texts, page: int) -> None:
    """Everyone with a staff role, a page at a time (a centre has dozens of specialists)."""
    members = await staff_members(session)
    choices = tuple(
        Choice(str(member.id), {l10n.language: fit(l10n("staff.list_line", id=member.id, roles=", ".join(role_name(l10n, r) for r in role_names(member))))})
        for member in members
    )
    markup = choices_keyboard(
        choices,
        l10n.language,
        lambda person_id: StaffScreen(step=StaffStep.person, person=int(person_id)),
        [(l10n("menu.back"), MenuAction(action=Screen.home))],
        page=page,
        make_page=lambda page: StaffScreen(step=StaffStep.list, page=page),
    )
    await show(callback, l10n("staff.list_title", count=len(members)), markup)


async def staff_member(callback: CallbackQuery, callback_data: StaffScreen, session: AsyncSession, actor: Actor, l10n: Texts, content: Content) -> None:
    person = await find_person(session, callback_data.person)
    if person is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await show(callback, *await member_screen(session, actor, person, l10n, content))


async def member_screen(session: AsyncSession, actor: Actor, person: Person, l10n: Texts, content: Content, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    """A person's roles, each with the day it was given, their messengers, and a revoke button per revocable role."""
    roles = sorted(person.roles, key=lambda role: role.id)
    lines = "\n".join(l10n("staff.role_line", role=role_label(role, l10n, content), date=l10n.date(role.granted_at)) for role in roles)
    messengers = ", ".join(sorted({account.platform for account in await accounts_of(session, person)}))
    text = l10n("staff.member", id=person.id, roles=lines or l10n("staff.no_roles"), messengers=messengers)
    builder = Buttons()
    for role in (role for role in roles if may(actor, Action.revoke_role, role)):
        data = StaffScreen(step=StaffStep.revoke, person=person.id, role=role.id)
        builder.button(text=fit(l10n("staff.revoke", role=role_label(role, l10n, content))), callback_data=data)
    builder.button(text=l10n("menu.back"), callback_data=StaffScreen(step=StaffStep.list))
    return (f"{note}\n\n{text}" if note else text), keyboard(builder, 1)


async def revocable_role(session: AsyncSession, actor: Actor, screen: StaffScreen) -> tuple[Person, Role] | None:
    """The button's person and role, if they still belong together and the presser may take the
    role away: asked on every press, since the screen may be older than the presser's roles."""
    found = await find_role(session, screen.person, screen.role)
    return found if found is not None and may(actor, Action.revoke_role, found[1]) else None


async def confirm_revoke(callback: CallbackQuery, callback_data: StaffScreen, session: AsyncSession, actor: Actor, l10n: Texts, content: Content) -> None:
    found = await revocable_role(session, actor, callback_data)
    if found is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    person, role = found
    builder = Buttons()
    builder.button(text=l10n("staff.revoke_yes"), callback_data=StaffScreen(step=StaffStep.confirm, person=person.id, role=role.id))
    builder.button(text=l10n("menu.back"), callback_data=StaffScreen(step=StaffStep.person, person=person.id))
    await show(callback, l10n("staff.revoke_confirm", role=role_label(role, l10n, content), id=person.id), keyboard(builder, 1))


async def revoke(
    callback: CallbackQuery,
    callback_data: StaffScreen,
    session: AsyncSession,
    actor: Actor,
    l10n: Texts,
    content: Content,
    bots: Mapping[str, Bot],
    clock: Clock,
) -> None:
    found = await revocable_role(session, actor, callback_data)
    if found is None:  # a double tap, or an old button: the role is gone already
        await callback.answer(l10n("fallback.button_outdated"))
        return
    person, role = found
    await revoke_role(session, person, role, now=clock.now())
    told = await tell_person(
        bots, await accounts_of(session, person), person, content, lambda theirs: theirs("staff.revoked_notice", role=role_label(role, theirs, content))
    )
    note = l10n("staff.revoked", role=role_label(role, l10n, content)) + ("" if told else "\n" + l10n("staff.not_told"))
    await show(callback, *await member_screen(session, actor, person, l10n, content, note=note))
