"""Requests without files go to Telegram as JSON, saying what aiogram's form says; with files, as the form.
A message answered with the inline keyboard the request sent holds that keyboard as it was sent."""

from __future__ import annotations

import json

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.enums import ParseMode
from aiogram.exceptions import ClientDecodeError, TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, GetUpdates, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import (
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
)

from bot.platforms.telegram import TelegramSession

DEFAULTS = DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True))  # as bot.platforms.telegram.build_bot sets
BOT = Bot("123456789:AAEmulatorTokenForTheVmesteTestSuite", default=DEFAULTS)
KEYBOARD = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Семья", callback_data="menu:1"), InlineKeyboardButton(text="Сайт", url="https://example.org/?a=1&b=2")]])


def decoded(value):
    """A form field as the JSON value it stands for (numbers, flags, objects); text stays text."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def form_values(method: TelegramMethod) -> dict:
    form = AiohttpSession().build_form_data(BOT, method)
    return {options["name"]: decoded(value) for options, _headers, value in form._fields}


@pytest.mark.parametrize(
    "method",
    [
        SendMessage(chat_id=5, text="<b>Меню</b>", reply_markup=KEYBOARD),
        SendMessage(chat_id=5, text="plain", parse_mode=None, reply_markup=ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Да")]], resize_keyboard=True)),
        SendMessage(chat_id=-100, text="question", reply_markup=ForceReply(input_field_placeholder="Ваш вопрос")),
        EditMessageText(chat_id=5, message_id=7, text="edited", reply_markup=KEYBOARD),
        AnswerCallbackQuery(callback_query_id="abc", text="Готово", show_alert=False),
        SendPhoto(chat_id=5, photo="AgACAgIAAxkBAAI", caption="by file id"),
        GetUpdates(offset=10, timeout=25, allowed_updates=["message", "callback_query"]),
    ],
    ids=lambda method: type(method).__name__,
)
def test_the_json_body_says_what_the_form_says(method):
    body = TelegramSession().json_body(BOT, method)
    assert body is not None
    assert {name: decoded(value) for name, value in json.loads(json.dumps(body)).items()} == form_values(method)


def test_a_request_with_a_file_goes_as_the_form():
    upload = SendPhoto(chat_id=5, photo=BufferedInputFile(b"\x89PNG", filename="photo.png"), caption="uploaded")
    assert TelegramSession().json_body(BOT, upload) is None


def answer(result: object, ok: bool = True) -> str:
    return json.dumps({"ok": True, "result": result} if ok else {"ok": False, "error_code": 400, "description": "Bad Request: message to edit not found"})


MESSAGE = {"message_id": 7, "date": 1767225600, "chat": {"id": 5, "type": "private"}, "text": "edited"}
ECHOED = KEYBOARD.model_dump(mode="json", exclude_none=True)  # as Telegram sends it back


def test_a_message_answered_with_the_keyboard_sent_holds_that_keyboard_as_sent():
    session = TelegramSession()
    sent = (EditMessageText(chat_id=5, message_id=7, text="edited", reply_markup=KEYBOARD), SendMessage(chat_id=5, text="edited", reply_markup=KEYBOARD))
    for method in sent:
        message = session.check_response(BOT, method, 200, answer({**MESSAGE, "reply_markup": ECHOED})).result
        assert message.reply_markup is KEYBOARD
        assert (message.message_id, message.chat.id, message.text) == (7, 5, "edited")
        assert message.bot is BOT  # bound, as aiogram binds what it reads
    plain = session.check_response(BOT, SendMessage(chat_id=5, text="edited"), 200, answer({**MESSAGE, "reply_markup": ECHOED})).result
    assert plain.reply_markup is not KEYBOARD  # no keyboard sent: read from the answer
    assert plain.reply_markup.model_dump(mode="json", exclude_none=True) == ECHOED
    edited = EditMessageText(chat_id=5, message_id=7, text="edited", reply_markup=KEYBOARD)
    assert session.check_response(BOT, edited, 200, answer(True)).result is True  # an inline message's edit


def test_an_error_or_a_malformed_answer_is_reported_as_aiogram_reports_it():
    session, edited = TelegramSession(), EditMessageText(chat_id=5, message_id=7, text="edited", reply_markup=KEYBOARD)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        session.check_response(BOT, edited, 400, answer(None, ok=False))
    with pytest.raises(ClientDecodeError):
        session.check_response(BOT, edited, 200, answer({**MESSAGE, "chat": "five", "reply_markup": ECHOED}))
    with pytest.raises(ClientDecodeError):
        session.check_response(BOT, edited, 200, "not JSON")
