"""Staff are not parents, and roles end: ADMINS decides who is admin at every start, an admin
revokes a specialist's role from the menu and the specialist is told; /help fits the person's roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Account, Event, InviteCode, Person, Role
from handlers.staff import StaffScreen, StaffStep
from handlers.ui import MenuAction
from tests.conftest import ADMIN_ID, RunningBot, make_settings
from tests.helpers import CONTENT, TEXTS, button_texts, count, register, step
from tests.test_invites import admin_creates_invite, staff_joins

EN = TEXTS["en"]
PARENT_MENU = [EN("menu.settings"), EN("menu.my_data"), EN("menu.link")]
SPECIALIST = f"{EN('roles.specialist')} (Speech therapist)"


def admins(*ids: int) -> str:
    return ", ".join(f"{user_id}, vk:{user_id}" for user_id in ids)


async def roles_of(running: RunningBot, external_id: int) -> list[str]:
    async with running.session() as session:
        person = await session.scalar(select(Person).join(Account).where(Account.external_id == external_id))
        return sorted(role.role for role in person.roles)


async def person_of(running: RunningBot, external_id: int) -> Person:
    async with running.session() as session:
        return await session.scalar(select(Person).join(Account).where(Account.external_id == external_id))


def help_commands(text: str) -> list[str]:
    return [line.split()[0] for line in text.splitlines() if line.startswith("/")]


@pytest.mark.both_databases
async def test_admins_decides_who_is_admin_at_every_start(emulator, database_url):
    first, second, parent = (emulator.user(user_id, language_code="en") for user_id in (ADMIN_ID, 9001, 2101))
    async with RunningBot(make_settings(emulator, database_url, ADMINS=admins(ADMIN_ID, 9001))) as running:
        await register(emulator, first)  # in ADMINS, registering after the start: admin at once, and no parent
        assert first.last.text.startswith(EN("menu.welcome")) and f"{EN('roles.admin')}." in first.last.text
        assert EN("roles.parent") not in first.last.text
        assert EN("staff.menu") in button_texts(first.last)
        await register(emulator, second)
        await register(emulator, parent)
        assert await roles_of(running, 9001) == ["admin"] and await roles_of(running, 2101) == ["parent"]
        assert (await person_of(running, ADMIN_ID)).child_age_group is None  # never asked

    async with RunningBot(make_settings(emulator, database_url, ADMINS=admins(ADMIN_ID, 2101))) as running:
        assert await roles_of(running, ADMIN_ID) == ["admin"]
        assert await roles_of(running, 9001) == []  # taken off ADMINS: no longer admin
        assert await roles_of(running, 2101) == ["admin", "parent"]  # put on ADMINS: admin too
        async with running.session() as session:
            assert await count(session, Event, Event.kind == "role_revoked", Event.object_id == "admin") == 1

        await step(emulator, lambda: second.send("/menu"))
        assert EN("staff.no_roles") in second.last.text and button_texts(second.last) == PARENT_MENU
        await step(emulator, lambda: emulator.press(second, MenuAction(action="staff").pack()))
        assert second.callback_answers[-1].text == EN("fallback.button_outdated")
        await step(emulator, lambda: second.send("/invite coordinator"))
        assert second.last.text == EN("fallback.command", command="/invite")
        await step(emulator, lambda: parent.send("/menu"))
        assert EN("staff.menu") in button_texts(parent.last)


async def test_admin_revokes_a_specialists_role_and_the_specialist_is_told(emulator, running_bot):
    admin = emulator.user(ADMIN_ID, language_code="en")
    await register(emulator, admin)
    await step(emulator, lambda: admin.click(EN("menu.invite")))
    assert EN("roles.admin") not in button_texts(admin.last)  # ADMINS makes admins, not invites
    await step(emulator, lambda: admin.send("/invite admin"))
    assert admin.last.text == EN("staff.no_admin_invites", roles="specialist, coordinator, head")
    async with running_bot.session() as session:  # an admin invite made before invites stopped making admins
        session.add(InviteCode(code="old-admin-code", role="admin", expires_at=running_bot.clock.now() + timedelta(days=1)))
        await session.commit()
    await step(emulator, lambda: emulator.open_start_link(emulator.user(2202), "old-admin-code"))
    assert emulator.user(2202).bot_messages[0].text == EN("invite.invalid")
    await step(emulator, lambda: admin.send("/menu"))
    code = await admin_creates_invite(emulator, admin, EN("roles.specialist"), "Speech therapist")

    therapist = emulator.user(2201, language_code="en")
    await staff_joins(emulator, therapist, code)  # no district, no child's age: straight to the menu
    assert therapist.last.text.startswith(EN("invite.accepted", role=EN("roles.specialist")))
    assert f"{EN('roles.specialist')}." in therapist.last.text and EN("roles.parent") not in therapist.last.text
    assert await roles_of(running_bot, 2201) == ["specialist"]
    async with running_bot.session() as session:  # a long list: six more specialists make a second page
        for _ in range(6):
            session.add(Person(language="en", roles=[Role(role="specialist", specialty="psychologist")]))
        await session.commit()
    staff = await person_of(running_bot, 2201)
    staff_id, specialist_role_id = staff.id, staff.roles[0].id
    admin_person = await person_of(running_bot, ADMIN_ID)

    await step(emulator, lambda: admin.send("/menu"))
    await step(emulator, lambda: admin.click(EN("staff.menu")))
    assert admin.last.text.startswith(EN("staff.list_title", count=8).replace("<b>", "").replace("</b>", ""))
    assert "▶" in button_texts(admin.last)
    await step(emulator, lambda: admin.click("▶"))
    assert len(button_texts(admin.last)) == 2 + 1 + 1  # the last two, ◀, back
    await step(emulator, lambda: admin.click("◀"))
    await step(emulator, lambda: admin.click(EN("staff.list_line", id=staff_id, roles=EN("roles.specialist"))))
    assert f"#{staff_id}" in admin.last.text and SPECIALIST in admin.last.text and emulator.platform in admin.last.text
    await step(emulator, lambda: admin.click(EN("staff.revoke", role=SPECIALIST)))
    assert admin.last.text == EN("staff.revoke_confirm", role=SPECIALIST, id=staff_id)
    await step(emulator, lambda: admin.click(EN("staff.revoke_yes")))
    assert admin.last.text.startswith(EN("staff.revoked", role=SPECIALIST))
    assert EN("staff.revoke", role=SPECIALIST) not in button_texts(admin.last)

    assert therapist.last.text == EN("staff.revoked_notice", role=SPECIALIST)
    assert await roles_of(running_bot, 2201) == []
    await step(emulator, lambda: therapist.send("/menu"))
    assert EN("roles.specialist") not in therapist.last.text and EN("staff.no_roles") in therapist.last.text
    async with running_bot.session() as session:
        assert await count(session, Event, Event.kind == "role_revoked", Event.object_id == "specialist") == 1
        admin_role = await session.scalar(select(Role).where(Role.person_id == admin_person.id))

    answers = len(admin.callback_answers)
    stale = [
        StaffScreen(step=StaffStep.confirm, person=staff_id, role=specialist_role_id),  # the old "yes" pressed again
        StaffScreen(step=StaffStep.confirm, person=admin_person.id, role=admin_role.id),  # admin is ADMINS's to decide
        StaffScreen(step=StaffStep.revoke, person=admin_person.id, role=admin_role.id),
    ]
    forged = [f"staff:confirm:{2**64}:{2**64}:0", f"staff:person:{2**64}:0:0"]  # the factory itself refuses such ids
    for data in [screen.pack() for screen in stale] + forged:
        await step(emulator, lambda data=data: emulator.press(admin, data))
    assert [answer.text for answer in admin.callback_answers[answers:]] == [EN("fallback.button_outdated")] * (len(stale) + len(forged))
    assert await roles_of(running_bot, ADMIN_ID) == ["admin"]

    await step(emulator, lambda: emulator.press(therapist, StaffScreen(step=StaffStep.list).pack()))  # not an admin
    assert therapist.callback_answers[-1].text == EN("fallback.button_outdated")


async def test_staff_add_the_parent_role_themselves_and_help_lists_their_commands(emulator, running_bot):
    stranger = emulator.user(2301, language_code="en")
    await step(emulator, lambda: stranger.send("/help"))
    assert help_commands(stranger.last.text) == ["/start", "/help"]

    parent = emulator.user(2302, language_code="en")
    await register(emulator, parent)
    await step(emulator, lambda: parent.send("/help"))
    assert help_commands(parent.last.text) == ["/start", "/menu", "/language", "/link", "/mydata", "/courses", "/chats", "/ask", "/myquestions", "/help"]

    admin = emulator.user(ADMIN_ID, language_code="en")
    await register(emulator, admin)
    await step(emulator, lambda: admin.send("/help"))
    assert help_commands(admin.last.text) == ["/start", "/menu", "/language", "/link", "/mydata", "/broadcasts", "/officehours", "/invite", "/help"]

    await step(emulator, lambda: admin.send("/menu"))
    await step(emulator, lambda: admin.click(EN("menu.settings")))
    assert EN("settings.district") not in button_texts(admin.last) and EN("settings.age") not in button_texts(admin.last)
    await step(emulator, lambda: admin.click(EN("staff.also_parent")))
    assert admin.last.text == EN("staff.parent_added") + "\n\n" + EN("profile.district_prompt")
    await step(emulator, lambda: admin.click(CONTENT.find(CONTENT.districts, "vologda").label("en")))
    await step(emulator, lambda: admin.click(CONTENT.find(CONTENT.age_groups, "8-11").label("en")))
    assert admin.last.text.startswith(EN("profile.saved")) and f"{EN('roles.parent')}, {EN('roles.admin')}" in admin.last.text
    person = await person_of(running_bot, ADMIN_ID)
    assert (person.district, person.child_age_group) == ("vologda", "8-11")
    assert await roles_of(running_bot, ADMIN_ID) == ["admin", "parent"]

    await step(emulator, lambda: emulator.press(admin, MenuAction(action="also_parent").pack()))  # a double tap
    assert admin.last.text.startswith("Settings") and EN("settings.district") in button_texts(admin.last)
    assert await roles_of(running_bot, ADMIN_ID) == ["admin", "parent"]


def test_staff_button_labels_fit_vk():
    labels = [TEXTS[language](key) for language in TEXTS for key in ("staff.menu", "staff.revoke_yes", "staff.also_parent")]
    assert [label for label in labels if len(label) > 40] == []
