"""Themed parent chats, on Telegram and on VK: a registered parent finds a chat by theme and is let
in (Telegram: their join request is approved; VK: only registered parents get the link); someone
not registered is held with a private explanation and let in once they register; joins and leaves
are counted, and nothing anyone writes in the chat is kept."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db.models import Account, Event, HeldJoinRequest, Person, Role
from bot.services.events import EventKind
from bot.services.linking import create_link_code
from tests.conftest import RunningBot, make_settings
from tests.helpers import TEXTS, button_texts, register, step
from tests.messengers import TelegramMessenger

pytestmark = pytest.mark.both_databases

T = TEXTS["en"]
TITLE = "Speech at home, 4–7"


def content_with_chat(folder: Path, platform: str, chat_id: int, moderators: tuple[int, ...] = ()) -> Path:
    """The project's content with one chat made on `platform`: the group the test's emulator has,
    moderated by these accounts of the same messenger."""
    listed = ", ".join(f'"{platform}:{account}"' for account in moderators)
    target = folder / "content"
    shutil.copytree(PROJECT_ROOT / "content", target)
    catalog = target / "chats" / "catalog.toml"
    catalog.write_text(
        catalog.read_text(encoding="utf-8")
        + f"""
[[chat]]
id = "speech-home"
platform = "{platform}"
chat_id = {chat_id}
age_groups = ["4-7"]
moderators = [{listed}]

[chat.title]
ru = "Речь дома, 4–7"
ro = "Vorbirea acasă, 4–7"
en = "{TITLE}"

[chat.description]
ru = "Родители делятся играми для развития речи."
ro = "Părinții împărtășesc jocuri pentru vorbire."
en = "Parents share games that help speech."

[chat.rules]
ru = "1. Будьте добры.\\n2. Чтобы сообщить модераторам о сообщении, ответьте на него командой /report."
ro = "1. Fiți blânzi.\\n2. Răspundeți la un mesaj cu /report pentru a-l semnala moderatorilor."
en = "1. Be kind.\\n2. Reply to a message with /report to tell the moderators."
""",
        encoding="utf-8",
    )
    return target


@contextlib.asynccontextmanager
async def telegram_chat_bot(database_url: str, tmp_path: Path, prepare=None) -> AsyncIterator[tuple[TelegramMessenger, Any, RunningBot]]:
    """For what only Telegram has (join requests, rights right by right, reaction counts): its
    emulator with the test chat's group (`prepare(group)` before the bot starts) and a bot serving it."""
    telegram = TelegramMessenger()
    await telegram.start()
    try:
        group, chat_id = group_of(telegram)
        if prepare is not None:
            prepare(group)
        settings = make_settings(telegram, database_url, CONTENT_DIR=str(content_with_chat(tmp_path, "telegram", chat_id)))
        async with RunningBot(settings) as running:
            yield telegram, group, running
    finally:
        await telegram.stop()


def group_of(emulator):
    group = emulator.group("Speech at home")
    return group, getattr(group, "peer_id", None) or group.id


async def chat_events(running: RunningBot) -> list[tuple[str, str | None]]:
    async with running.session() as session:
        rows = await session.execute(select(Event.kind, Event.pseudonym).where(Event.object_type == "chat").order_by(Event.id))
        return [(kind, pseudonym) for kind, pseudonym in rows]


async def the_link(emulator, parent) -> str:
    """What a registered parent gets from the catalog: the chat's link."""
    await step(emulator, lambda: parent.send("/chats"))
    assert parent.last.text.startswith(T("chats.title").split("\n")[0].replace("<b>", "").replace("</b>", ""))
    assert button_texts(parent.last)[0] == TITLE  # for their child's age: first
    await step(emulator, lambda: parent.click(TITLE))
    return next(url for row in parent.last.buttons for text, url in row if text == T("chats.join"))


def join(emulator, user, group, link: str) -> None:
    if emulator.platform == "vk":
        user.join_by_link(link)
    else:
        user.request_join(group, link)


def is_member(emulator, group, user) -> bool:
    return user.id in group.members


