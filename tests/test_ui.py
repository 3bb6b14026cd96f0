"""The shared screens' answers to a press on a message Telegram no longer hands over (an
InaccessibleMessage, after 48 hours): a new message in that chat, never a crash."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import AnswerCallbackQuery, SendMessage, TelegramMethod
from aiogram.types import CallbackQuery

from handlers.ui import answer_below, show

CHAT_ID = 5


class Recording(BaseSession):
    """A session that records the calls and answers each with True."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod] = []

    async def make_request(self, bot: Bot, method: TelegramMethod, timeout: int | None = None) -> Any:  # noqa: ASYNC109 - aiogram's BaseSession signature
        self.calls.append(method)
        return True

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - aiogram's BaseSession signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def close(self) -> None:
        pass


def press_on_an_old_message(bot: Bot) -> CallbackQuery:
    old = {"chat": {"id": CHAT_ID, "type": "private"}, "message_id": 9, "date": 0}  # date 0: inaccessible
    raw = {"id": "1", "chat_instance": "c", "from": {"id": CHAT_ID, "is_bot": False, "first_name": "A"}, "message": old, "data": "menu:home"}
    return CallbackQuery.model_validate(raw, context={"bot": bot})


def sent(calls: list[TelegramMethod]) -> list[tuple[str, int | str, str]]:
    return [(type(call).__name__, call.chat_id, call.text) for call in calls if isinstance(call, SendMessage)]


async def test_show_answers_a_press_on_an_inaccessible_message_with_a_new_one():
    session = Recording()
    await show(press_on_an_old_message(Bot("42:TEST", session=session)), "The menu", notice="Saved")
    assert [call.text for call in session.calls if isinstance(call, AnswerCallbackQuery)] == ["Saved"]
    assert sent(session.calls) == [("SendMessage", CHAT_ID, "The menu")]


async def test_a_message_below_an_inaccessible_one_goes_to_its_chat():
    session = Recording()
    await answer_below(press_on_an_old_message(Bot("42:TEST", session=session)), "The next question")
    assert sent(session.calls) == [("SendMessage", CHAT_ID, "The next question")]
