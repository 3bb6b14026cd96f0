"""Screens and keyboards shared by several features."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import LANGUAGES
from bot.content import Choice, Content, Texts


class LanguageChoice(CallbackData, prefix="lang"):
    language: str
    invite: str = ""


class MenuAction(CallbackData, prefix="menu"):
    action: str


def language_keyboard(content: Content, invite: str = "") -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for language in LANGUAGES:
        builder.button(text=content.texts[language]("language.name"), callback_data=LanguageChoice(language=language, invite=invite))
    return builder.adjust(3).as_markup()


def choices_keyboard(choices: tuple[Choice, ...], language: str, make_data, extra: list[tuple[str, CallbackData]] = ()) -> InlineKeyboardMarkup:
    """The choices two to a row, then each extra button (other, skip, back) on a row of its own."""
    builder = InlineKeyboardBuilder()
    for choice in choices:
        builder.button(text=choice.label(language), callback_data=make_data(choice.id))
    builder.adjust(2)
    for text, data in extra:
        builder.row(InlineKeyboardButton(text=text, callback_data=data.pack()))
    return builder.as_markup()


def menu_button(l10n: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=l10n("menu.open"), callback_data=MenuAction(action="home"))
    return builder.as_markup()


async def show(target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer a message with a new one; answer a button press by editing the message it sits on."""
    if isinstance(target, Message):
        await target.answer(text, reply_markup=markup)
        return
    await target.answer()
    message = target.message
    if not isinstance(message, Message):  # too old for Telegram to let us edit it
        chat_id = message.chat.id if message else target.from_user.id
        await target.bot.send_message(chat_id, text, reply_markup=markup)
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:
        if "message is not modified" not in error.message:  # a double tap: the screen is already right
            raise
