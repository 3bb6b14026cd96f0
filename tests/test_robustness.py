"""Odd input gets a short helpful answer, never silence or a crash; replays do nothing twice."""

from __future__ import annotations

import pytest

from bot.db.models import Person, ProcessedUpdate
from tests.helpers import TEXTS, button_texts, count, register, step

EN = TEXTS["en"]


async def test_each_odd_message_gets_a_helpful_answer(emulator, running_bot):
    parent = emulator.user(3001, language_code="en")
    await register(emulator, parent)
    cases = [
        (lambda: parent.send("what is this?"), EN("fallback.text")),
        (lambda: parent.send("/nonsense"), EN("fallback.command", command="/nonsense")),
        (parent.send_sticker, EN("fallback.sticker")),
        (parent.send_voice, EN("fallback.media", kind=EN("kind.voice"))),
        (parent.send_photo, EN("fallback.media", kind=EN("kind.photo"))),
        (parent.send_document, EN("fallback.media", kind=EN("kind.document"))),
        (parent.send_video, EN("fallback.media", kind=EN("kind.video"))),
    ]
    for action, expected in cases:
        await step(emulator, action)
        assert parent.last.text == expected
        assert button_texts(parent.last) == [EN("menu.open")]
    await step(emulator, lambda: parent.click(EN("menu.open")))
    assert parent.last.text.startswith("Main menu")


async def test_a_burst_of_odd_updates_leaves_the_bot_answering(emulator, running_bot):
    parent = emulator.user(3002, language_code="en")
    stranger = emulator.user(3003, language_code="ru")
    await register(emulator, parent)
    group = emulator.group("Parents of the Northern district")
    sent_to_group_before = len(group.bot_messages)

    first = parent.send("typo")
    for i in range(5):
        if emulator.can_edit:
            parent.edit(first["message_id"], f"edited {i}")
        emulator.press(parent, f"garbage-{i}")
        emulator.press(parent, "menu:nowhere")
        emulator.press(parent, "lang:xx:")
        emulator.press(parent, "district:mars:0")
        group.send(parent, f"hello everyone {i}")
        group.send(stranger, "🙂")
        stranger.send_sticker()
        stranger.send(f"/weird{i}")
    await emulator.settle(timeout=20)

    assert len(group.bot_messages) == sent_to_group_before  # group chatter gets no answer
    assert [answer.text for answer in parent.callback_answers].count(EN("fallback.button_outdated")) >= 15
    assert all(message.text == TEXTS[emulator.expected_language("ru")]("fallback.not_registered") for message in stranger.bot_messages)
    assert len(stranger.bot_messages) == 10

    group.send(parent, emulator.group_command("start"))
    await emulator.settle()
    assert group.bot_messages[-1].text == EN("fallback.group", link=emulator.chat_link())

    await step(emulator, lambda: stranger.send("/start"))
    assert stranger.last.text == TEXTS[emulator.expected_language("ru")]("language.prompt")
    await step(emulator, lambda: parent.send("/menu"))
    assert parent.last.text.startswith("Main menu")


@pytest.mark.both_databases
async def test_a_replayed_update_is_handled_once(emulator, running_bot):
    parent = emulator.user(3004, language_code="en")
    await step(emulator, lambda: parent.send("/start"))
    await step(emulator, lambda: parent.click("English"))
    await step(emulator, lambda: parent.click(EN("consent.accept")))
    replay = emulator.updates[-1]  # the accept press, as the platform would re-send it after a crash
    async with running_bot.session() as session:
        assert await count(session, ProcessedUpdate, ProcessedUpdate.update_id == emulator.update_id_of(replay)) == 1
    messages_before = len(parent.bot_messages)
    await running_bot.app.dispatcher.feed_update(running_bot.bot, emulator.as_update(replay, running_bot.bot), channel=emulator.channel)
    assert len(parent.bot_messages) == messages_before
    async with running_bot.session() as session:
        assert await count(session, Person) == 1


@pytest.mark.both_databases
async def test_a_failing_handler_is_apologised_for_and_changes_nothing(emulator, running_bot, monkeypatch):
    import bot.services.people as people

    async def broken_register(*args, **kwargs):
        raise RuntimeError("database exploded")

    monkeypatch.setattr("handlers.onboarding.register", broken_register)
    parent = emulator.user(3005, language_code="en")
    await step(emulator, lambda: parent.send("/start"))
    await step(emulator, lambda: parent.click("English"))
    await step(emulator, lambda: parent.click(EN("consent.accept")))
    assert parent.callback_answers[-1].text == EN("fallback.error")
    async with running_bot.session() as session:
        assert await count(session, Person) == 0
    monkeypatch.setattr("handlers.onboarding.register", people.register)
    await step(emulator, lambda: parent.click(EN("consent.accept")))
    assert parent.last.text == EN("profile.district_prompt")
