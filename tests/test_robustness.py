"""Odd input gets a short helpful answer, never silence or a crash; replays do nothing twice."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Person, ProcessedUpdate
from bot.platforms import TELEGRAM
from tests.helpers import TEXTS, count, register, step

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
        assert parent.last.buttons == [[(EN("menu.open"), "menu:home")]]
    await step(emulator, lambda: parent.click(EN("menu.open")))
    assert parent.last.text.startswith("Main menu")


async def test_a_burst_of_odd_updates_leaves_the_bot_answering(emulator, running_bot):
    parent = emulator.user(3002, language_code="en")
    stranger = emulator.user(3003, language_code="ru")
    await register(emulator, parent)
    group = emulator.group(-100500, title="Parents of the Northern district")
    sent_to_group_before = len(group.bot_messages)

    first = parent.send("typo")
    for i in range(5):
        parent.edit(first["message_id"], f"edited {i}")
        parent.click_data(f"garbage-{i}")
        parent.click_data("menu:nowhere")
        parent.click_data("lang:xx:")
        parent.click_data("district:mars:0")
        group.send(parent, f"hello everyone {i}")
        group.send(stranger, "🙂")
        stranger.send_sticker()
        stranger.send(f"/weird{i}")
    await emulator.settle(timeout=20)

    assert len(group.bot_messages) == sent_to_group_before  # group chatter gets no answer
    assert [answer.text for answer in parent.callback_answers].count(EN("fallback.button_outdated")) >= 15
    assert all(message.text == TEXTS["ru"]("fallback.not_registered") for message in stranger.bot_messages)
    assert len(stranger.bot_messages) == 10

    group.send(parent, "/start@vmeste_test_bot")
    await emulator.settle()
    assert group.bot_messages[-1].text == EN("fallback.group", link="https://t.me/vmeste_test_bot")

    await step(emulator, lambda: stranger.send("/start"))
    assert stranger.last.text == TEXTS["ru"]("language.prompt")
    await step(emulator, lambda: parent.send("/menu"))
    assert parent.last.text.startswith("Main menu")


async def test_a_replayed_update_is_handled_once(emulator, running_bot):
    parent = emulator.user(3004, language_code="en")
    await step(emulator, lambda: parent.send("/start"))
    await step(emulator, lambda: parent.click("English"))
    await step(emulator, lambda: parent.click(EN("consent.accept")))
    async with running_bot.session() as session:
        last_update = await session.scalar(select(ProcessedUpdate).order_by(ProcessedUpdate.update_id.desc()))
    replay = emulator.updates[-1]  # the accept press, as Telegram would re-send it after a crash
    assert replay["update_id"] == last_update.update_id
    messages_before = len(parent.bot_messages)
    await running_bot.app.dispatcher.feed_raw_update(running_bot.bot, replay, channel=TELEGRAM)
    assert len(parent.bot_messages) == messages_before
    async with running_bot.session() as session:
        assert await count(session, Person) == 1


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
