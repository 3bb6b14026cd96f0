"""Who may do what, in one place: "may this person do this (to that object)". Router filters ask
it (bot.filters.Allowed) and every callback that acts on a row asks it again with the row, since a
button can be pressed long after the screen was drawn and the person's roles changed since."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.db.models import Campaign, Person
from bot.services.people import RoleName


class Action(StrEnum):
    use_menu = "use_menu"
    link_accounts = "link_accounts"
    invite_staff = "invite_staff"
    manage_staff = "manage_staff"
    compose_broadcast = "compose_broadcast"  # compose, list, and send their own drafts
    cancel_broadcast = "cancel_broadcast"


@dataclass(frozen=True)
class Actor:
    person: Person | None
    roles: frozenset[str]

    def has(self, *roles: RoleName) -> bool:
        return bool(self.roles.intersection(roles))


BROADCAST_SENDERS = frozenset({RoleName.coordinator, RoleName.head, RoleName.admin})


def _registered(actor: Actor, target: object) -> bool:
    return actor.person is not None


def _admin(actor: Actor, target: object) -> bool:
    return actor.has(RoleName.admin)


def _broadcast_sender(actor: Actor, target: object) -> bool:
    if not actor.has(*BROADCAST_SENDERS):
        return False
    return not isinstance(target, Campaign) or (actor.person is not None and target.created_by == actor.person.id)


def _cancel_broadcast(actor: Actor, target: object) -> bool:
    """Its author (while still a sender), a head or an admin: a head or an admin stops anyone's
    broadcast (a wrong text going to 3,000 families cannot wait for its author)."""
    if actor.has(RoleName.head, RoleName.admin):
        return True
    return _broadcast_sender(actor, target)


RULES: dict[Action, Callable[[Actor, object], bool]] = {
    Action.use_menu: _registered,
    Action.link_accounts: _registered,
    Action.invite_staff: _admin,
    Action.manage_staff: _admin,
    Action.compose_broadcast: _broadcast_sender,
    Action.cancel_broadcast: _cancel_broadcast,
}


def may(actor: Actor, action: Action, target: object = None) -> bool:
    """May `actor` do `action` (to `target`, when the action is about one row)?"""
    return RULES[action](actor, target)
