"""Screens and keyboards shared by several features."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LANGUAGES
from bot.content import Choice, Content, Texts
from bot.db.models import MAX_ROW_ID, Account, Person, Role
from bot.services.people import RoleName

log = logging.getLogger(__name__)

# Every int in callback data: a forged 2**40 or -1 fails the filter (the fallback says "no longer
# active") instead of reaching the database, whose row ids are 32-bit on PostgreSQL.
CallbackInt = Annotated[int, Field(ge=0, le=MAX_ROW_ID)]


# The text key of each role's name: literal keys, so a test can check each one exists.
ROLE_NAMES: dict[str, str] = {
    RoleName.parent: "roles.parent",
    RoleName.specialist: "roles.specialist",
    RoleName.coordinator: "roles.coordinator",
    RoleName.head: "roles.head",
    RoleName.admin: "roles.admin",
}


def role_name(l10n: Texts, role: str) -> str:
    return l10n(ROLE_NAMES[role])


class LanguageChoice(CallbackData, prefix="lang"):
    language: str
    invite: str = ""


class Screen(StrEnum):
    """The screens a menu button opens."""

    home = "home"
    settings = "settings"
    language = "language"
    district = "district"
    age = "age"
    also_parent = "also_parent"
    my_data = "my_data"
    delete = "delete"
    delete_yes = "delete_yes"
    accounts = "accounts"
    link = "link"
    invite = "invite"
    staff = "staff"
    broadcasts = "broadcasts"
    ask = "ask"
    queue = "queue"
    courses = "courses"
    chats = "chats"
    office_hours = "office_hours"
    reports = "reports"


class MenuAction(CallbackData, prefix="menu"):
    action: Screen


async def leave_question(state: FSMContext, raw_state: str | None) -> None:
    """The person went elsewhere (the menu, /start): a question the bot was waiting an answer to
    is dropped, so a later message is not taken as its answer. `raw_state` is the state the
    conversation middleware read with the identity (asking the storage again costs a query on
    every /menu); only a state that is set is written."""
    if raw_state is not None:
        await state.clear()


class Buttons(InlineKeyboardBuilder):
    """aiogram's inline keyboard builder without its deep copies: it copies the whole keyboard,
    button by button, for every button added and again to build it (about half a millisecond for
    a screen's three buttons). Buttons here are never changed once made, so rows are copied, not them."""

    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]


def keyboard(builder: InlineKeyboardBuilder, *sizes: int) -> InlineKeyboardMarkup:
    """The builder's buttons, `sizes` to a row. (aiogram types adjust() as returning the base
    builder, whose markup might be a reply keyboard: adjust and build in two steps.)"""
    builder.adjust(*sizes)
    return builder.as_markup()


def language_keyboard(content: Content, invite: str = "") -> InlineKeyboardMarkup:
    builder = Buttons()
    for language in LANGUAGES:
        builder.button(text=content.texts[language]("language.name"), callback_data=LanguageChoice(language=language, invite=invite))
    return keyboard(builder, 3)


CHOICES_PER_PAGE = 6  # with a page row and two extra rows, a page fits VK's 10 buttons in 6 rows


def choices_keyboard(
    choices: tuple[Choice, ...],
    language: str,
    make_data: Callable[[str], CallbackData],
    extra: Sequence[tuple[str, CallbackData]] = (),
    page: int = 0,
    make_page: Callable[[int], CallbackData] | None = None,
) -> InlineKeyboardMarkup:
    """A page of choices two to a row, arrows to the other pages, then each extra button
    (other, skip, back) on a row of its own. A region may list dozens of districts."""
    pages = max(1, -(-len(choices) // CHOICES_PER_PAGE)) if make_page else 1
    page = min(max(page, 0), pages - 1)
    shown = choices[page * CHOICES_PER_PAGE : (page + 1) * CHOICES_PER_PAGE] if make_page else choices
    builder = Buttons()
    for choice in shown:
        builder.button(text=choice.label(language), callback_data=make_data(choice.id))
    builder.adjust(2)
    arrows = [("◀", page - 1), ("▶", page + 1)]
    if make_page:
        navigation = [InlineKeyboardButton(text=text, callback_data=make_page(target).pack()) for text, target in arrows if 0 <= target < pages]
        if navigation:
            builder.row(*navigation)
    for text, data in extra:
        builder.row(InlineKeyboardButton(text=text, callback_data=data.pack()))
    return builder.as_markup()


def paged_keyboard(
    items: Sequence[tuple[str, CallbackData]],
    page: int,
    per_page: int,
    make_page: Callable[[int], CallbackData],
    back: tuple[str, CallbackData],
    per_row: int = 1,
) -> InlineKeyboardMarkup:
    """A page of buttons (`per_row` to a row), the arrows to the pages either side, then "back".
    Four rows of items keep a page within VK's six rows."""
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 0), pages - 1)
    shown = [InlineKeyboardButton(text=text, callback_data=data.pack()) for text, data in items[page * per_page : (page + 1) * per_page]]
    rows = [shown[start : start + per_row] for start in range(0, len(shown), per_row)]
    sides = [(text, target) for text, target in (("◀", page - 1), ("▶", page + 1)) if 0 <= target < pages]
    arrows = [InlineKeyboardButton(text=text, callback_data=make_page(target).pack()) for text, target in sides]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, *([arrows] if arrows else []), [InlineKeyboardButton(text=back[0], callback_data=back[1].pack())]])


