"""One user flooding the bot does not slow anyone else: past the limit their updates are dropped
before they cost database work, with one polite notice; a throttled reply is one line in the log."""

from __future__ import annotations

import logging
import time

from bot.config import Settings
from bot.db.models import ProcessedUpdate
from bot.throttling import MemoryFloodLimiter, Verdict
from handlers.ui import MenuAction
from tests.conftest import RunningBot, make_settings
from tests.helpers import TEXTS, count, register, step
from tests.test_run import wait_for

EN = TEXTS["en"]
PLATFORM_RATE = {"telegram": 30, "vk": 20}  # with Telegram's 1 message/s per private chat
DEFAULT_LIMIT = {name.upper(): str(Settings.model_fields[name].default) for name in ("flood_messages", "flood_seconds")}


async def test_a_flooding_user_does_not_slow_the_others(emulator, database_url, caplog):
    caplog.set_level(logging.INFO)
    async with RunningBot(make_settings(emulator, database_url, **DEFAULT_LIMIT), vk_api_spacing=True) as running:
        flooder, other = emulator.user(7001, language_code="en"), emulator.user(7002, language_code="en")
        await register(emulator, flooder)
        emulator.limit_rate(PLATFORM_RATE[emulator.platform])
        sends_before = len(emulator.sends())
        for number in range(300):
            flooder.send(f"flood {number}")
        await wait_for(lambda: len(emulator.sends()) > sends_before)  # the bot is in the middle of the flood

        sent = time.monotonic()
        other.send("/start")
        await wait_for(lambda: other.bot_messages, timeout=30)
        delay = time.monotonic() - sent
        assert delay < 1.0, f"the other user waited {delay:.2f} s"

        for _ in range(20):  # and mashes a button
            emulator.press(flooder, MenuAction(action="home").pack())
        notice = EN("flood.notice")
        await wait_for(lambda: any(message.text == notice for message in flooder.bot_messages), timeout=10)
        await emulator.settle()
        async with running.session() as session:
            processed = await count(session, ProcessedUpdate)

    assert other.last.text == TEXTS[emulator.expected_language("en")]("language.prompt")
    assert [message.text for message in flooder.bot_messages].count(notice) == 1
    assert not any(press.answered for press in flooder.callback_answers[-20:])  # past the limit: dropped
    limit = running.settings.flood_messages
    assert processed <= limit + 2  # the window's updates, the notice and the other user's /start: the rest cost nothing
    assert "Traceback" not in caplog.text


async def test_button_mashing_gets_one_pop_up(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url, FLOOD_MESSAGES="3", FLOOD_SECONDS="60"), vk_api_spacing=True):
        parent = emulator.user(7003, language_code="en")
        await step(emulator, lambda: parent.send("/start"))  # one of the three
        for _ in range(10):
            emulator.press(parent, MenuAction(action="home").pack())
        await emulator.settle()
        await wait_for(lambda: sum(press.answered for press in parent.callback_answers) == 3)

    answers = [press.text for press in parent.callback_answers if press.answered]
    assert answers[2] == EN("flood.notice")
    assert EN("flood.notice") not in answers[:2]
    assert len(parent.bot_messages) == 1


async def test_a_throttled_reply_is_logged_once_without_a_traceback(emulator, running_bot, caplog):
    caplog.set_level(logging.INFO)
    parent = emulator.user(7004, language_code="en")
    emulator.fail_sends("rate")
    await step(emulator, lambda: parent.send("/start"))
    assert parent.bot_messages == []  # no apology: it would be throttled too
    throttled = [record for record in caplog.records if "throttled" in record.getMessage()]
    assert len(throttled) == 1 and throttled[0].exc_info is None
    assert "Traceback" not in caplog.text
    await step(emulator, lambda: parent.send("/start"))
    assert parent.last.text == TEXTS[emulator.expected_language("en")]("language.prompt")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_limiter_window_moves_expires_and_stays_bounded():
    clock = FakeClock()
    limiter = MemoryFloodLimiter(limit=3, period=10, clock=clock, max_keys=100)
    verdicts = [await limiter.hit("telegram:1") for _ in range(6)]
    assert verdicts == [Verdict.PASS] * 3 + [Verdict.NOTICE] + [Verdict.DROP] * 2
    assert await limiter.hit("vk:1") is Verdict.PASS  # keyed by platform and user

    clock.now += 5
    assert await limiter.hit("telegram:1") is Verdict.DROP  # the window moves, it does not restart
    clock.now += 5
    assert [await limiter.hit("telegram:1") for _ in range(5)] == [Verdict.PASS] * 3 + [Verdict.NOTICE, Verdict.DROP]

    clock.now += 10  # both keys quiet for a whole period: forgotten on the next hit
    assert await limiter.hit("telegram:2") is Verdict.PASS
    assert len(limiter) == 1

    for user in range(1000):  # many users at once: the longest quiet are forgotten first
        await limiter.hit(f"telegram:{user}")
    assert len(limiter) == 100
    assert await limiter.hit("telegram:999") is Verdict.PASS
