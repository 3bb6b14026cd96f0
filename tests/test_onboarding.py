"""A parent registers: language, consent, district, child's age, menu; in all three languages."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db.models import Account, ConsentRecord, Event, Person, Role
from tests.conftest import RunningBot, make_settings
from tests.helpers import CONTENT, LANGUAGE_NAMES, TEXTS, button_texts, count, register, step


@pytest.mark.parametrize("language", ["ru", "ro", "en"])
@pytest.mark.both_databases
async def test_parent_registers_in_their_language(emulator, running_bot, language):
    texts = TEXTS[language]
    parent = emulator.user(1001, first_name="Parent", language_code=language)

    await step(emulator, lambda: parent.send("/start"))
    assert parent.last.text == TEXTS[emulator.expected_language(language)]("language.prompt")
    assert button_texts(parent.last) == list(LANGUAGE_NAMES.values())

    await step(emulator, lambda: parent.click(LANGUAGE_NAMES[language]))
    consent = CONTENT.consent_text(language)
    assert parent.last.text == consent.text
    assert button_texts(parent.last) == [texts("consent.accept"), texts("consent.decline")]

    await step(emulator, lambda: parent.click(texts("consent.accept")))
    assert parent.last.text == texts("profile.district_prompt")
    assert texts("profile.district_other") in button_texts(parent.last)
    assert texts("profile.skip") in button_texts(parent.last)

    await step(emulator, lambda: parent.click(CONTENT.find(CONTENT.districts, "vologda").label(language)))
    assert parent.last.text == texts("profile.age_prompt")

    await step(emulator, lambda: parent.click(CONTENT.find(CONTENT.age_groups, "8-11").label(language)))
    assert parent.last.text.startswith(texts("menu.welcome"))
    assert texts("roles.parent") in parent.last.text
    menu = ("menu.courses", "menu.chats", "menu.ask", "menu.settings", "menu.my_data", "menu.link")
    assert button_texts(parent.last) == [texts(key) for key in menu]

    async with running_bot.session() as session:
        person = await session.scalar(select(Person))
        assert (person.language, person.district, person.child_age_group) == (language, "vologda", "8-11")
        account = await session.scalar(select(Account))
        assert (account.platform, account.external_id, account.person_id) == (emulator.platform, 1001, person.id)
        assert [role.role for role in await session.scalars(select(Role))] == ["parent"]
        record = await session.scalar(select(ConsentRecord))
        assert (record.person_id, record.decision, record.text_version, record.text_language) == (person.id, "accepted", "v1", language)
        assert record.text_sha256 == consent.sha256
        assert await count(session, Event, Event.kind == "registered", Event.pseudonym == person.pseudonym) == 1


async def test_language_defaults_from_the_users_client(emulator, running_bot):
    romanian = emulator.user(1002, language_code="ro")
    german = emulator.user(1003, language_code="de")
    nobody = emulator.user(1004, language_code=None)
    for user in (romanian, german, nobody):
        await step(emulator, lambda user=user: user.send("/start"))
    assert romanian.last.text == TEXTS[emulator.expected_language("ro")]("language.prompt")
    assert german.last.text == TEXTS["en"]("language.prompt")
    assert nobody.last.text == TEXTS["en"]("language.prompt")


async def test_decline_stores_nothing_but_the_decline(emulator, running_bot):
    parent = emulator.user(1005, language_code="ru")
    await step(emulator, lambda: parent.send("/start"))
    await step(emulator, lambda: parent.click("Русский"))
    await step(emulator, lambda: parent.click(TEXTS["ru"]("consent.decline")))
    assert parent.last.text == TEXTS["ru"]("consent.declined")
    assert parent.last.buttons == []

    async with running_bot.session() as session:
        assert await count(session, Person) == 0
        assert await count(session, Account) == 0
        record = await session.scalar(select(ConsentRecord))
        assert (record.decision, record.person_id, record.text_language) == ("declined", None, "ru")

    await step(emulator, lambda: parent.send("hello"))  # nothing kept, so the language is the client's again
    assert parent.last.text == TEXTS[emulator.expected_language("ru")]("fallback.not_registered")


async def test_both_questions_can_be_skipped(emulator, running_bot):
    parent = emulator.user(1006, language_code="en")
    await register(emulator, parent, "en", district=None, age=None)
    assert parent.last.text.startswith(TEXTS["en"]("menu.welcome"))
    async with running_bot.session() as session:
        person = await session.scalar(select(Person))
        assert (person.district, person.child_age_group) == (None, None)


@pytest.mark.both_databases
async def test_double_tap_on_accept_registers_once(emulator, running_bot):
    parent = emulator.user(1007, language_code="en")
    await step(emulator, lambda: parent.send("/start"))
    await step(emulator, lambda: parent.click("English"))
    consent_message = parent.last
    parent.click(TEXTS["en"]("consent.accept"), message=consent_message)
    parent.click(TEXTS["en"]("consent.accept"), message=consent_message)
    await emulator.settle()
    async with running_bot.session() as session:
        assert await count(session, Person) == 1
        assert await count(session, ConsentRecord) == 1
    assert all(answer.answered for answer in parent.callback_answers)


async def test_consent_button_of_an_old_version_shows_the_current_text(emulator, running_bot):
    parent = emulator.user(1008, language_code="en")
    await step(emulator, lambda: parent.send("/start"))
    await step(emulator, lambda: emulator.press(parent, "consent:1:en:v0:"))
    assert TEXTS["en"]("consent.outdated") in [message.text for message in parent.bot_messages]
    assert parent.last.text == CONTENT.consent_text("en").text
    async with running_bot.session() as session:
        assert await count(session, Person) == 0


async def test_start_again_after_registering_shows_the_menu(emulator, running_bot):
    parent = emulator.user(1009, language_code="en")
    await register(emulator, parent)
    await step(emulator, lambda: parent.send("/start"))
    assert parent.last.text.startswith(TEXTS["en"]("menu.welcome_back"))
    assert button_texts(parent.last)[:4] == [TEXTS["en"]("menu.courses"), TEXTS["en"]("menu.chats"), TEXTS["en"]("menu.ask"), TEXTS["en"]("menu.settings")]


async def test_settings_change_language_and_district(emulator, running_bot):
    parent = emulator.user(1010, language_code="en")
    await register(emulator, parent)
    await step(emulator, lambda: parent.click(TEXTS["en"]("menu.settings")))
    assert "Cherepovets district" in parent.last.text
    await step(emulator, lambda: parent.click(TEXTS["en"]("settings.district")))
    await step(emulator, lambda: parent.click(TEXTS["en"]("profile.district_other")))
    assert TEXTS["en"]("profile.district_other") in parent.last.text
    await step(emulator, lambda: parent.click(TEXTS["en"]("settings.language")))
    await step(emulator, lambda: parent.click("Română"))
    assert parent.last.text.startswith(TEXTS["ro"]("language.changed"))
    async with running_bot.session() as session:
        person = await session.scalar(select(Person))
        assert (person.language, person.district) == ("ro", "other")


async def test_my_data_shows_what_is_kept_and_deletes_it(emulator, running_bot):
    parent = emulator.user(1011, language_code="en")
    await register(emulator, parent)
    await step(emulator, lambda: parent.send("/mydata"))
    assert f"{emulator.platform} 1011" in parent.last.text and "version v1" in parent.last.text
    await step(emulator, lambda: parent.click(TEXTS["en"]("my_data.delete")))
    await step(emulator, lambda: parent.click(TEXTS["en"]("my_data.delete_yes")))
    assert parent.last.text == TEXTS["en"]("my_data.deleted")
    async with running_bot.session() as session:
        assert await count(session, Person) == 0
        assert await count(session, Account) == 0
        assert await count(session, Role) == 0
        record = await session.scalar(select(ConsentRecord))
        assert record.person_id is None and record.withdrawn_at is not None


async def test_a_long_district_list_is_paged(emulator, database_url, tmp_path):
    """A region lists dozens of districts; every page still fits VK's 10 inline buttons."""
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    items = "".join(f'[[item]]\nid = "d{n}"\nkind = "rural"\nen = "District {n}"\nru = "Район {n}"\nro = "Raionul {n}"\n\n' for n in range(1, 21))
    (content / "districts.toml").write_text(items, encoding="utf-8")
    async with RunningBot(make_settings(emulator, database_url, CONTENT_DIR=str(content))) as running:
        parent = emulator.user(1012, language_code="en")
        await step(emulator, lambda: parent.send("/start"))
        await step(emulator, lambda: parent.click("English"))
        await step(emulator, lambda: parent.click(TEXTS["en"]("consent.accept")))
        assert button_texts(parent.last)[:7] == [f"District {n}" for n in range(1, 7)] + ["▶"]
        for _ in range(3):
            await step(emulator, lambda: parent.click("▶"))
        assert button_texts(parent.last)[:3] == ["District 19", "District 20", "◀"]
        assert TEXTS["en"]("profile.district_other") in button_texts(parent.last)
        await step(emulator, lambda: parent.click("District 20"))
        assert parent.last.text == TEXTS["en"]("profile.age_prompt")
        async with running.session() as session:
            assert (await session.scalar(select(Person))).district == "d20"