async def test_a_registered_parent_finds_a_chat_by_theme_and_is_let_in(emulator, database_url, tmp_path):
    group, chat_id = group_of(emulator)
    settings = make_settings(emulator, database_url, CONTENT_DIR=str(content_with_chat(tmp_path, emulator.platform, chat_id)))
    async with RunningBot(settings) as running:
        parent = emulator.user(5401, language_code="en")
        await register(emulator, parent, age="4-7")
        link = await the_link(emulator, parent)
        hint = T("chats.join_hint_link" if emulator.platform == "vk" else "chats.join_hint_requests")
        assert parent.last.text.endswith(hint)
        await step(emulator, lambda: join(emulator, parent, group, link))
        assert is_member(emulator, group, parent)
        group.send(parent, "Hello everyone, my son is five") if hasattr(group, "send") else None
        await emulator.settle()
        events = await chat_events(running)
        assert [kind for kind, _ in events] == [EventKind.chat_joined] and events[0][1] is not None  # by the parent's pseudonym
        async with running.session() as session:
            assert await session.scalar(select(Event).where(Event.object_id.like("%five%"))) is None  # nobody's words are kept

        parent.leave(group)
        await emulator.settle()
        assert [kind for kind, _ in await chat_events(running)] == [EventKind.chat_joined, EventKind.chat_left]


async def test_someone_not_registered_is_held_with_an_explanation_and_let_in_after_registering(database_url, tmp_path):
    async with telegram_chat_bot(database_url, tmp_path) as (telegram, group, running):  # join requests are Telegram's
        parent = telegram.user(5411, language_code="en")
        await register(telegram, parent, age="4-7")
        link = await the_link(telegram, parent)
        stranger = telegram.user(5412, first_name="Ira", language_code="en")  # was given the link by a friend
        await step(telegram, lambda: stranger.request_join(group, link))
        assert not is_member(telegram, group, stranger)
        assert stranger.last.text.startswith(T("chats.register_first", chat=TITLE, link="https://t.me/").split("https://")[0])
        async with running.session() as session:
            assert len((await session.scalars(select(HeldJoinRequest))).all()) == 1
        await register(telegram, stranger, age=None)
        assert is_member(telegram, group, stranger)
        assert any(message.text == T("chats.let_in", chats=TITLE) for message in stranger.bot_messages)
        async with running.session() as session:
            assert (await session.scalars(select(HeldJoinRequest))).all() == []
        assert [kind for kind, _ in await chat_events(running)] == [EventKind.chat_request_held, EventKind.chat_joined]


async def test_a_request_held_is_let_in_once_the_account_is_linked_to_a_registered_parent(database_url, tmp_path):
    async with telegram_chat_bot(database_url, tmp_path) as (telegram, group, running):
        async with running.session() as session:  # a parent registered on VK, now on Telegram too
            parent = Person(language="en", child_age_group="4-7", roles=[Role(role="parent")], accounts=[Account(platform="vk", external_id=5431)])
            session.add(parent)
            await session.flush()
            code = (await create_link_code(session, parent, "vk", now=running.clock.now())).code
            await session.commit()
        newcomer = telegram.user(5432, language_code="en")
        link = (await running.app.bots.telegram.create_chat_invite_link(group.id, creates_join_request=True)).invite_link
        await step(telegram, lambda: newcomer.request_join(group, link))
        assert not is_member(telegram, group, newcomer)
        await step(telegram, lambda: newcomer.send(f"/link {code}"))
        assert is_member(telegram, group, newcomer)
        assert newcomer.last.text == T("chats.let_in", chats=TITLE)


async def test_a_chat_the_bot_cannot_invite_to_says_so(emulator, database_url, tmp_path):
    if emulator.platform == "vk":
        group = emulator.emulator.group(2, title="No rights", bot_admin=False)
        chat_id = group.peer_id
    else:
        group = emulator.emulator.group(-1001234599, title="No rights")
        group.bot_admin, chat_id = False, group.id
    settings = make_settings(emulator, database_url, CONTENT_DIR=str(content_with_chat(tmp_path, emulator.platform, chat_id)))
    async with RunningBot(settings):
        parent = emulator.user(5421, language_code="en")
        await register(emulator, parent, age="4-7")
        await step(emulator, lambda: parent.send("/chats"))
        await step(emulator, lambda: parent.click(TITLE))
        assert parent.last.text.endswith(T("chats.unavailable"))
        assert T("chats.join") not in button_texts(parent.last)
    # the messenger's refusal is what this test is about, not a malformed call
    emulator.rejected[:] = [call for call in emulator.rejected if call[0] != "createChatInviteLink"]
