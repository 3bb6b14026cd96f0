"""Who may do what, in one place: "may this person do this (to that object)". Router filters ask
it (bot.filters.Allowed) and every callback that acts on a row asks it again with the row, since a
button can be pressed long after the screen was drawn and the person's roles changed since.

A rule answers two questions: with no target, "may this person do this at all" (a router's filter,
a menu button, a /help line); with the target row, "may they do it to this one" (ownership, the
row's specialty). A feature's new action is one enum member and one rule here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.db.models import Account, Campaign, Person, Role, Ticket, TicketStatus
from bot.services.people import INVITE_ROLES, Identity, RoleName


class Action(StrEnum):
    use_menu = "use_menu"  # the menu, settings and "my data": everyone registered
    link_accounts = "link_accounts"  # link codes and the list of one's accounts
    unlink_account = "unlink_account"  # target: the Account to part (the person's own)
    invite_staff = "invite_staff"  # target: the role the invite would give
    manage_staff = "manage_staff"  # the staff list and a member's screen
    revoke_role = "revoke_role"  # target: the Role to take away
    compose_broadcast = "compose_broadcast"  # compose, list, and send their own drafts; target: the draft
    cancel_broadcast = "cancel_broadcast"  # target: the Campaign
    ask_question = "ask_question"  # parents ask the centre's specialists
    own_question = "own_question"  # target: the Ticket (the family's own)
    work_questions = "work_questions"  # the queue of one's specialties
    see_question = "see_question"  # target: the Ticket (of one's specialties, passed to one, or one's own)
    answer_question = "answer_question"  # target: the Ticket (claimed by the actor)
    take_courses = "take_courses"  # parents enrol in flash courses and use their lessons (their own rows only)
    join_chats = "join_chats"  # parents get the themed chats' links
    schedule_office_hours = "schedule_office_hours"  # specialists' hours in the parent chats: schedule, list, cancel
    read_reports = "read_reports"  # monthly and annual reports (/report): heads and coordinators


@dataclass(frozen=True)
class Actor:
    """Who is asking: the person's id (None: not registered), their roles' names, and the
    specialties of their specialist roles (a specialist works the questions of their own specialties)."""

    person_id: int | None
    roles: frozenset[str] = frozenset()
    specialties: frozenset[str] = frozenset()

    @classmethod
    def of(cls, person: Person | None) -> Actor:
        """The actor as the person's roles are now (after this update gave or took one, say)."""
        if person is None:
            return NOBODY
        assert person.id is not None, "a new person is flushed (given an id) before anyone asks what they may do"
        return cls.with_roles(person.id, [(role.role, role.specialty) for role in person.roles])

    @classmethod
    def of_identity(cls, identity: Identity | None) -> Actor:
        """The actor as the update found them (read per update, so a revoked role is gone)."""
        if identity is None:
            return NOBODY
        return cls.with_roles(identity.person_id, identity.roles)

    @classmethod
    def with_roles(cls, person_id: int, roles: list[tuple[str, str]]) -> Actor:
        """`roles`: (role, specialty) pairs."""
        specialties = frozenset(specialty for role, specialty in roles if role == RoleName.specialist and specialty)
        return cls(person_id, frozenset(role for role, _specialty in roles), specialties)

    @property
    def registered(self) -> bool:
        return self.person_id is not None

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def is_person(self, person_id: int | None) -> bool:
        """The actor is the person with this id: a row's author or owner (None: nobody's, e.g. after "delete my data")."""
        return self.person_id is not None and person_id == self.person_id

    def specialist_in(self, specialty: str) -> bool:
        return specialty in self.specialties


NOBODY = Actor(None)  # someone not registered (or not in their private chat with the bot)
Rule = Callable[[Actor, Any], bool]

BROADCAST_SENDERS = frozenset({RoleName.coordinator, RoleName.head, RoleName.admin})


def _registered(actor: Actor, target: object) -> bool:
    return actor.registered


