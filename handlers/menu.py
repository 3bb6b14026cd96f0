"""The main menu, fitted to the person's roles, with settings and "my data"."""

from __future__ import annotations

from functools import lru_cache

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.content import Choice, Content, Texts
from bot.db.models import Enrolment, Person
from bot.filters import Allowed
from bot.fsm import forget_conversations
from bot.permissions import Action, Actor, may
from bot.services.courses import enrolments_of, lesson_count
from bot.services.people import RoleName, accounts_of, forget, grant_role, has_role, latest_consent, ordered_roles, role_names
from bot.services.surveys.answering import kept_of
from handlers.courses.catalog import progress_of, zone_label
from handlers.ui import Buttons, CallbackInt, MenuAction, Screen, choices_keyboard, keyboard, language_keyboard, leave_question, role_name, show

# (action, text key, what the button lets one do: shown to those who may)
MENU_ITEMS: list[tuple[Screen, str, Action]] = [
    (Screen.courses, "menu.courses", Action.take_courses),
    (Screen.chats, "menu.chats", Action.join_chats),
    (Screen.ask, "menu.ask", Action.ask_question),
    (Screen.queue, "menu.queue", Action.work_questions),
    (Screen.settings, "menu.settings", Action.use_menu),
    (Screen.my_data, "menu.my_data", Action.use_menu),
    (Screen.link, "menu.link", Action.link_accounts),
    (Screen.broadcasts, "menu.broadcasts", Action.compose_broadcast),
    (Screen.invite, "menu.invite", Action.invite_staff),
    (Screen.staff, "staff.menu", Action.manage_staff),
]
# (action, text key) of a parent's settings
PARENT_SETTINGS = ((Screen.language, "settings.language"), (Screen.district, "settings.district"), (Screen.age, "settings.age"))


class DistrictChoice(CallbackData, prefix="district"):
    district: str  # "" shows `page` of the list
    onboarding: bool = False
    page: CallbackInt = 0


class AgeChoice(CallbackData, prefix="age"):
    age: str
    onboarding: bool = False


def build_router() -> Router:
    router = Router(name="menu")
    router.message.filter(Allowed(Action.use_menu))
    router.callback_query.filter(Allowed(Action.use_menu))
    router.message.register(open_menu, Command("menu"))
    router.message.register(open_my_data, Command("mydata"))
    router.callback_query.register(open_menu, MenuAction.filter(F.action == Screen.home))
    router.callback_query.register(open_settings, MenuAction.filter(F.action == Screen.settings))
    router.callback_query.register(ask_language, MenuAction.filter(F.action == Screen.language))
    router.callback_query.register(ask_district, MenuAction.filter(F.action == Screen.district))
    router.callback_query.register(ask_age, MenuAction.filter(F.action == Screen.age))
    router.callback_query.register(become_parent, MenuAction.filter(F.action == Screen.also_parent))
    router.callback_query.register(open_my_data, MenuAction.filter(F.action == Screen.my_data))
    router.callback_query.register(confirm_delete, MenuAction.filter(F.action == Screen.delete))
    router.callback_query.register(delete_my_data, MenuAction.filter(F.action == Screen.delete_yes))
    router.callback_query.register(choose_district, DistrictChoice.filter())
    router.callback_query.register(choose_age, AgeChoice.filter())
    return router


def menu_screen(actor: Actor, l10n: Texts, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    """The menu of `actor` (after this update gave or took a role: `Actor.of(person)`); `note`
    (already localised) goes above it, e.g. a confirmation."""
    shown = tuple(action for action, _key, needs in MENU_ITEMS if may(actor, needs))
    title = l10n("menu.title", roles=roles_label(actor, l10n))
    return (f"{note}\n\n{title}" if note else title), menu_keyboard(l10n, shown)


MENU_KEYS = {action: key for action, key, _needs in MENU_ITEMS}
MENU_ROWS = 6


def menu_keyboard(l10n: Texts, shown: tuple[Screen, ...]) -> InlineKeyboardMarkup:
    return keyboard_of(tuple((action, l10n(MENU_KEYS[action])) for action in shown))


@lru_cache(maxsize=256)
def keyboard_of(buttons: tuple[tuple[Screen, str], ...]) -> InlineKeyboardMarkup:
    """The keyboard of a list of (screen, button text), built once: a builder deep-copies its
    buttons on every export, which cost more than the rest of the menu; nothing changes a markup
    once it is made, so it can be shared. Keyed by the texts themselves, so another language or
    content gets its own."""
    per_row = 1 if len(buttons) <= MENU_ROWS else 2  # VK shows at most six rows
    items = [InlineKeyboardButton(text=text, callback_data=MenuAction(action=action).pack()) for action, text in buttons]
    return InlineKeyboardMarkup(inline_keyboard=[items[start : start + per_row] for start in range(0, len(items), per_row)])


def roles_label(actor: Actor, l10n: Texts) -> str:
    return ", ".join(role_name(l10n, role) for role in ordered_roles(actor.roles)) or l10n("staff.no_roles")


async def open_menu(event: Message | CallbackQuery, actor: Actor, l10n: Texts, state: FSMContext, raw_state: str | None = None) -> None:
    await leave_question(state, raw_state)
    await show(event, *menu_screen(actor, l10n))


def back_button(l10n: Texts, action: Screen = Screen.home) -> tuple[str, MenuAction]:
    return l10n("menu.back"), MenuAction(action=action)


def label(choices: tuple[Choice, ...], choice_id: str | None, l10n: Texts, other_key: str = "profile.district_other") -> str:
    if choice_id == "other":
        return l10n(other_key)
    choice = Content.find(choices, choice_id)
    return choice.label(l10n.language) if choice else l10n("settings.not_set")


async def open_settings(callback: CallbackQuery, person: Person, l10n: Texts, content: Content) -> None:
    builder = Buttons()
    if has_role(person, RoleName.parent):
        text = l10n(
            "settings.title",
            language=l10n("language.name"),
            district=label(content.districts, person.district, l10n),
            age=label(content.age_groups, person.child_age_group, l10n),
        )
        for action, key in PARENT_SETTINGS:
            builder.button(text=l10n(key), callback_data=MenuAction(action=action))
    else:  # staff: no parent's questions unless they say they are a parent too
        text = l10n("staff.settings_title", language=l10n("language.name"))
        builder.button(text=l10n("settings.language"), callback_data=MenuAction(action=Screen.language))
        builder.button(text=l10n("staff.also_parent"), callback_data=MenuAction(action=Screen.also_parent))
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action=Screen.home))
    await show(callback, text, keyboard(builder, 1))


