"""Coordinators compose a broadcast (text, a file, link buttons), choose who gets it, preview it,
send it now or later, and watch a status message count it out; /broadcasts lists the past ones.

One room per job: listing, compose, audience, send, status. The draft lives in the database (a
campaign in status draft) and the question it waits an answer to in the conversation state, so a
half-written broadcast survives a restart and the old buttons of a sent one answer "no longer active".
"""

from __future__ import annotations

from aiogram import Router

from bot.filters import Allowed
from bot.permissions import Action
from handlers.broadcasts import audience, compose, listing, send, status
from handlers.broadcasts.common import AudiencePick, Broadcast, BroadcastAction, Composing

__all__ = ["AudiencePick", "Broadcast", "BroadcastAction", "Composing", "build_router"]


def build_router() -> Router:
    router = Router(name="broadcasts")
    router.message.filter(Allowed(Action.compose_broadcast))  # in the private tier (handlers/__init__.py)
    router.callback_query.filter(Allowed(Action.compose_broadcast))
    router.include_routers(listing.build_router(), compose.build_router(), send.build_router(), audience.build_router(), status.build_router())
    return router