def _own_account(actor: Actor, target: object) -> bool:
    if not isinstance(target, Account):
        return actor.registered
    return actor.is_person(target.person_id)


def _admin(actor: Actor, target: object) -> bool:
    return actor.has(RoleName.admin)


def _invite_staff(actor: Actor, target: object) -> bool:
    """Admins invite specialists, coordinators and heads; nobody invites an admin (ADMINS alone decides)."""
    return actor.has(RoleName.admin) and (target is None or target in INVITE_ROLES)


def _revoke_role(actor: Actor, target: object) -> bool:
    """Admins take away the roles invites give; admin itself is ADMINS's to decide, at every start."""
    if not actor.has(RoleName.admin):
        return False
    return not isinstance(target, Role) or target.role in INVITE_ROLES


def _broadcast_sender(actor: Actor, target: object) -> bool:
    """Coordinators, heads and admins; a draft is its author's alone (nobody edits another's half-written text)."""
    if not actor.has(*BROADCAST_SENDERS):
        return False
    return not isinstance(target, Campaign) or actor.is_person(target.created_by)


def _cancel_broadcast(actor: Actor, target: object) -> bool:
    """Its author (while still a sender), a head or an admin: a head or an admin stops anyone's
    broadcast (a wrong text going to 3,000 families cannot wait for its author); another
    coordinator does not (they are peers, and each one's sends are their own)."""
    if actor.has(RoleName.head, RoleName.admin):
        return True
    return _broadcast_sender(actor, target)


def _office_hours(actor: Actor, target: object) -> bool:
    """Those who send broadcasts; any of them may cancel any office hour (a specialist falling ill
    cannot wait for the one coordinator who scheduled it)."""
    return actor.has(*BROADCAST_SENDERS)


def _reports(actor: Actor, target: object) -> bool:
    """Heads and coordinators: the figures of the whole centre (aggregates only)."""
    return actor.has(RoleName.head, RoleName.coordinator)


def _parent(actor: Actor, target: object) -> bool:
    return actor.has(RoleName.parent)


def _own_question(actor: Actor, target: object) -> bool:
    if not isinstance(target, Ticket):
        return actor.has(RoleName.parent)
    return actor.is_person(target.person_id)


def _specialist(actor: Actor, target: object) -> bool:
    return actor.has(RoleName.specialist)


def _see_question(actor: Actor, target: object) -> bool:
    """A question of one's specialties, one passed to one by name, or one's own work (a question
    passed by name to a colleague is theirs alone)."""
    if not actor.has(RoleName.specialist):
        return False
    if not isinstance(target, Ticket):
        return True
    if actor.is_person(target.assignee_id) or actor.is_person(target.transferred_to):
        return True
    return target.transferred_to is None and actor.specialist_in(target.specialty)


def _answer_question(actor: Actor, target: object) -> bool:
    """The specialist who claimed it, while they are still a specialist."""
    if not actor.has(RoleName.specialist):
        return False
    return not isinstance(target, Ticket) or (target.status == TicketStatus.claimed and actor.is_person(target.assignee_id))


RULES: dict[Action, Rule] = {
    Action.use_menu: _registered,
    Action.link_accounts: _registered,
    Action.unlink_account: _own_account,
    Action.invite_staff: _invite_staff,
    Action.manage_staff: _admin,
    Action.revoke_role: _revoke_role,
    Action.compose_broadcast: _broadcast_sender,
    Action.cancel_broadcast: _cancel_broadcast,
    Action.ask_question: _parent,
    Action.own_question: _own_question,
    Action.work_questions: _specialist,
    Action.see_question: _see_question,
    Action.answer_question: _answer_question,
    Action.take_courses: _parent,
    Action.join_chats: _parent,
    Action.schedule_office_hours: _office_hours,
    Action.read_reports: _reports,
}


def may(actor: Actor, action: Action, target: object = None) -> bool:
    """May `actor` do `action` (to `target`, when the action is about one row)?"""
    return RULES[action](actor, target)
