"""/start: language, consent, two optional questions, then the menu. Staff arrive with an invite code
(or are in ADMINS) and skip the parent's questions and role."""

from __future__ import annotations

import html
import secrets
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import LANGUAGES, Settings
from bot.content import Content, Texts
from bot.db.models import InviteCode, Person
from bot.filters import Allowed
from bot.permissions import Action, Actor
from bot.services.invites import InviteProblem, check_invite, claim_invite
from bot.services.people import RoleName, grant_role, has_role, record_decline, register
from bot.services.surveys.planning import plan_waves
from handlers.chats.group import let_in_after_registering
from handlers.menu import district_keyboard, menu_screen
from handlers.ui import Buttons, LanguageChoice, answer_below, bot_of, keyboard, language_keyboard, leave_question, role_name, show

INVITE_PROBLEMS = {InviteProblem.invalid: "invite.invalid", InviteProblem.expired: "invite.expired", InviteProblem.used: "invite.used"}


class ConsentAnswer(CallbackData, prefix="consent"):
    accept: bool
    language: str
    version: str
    invite: str = ""
    nonce: str = ""  # one per consent screen: its decline button, pressed again, records nothing

    @classmethod
    def unpack(cls, value: str) -> ConsentAnswer:
        if value.count(cls.__separator__) == len(cls.model_fields) - 1:  # a screen sent before nonces
            value += cls.__separator__
        return super().unpack(value)


def build_router() -> Router:
    router = Router(name="onboarding")
    router.message.register(start_with_invite, CommandStart(deep_link=True), Allowed(Action.use_menu))  # use_menu: registered
    router.message.register(start, CommandStart())
    router.message.register(ask_language, Command("language"))
    router.callback_query.register(choose_language, LanguageChoice.filter(F.language.in_(LANGUAGES)))
    router.callback_query.register(answer_consent, ConsentAnswer.filter(F.language.in_(LANGUAGES)))
    return router


async def start(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    actor: Actor,
    l10n: Texts,
    content: Content,
    clock: Clock,
    state: FSMContext,
    raw_state: str | None = None,
) -> None:
    if actor.registered:
        await leave_question(state, raw_state)
        await show(message, *menu_screen(actor, l10n, note=l10n("menu.welcome_back")))
        return
    code = command.args or ""
    if code:
        checked = await check_invite(session, code, now=clock.now())
        if isinstance(checked, InviteProblem):
            await message.answer(l10n(INVITE_PROBLEMS[checked]))
            code = ""
    await message.answer(l10n("language.prompt"), reply_markup=language_keyboard(content, invite=code))


async def start_with_invite(message: Message, command: CommandObject, session: AsyncSession, person: Person, l10n: Texts, clock: Clock) -> None:
    """Someone registered opening a staff invite link: its role joins theirs."""
    note = await join_with_invite(session, person, command.args or "", l10n, clock)
    await show(message, *menu_screen(Actor.of(person), l10n, note=note))


async def ask_language(message: Message, l10n: Texts, content: Content) -> None:
    await message.answer(l10n("language.prompt"), reply_markup=language_keyboard(content))


async def choose_language(callback: CallbackQuery, callback_data: LanguageChoice, person: Person | None, content: Content) -> None:
    l10n = content.texts[callback_data.language]
    if person is not None:
        person.language = l10n.language
        await show(callback, *menu_screen(Actor.of(person), l10n, note=l10n("language.changed")))
        return
    await show(callback, *consent_screen(content, l10n, callback_data.invite))


def consent_screen(content: Content, l10n: Texts, invite: str) -> tuple[str, InlineKeyboardMarkup]:
    consent = content.consent_text(l10n.language)
    builder = Buttons()
    nonce = secrets.token_urlsafe(12)
    for accept, key in ((True, "consent.accept"), (False, "consent.decline")):
        data = ConsentAnswer(accept=accept, language=l10n.language, version=consent.version, invite=invite, nonce=nonce)
        builder.button(text=l10n(key), callback_data=data)
    return html.escape(consent.text, quote=False), keyboard(builder, 1)


async def answer_consent(
    callback: CallbackQuery,
    callback_data: ConsentAnswer,
    session: AsyncSession,
    person: Person | None,
    content: Content,
    platform: str,
    settings: Settings,
    clock: Clock,
) -> None:
    l10n, now = content.texts[callback_data.language], clock.now()
    if person is not None:
        await show(callback, *menu_screen(Actor.of(person), l10n, note=l10n("consent.already")))
        return
    if callback_data.version != content.consent_version or not (callback_data.accept or callback_data.nonce):
        await show(callback, l10n("consent.outdated"))
        await answer_below(callback, *consent_screen(content, l10n, callback_data.invite))
        return
    consent = content.consent_text(l10n.language)
    if not callback_data.accept:
        if await record_decline(session, platform, consent, callback_data.nonce, now=now):
            await show(callback, l10n("consent.declined"))
        else:  # the same screen's button again: the screen already says so, nothing to record
            await callback.answer()
        return
    invite = await usable_invite(callback, session, callback_data.invite, l10n, now)
    admin = (platform, callback.from_user.id) in settings.admin_accounts
    person = await register(session, platform, callback.from_user.id, consent, *(first_role(invite, admin)), now=now)
    if invite is not None and not await claim_invite(session, invite, person, now=now):
        raise RuntimeError("invite was claimed between check and claim")  # rolled back; the user is told to retry
    if invite is not None and admin:
        await grant_role(session, person, RoleName.admin, now=now)
    await show(callback, html.escape(consent.text, quote=False) + "\n\n" + l10n("consent.accept"))
    if let_in := await let_in_after_registering(session, bot_of(callback), content, person, platform, callback.from_user, l10n):
        await answer_below(callback, let_in)  # they asked to join a parent chat before registering
    if has_role(person, RoleName.parent):
        await plan_waves(session, person, content.surveys, now=now)
        await answer_below(callback, l10n("profile.district_prompt"), district_keyboard(content, l10n, onboarding=True))
    else:
        note = l10n("invite.accepted", role=role_name(l10n, invite.role)) if invite else l10n("menu.welcome")
        await answer_below(callback, *menu_screen(Actor.of(person), l10n, note=note))


async def usable_invite(callback: CallbackQuery, session: AsyncSession, code: str, l10n: Texts, now: datetime) -> InviteCode | None:
    if not code:
        return None
    checked = await check_invite(session, code, now=now)
    if isinstance(checked, InviteProblem):
        await answer_below(callback, l10n(INVITE_PROBLEMS[checked]))
        return None
    return checked


def first_role(invite: InviteCode | None, admin: bool) -> tuple[str, str]:
    """Staff register with their staff role only; the parent role is theirs to add in the settings."""
    if invite is not None:
        return invite.role, invite.specialty
    return (RoleName.admin if admin else RoleName.parent), ""


async def join_with_invite(session: AsyncSession, person: Person, code: str, l10n: Texts, clock: Clock) -> str:
    """Give a registered person the invite's role; returns what to tell them."""
    now = clock.now()
    checked = await check_invite(session, code, now=now)
    if isinstance(checked, InviteProblem):
        return l10n(INVITE_PROBLEMS[checked])
    if has_role(person, checked.role, checked.specialty):
        return l10n("invite.already")
    if not await claim_invite(session, checked, person, now=now):
        return l10n("invite.used")
    await grant_role(session, person, checked.role, checked.specialty, now=now)
    return l10n("invite.accepted", role=role_name(l10n, checked.role))
