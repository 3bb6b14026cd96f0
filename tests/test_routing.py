"""A button press goes only into the feature routers whose CallbackData factories made it
(bot.filters.gate_presses): the gate is worked out from the handlers' own filters, and a router
that also takes presses of any other kind is left open."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, User

from bot.filters import PressesOf, gate_presses
from handlers import private_tier
from handlers.consultations.common import Ask, AskStep, TicketAction
from handlers.ui import MenuAction


async def nothing(callback: CallbackQuery) -> None:
    pass


def press(data: str | None) -> CallbackQuery:
    return CallbackQuery(id="1", from_user=User(id=5, is_bot=False, first_name="M"), chat_instance="1", data=data)


def gates(router: Router) -> list[PressesOf]:
    return [entry.callback for entry in router.callback_query._handler.filters or [] if isinstance(entry.callback, PressesOf)]


async def test_a_gate_lets_in_the_prefixes_of_the_routers_factories_only():
    router, inner = Router(), Router()
    router.callback_query.register(nothing, Ask.filter(F.step == AskStep.send))
    inner.callback_query.register(nothing, TicketAction.filter())
    router.include_router(inner)
    gate_presses(router)
    [gate] = gates(router)
    assert gate.prefixes == {"ask", "tk"}
    assert await gate(press(Ask(step=AskStep.send).pack()))
    assert await gate(press("tk:show:1"))
    assert not await gate(press(MenuAction.__prefix__ + ":home"))
    assert not await gate(press("asking:x"))  # a prefix, not the start of one
    assert not await gate(press(None))


def test_a_router_with_a_press_handler_of_another_kind_is_left_open():
    router = Router()
    router.callback_query.register(nothing, Ask.filter())
    router.callback_query.register(nothing)  # takes any press
    gate_presses(router)
    assert gates(router) == []


def test_every_feature_of_the_private_tier_is_gated_but_the_fallback():
    tier = private_tier()
    open_routers = {router.name for router in tier.sub_routers if not gates(router)}
    assert open_routers == {"fallback"}  # its "no longer active" answer takes any press
    [closed] = [gates(router)[0] for router in tier.sub_routers if router.name == "consultations.open_question"]
    assert closed.prefixes == frozenset()  # it takes messages only
