"""Life in a parent chat, on Telegram and on VK: a newcomer is welcomed with the chat's rules and the
welcome goes after a while (also across a restart: its time is a row), /rules shows them, and the
chat's day is counted (messages, joins, leaves) without a word of what anyone wrote being kept."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from bot.db.models import Account, Base, ChatActivity, ChatCleanup, Person, Role
from scheduler.chats import check_rights, tidy_chats
from tests.conftest import RunningBot, make_settings
from tests.helpers import TEXTS, register, step
from tests.test_chats import content_with_chat, group_of, join, telegram_chat_bot, the_link

pytestmark = pytest.mark.both_databases

T = TEXTS["en"]
WORDS = "Our son said his first word today, mama"


async def tidy(running: RunningBot) -> int:
    app = running.app
    return await tidy_chats(app.sessionmaker, app.bots.by_platform(), app.dispatcher["chat_activity"], app.clock)


def bot_texts(group) -> list[str]:
    return [message.text for message in group.messages if message.from_bot and not getattr(message, "deleted", False)]


async def test_a_newcomer_is_welcomed_with_the_rules_and_the_welcome_goes_after_a_while(emulator, database_url, tmp_path):
    group, chat_id = group_of(emulator)
    settings = make_settings(emulator, database_url, CONTENT_DIR=str(content_with_chat(tmp_path, emulator.platform, chat_id)))
    async with RunningBot(settings) as running:
        parent = emulator.user(5501, first_name="Olga", language_code="en")
        await register(emulator, parent, age="4-7")
        link = await the_link(emulator, parent)
        await step(emulator, lambda: join(emulator, parent, group, link))
        rules = running.app.content.chats[-1].rules["en"]
        welcome = T("chats.welcome", name="Olga", rules=rules) if emulator.platform == "telegram" else T("chats.welcome_all", rules=rules)
        assert welcome in bot_texts(group)

        await step(emulator, lambda: group.send(parent, "/rules"))
        assert T("chats.rules", chat="Speech at home, 4–7", rules=rules).replace("<b>", "").replace("</b>", "") in bot_texts(group)

        for _ in range(3):
            group.send(parent, WORDS)
        await emulator.settle()
        assert await tidy(running) == 0  # the welcome stays for CHAT_WELCOME_MINUTES
        async with running.session() as session:
            day = await session.scalar(select(ChatActivity))
            assert (day.chat, day.messages, day.joins, day.leaves) == ("speech-home", 3, 1, 0)  # members' words; not /rules
    async with RunningBot(settings) as running:  # restarted in between
        running.clock.advance(timedelta(minutes=11))
        assert await tidy(running) == 1
        await emulator.settle()
        assert welcome not in bot_texts(group)
        async with running.session() as session:
            assert (await session.scalars(select(ChatCleanup))).all() == []
            for table in Base.metadata.sorted_tables:  # nobody's words are kept
                for row in (await session.execute(sa.select(table))).all():
                    assert not any(isinstance(value, str) and "first word" in value for value in row), table.name


async def test_reactions_count_as_they_grow_without_anyone_named(database_url, tmp_path):
    async with telegram_chat_bot(database_url, tmp_path) as (telegram, group, running):  # anonymous reaction counts are Telegram's
        member = telegram.user(5511, language_code="en")
        group.join(member)
        posted = group.send(member, "A photo of our drawing")
        await telegram.settle()
        message_id = posted["message_id"]
        await step(telegram, lambda: group.react(message_id, emoji="👍", count=3))
        await step(telegram, lambda: group.react(message_id, emoji="👍", count=5))
        await step(telegram, lambda: group.react(message_id, emoji="❤", count=1))
        await tidy(running)
        async with running.session() as session:
            day = await session.scalar(select(ChatActivity))
            assert (day.messages, day.reactions) == (1, 6)  # 5 👍 and 1 ❤, counted by their growth


async def test_a_coordinator_hears_which_rights_the_bot_lacks_in_a_chat_once(database_url, tmp_path):
    def without_pinning(group) -> None:
        group.bot_rights["can_pin_messages"] = False

    async with telegram_chat_bot(database_url, tmp_path, without_pinning) as (telegram, group, running):  # rights right by right: Telegram's
        async with running.session() as session:
            session.add(Person(language="en", roles=[Role(role="coordinator")], accounts=[Account(platform="telegram", external_id=5521)]))
            await session.commit()
        coordinator = telegram.user(5521, language_code="en")
        app = running.app

        async def check() -> int:
            lacking = await check_rights(app.sessionmaker, app.bots.by_platform(), app.content)
            await telegram.settle()
            return lacking

        for _ in range(250):  # set as the bot starts
            if False in telegram.default_admin_rights:
                break
            await asyncio.sleep(0.02)
        asked = telegram.default_admin_rights[False]  # what Telegram suggests to whoever makes the bot a group's admin
        assert {right for right, wanted in asked.items() if wanted} == {"can_invite_users", "can_delete_messages", "can_restrict_members", "can_pin_messages"}
        assert await check() == 1
        assert coordinator.last.text == T("chats.rights_missing", chat="Speech at home, 4–7", rights=T("chats.right_pin"))
        assert await check() == 1 and len(coordinator.bot_messages) == 1  # told once, not at every check
        group.bot_rights["can_pin_messages"] = True
        assert await check() == 0 and len(coordinator.bot_messages) == 1
