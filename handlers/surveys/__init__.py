"""Surveys: the question messages and their buttons (common) and what a family's press does
(answers); scheduler/surveys.py plans the waves and queues each wave's first question."""

from __future__ import annotations

from aiogram import Router

from bot.filters import Allowed
from bot.permissions import Action
from handlers.surveys import answers


def build_router() -> Router:
    router = Router(name="surveys")
    router.callback_query.filter(Allowed(Action.use_menu))  # a press finds the presser's own wave, or nothing
    router.include_router(answers.build_router())
    return router
