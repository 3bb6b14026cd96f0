"""Router filters: who may reach a router's handlers."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.db.models import Person


class Registered(Filter):
    async def __call__(self, event: TelegramObject, person: Person | None = None) -> bool:
        return person is not None


class HasRole(Filter):
    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, event: TelegramObject, roles: frozenset[str] = frozenset()) -> bool:
        return bool(self.roles & roles)
