"""/report in a parent chat, on Telegram and on VK: the first report brings the message (copied,
never stored) to the chat's moderators with one-tap actions; a moderator removes it (or, on
Telegram, mutes its author for a day); at CHAT_REPORTS_TO_ACT reports from different members the
bot removes it by itself; a press by someone who is not the chat's moderator does nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import ChatReport, Event
from bot.services.chats import REPORTS_A_DAY
from bot.services.events import EventKind
from handlers.chats.moderation import Moderate, ModStep
from tests.conftest import RunningBot, make_settings
from tests.helpers import TEXTS, button_texts, register, step
from tests.test_chats import TITLE, content_with_chat, group_of

pytestmark = pytest.mark.both_databases

T = TEXTS["en"]
MODERATOR = 5601
SPAM = "Cheap miracle pills, write to me"


def post(group, user, text: str, reply_to: int | None = None) -> int:
    """A member's message in the group; its id as the bot sees it."""
    sent = group.send(user, text, reply_to=reply_to)
    return sent.get("message_id") or sent.get("conversation_message_id") or group.messages[-1].message_id


def visible(group, message_id: int) -> bool:
    found = [message for message in group.messages if message.message_id == message_id]
    return bool(found) and not getattr(found[0], "deleted", False)


async def setup(running: RunningBot, emulator, group, members: list[int]):
    moderator = emulator.user(MODERATOR, first_name="Marina", language_code="en")
    await register(emulator, moderator, age=None)
    users = [emulator.user(user_id, language_code="en") for user_id in members]
    for user in users:
        group.join(user) if hasattr(group, "join") else None
    await emulator.settle()
    return moderator, users


async def kinds(running: RunningBot) -> list[str]:
    async with running.session() as session:
        return list(await session.scalars(select(Event.kind).where(Event.object_type == "chat", Event.kind.like("chat_m%")).order_by(Event.id)))


async def test_the_first_report_reaches_the_moderators_and_enough_reports_remove_the_message(emulator, database_url, tmp_path):
    group, chat_id = group_of(emulator)
    content = content_with_chat(tmp_path, emulator.platform, chat_id, moderators=(MODERATOR,))
    async with RunningBot(make_settings(emulator, database_url, CONTENT_DIR=str(content), CHAT_REPORTS_TO_ACT="2")) as running:
        moderator, (author, first, second) = await setup(running, emulator, group, [5611, 5612, 5613])
        spam = post(group, author, SPAM)
        await emulator.settle()

        await step(emulator, lambda: post(group, first, "/report", reply_to=spam))
        notice = moderator.last
        assert notice.text == T("chats.reported", chat=TITLE)
        expected = [T("chats.remove"), T("chats.mute"), T("chats.keep")] if emulator.platform == "telegram" else [T("chats.remove"), T("chats.keep")]
        assert button_texts(notice) == expected  # VK cannot mute a member
        copied = moderator.bot_messages[-2]  # the message itself, just above the notice
        assert SPAM in (copied.text or "") or SPAM in str(getattr(copied, "raw", {}).get("fwd_messages", ""))
        assert visible(group, spam)
        await step(emulator, lambda: post(group, first, "/report", reply_to=spam))  # the same member again: counted once
        assert moderator.last is notice

        await step(emulator, lambda: post(group, second, "/report", reply_to=spam))
        assert not visible(group, spam)  # two members: the bot removed it by itself
        assert moderator.last.text == T("chats.report_removed", chat=TITLE, count=2)
        assert await kinds(running) == [EventKind.chat_message_reported] * 2 + [EventKind.chat_message_removed]
        async with running.session() as session:
            assert (await session.scalars(select(ChatReport))).all() == []  # settled: no one is named any longer
            assert await session.scalar(select(Event).where(Event.object_id.like("%pills%"))) is None


async def test_one_member_cannot_flood_the_moderators_with_reports(emulator, database_url, tmp_path):
    group, chat_id = group_of(emulator)
    content = content_with_chat(tmp_path, emulator.platform, chat_id, moderators=(MODERATOR,))
    async with RunningBot(make_settings(emulator, database_url, CONTENT_DIR=str(content))) as running:
        moderator, (author, reporter) = await setup(running, emulator, group, [5621, 5622])
        messages = [post(group, author, f"Our day, part {number}") for number in range(REPORTS_A_DAY + 2)]
        await emulator.settle()
        for message_id in messages:
            await step(emulator, lambda message_id=message_id: post(group, reporter, "/report", reply_to=message_id))
        notices = [message for message in moderator.bot_messages if message.text == T("chats.reported", chat=TITLE)]
        assert len(notices) == REPORTS_A_DAY  # the rest of the day's reports count nothing
        running.clock.advance(timedelta(days=1, minutes=1))
        await step(emulator, lambda: post(group, reporter, "/report", reply_to=messages[-1]))
        assert moderator.last.text == T("chats.reported", chat=TITLE)  # a new day