async def become_parent(callback: CallbackQuery, session: AsyncSession, person: Person, l10n: Texts, content: Content, clock: Clock) -> None:
    """A staff member who is a parent too takes the parent role and answers the parent's two questions."""
    if not await grant_role(session, person, RoleName.parent, now=clock.now()):  # a double tap
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

    last = (l10n("profile.skip"), make("-")) if onboarding else back_button(l10n, Screen.settings)
    extra = [(l10n("profile.district_other"), make("other")), last]
    return choices_keyboard(content.districts, l10n.language, make, extra, page=page, make_page=make_page)


def age_keyboard(content: Content, l10n: Texts, onboarding: bool) -> InlineKeyboardMarkup:
    def make(age: str) -> AgeChoice:
        return AgeChoice(age=age, onboarding=onboarding)

    last = (l10n("profile.skip"), make("-")) if onboarding else back_button(l10n, Screen.settings)
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
        await show(callback, *menu_screen(Actor.of(person), l10n, note=note))
    else:
        await open_settings(callback, person, l10n, content)


async def open_my_data(event: Message | CallbackQuery, session: AsyncSession, person: Person, l10n: Texts, content: Content, settings: Settings) -> None:
    accounts = await accounts_of(session, person)
    consent = await latest_consent(session, person)
    text = l10n(
        "my_data.summary",
        language=l10n("language.name"),
        district=label(content.districts, person.district, l10n),
        age=label(content.age_groups, person.child_age_group, l10n),
        roles=roles_label(Actor.of(person), l10n),
        accounts=", ".join(f"{account.platform} {account.external_id}" for account in accounts),
        zone=zone_label(person.timezone or settings.default_timezone, l10n.language),
        courses=courses_kept(await enrolments_of(session, person.id), content, l10n),
        version=consent.text_version if consent else "-",
        date=l10n.date_time(consent.decided_at) if consent else "-",
    )
    text += "\n" + await surveys_kept(session, person, l10n)
    builder = Buttons()
    builder.button(text=l10n("linking.accounts_button"), callback_data=MenuAction(action=Screen.accounts))
    builder.button(text=l10n("my_data.delete"), callback_data=MenuAction(action=Screen.delete))
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action=Screen.home))
    await show(event, text, keyboard(builder, 1))


async def surveys_kept(session: AsyncSession, person: Person, l10n: Texts) -> str:
    kept = await kept_of(session, person)
    if kept.declined:
        return l10n("survey.my_data_declined")
    return l10n("survey.my_data", planned=kept.planned, answered=kept.answered)


def courses_kept(enrolments: list[Enrolment], content: Content, l10n: Texts) -> str:
    """Each course the person is in, with the lessons received: "Useful at home (2/6)"."""
    by_id = {course.id: course for course in content.courses}
    kept = [(by_id[enrolment.course], enrolment) for enrolment in enrolments if enrolment.course in by_id]
    listed = [f"{course.title(l10n.language)} ({progress_of(enrolment, course)}/{lesson_count(course)})" for course, enrolment in kept]
    return ", ".join(listed) or l10n("my_data.none")


async def confirm_delete(callback: CallbackQuery, l10n: Texts) -> None:
    builder = Buttons()
    builder.button(text=l10n("my_data.delete_yes"), callback_data=MenuAction(action=Screen.delete_yes))
    builder.button(text=l10n("my_data.delete_no"), callback_data=MenuAction(action=Screen.my_data))
    await show(callback, l10n("my_data.delete_confirm"), keyboard(builder, 2))


async def delete_my_data(
    callback: CallbackQuery, session: AsyncSession, person: Person, l10n: Texts, platform: str, clock: Clock, fsm_storage: BaseStorage
) -> None:
    accounts = [(account.platform, account.external_id) for account in await accounts_of(session, person)]
    await forget(session, person, platform, now=clock.now())
    await forget_conversations(fsm_storage, accounts)
    await show(callback, l10n("my_data.deleted"))
