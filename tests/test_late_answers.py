"""A button press the bot handles after the messenger's window for answering it (a restart, a
backlog): the messenger refuses the answer, and the press still does what it says and shows it
(bot.platforms.late_answers), on Telegram and on VK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.clock import ShiftedClock
from bot.db.models import Ticket
from bot.platforms.vk_format import plain_text
from tests.conftest import RunningBot, make_settings
from tests.helpers import CONTENT, TEXTS, button_texts, register, step

T = TEXTS["en"]
MONDAY_MORNING = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
SPEECH = CONTENT.specialty("speech").label("en")
ANSWER_METHODS = ("answerCallbackQuery", "messages.sendMessageEventAnswer")


@pytest.fixture
async def centre(emulator, database_url) -> AsyncIterator[RunningBot]:
    clock = ShiftedClock(MONDAY_MORNING - datetime.now(UTC))
    async with RunningBot(make_settings(emulator, database_url), clock=clock) as running:
        yield running


async def test_a_question_sent_with_an_expired_press_is_sent_and_shown(emulator, centre):
    parent = emulator.user(5001, first_name="Maria", language_code="en")
    await register(emulator, parent)
    await step(emulator, lambda: parent.click(T("menu.ask")))
    await step(emulator, lambda: parent.click(SPEECH))
    await step(emulator, lambda: parent.send("How can we help his speech at home?"))
    if T("ask.still") in button_texts(parent.last):
        await step(emulator, lambda: parent.click(T("ask.still")))

    def send_then_expire() -> None:  # the bot gets the press only after the messenger stopped taking its answer
        parent.click(T("ask.send"))
        emulator.expire_button_presses()

    await step(emulator, send_then_expire)

    assert parent.last.text.startswith(plain_text(T("ask.sent", id=1, specialty=SPEECH, position=1), "HTML"))
    async with centre.session() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1
    refused = [call for call in emulator.rejected if call[0] in ANSWER_METHODS]
    assert len(refused) == 1  # the answer was tried, and refused as too late
    emulator.rejected.remove(refused[0])  # expected here; the fixture refuses any other rejected call
