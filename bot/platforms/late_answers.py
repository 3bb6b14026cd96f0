"""A button press handled after the messenger's window for answering it (the bot was restarting or
catching up): Telegram refuses answerCallbackQuery ("query is too old"), VK the event's answer.
The answer only stops the button's spinner or shows a pop-up, so its refusal is logged and the
handler goes on to show what the press did, instead of failing the update and leaving the screen
as it was (the press's writes stand: they commit before the bot tells anything)."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod

log = logging.getLogger(__name__)


class LateAnswers(BaseRequestMiddleware):
    async def __call__(self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]) -> Response[Any]:
        if not isinstance(method, AnswerCallbackQuery):
            return await make_request(bot, method)
        try:
            return await make_request(bot, method)
        except TelegramBadRequest:
            log.info("a button press was answered too late for the messenger; its screen is shown all the same")
            return Response[bool](ok=True, result=True)
