"""Who may do what (bot.permissions): a rule per action, each role's boundary pinned, ownership
decided on the row; and, on Telegram and VK, that a button from someone without the right, or
from an old screen, changes nothing, and that group traffic never reaches a private feature."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiogram.types import Chat, User
from sqlalchemy import event, select

from bot.db.models import Account, Campaign, InviteCode, Person, Role
from bot.filters import ChatKind, chat_kind
from bot.permissions import RULES, Action, Actor, may
from bot.services.people import RoleName
from handlers.invites import InviteFor
from handlers.staff import StaffScreen, StaffStep
from handlers.ui import MenuAction
from tests.conftest import ADMIN_ID, RunningBot
from tests.helpers import TEXTS, button_texts, count, register, step
from tests.test_invites import admin_creates_invite, staff_joins

EN, RU = TEXTS["en"], TEXTS["ru"]
UNREGISTERED = "unregistered"
EVERYONE = (RoleName.parent, RoleName.specialist, RoleName.coordinator, RoleName.head, RoleName.admin, UNREGISTERED)
REGISTERED = frozenset(EVERYONE) - {UNREGISTERED}
SENDERS = frozenset({RoleName.coordinator, RoleName.head, RoleName.admin})
ADMIN_ONLY = frozenset({RoleName.admin})

# Who may do each action at all (no target): the boundary a router's filter draws.
MAY_AT_ALL: dict[Action, frozenset[str]] = {
    Action.use_menu: REGISTERED,
    Action.link_accounts: REGISTERED,
    Action.unlink_account: REGISTERED,
    Action.invite_staff: ADMIN_ONLY,
    Action.manage_staff: ADMIN_ONLY,
    Action.revoke_role: ADMIN_ONLY,
    Action.compose_broadcast: SENDERS,
    Action.cancel_broadcast: SENDERS,
    Action.ask_question: frozenset({RoleName.parent}),
    Action.own_question: frozenset({RoleName.parent}),
    Action.work_questions: frozenset({RoleName.specialist}),
    Action.see_question: frozenset({RoleName.specialist}),
    Action.answer_question: frozenset({RoleName.specialist}),
    Action.take_courses: frozenset({RoleName.parent}),
    Action.join_chats: frozenset({RoleName.parent}),
    Action.schedule_office_hours: SENDERS,
    Action.read_reports: frozenset({RoleName.head, RoleName.coordinator}),
}


def person(person_id: int, *roles: str | tuple[str, str]) -> Person:
    """An unsaved person with these roles (a name, or (name, specialty))."""
    pairs = [(role, "") if isinstance(role, str) else role for role in roles]
    return Person(id=person_id, language="en", roles=[Role(role=role, specialty=specialty) for role, specialty in pairs])


def actor(role: str, person_id: int = 1) -> Actor:
    if role == UNREGISTERED:
        return Actor.of(None)
    return Actor.of(person(person_id, (role, "speech") if role == RoleName.specialist else role))


# may(), each action × each role

def test_every_action_has_a_rule_and_a_row_here():
    assert set(RULES) == set(Action) == set(MAY_AT_ALL)


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize("action", list(Action))
def test_who_may_do_each_action_at_all(action: Action, role: str):
    assert may(actor(role), action) is (role in MAY_AT_ALL[action])


def test_a_person_with_no_roles_left_is_registered_and_nothing_more():
    nobody_special = Actor.of(person(1))
    assert [action for action in Action if may(nobody_special, action)] == [Action.use_menu, Action.link_accounts, Action.unlink_account]


def test_the_actor_carries_the_specialties_of_its_specialist_roles():
    therapist = Actor.of(person(1, (RoleName.specialist, "speech"), (RoleName.specialist, "psychologist"), RoleName.parent))
    assert therapist.roles == {RoleName.specialist, RoleName.parent}
    assert therapist.specialties == {"speech", "psychologist"}
    assert therapist.specialist_in("speech") and not therapist.specialist_in("lawyer")
    assert Actor.of(person(2, RoleName.coordinator)).specialties == frozenset()
    assert not Actor.of(None).registered and Actor.of(None).roles == frozenset()


# ownership: the rule decides on the row

AUTHOR, OTHER_COORDINATOR, HEAD, ADMIN, FORMER_AUTHOR = (
    Actor.of(person(1, RoleName.coordinator)),
    Actor.of(person(2, RoleName.coordinator)),
    Actor.of(person(3, RoleName.head)),
    Actor.of(person(4, RoleName.admin)),
    Actor.of(person(1, RoleName.parent)),  # the author, after their coordinator role was revoked
)
PARENT = Actor.of(person(5, RoleName.parent))


@pytest.mark.parametrize(
    ("who", "allowed"),
    [(AUTHOR, True), (OTHER_COORDINATOR, False), (HEAD, True), (ADMIN, True), (FORMER_AUTHOR, False), (PARENT, False), (Actor.of(None), False)],
    ids=["author", "other coordinator", "head", "admin", "author no longer a sender", "parent", "unregistered"],
)
def test_who_may_cancel_a_broadcast(who: Actor, allowed: bool):
    campaign = Campaign(id=10, created_by=1, status="sending")
    assert may(who, Action.cancel_broadcast, campaign) is allowed


def test_a_broadcast_whose_author_deleted_their_data_is_cancelled_by_a_head_or_an_admin_only():
    orphan = Campaign(id=11, created_by=None, status="scheduled")
    assert [may(who, Action.cancel_broadcast, orphan) for who in (AUTHOR, OTHER_COORDINATOR, HEAD, ADMIN)] == [False, False, True, True]


@pytest.mark.parametrize(
    ("who", "allowed"),
    [(AUTHOR, True), (OTHER_COORDINATOR, False), (HEAD, False), (ADMIN, False), (FORMER_AUTHOR, False)],
    ids=["author", "other coordinator", "head", "admin", "author no longer a sender"],
)
def test_a_draft_is_composed_by_its_author_alone(who: Actor, allowed: bool):
    draft = Campaign(id=12, created_by=1, status="draft")
    assert may(who, Action.compose_broadcast, draft) is allowed


def test_an_account_is_unlinked_by_its_own_person_only():
    own, someone_elses = Account(id=1, person_id=1, platform="vk", external_id=5), Account(id=2, person_id=2, platform="vk", external_id=6)
    assert may(AUTHOR, Action.unlink_account, own) and not may(AUTHOR, Action.unlink_account, someone_elses)
    assert not may(ADMIN, Action.unlink_account, own)  # not even an admin parts someone's account
    assert not may(Actor.of(None), Action.unlink_account, own)


def test_an_admin_revokes_the_roles_invites_give_and_not_admin():
    roles = {name: Role(id=index, person_id=9, role=name, specialty="speech" if name == RoleName.specialist else "") for index, name in enumerate(RoleName)}
    revocable = [name for name, role in roles.items() if may(ADMIN, Action.revoke_role, role)]
    assert revocable == [RoleName.specialist, RoleName.coordinator, RoleName.head]
    assert not any(may(HEAD, Action.revoke_role, role) for role in roles.values())


def test_an_admin_invites_specialists_coordinators_and_heads_and_nobody_invites_an_admin():
    assert [role for role in RoleName if may(ADMIN, Action.invite_staff, role)] == [RoleName.specialist, RoleName.coordinator, RoleName.head]
    assert not any(may(HEAD, Action.invite_staff, role) for role in RoleName)


# the tier of an event

def test_the_tier_is_the_chat_and_private_means_the_persons_own_chat():
    user = User(id=5, is_bot=False, first_name="A")
    cases = [
        (Chat(id=5, type="private"), ChatKind.private),
        (Chat(id=6, type="private"), ChatKind.other),  # a press forged onto someone else's chat
        (Chat(id=-100, type="group"), ChatKind.group),
        (Chat(id=-1001, type="supergroup"), ChatKind.group),
        (Chat(id=-1002, type="channel"), ChatKind.other),
        (None, ChatKind.other),  # a press on an inline message
    ]
    assert [chat_kind(chat, user) for chat, _ in cases] == [kind for _, kind in cases]
    assert chat_kind(Chat(id=5, type="private"), None) == ChatKind.other


# scenarios, on Telegram and on VK

async def person_of(running: RunningBot, external_id: int) -> Person:
    async with running.session() as session:
        return await session.scalar(select(Person).join(Account).where(Account.external_id == external_id))


async def roles_of(running: RunningBot, external_id: int) -> list[tuple[str, str]]:
    return sorted((role.role, role.specialty) for role in (await person_of(running, external_id)).roles)


async def join_as(emulator, admin, user, role_button: str, specialty_button: str | None = None) -> None:
    await step(emulator, lambda: admin.send("/menu"))
    await staff_joins(emulator, user, await admin_creates_invite(emulator, admin, role_button, specialty_button))


async def test_a_parent_pressing_forged_staff_and_invite_buttons_changes_nothing(emulator, running_bot):
    admin, therapist, parent = (emulator.user(user_id, language_code="en") for user_id in (ADMIN_ID, 2501, 2502))
    await register(emulator, admin)
    await join_as(emulator, admin, therapist, EN("roles.specialist"), "Speech therapist")
    await register(emulator, parent)
    staff = await person_of(running_bot, 2501)
    role = staff.roles[0]
    seen, answers, told = [message.text for message in parent.bot_messages], len(parent.callback_answers), len(therapist.bot_messages)

    forged = [
        MenuAction(action="staff"), MenuAction(action="invite"),
        StaffScreen(step=StaffStep.list), StaffScreen(step=StaffStep.person, person=staff.id),
        StaffScreen(step=StaffStep.revoke, person=staff.id, role=role.id), StaffScreen(step=StaffStep.confirm, person=staff.id, role=role.id),
        InviteFor(role="coordinator"), InviteFor(role="specialist"), InviteFor(role="specialist", specialty="speech"), InviteFor(role="admin"),
    ]
    for data in forged:
        await step(emulator, lambda data=data: emulator.press(parent, data.pack()))

    assert [answer.text for answer in parent.callback_answers[answers:]] == [EN("fallback.button_outdated")] * len(forged)
    assert [message.text for message in parent.bot_messages] == seen  # nothing edited, nothing new
    assert await roles_of(running_bot, 2501) == [("specialist", "speech")] and len(therapist.bot_messages) == told
    async with running_bot.session() as session:
        assert await count(session, InviteCode) == 1  # the one the therapist joined with
        assert await count(session, InviteCode, InviteCode.used_by.is_(None)) == 0


async def test_a_specialist_cannot_open_invites_or_the_staff_list(emulator, running_bot):
    admin, therapist = emulator.user(ADMIN_ID, language_code="en"), emulator.user(2511, language_code="en")
    await register(emulator, admin)
    await join_as(emulator, admin, therapist, EN("roles.specialist"), "Speech therapist")

    await step(emulator, lambda: therapist.send("/menu"))
    assert EN("menu.invite") not in button_texts(therapist.last) and EN("staff.menu") not in button_texts(therapist.last)
    await step(emulator, lambda: therapist.send("/help"))
    assert "/invite" not in therapist.last.text and "/broadcasts" not in therapist.last.text
    await step(emulator, lambda: therapist.send("/invite coordinator"))
    assert therapist.last.text == EN("fallback.command", command="/invite")
    answers = len(therapist.callback_answers)
    for data in (MenuAction(action="invite"), InviteFor(role="head"), MenuAction(action="staff"), StaffScreen(step=StaffStep.list)):
        await step(emulator, lambda data=data: emulator.press(therapist, data.pack()))
    assert [answer.text for answer in therapist.callback_answers[answers:]] == [EN("fallback.button_outdated")] * 4
    async with running_bot.session() as session:
        assert await count(session, InviteCode) == 1


async def test_a_coordinator_whose_role_was_revoked_cannot_continue_an_old_screen(emulator, running_bot):
    admin, coordinator = emulator.user(ADMIN_ID, language_code="en"), emulator.user(2521, language_code="en")
    await register(emulator, admin)
    await join_as(emulator, admin, coordinator, EN("roles.coordinator"))
    await step(emulator, lambda: coordinator.send("/menu"))
    await step(emulator, lambda: coordinator.click(EN("menu.broadcasts")))
    old_screen = coordinator.last
    assert EN("broadcast.new") in button_texts(old_screen)

    staff = await person_of(running_bot, 2521)
    await step(emulator, lambda: emulator.press(admin, StaffScreen(step=StaffStep.confirm, person=staff.id, role=staff.roles[0].id).pack()))
    assert admin.last.text.startswith(EN("staff.revoked", role=EN("roles.coordinator")))
    assert coordinator.last.text == EN("staff.revoked_notice", role=EN("roles.coordinator"))

    answers = len(coordinator.callback_answers)
    await step(emulator, lambda: coordinator.click(EN("broadcast.new"), old_screen))
    await step(emulator, lambda: emulator.press(coordinator, MenuAction(action="broadcasts").pack()))
    assert [answer.text for answer in coordinator.callback_answers[answers:]] == [EN("fallback.button_outdated")] * 2
    await step(emulator, lambda: coordinator.send("/broadcasts"))
    assert coordinator.last.text == EN("fallback.command", command="/broadcasts")
    async with running_bot.session() as session:
        assert await count(session, Campaign) == 0


# group traffic

IDENTITY_TABLES = re.compile(r"\b(accounts|people|roles)\b")


@contextmanager
def statements_on(running: RunningBot) -> Iterator[list[str]]:
    """Every SQL statement the bot's engine runs meanwhile."""
    seen: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(running.app.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(running.app.engine.sync_engine, "before_cursor_execute", record)


def handlers_run_in(running: RunningBot, tier: str) -> list[str]:
    """The names of the handlers that run in a tier from now on (an inner middleware sees every one)."""
    ran: list[str] = []
    router = next(router for router in running.app.dispatcher.sub_routers if router.name == tier)

    async def spy(handler, event, data):
        ran.append(data["handler"].callback.__name__)
        return await handler(event, data)

    router.message.middleware(spy)
    router.callback_query.middleware(spy)
    return ran


async def test_group_traffic_runs_no_private_feature_and_looks_nobody_up(emulator, running_bot):
    parent, stranger = emulator.user(2531, language_code="en"), emulator.user(2532, language_code="en")
    await register(emulator, parent, language="ru")
    private, group_tier = handlers_run_in(running_bot, "private"), handlers_run_in(running_bot, "group")
    group = emulator.group("Parents of the Northern district")
    answered = len(group.bot_messages)

    with statements_on(running_bot) as statements:
        group.send(parent, "hello everyone")
        group.send(stranger, "🙂")
        group.send(parent, "/menu")  # a private feature's command, in a group
        await emulator.settle()
    assert private == [] and group_tier == []
    assert [statement for statement in statements if IDENTITY_TABLES.search(statement)] == []
    assert len(group.bot_messages) == answered  # chatter gets no answer

    group.send(parent, emulator.group_command("start"))
    await emulator.settle()
    assert private == [] and group_tier == ["group_command"]
    assert group.bot_messages[-1].text == RU("fallback.group", link=emulator.chat_link())  # in the language they chose, looked up for the answer

    await step(emulator, lambda: parent.send("/menu"))  # the same person in the private chat: the private tier, as ever
    assert private == ["open_menu"] and RU("roles.parent") in parent.last.text


def test_no_router_runs_a_filter_in_a_worker_thread():
    """aiogram runs a sync filter (a bare magic filter such as F.chat.type == ...) in a thread, per
    update: filters on routers and handlers are async (a magic rule inside CallbackData.filter is
    evaluated inline by its async filter)."""
    from handlers import build_routers

    def routers(router):
        yield router
        for child in router.sub_routers:
            yield from routers(child)

    sync = [
        (router.name, observer_name, getattr(filter_object.callback, "__name__", repr(filter_object.callback)))
        for top in build_routers()
        for router in routers(top)
        for observer_name, observer in router.observers.items()
        for handler in [observer._handler, *observer.handlers]
        for filter_object in handler.filters or []
        if not filter_object.awaitable
    ]
    assert sync == []
    assert [router.name for router in build_routers()] == ["private", "group", "membership", "errors"]
