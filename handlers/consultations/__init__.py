"""Consultations: a family asks a specialist and gets the answer in the same chat.

Two rooms: the family's (asking, their questions, rating) and the specialist's (the queue, the
question's card, answering, passing on, closing); `notices` tells each side what the other did,
and scheduler/consultations.py watches the targets so nobody waits unseen."""

from __future__ import annotations

from aiogram import Router

from bot.filters import Allowed
from bot.permissions import Action
from handlers.consultations import parent, questions, specialist, transfer


def build_routers() -> list[Router]:
    """The family's routers (asking, their questions) and the specialist's, side by side in the
    tier: each router level an update passes costs it a copy of its data or two (bench/updates.py)."""
    family = [parent.build_router(), questions.build_router()]
    for router in family:
        router.message.filter(Allowed(Action.ask_question))
        router.callback_query.filter(Allowed(Action.ask_question))
    return [*family, specialist.build_router(), transfer.build_router()]


def build_catch_all_router() -> Router:
    """Just before the fallback: a message nobody took goes to the family's one open question."""
    return questions.build_catch_all_router()
