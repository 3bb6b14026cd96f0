"""Admins from ADMINS invite staff with one-time codes; codes expire, work once and name a real role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Account, InviteCode, Person, Role
from handlers.invites import InviteFor
from tests.conftest import ADMIN_ID
from tests.helpers import TEXTS, button_texts, count, register, step

EN = TEXTS["en"]


async def admin_creates_invite(emulator, admin, role_button: str, specialty_button: str | None = None) -> str:
    await step(emulator, lambda: admin.click(EN("menu.invite")))
    await step(emulator, lambda: admin.click(role_button))
    if specialty_button:
        await step(emulator, lambda: admin.click(specialty_button))
    return emulator.invite_code_in(admin.last.text)


async def staff_joins(emulator, user, code: str) -> None:
    await step(emulator, lambda: emulator.open_start_link(user, code))
    await step(emulator, lambda: user.click("English"))
    await step(emulator, lambda: user.click(EN("consent.accept")))


async def test_admin_invites_a_specialist_who_joins_with_the_link(emulator, running_bot):
    admin = emulator.user(ADMIN_ID, language_code="en")
    await register(emulator, admin)
    assert EN("roles.admin") in admin.last.text
    assert EN("menu.invite") in button_texts(admin.last)

    code = await admin_creates_invite(emulator, admin, EN("roles.specialist"), "Speech therapist")
    assert "Speech therapist" in admin.last.text

    therapist = emulator.user(2001, language_code="en")
    await staff_joins(emulator, therapist, code)
    assert therapist.last.text.startswith(EN("invite.accepted", role=EN("roles.specialist")))
    assert EN("roles.specialist") in therapist.last.text

    async with running_bot.session() as session:
        person = await session.scalar(select(Person).join(Account).where(Account.external_id == 2001))
        roles = [(role.role, role.specialty) for role in await session.scalars(select(Role).where(Role.person_id == person.id))]
        assert roles == [("specialist", "speech")]
        invite = await session.scalar(select(InviteCode))
        assert invite.used_by == person.id and invite.used_at is not None


@pytest.mark.both_databases
async def test_a_code_works_once(emulator, running_bot):
    admin = emulator.user(ADMIN_ID, language_code="en")
    await register(emulator, admin)
    code = await admin_creates_invite(emulator, admin, EN("roles.coordinator"))
    first, second = emulator.user(2002, language_code="en"), emulator.user(2003, language_code="en")
    await staff_joins(emulator, first, code)
    await step(emulator, lambda: emulator.open_start_link(second, code))
    assert EN("invite.used") in [message.text for message in second.bot_messages]
    assert second.last.text == EN("language.prompt")  # they may still register, as a parent
    async with running_bot.session() as session:
        assert await count(session, Role, Role.role == "coordinator") == 1


async def test_an_expired_code_is_refused(emulator, running_bot):
    admin = emulator.user(ADMIN_ID, language_code="en")
    await register(emulator, admin)
    code = await admin_creates_invite(emulator, admin, EN("roles.head"))
    running_bot.clock.advance(timedelta(hours=running_bot.settings.invite_ttl_hours, minutes=1))
    latecomer = emulator.user(2004, language_code="en")
    await register(emulator, latecomer)
    await step(emulator, lambda: emulator.open_start_link(latecomer, code))
    assert latecomer.last.text.startswith(EN("invite.expired"))
    async with running_bot.session() as session:
        assert await count(session, Role, Role.role == "head") == 0


async def test_an_unknown_code_is_refused(emulator, running_bot):
    user = emulator.user(2005, language_code="en")
    await step(emulator, lambda: emulator.open_start_link(user, "not-a-real-code"))
    assert [message.text for message in user.bot_messages] == [EN("invite.invalid"), EN("language.prompt")]


async def test_a_registered_parent_takes_a_role_with_a_code(emulator, running_bot):
    admin = emulator.user(ADMIN_ID, language_code="en")
    await register(emulator, admin)
    code = await admin_creates_invite(emulator, admin, EN("roles.coordinator"))
    parent = emulator.user(2006, language_code="en")
    await register(emulator, parent)
    await step(emulator, lambda: emulator.open_start_link(parent, code))
    assert parent.last.text.startswith(EN("invite.accepted", role=EN("roles.coordinator")))
    assert f"{EN('roles.parent')}, {EN('roles.coordinator')}" in parent.last.text


async def test_wrong_role_and_missing_specialty_are_explained(emulator, running_bot):
    admin = emulator.user(ADMIN_ID, language_code="en")
    await register(emulator, admin)
    await step(emulator, lambda: admin.send("/invite wizard"))
    assert admin.last.text.startswith("There is no role «wizard»")
    await step(emulator, lambda: admin.send("/invite specialist astrologer"))
    assert admin.last.text.startswith("A specialist invite needs one of these specialties")
    await step(emulator, lambda: admin.send("/invite"))
    assert admin.last.text.startswith("Usage: /invite")
    await step(emulator, lambda: emulator.press(admin, InviteFor(role="wizard").pack()))  # a forged button is re-checked too
    assert admin.last.text.startswith("There is no role «wizard»")
    await step(emulator, lambda: admin.send("/invite specialist psychologist"))
    assert emulator.invite_code_in(admin.last.text)
    async with running_bot.session() as session:
        assert [(i.role, i.specialty) for i in await session.scalars(select(InviteCode))] == [("specialist", "psychologist")]


async def test_only_admins_can_create_invites(emulator, running_bot):
    parent = emulator.user(2007, language_code="en")
    await register(emulator, parent)
    await step(emulator, lambda: parent.send("/invite coordinator"))
    assert parent.last.text == EN("fallback.command", command="/invite")
    await step(emulator, lambda: emulator.press(parent, InviteFor(role="admin").pack()))
    assert parent.callback_answers[-1].text == EN("fallback.button_outdated")
    async with running_bot.session() as session:
        assert await count(session, InviteCode) == 0