def one_button(text: str, data: CallbackData) -> InlineKeyboardMarkup:
    """A screen's only button: the way on or back."""
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data.pack())]])


def menu_button(l10n: Texts) -> InlineKeyboardMarkup:
    return one_button(l10n("menu.open"), MenuAction(action=Screen.home))


async def show(target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None, notice: str | None = None) -> None:
    """Answer a message with a new one; answer a button press by editing the message it sits on
    (and showing `notice` as a brief pop-up)."""
    if isinstance(target, Message):
        await target.answer(text, reply_markup=markup)
        return
    await target.answer(notice)
    message = target.message
    if not isinstance(message, Message):  # too old for Telegram to let us edit it
        await answer_below(target, text, markup)
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:
        if "message is not modified" not in error.message:  # a double tap: the screen is already right
            raise


async def answer_below(callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """A new message under the pressed button's, which keeps its text. Also when Telegram no longer
    hands that message over (an InaccessibleMessage, after 48 hours): it still names the chat."""
    if callback.message is not None:
        await callback.message.answer(text, reply_markup=markup)
    else:  # a button on an inline-mode message has no chat: the presser's private one
        await bot_of(callback).send_message(callback.from_user.id, text, reply_markup=markup)


def bot_of(event: TelegramObject) -> Bot:
    """The bot an event came through. aiogram binds every event it hands a handler (its type says
    Optional for objects built by hand), so None here is a programming error."""
    if event.bot is None:
        raise RuntimeError(f"{type(event).__name__} is not bound to a bot")
    return event.bot


async def tell_person(bots: Mapping[str, Bot], accounts: list[Account], person: Person, content: Content, text: Callable[[Texts], str]) -> int:
    """Send a notice to each of the person's `accounts` whose messenger this bot serves, in the
    person's language; an account that cannot be reached is skipped. Returns how many got it."""
    return await _tell(bots, [(account.platform, account.external_id) for account in accounts], content.texts[person.language], text)


async def _tell(bots: Mapping[str, Bot], chats: list[tuple[str, int]], l10n: Texts, text: Callable[[Texts], str]) -> int:
    told = 0
    for platform, external_id in chats:
        bot = bots.get(platform)
        if bot is None:
            continue
        try:
            await bot.send_message(external_id, text(l10n))
            told += 1
        except TelegramAPIError as error:  # blocked, deleted: the notice is a courtesy, not a transaction
            log.warning("a notice to a %s account was not delivered (%s)", platform, type(error).__name__)
    return told


def reachable_accounts(*roles: ColumnElement[bool]) -> Select[int, str, str, int]:
    """Who has a role (`roles`: conditions on Role), a row per reachable account: (person id,
    language, platform, the account's id on it). Columns, not entities: a question sent asks it."""
    staff = Account.person_id.in_(select(Role.person_id).where(*roles))
    return (
        select(Account.person_id, Person.language, Account.platform, Account.external_id)
        .join(Person, Person.id == Account.person_id)
        .where(staff, Account.unreachable_since.is_(None))
    )


async def tell_roles(session: AsyncSession, bots: Mapping[str, Bot], content: Content, roles: ColumnElement[bool], text: Callable[[Texts], str]) -> int:
    """Tell everyone with one of `roles` (a condition on Role), on each of their reachable accounts,
    found in one query; `text` in each reader's language."""
    return await tell_accounts(bots, content, list(await session.execute(reachable_accounts(roles))), text)


async def tell_accounts(bots: Mapping[str, Bot], content: Content, rows: Sequence[Sequence[Any]], text: Callable[[Texts], str]) -> int:
    """Tell the accounts of `reachable_accounts`' rows, each person in their language."""
    chats_of: dict[int, tuple[str, list[tuple[str, int]]]] = {}
    for person_id, language, platform, external_id in rows:
        chats_of.setdefault(person_id, (language, []))[1].append((platform, external_id))
    told = 0
    for language, chats in chats_of.values():
        told += await _tell(bots, chats, content.texts[language], text)
    return told
