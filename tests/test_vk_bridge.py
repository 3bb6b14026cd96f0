"""The VK bridge's translations: events in, Bot API calls out, and loud failure where VK has no equivalent."""

from __future__ import annotations

import json

import pytest
from aiogram import Bot
from aiogram.methods import SendPoll
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.platforms.vk import build_api
from bot.platforms.vk_events import to_update, update_id
from bot.platforms.vk_format import plain_text, vk_keyboard
from bot.platforms.vk_session import UnmappedMethod, VkSession

GROUP = 218000000


@pytest.fixture
async def vk_bot():
    bot = Bot(f"{GROUP}:vk-bridge", session=VkSession(build_api("token", "http://127.0.0.1:9"), GROUP))
    yield bot
    await bot.session.close()


def test_html_degrades_to_plain_text():
    assert plain_text("<b>Main menu</b>\nYour role: a &lt;b&gt; &amp; c", "HTML") == "Main menu\nYour role: a <b> & c"
    assert plain_text("<b>as typed</b>", None) == "<b>as typed</b>"


def test_inline_keyboards_become_vk_callback_keyboards():
    markup = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text="x" * 45, callback_data="menu:home")],
        [InlineKeyboardButton(text="Site", url="https://example.org")],
    ])
    keyboard = json.loads(vk_keyboard(markup))
    first, second = keyboard["buttons"][0][0]["action"], keyboard["buttons"][1][0]["action"]
    assert keyboard["inline"] is True
    assert first == {"type": "callback", "label": "x" * 39 + "…", "payload": '{"cb":"menu:home"}'}
    assert second == {"type": "open_link", "label": "Site", "link": "https://example.org"}
    too_many = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=str(n), callback_data=str(n))] for n in range(11)])
    with pytest.raises(ValueError, match="at most 10 buttons"):
        vk_keyboard(too_many)


async def test_a_method_vk_cannot_do_fails_naming_it(vk_bot):
    with pytest.raises(UnmappedMethod, match="sendPoll"):
        await vk_bot(SendPoll(chat_id=1, question="?", options=[{"text": "a"}, {"text": "b"}]))


async def test_events_become_updates_with_stable_ids(vk_bot):
    press = {"type": "message_event", "event_id": "e1", "group_id": GROUP,
             "object": {"user_id": 5, "peer_id": 5, "event_id": "abc", "payload": {"cb": "menu:home"}, "conversation_message_id": 7}}
    update = to_update(press, vk_bot)
    assert (update.callback_query.data, update.callback_query.id, update.callback_query.message.message_id) == ("menu:home", "abc:5:5", 7)
    assert update.update_id == update_id(press) == to_update(dict(press), vk_bot).update_id

    deep_link = {"type": "message_new", "event_id": "e2", "group_id": GROUP,
                 "object": {"message": {"date": 1, "from_id": 5, "peer_id": 5, "text": "Start", "conversation_message_id": 8,
                                        "ref": "CODE123", "payload": '{"command":"start"}', "attachments": []}}}
    assert to_update(deep_link, vk_bot).message.text == "/start CODE123"

    joined = {"type": "message_new", "event_id": "e3", "group_id": GROUP,
              "object": {"message": {"date": 1, "from_id": 5, "peer_id": 2000000001, "text": "", "conversation_message_id": 1,
                                     "action": {"type": "chat_invite_user", "member_id": -GROUP}, "attachments": []}}}
    member = to_update(joined, vk_bot).my_chat_member
    assert (member.chat.id, member.chat.type, member.new_chat_member.status) == (2000000001, "group", "member")

    deny = {"type": "message_deny", "event_id": "e4", "group_id": GROUP, "object": {"user_id": 5}}
    assert to_update(deny, vk_bot).my_chat_member.new_chat_member.status == "kicked"
    assert to_update({"type": "wall_post_new", "event_id": "e5", "object": {}}, vk_bot) is None
