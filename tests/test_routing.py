"""A press, and a message that is no command, goes only into the feature routers that could take it
(bot.routing.FeatureTier): what each router takes is worked out from its handlers' own filters, and
a router with a handler that says nothing of the kind is a candidate for everything of that kind."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters import Command, StateFilter
from aiogram.fsm.state import State, StatesGroup, any_state
from aiogram.types import CallbackQuery, Chat, Message, User

from bot.filters import NotACommand
from bot.routing import FeatureTier, Takes
from handlers import private_tier
from handlers.consultations.common import Ask, Asking, AskStep, TicketAction
from handlers.ui import MenuAction

USER = User(id=5, is_bot=False, first_name="M")


class Form(StatesGroup):
    name = State()
    age = State()


async def nothing(event: object) -> None:
    pass


def press(data: str | None) -> CallbackQuery:
    return CallbackQuery(id="1", from_user=USER, chat_instance="1", data=data)


def message(text: str | None = None, caption: str | None = None) -> Message:
    return Message(message_id=1, date=datetime.now(UTC), chat=Chat(id=5, type="private"), from_user=USER, text=text, caption=caption)


def test_what_a_router_takes_is_read_off_its_handlers_and_its_sub_routers():
    router, inner = Router(), Router()
    router.callback_query.register(nothing, Ask.filter(F.step == AskStep.send))
    inner.callback_query.register(nothing, TicketAction.filter())
    router.message.register(nothing, Command("ask"))  # a command handler takes no other message
    router.message.register(nothing, StateFilter(Asking.describing), NotACommand())
    inner.message.register(nothing, Form)  # a group: any of its states
    inner.message.register(nothing, StateFilter(None))
    router.include_router(inner)
    takes = Takes.of(router)
    assert takes.presses == {"ask", "tk"}
    assert takes.states == {Asking.describing.state, "Form:name", "Form:age", None}
    assert takes.command_prefixes == {"/"}


def test_a_handler_that_says_nothing_of_a_kind_takes_all_of_it():
    router = Router()
    router.callback_query.register(nothing, Ask.filter())
    router.callback_query.register(nothing)  # any press
    router.message.register(nothing, NotACommand())  # a message in any state
    assert Takes.of(router) == Takes(presses=None, states=None, command_prefixes=frozenset())
    for any_at_all in (StateFilter("*"), StateFilter(any_state), StateFilter(Form.name, "*")):
        router = Router()
        router.message.register(nothing, any_at_all)
        assert Takes.of(router).states is None


def test_only_the_routers_that_could_take_an_update_are_its_candidates_in_order():
    tier = FeatureTier(name="tier")
    asking, tickets, forms, anything = Router(name="asking"), Router(name="tickets"), Router(name="forms"), Router(name="anything")
    asking.callback_query.register(nothing, Ask.filter())
    asking.message.register(nothing, StateFilter(Asking.describing))
    tickets.callback_query.register(nothing, TicketAction.filter())
    forms.message.register(nothing, Command("form"))
    forms.message.register(nothing, Form.name)
    anything.callback_query.register(nothing)
    anything.message.register(nothing)
    tier.include_routers(asking, tickets, forms, anything)
    tier.index()

    def names(event: object, **data: object) -> list[str] | None:
        update_type = "callback_query" if isinstance(event, CallbackQuery) else "message"
        routers = tier.candidates(update_type, event, data)  # type: ignore[arg-type]
        return None if routers is None else [router.name for router in routers]

    assert names(press(Ask(step=AskStep.send).pack())) == ["asking", "anything"]
    assert names(press("tk:show:1")) == ["tickets", "anything"]
    assert names(press("asking:x")) == ["anything"]  # a prefix, not the start of one
    assert names(press(None)) == ["anything"]
    assert names(message("hello"), raw_state=Asking.describing.state) == ["asking", "anything"]
    assert names(message(caption="a photo"), raw_state=Form.name.state) == ["forms", "anything"]
    assert names(message("hello"), raw_state=None) == ["anything"]
    assert names(message("/form"), raw_state=None) is None  # a command: every router, as aiogram would
    assert names(message("hello")) is None  # no conversation state known
    edited = tier.candidates("edited_message", message("hello"), {"raw_state": None})
    assert edited is None  # a Message too, but the message handlers say nothing of who takes it


async def test_a_tier_hands_an_update_to_the_router_that_takes_it():
    tier = FeatureTier(name="tier")
    taken: list[str] = []
    for name in ("first", "second"):
        router = Router(name=name)

        async def take(callback: CallbackQuery, name: str = name) -> str:
            taken.append(name)
            return name

        router.callback_query.register(take, Ask.filter(F.step == (AskStep.send if name == "first" else AskStep.cancel)))
        tier.include_router(router)
    tier.index()
    assert await tier.propagate_event("callback_query", press(Ask(step=AskStep.cancel).pack())) == "second"
    assert taken == ["second"]
    assert await tier.propagate_event("callback_query", press(MenuAction.__prefix__ + ":home")) is UNHANDLED
    assert taken == ["second"]


def test_every_feature_of_the_private_tier_says_its_presses_but_the_fallback():
    tier = private_tier()
    takes = {router.name: router_takes for router, router_takes in tier.takes}
    assert [name for name, router_takes in takes.items() if router_takes.presses is None] == ["fallback"]  # "no longer active" for any press
    assert takes["consultations.open_question"].presses == frozenset()  # it takes messages only
    assert Asking.describing.state in (takes["consultations.asking"].states or ())
    assert takes["menu"].states == frozenset()  # commands and presses only
