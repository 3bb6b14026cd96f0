"""Specialists' office hours in a parent chat, on Telegram and on VK: a coordinator schedules one
(chat, specialty, the specialist by name, the time); the chat gets the announcement the day before
and the reminder an hour before, on the clock and across a restart; a cancellation tells the chat
if it had been told; a weekly one moves on by a week; only those who send broadcasts may do it."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.db.models import Account, Campaign, CampaignStatus, OfficeHour, Person, Role
from bot.services import office_hours
from handlers.chats.office_hours import Office, OfficeStep
from scheduler.chats import roll_office_hours
from tests.conftest import RunningBot, make_settings
from tests.helpers import TEXTS, register, step
from tests.test_chats import TITLE, content_with_chat, group_of
from tests.test_delivery import finished

pytestmark = pytest.mark.both_databases

T = TEXTS["en"]
COORDINATOR, SPECIALIST, PARENT = 7701, 7702, 7703
WHO = "Psychologist · Anna Petrova"


async def add_staff(running: RunningBot, platform: str) -> None:
    async with running.sessionmaker() as session:
        session.add(Person(language="en", roles=[Role(role="coordinator")], accounts=[Account(platform=platform, external_id=COORDINATOR)]))
        session.add(Person(language="en", display_name="Anna Petrova", roles=[Role(role="specialist", specialty="psychologist")],
                           accounts=[Account(platform=platform, external_id=SPECIALIST)]))
        await session.commit()


def plain(text: str) -> str:
    return text.replace("<b>", "").replace("</b>", "")


def bot_texts(group) -> list[str]:
    return [message.text for message in group.messages if message.from_bot]


async def told(emulator, group, text: str, timeout: float = 15) -> None:  # noqa: ASYNC109 - a poll whose failure names the text
    """Until the delivery engine has put `text` in the group."""
    deadline = time.monotonic() + timeout
    while plain(text) not in bot_texts(group):
        assert time.monotonic() < deadline, f"not in the chat: {text!r}; there: {bot_texts(group)}"
        await asyncio.sleep(0.05)
        await emulator.settle()


async def schedule(emulator, coordinator, starts_at: datetime, *, weekly: bool = False, host: str = "Anna Petrova", who: str = WHO) -> None:
    await step(emulator, lambda: coordinator.send("/officehours"))
    assert T("office.none") in coordinator.last.text
    await step(emulator, lambda: coordinator.click(T("office.new")))
    await step(emulator, lambda: coordinator.click(TITLE))
    await step(emulator, lambda: coordinator.click("Psychologist"))
    assert coordinator.last.text == T("office.pick_host")
    await step(emulator, lambda: coordinator.click(host))
    await step(emulator, lambda: coordinator.send("yesterday"))
    assert coordinator.last.text == T("office.time_invalid")
    await step(emulator, lambda: coordinator.send(starts_at.strftime("%Y-%m-%d %H:%M")))
    assert plain(T("office.announcement", who=who, when=T.date_time(starts_at), time=T.time(starts_at))) in coordinator.last.text
    await step(emulator, lambda: coordinator.click(T("office.weekly" if weekly else "office.once")))
    assert coordinator.last.text == T("office.scheduled", when=T.date_time(starts_at), chat=TITLE)


def next_evening(now: datetime, days: int) -> datetime:
    return (now + timedelta(days=days)).replace(hour=18, minute=0, second=0, microsecond=0)


async def test_the_chat_is_told_the_day_before_and_reminded_an_hour_before_across_a_restart(emulator, database_url, tmp_path):
    group, chat_id = group_of(emulator)
    settings = make_settings(emulator, database_url, CONTENT_DIR=str(content_with_chat(tmp_path, emulator.platform, chat_id)))
    async with RunningBot(settings) as running:
        await add_staff(running, emulator.platform)
        coordinator, specialist = emulator.user(COORDINATOR, language_code="en"), emulator.user(SPECIALIST, language_code="en")
        starts_at = next_evening(running.clock.now(), 3)
        await schedule(emulator, coordinator, starts_at)
        assert specialist.last.text == plain(T("office.host_scheduled", chat=TITLE, when=T.date_time(starts_at)))
        await step(emulator, lambda: coordinator.click(T("menu.back")))
        assert T("office.line", when=T.date_time(starts_at), who=WHO, chat=TITLE) in coordinator.last.text

        running.clock.advance(starts_at - timedelta(days=1, minutes=1) - running.clock.now())
        await asyncio.sleep(1.2)  # the engine looks at due campaigns twice a second
        await emulator.settle()
        assert bot_texts(group) == []  # not a minute early
        running.clock.advance(timedelta(minutes=2))
        await told(emulator, group, T("office.announcement", who=WHO, when=T.date_time(starts_at), time=T.time(starts_at)))
    async with RunningBot(settings) as running:  # restarted: the reminder is a row, not a timer
        running.clock.advance(starts_at - timedelta(minutes=59) - running.clock.now())
        await told(emulator, group, T("office.reminder", who=WHO, time=T.time(starts_at)))
        assert len(bot_texts(group)) == 2  # each once
        async with running.session() as session:
            notices = (await session.scalars(select(Campaign.id).where(Campaign.kind == "chat_notice"))).all()
        assert [(await finished(running, campaign_id)).status for campaign_id in notices] == [CampaignStatus.done] * 2


async def test_a_cancelled_office_hour_is_called_off_in_the_chat_and_not_reminded(emulator, database_url, tmp_path):
    group, chat_id = group_of(emulator)
    settings = make_settings(emulator, database_url, CONTENT_DIR=str(content_with_chat(tmp_path, emulator.platform, chat_id)))
    async with RunningBot(settings) as running:
        await add_staff(running, emulator.platform)
        coordinator, specialist = emulator.user(COORDINATOR, language_code="en"), emulator.user(SPECIALIST, language_code="en")
        starts_at = (running.clock.now() + timedelta(hours=3)).replace(second=0, microsecond=0)
        await schedule(emulator, coordinator, starts_at)
        announcement = T("office.announcement", who=WHO, when=T.date_time(starts_at), time=T.time(starts_at))
        await told(emulator, group, announcement)  # less than a day ahead: at once

        async with running.session() as session:
            hour = await session.scalar(select(OfficeHour))
            hosting, by = await office_hours.hosting_of(session, hour, running.app.content), await session.get(Person, hour.created_by)
            again = await office_hours.schedule(session, hosting, starts_at, False, by, T, running.clock.now())  # a double tap's second press
            assert again.id == hour.id and await session.scalar(select(func.count()).select_from(OfficeHour)) == 1
        await step(emulator, lambda: coordinator.send("/officehours"))
        await step(emulator, lambda: coordinator.click(T("office.cancel_button", when=T.date_time(starts_at))))
        await step(emulator, lambda: coordinator.click(T("office.cancel_yes")))
        assert coordinator.last.text == T("office.cancelled_told")
        await told(emulator, group, T("office.cancelled_notice", when=T.date_time(starts_at), who=WHO))
        assert specialist.last.text == T("office.host_cancelled", chat=TITLE, when=T.date_time(starts_at))
        await step(emulator, lambda: emulator.press(coordinator, Office(step=OfficeStep.cancel_yes, id=hour.id).pack()))  # a double tap
        assert coordinator.callback_answers[-1].text == T("fallback.button_outdated")

        running.clock.advance(timedelta(hours=2, minutes=30))  # past the reminder's time
        await asyncio.sleep(1.2)
        await emulator.settle()
        assert len(bot_texts(group)) == 2  # the announcement and the call-off; no reminder
        await step(emulator, lambda: coordinator.send("/officehours"))
        assert T("office.none") in coordinator.last.text


async def test_a_weekly_office_hour_moves_on_by_a_week_once(emulator, database_url, tmp_path):
    group, chat_id = group_of(emulator)
    settings = make_settings(emulator, database_url, CONTENT_DIR=str(content_with_chat(tmp_path, emulator.platform, chat_id)))
    async with RunningBot(settings) as running:
        await add_staff(running, emulator.platform)
        coordinator = emulator.user(COORDINATOR, language_code="en")
        starts_at = next_evening(running.clock.now(), 2)
        await schedule(emulator, coordinator, starts_at, weekly=True, host=T("office.nobody_named"), who="Psychologist")
        app = running.app
        assert await roll_office_hours(app.sessionmaker, app.content, settings, running.clock) == 0  # not begun

        running.clock.advance(starts_at + timedelta(minutes=5) - running.clock.now())
        assert await roll_office_hours(app.sessionmaker, app.content, settings, running.clock) == 1
        assert await roll_office_hours(app.sessionmaker, app.content, settings, running.clock) == 0  # once: a second tick moves nothing
        next_week = starts_at + timedelta(days=7)
        async with running.session() as session:
            hour = await session.scalar(select(OfficeHour))
            assert hour.starts_at.replace(tzinfo=None) == next_week.replace(tzinfo=None) and hour.cancelled_at is None
            assert await session.scalar(select(func.count()).select_from(Campaign).where(Campaign.kind == "chat_notice")) == 4
        running.clock.advance(next_week - timedelta(hours=23) - running.clock.now())
        await told(emulator, group, T("office.announcement", who="Psychologist", when=T.date_time(next_week), time=T.time(next_week)))


async def test_only_coordinators_schedule_and_no_chat_is_said_plainly(emulator, running_bot):
    parent = emulator.user(PARENT, language_code="en")
    await register(emulator, parent)
    await step(emulator, lambda: emulator.press(parent, Office(step=OfficeStep.new).pack()))  # forged: not theirs to press
    assert parent.callback_answers[-1].text != T("office.pick_chat")
    assert T("office.pick_chat") not in [message.text for message in parent.bot_messages]
    await add_staff(running_bot, emulator.platform)
    coordinator = emulator.user(COORDINATOR, language_code="en")
    await step(emulator, lambda: coordinator.send("/broadcasts"))
    await step(emulator, lambda: coordinator.click(T("menu.office_hours")))
    await step(emulator, lambda: coordinator.click(T("office.new")))
    assert coordinator.last.text == T("office.no_chats")  # the project's own catalog: no chat connected yet
