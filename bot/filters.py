"""Router filters: who may reach a router's handlers."""

from __future__ import annotations

from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, TelegramObject

from bot.db.models import Person
from bot.permissions import Action, Actor, may


class Registered(Filter):
    async def __call__(self, event: TelegramObject, person: Person | None = None) -> bool:
        return person is not None


class HasRole(Filter):
    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, event: TelegramObject, roles: frozenset[str] = frozenset()) -> bool:
        return bool(self.roles & roles)


class InPrivateChat(Filter):
    """A press on a bot message in the presser's own private chat with the bot: personal screens
    open only there, never in a group (where a forged press would show them to everyone)."""

    async def __call__(self, callback: CallbackQuery) -> bool:
        chat = callback.message.chat if callback.message else None
        return chat is not None and chat.type == ChatType.PRIVATE and chat.id == callback.from_user.id


class Allowed(Filter):
    """The person may do `action` (bot.permissions); a handler acting on a row asks may() again with it."""

    def __init__(self, action: Action) -> None:
        self.action = action

    async def __call__(self, event: TelegramObject, person: Person | None = None, roles: frozenset[str] = frozenset()) -> bool:
        return may(Actor(person, roles), self.action)
