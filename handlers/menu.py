"""The main menu, fitted to the person's roles, with settings and "my data"."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, MagicData
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Choice, Content, Texts
from bot.db.models import Person
from bot.filters import InPrivateChat, Registered
from bot.services.broadcasts import SENDERS
from bot.services.people import RoleName, accounts_of, forget, format_date, grant_role, has_role, latest_consent, role_names
from handlers.ui import CallbackInt, MenuAction, choices_keyboard, language_keyboard, show

# (action, text key, roles that see it; None = everyone registered)
MENU_ITEMS: list[tuple[str, str, frozenset[str] | None]] = [
    ("settings", "menu.settings", None),
    ("my_data", "menu.my_data", None),
    ("link", "menu.link", None),
    ("broadcasts", "menu.broadcasts", SENDERS),
    ("invite", "menu.invite", frozenset({"admin"})),
    ("staff", "staff.menu", frozenset({"admin"})),
]


class DistrictChoice(CallbackData, prefix="district"):
    district: str  # "" shows `page` of the list
    onboarding: bool = False
    page: CallbackInt = 0


class AgeChoice(CallbackData, prefix="age"):
    age: str
    onboarding: bool = False


def build_router() -> Router:
    router = Router(name="menu")
    router.message.filter(MagicData(F.event.chat.type == ChatType.PRIVATE), Registered())
    router.callback_query.filter(InPrivateChat(), Registered())
    router.message.register(open_menu, Command("menu"))
    router.message.register(open_my_data, Command("mydata"))
    router.callback_query.register(open_menu, MenuAction.filter(F.action == "home"))
    router.callback_query.register(open_settings, MenuAction.filter(F.action == "settings"))
    router.callback_query.register(ask_language, MenuAction.filter(F.action == "language"))
    router.callback_query.register(ask_district, MenuAction.filter(F.action == "district"))
    router.callback_query.register(ask_age, MenuAction.filter(F.action == "age"))
    router.callback_query.register(become_parent, MenuAction.filter(F.action == "also_parent"))
    router.callback_query.register(open_my_data, MenuAction.filter(F.action == "my_data"))
    router.callback_query.register(confirm_delete, MenuAction.filter(F.action == "delete"))
    router.callback_query.register(delete_my_data, MenuAction.filter(F.action == "delete_yes"))
    router.callback_query.register(choose_district, DistrictChoice.filter())
    router.callback_query.register(choose_age, AgeChoice.filter())
    return router


def menu_screen(person: Person, l10n: Texts, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    """The menu; `note` (already localised) goes above it, e.g. a confirmation."""
    roles = set(role_names(person))
    builder = InlineKeyboardBuilder()
    for action, key, allowed in MENU_ITEMS:
        if allowed is None or allowed & roles:
            builder.button(text=l10n(key), callback_data=MenuAction(action=action))
    builder.adjust(1)
    title = l10n("menu.title", roles=roles_label(person, l10n))
    return (f"{note}\n\n{title}" if note else title), builder.as_markup()


def roles_label(person: Person, l10n: Texts) -> str:
    return ", ".join(l10n(f"roles.{role}") for role in role_names(person)) or l10n("staff.no_roles")


async def open_menu(event: Message | CallbackQuery, person: Person, l10n: Texts) -> None:
    await show(event, *menu_screen(person, l10n))


def back_button(l10n: Texts, action: str = "home") -> tuple[str, MenuAction]:
    return l10n("menu.back"), MenuAction(action=action)


def label(choices: tuple[Choice, ...], choice_id: str | None, l10n: Texts, other_key: str = "profile.district_other") -> str:
    if choice_id == "other":
        return l10n(other_key)
    choice = Content.find(choices, choice_id)
    return choice.label(l10n.language) if choice else l10n("settings.not_set")


async def open_settings(callback: CallbackQuery, person: Person, l10n: Texts, content: Content) -> None:
    builder = InlineKeyboardBuilder()
    if has_role(person, RoleName.parent):
        text = l10n(
            "settings.title",
            language=l10n("language.name"),
            district=label(content.districts, person.district, l10n),
            age=label(content.age_groups, person.child_age_group, l10n),
        )
        for action in ("language", "district", "age"):
            builder.button(text=l10n(f"settings.{action}"), callback_data=MenuAction(action=action))
    else:  # staff: no parent's questions unless they say they are a parent too
        text = l10n("staff.settings_title", language=l10n("language.name"))
        builder.button(text=l10n("settings.language"), callback_data=MenuAction(action="language"))
        builder.button(text=l10n("staff.also_parent"), callback_data=MenuAction(action="also_parent"))
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action="home"))
    await show(callback, text, builder.adjust(1).as_markup())


async def become_parent(callback: CallbackQuery, session: AsyncSession, person: Person, l10n: Texts, content: Content) -> None:
    """A staff member who is a parent too takes the parent role and answers the parent's two questions."""
    if not await grant_role(session, person, RoleName.parent):  # a double tap
        await open_settings(callback, person, l10n, content)
        return
    text = l10n("staff.parent_added") + "\n\n" + l10n("profile.district_prompt")
    await show(callback, text, district_keyboard(content, l10n, onboarding=True))


