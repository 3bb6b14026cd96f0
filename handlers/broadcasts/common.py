"""What every room of the broadcasts feature shares: its callback data, the composer's states,
and the context a draft screen needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from aiogram import F
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.content import Content, Texts
from bot.db.models import Campaign, Person
from bot.delivery.engine import DeliveryEngine
from bot.permissions import Action, Actor, may
from bot.services import broadcasts
from handlers.ui import CallbackInt


class BroadcastAction(StrEnum):
    new = "new"
    card = "card"
    text = "text"
    media = "media"
    button = "button"
    media_clear = "media_clear"
    buttons_clear = "buttons_clear"
    audience = "audience"
    preview = "preview"
    send = "send"
    now = "now"
    schedule = "schedule"
    confirm = "confirm"
    discard = "discard"
    cancel = "cancel"


class Broadcast(CallbackData, prefix="bc"):
    action: BroadcastAction
    id: CallbackInt = 0


def pressed(action: BroadcastAction) -> CallbackQueryFilter:
    return Broadcast.filter(F.action == action)


class Criterion(StrEnum):
    role = "role"
    district = "district"
    language = "language"
    platform = "platform"


class AudiencePick(CallbackData, prefix="bca"):
    id: CallbackInt
    criterion: Criterion
    value: str = ""  # "" shows the criterion's choices, at `page`
    page: CallbackInt = 0


class Composing(StatesGroup):
    """The question the composer waits an answer to; the state's data holds the draft's id."""

    text = State()
    media = State()
    button = State()
    time = State()


@dataclass
class Context:
    """What a draft screen needs, gathered once per update."""

    session: AsyncSession
    person: Person
    l10n: Texts
    content: Content
    settings: Settings
    platform: str
    delivery: DeliveryEngine
    after_commit: list[Callable[[], None]]
    state: FSMContext
    clock: Clock

    @property
    def actor(self) -> Actor:
        return Actor.of(self.person)


def context(data: dict) -> Context:
    return Context(
        data["session"], data["person"], data["l10n"], data["content"], data["settings"], data["platform"],
        data["delivery"], data["after_commit"], data["state"], data["clock"],
    )


async def own_draft(ctx: Context, draft_id: int | None) -> Campaign | None:
    """The person's draft with this id, if they may still compose it (roles change meanwhile)."""
    if draft_id is None:
        return None
    draft = await broadcasts.find_draft(ctx.session, ctx.person, draft_id)
    return draft if draft is not None and may(ctx.actor, Action.compose_broadcast, draft) else None


DraftScreen = Callable[[CallbackQuery, Campaign, Context], Awaitable[None]]


def on_draft(screen: DraftScreen) -> Callable[..., Awaitable[None]]:
    """A button handler acting on the draft named in its callback data; any other draft's, or an
    old button's, press is told it is no longer active."""

    async def handle(callback: CallbackQuery, callback_data: Broadcast, **data) -> None:
        ctx = context(data)
        draft = await own_draft(ctx, callback_data.id)
        if draft is None:
            await callback.answer(ctx.l10n("fallback.button_outdated"))
            return
        await screen(callback, draft, ctx)

    handle.__name__ = handle.__qualname__ = screen.__name__
    return handle