async def test_a_moderator_removes_a_reported_message_and_a_stranger_cannot(emulator, database_url, tmp_path):
    group, chat_id = group_of(emulator)
    content = content_with_chat(tmp_path, emulator.platform, chat_id, moderators=(MODERATOR,))
    async with RunningBot(make_settings(emulator, database_url, CONTENT_DIR=str(content))) as running:
        moderator, (author, reporter) = await setup(running, emulator, group, [5621, 5622])
        spam = post(group, author, SPAM)
        await step(emulator, lambda: post(group, reporter, "/report", reply_to=spam))
        notice = moderator.last

        forged = Moderate(step=ModStep.remove, chat="speech-home", message=spam, author=author.id).pack()
        await register(emulator, reporter, age=None)
        await step(emulator, lambda: emulator.press(reporter, forged))  # not a moderator of this chat
        assert reporter.callback_answers[-1].text == T("fallback.button_outdated")
        assert visible(group, spam)

        await step(emulator, lambda: moderator.click(T("chats.remove"), notice))
        assert moderator.last.text == T("chats.removed", chat=TITLE)
        assert not visible(group, spam)
        assert await kinds(running) == [EventKind.chat_message_reported, EventKind.chat_message_removed]


async def test_a_reply_is_needed_to_report(emulator, database_url, tmp_path):
    group, chat_id = group_of(emulator)
    content = content_with_chat(tmp_path, emulator.platform, chat_id, moderators=(MODERATOR,))
    async with RunningBot(make_settings(emulator, database_url, CONTENT_DIR=str(content))):
        _moderator, (member,) = await setup(None, emulator, group, [5631])
        await step(emulator, lambda: post(group, member, "/report"))
        assert [message.text for message in group.messages if message.from_bot][-1] == T("chats.report_how")


async def joined_parent(running: RunningBot, emulator, group, user_id: int):
    from tests.test_chats import join, the_link

    parent = emulator.user(user_id, first_name="Nina", language_code="en")
    await register(emulator, parent, age="4-7")
    link = await the_link(emulator, parent)
    await step(emulator, lambda: join(emulator, parent, group, link))
    return parent


def forward(emulator, group, user, text: str):
    if emulator.platform == "vk":
        return group.send(user, text, forward=[(user, "An appeal from another chat")])
    return group.forward(user, text, from_chat_title="Another chat")


async def test_a_newcomers_link_waits_for_the_moderators_who_publish_it(emulator, database_url, tmp_path):
    group, chat_id = group_of(emulator)
    content = content_with_chat(tmp_path, emulator.platform, chat_id, moderators=(MODERATOR,))
    async with RunningBot(make_settings(emulator, database_url, CONTENT_DIR=str(content))) as running:
        moderator, _ = await setup(running, emulator, group, [])
        newcomer = await joined_parent(running, emulator, group, 5641)
        link_message = post(group, newcomer, "Our fundraiser: https://example.org/fund")
        await emulator.settle()
        assert not visible(group, link_message)  # out of the chat until the moderators decide
        notice = moderator.last
        assert notice.text == T("chats.held", chat=TITLE)
        expected = [T("chats.publish"), T("chats.discard")] + ([T("chats.mute_newcomer")] if emulator.platform == "telegram" else [])
        assert button_texts(notice) == expected
        await step(emulator, lambda: moderator.click(T("chats.publish"), notice))
        assert moderator.last.text == T("chats.published", chat=TITLE)
        said = [message for message in group.messages if message.from_bot and not getattr(message, "deleted", False)]
        assert said[-1].text == T("chats.checked")
        assert "https://example.org/fund" in (said[-2].text or "") or "example.org/fund" in str(getattr(said[-2], "raw", {}))

        forward(emulator, group, newcomer, "Please share")
        await emulator.settle()
        assert moderator.last.text == T("chats.held", chat=TITLE)
        await step(emulator, lambda: moderator.click(T("chats.discard"), moderator.last))
        assert moderator.last.text == T("chats.discarded", chat=TITLE)
        assert await kinds(running) == [EventKind.chat_message_held, EventKind.chat_message_published, EventKind.chat_message_held]

        running.clock.advance(timedelta(hours=25))  # not new any more
        plain = post(group, newcomer, "The programme is at https://example.org/rights")
        await emulator.settle()
        assert visible(group, plain)


def pinned(emulator, group):
    if emulator.platform == "vk":
        return group.pinned.conversation_message_id if group.pinned else None
    return group.pinned_message_id


async def test_the_centres_staff_pin_an_announcement_and_a_member_cannot(emulator, database_url, tmp_path):
    from tests.conftest import ADMIN_ID

    group, chat_id = group_of(emulator)
    content = content_with_chat(tmp_path, emulator.platform, chat_id)
    async with RunningBot(make_settings(emulator, database_url, CONTENT_DIR=str(content))) as running:
        admin = emulator.user(ADMIN_ID, first_name="Anna", language_code="en")
        await register(emulator, admin)
        _moderator, (member,) = await setup(running, emulator, group, [5651])
        group.join(admin) if hasattr(group, "join") else None
        announcement = post(group, admin, "The open day is on Saturday at 11:00")
        await emulator.settle()
        await step(emulator, lambda: post(group, member, "/pin", reply_to=announcement))
        assert [message.text for message in group.messages if message.from_bot][-1] == T("chats.pin_who")
        assert pinned(emulator, group) is None
        await step(emulator, lambda: post(group, admin, "/pin", reply_to=announcement))
        assert pinned(emulator, group) == announcement