async def ask_language(callback: CallbackQuery, l10n: Texts, content: Content) -> None:
    await show(callback, l10n("language.prompt"), language_keyboard(content))


def district_keyboard(content: Content, l10n: Texts, onboarding: bool, page: int = 0) -> InlineKeyboardMarkup:
    def make(district: str) -> DistrictChoice:
        return DistrictChoice(district=district, onboarding=onboarding)

    def make_page(number: int) -> DistrictChoice:
        return DistrictChoice(district="", onboarding=onboarding, page=number)

    last = (l10n("profile.skip"), make("-")) if onboarding else back_button(l10n, "settings")
    extra = [(l10n("profile.district_other"), make("other")), last]
    return choices_keyboard(content.districts, l10n.language, make, extra, page=page, make_page=make_page)


def age_keyboard(content: Content, l10n: Texts, onboarding: bool) -> InlineKeyboardMarkup:
    def make(age: str) -> AgeChoice:
        return AgeChoice(age=age, onboarding=onboarding)

    last = (l10n("profile.skip"), make("-")) if onboarding else back_button(l10n, "settings")
    return choices_keyboard(content.age_groups, l10n.language, make, [last])


async def ask_district(callback: CallbackQuery, l10n: Texts, content: Content) -> None:
    await show(callback, l10n("profile.district_prompt"), district_keyboard(content, l10n, onboarding=False))


async def ask_age(callback: CallbackQuery, l10n: Texts, content: Content) -> None:
    await show(callback, l10n("profile.age_prompt"), age_keyboard(content, l10n, onboarding=False))


async def choose_district(callback: CallbackQuery, callback_data: DistrictChoice, person: Person, l10n: Texts, content: Content) -> None:
    district = callback_data.district
    if not district:
        await show(callback, l10n("profile.district_prompt"), district_keyboard(content, l10n, callback_data.onboarding, callback_data.page))
        return
    if district != "-":
        if district != "other" and Content.find(content.districts, district) is None:
            await callback.answer(l10n("fallback.button_outdated"))
            return
        person.district = district
    if callback_data.onboarding:
        await show(callback, l10n("profile.age_prompt"), age_keyboard(content, l10n, onboarding=True))
    else:
        await open_settings(callback, person, l10n, content)


async def choose_age(callback: CallbackQuery, callback_data: AgeChoice, person: Person, l10n: Texts, content: Content) -> None:
    age = callback_data.age
    if age != "-":
        if Content.find(content.age_groups, age) is None:
            await callback.answer(l10n("fallback.button_outdated"))
            return
        person.child_age_group = age
    if callback_data.onboarding:
        note = l10n("menu.welcome") if role_names(person) == [RoleName.parent] else l10n("profile.saved")
        await show(callback, *menu_screen(person, l10n, note=note))
    else:
        await open_settings(callback, person, l10n, content)


async def open_my_data(event: Message | CallbackQuery, session: AsyncSession, person: Person, l10n: Texts, content: Content) -> None:
    accounts = await accounts_of(session, person)
    consent = await latest_consent(session, person)
    text = l10n(
        "my_data.summary",
        language=l10n("language.name"),
        district=label(content.districts, person.district, l10n),
        age=label(content.age_groups, person.child_age_group, l10n),
        roles=roles_label(person, l10n),
        accounts=", ".join(f"{account.platform} {account.external_id}" for account in accounts),
        version=consent.text_version if consent else "-",
        date=format_date(consent.decided_at) if consent else "-",
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=l10n("linking.accounts_button"), callback_data=MenuAction(action="accounts"))
    builder.button(text=l10n("my_data.delete"), callback_data=MenuAction(action="delete"))
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action="home"))
    await show(event, text, builder.adjust(1).as_markup())


async def confirm_delete(callback: CallbackQuery, l10n: Texts) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=l10n("my_data.delete_yes"), callback_data=MenuAction(action="delete_yes"))
    builder.button(text=l10n("my_data.delete_no"), callback_data=MenuAction(action="my_data"))
    await show(callback, l10n("my_data.delete_confirm"), builder.adjust(2).as_markup())


async def delete_my_data(callback: CallbackQuery, session: AsyncSession, person: Person, l10n: Texts, platform: str) -> None:
    await forget(session, person, platform)
    await show(callback, l10n("my_data.deleted"))
