"""A tier of feature routers that hands each update only to the routers with a handler that could
take it: a button press to those whose CallbackData factories made it (by prefix), a message that
is no command to those with a handler for the conversation's state. aiogram otherwise passes every
update through each router before the one that takes it, and each pass copies the update's data a
few times over: a tenth of a press's cost and more of a message's (bench/updates.py).

What a router takes is worked out from its handlers' own filters, over its whole subtree. A handler
whose filters say nothing of the kind (a press handler without a CallbackData filter, a message
handler without a state filter) makes its router a candidate for every such update, so the routers
left out are exactly those that would have passed the update on untouched, and the order of the
rest is kept."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject

SEPARATOR = ":"  # CallbackData's, between the prefix and the values
ANY_STATE = "*"  # StateFilter's "whatever the state"
PRESS, MESSAGE = "callback_query", "message"  # the update types (observers) a tier indexes

Names = frozenset[str | None]  # callback data prefixes, or state names (None: no state)


@dataclass(frozen=True)
class Takes:
    """What a router's subtree can take; None: anything of the kind."""

    presses: frozenset[str] | None
    states: Names | None  # of messages that are no command
    command_prefixes: frozenset[str]  # the first characters of the commands its handlers take

    @classmethod
    def of(cls, router: Router) -> Takes:
        presses: set[str] | None = set()
        states: set[str | None] | None = set()
        command_prefixes: set[str] = set()
        for each in _subtree(router):
            for handler in each.callback_query.handlers:
                prefixes = _press_prefixes(handler)
                presses = None if presses is None or prefixes is None else presses | prefixes
            for handler in each.message.handlers:
                commands = [entry.callback for entry in handler.filters or [] if isinstance(entry.callback, Command)]
                command_prefixes.update(character for command in commands for character in command.prefix)
                if commands:
                    continue  # a command handler takes no other message
                taken = _states(handler)
                states = None if states is None or taken is None else states | taken
        return cls(
            None if presses is None else frozenset(presses),
            None if states is None else frozenset(states),
            frozenset(command_prefixes),
        )


def _subtree(router: Router) -> Iterator[Router]:
    yield router
    for sub_router in router.sub_routers:
        yield from _subtree(sub_router)


def _press_prefixes(handler: HandlerObject) -> set[str] | None:
    factories = [entry.callback.callback_data for entry in handler.filters or [] if isinstance(entry.callback, CallbackQueryFilter)]
    if not factories or any(factory.__separator__ != SEPARATOR for factory in factories):
        return None
    return {factory.__prefix__ for factory in factories}


def _states(handler: HandlerObject) -> set[str | None] | None:
    """The states a message handler is restricted to by its state filters (all of them must pass)."""
    allowed: set[str | None] | None = None
    for entry in handler.filters or []:
        names = _state_names(entry.callback)
        if names is not None:
            allowed = names if allowed is None else allowed & names
    return allowed


def _state_names(state_filter: Any) -> set[str | None] | None:
    """The state names a filter lets through; None: it is no state filter, or lets any state through."""
    if isinstance(state_filter, StateFilter):
        parts = [_state_names(state) for state in state_filter.states]
        return None if any(part is None for part in parts) else set().union(*parts)  # type: ignore[arg-type]
    name = state_filter.state if isinstance(state_filter, State) else state_filter
    if name is None or isinstance(name, str):  # a state's name, None for "no state", "*" for any
        return None if name == ANY_STATE else {name}
    if isinstance(state_filter, type) and issubclass(state_filter, StatesGroup):
        return set(state_filter.__all_states_names__)
    return None


class FeatureTier(Router):
    """A router of feature routers (no handlers of its own), each update handed only to the sub-routers
    that could take it (see the module). index() once they are all included."""

    def __init__(self, *, name: str) -> None:
        super().__init__(name=name)
        self.takes: list[tuple[Router, Takes]] = []
        self.command_prefixes: frozenset[str] = frozenset()

    def index(self) -> None:
        assert not any(observer.handlers for observer in self.observers.values()), "a tier's handlers live in its feature routers"
        self.takes = [(router, Takes.of(router)) for router in self.sub_routers]
        self.command_prefixes = frozenset().union(*(takes.command_prefixes for _router, takes in self.takes))

    def candidates(self, update_type: str, event: TelegramObject, data: dict[str, Any]) -> list[Router] | None:
        """The sub-routers that could take `event`, in order; None: any of them (an edited message,
        say, is a Message too, but other handlers take it)."""
        if update_type == PRESS and isinstance(event, CallbackQuery):
            prefix = (event.data or "").partition(SEPARATOR)[0]
            return [router for router, takes in self.takes if takes.presses is None or prefix in takes.presses]
        if update_type == MESSAGE and isinstance(event, Message) and "raw_state" in data:
            text = event.text or event.caption or ""
            if text[:1] in self.command_prefixes:
                return None
            state = data["raw_state"]
            return [router for router, takes in self.takes if takes.states is None or state in takes.states]
        return None

    async def _propagate_event(self, observer: TelegramEventObserver | None, update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        routers = self.candidates(update_type, event, kwargs)
        if routers is None or observer is None:
            return await super()._propagate_event(observer, update_type, event, **kwargs)
        # aiogram 3.31's Router._propagate_event, over the candidates only (a tier has no handlers)
        passed, data = await observer.check_root_filters(event, **kwargs)
        if not passed:
            return UNHANDLED
        kwargs.update(data)
        for router in routers:
            response = await router.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                return response
        return UNHANDLED
