"""Themed parent chats: the catalog a parent browses in the private chat (catalog), and what the
bot does for the chats themselves: join requests, joins and leaves (group)."""

from __future__ import annotations

from aiogram import Router

from bot.filters import Allowed
from bot.permissions import Action
from handlers.chats import catalog, group, moderation, office_hours


def build_router() -> Router:
    """The private tier's part: the catalog, for parents."""
    router = Router(name="chats_catalog")
    router.message.filter(Allowed(Action.join_chats))
    router.callback_query.filter(Allowed(Action.join_chats))
    router.include_router(catalog.build_router())
    return router


def build_group_router() -> Router:
    """The group tier's part: join requests (an update of their own, about a group, from someone
    perhaps not registered) and members coming and going in the catalog's chats."""
    router = Router(name="chats_groups")
    router.include_routers(group.build_router(), moderation.build_group_router())
    return router


def build_office_hours_router() -> Router:
    """The private tier's part for coordinators: specialists' office hours in the chats."""
    return office_hours.build_router()


def build_moderation_router() -> Router:
    """The private tier's other part: moderators' presses (staff or trusted parents, checked against the catalog)."""
    return moderation.build_private_router()
