"""The VK API emulator, driven by the real vk_api client (VkApiGroup, VkBotLongPoll,
VkUpload) over HTTP, plus raw HTTP for calls vk_api would never make."""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import vk_api
from aiohttp import web
from vk_api.bot_longpoll import VkBotEventType, VkBotLongPoll
from vk_api.exceptions import ApiError, ApiHttpError
from vk_api.upload import VkUpload

from bot.emulator.vk import VkEmulator
from bot.emulator.vk.keyboards import validate_keyboard
from bot.emulator.vk.spec import load_index, resolve, validate_object
from bot.platforms.vk import build_api

TOKEN = "vk1.a.test-token"
GROUP = 218000000
OLGA = 5001
IVAN = 5002


def vk_session(emu: VkEmulator, token: str = TOKEN) -> vk_api.VkApiGroup:
    """vk_api with the project's own redirect to the emulator, and vk_api's own error-6 retry restored."""
    api = build_api(token, emu.base_url)
    api.error_handlers[6] = api.too_many_rps_handler
    return api


@pytest.fixture
async def emu() -> AsyncIterator[VkEmulator]:
    emulator = VkEmulator(group_id=GROUP, screen_name="vmeste_test", token=TOKEN)
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
def vk(emu: VkEmulator) -> vk_api.VkApiGroup:
    return vk_session(emu)


@pytest.fixture
def olga(emu: VkEmulator):
    return emu.user(OLGA, first_name="Olga", last_name="P.")


async def call(vk: vk_api.VkApiGroup, method: str, **values: Any) -> Any:
    """vk_api is synchronous: run it off the loop the emulator serves from."""
    for key, value in values.items():
        if isinstance(value, (list, tuple)):
            values[key] = ",".join(map(str, value))
    return await asyncio.to_thread(vk.method, method, values)


async def raw_call(emu: VkEmulator, method: str, **params: Any) -> dict[str, Any]:
    data = {"access_token": TOKEN, "v": "5.199"} | {k: str(v) for k, v in params.items()}
    data = {key: value for key, value in data.items() if value != "None"}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{emu.base_url}/method/{method}", data=data) as response:
            assert response.status == 200
            return await response.json()


def keyboard(*rows: list[dict[str, Any]], inline: bool = True) -> str:
    return json.dumps({"inline": inline, "buttons": list(rows)})


def callback(label: str, payload: Any) -> dict[str, Any]:
    return {"action": {"type": "callback", "label": label, "payload": json.dumps(payload)}}


def text_button(label: str, payload: Any = None) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "text", "label": label}
    if payload is not None:
        action["payload"] = json.dumps(payload)
    return {"action": action, "color": "primary"}


async def fetch(url: str) -> bytes:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        return await response.read()


# the API server


async def test_community_and_users(emu, vk, olga):
    group = await call(vk, "groups.getById")
    assert group["groups"][0].items() >= {"id": GROUP, "screen_name": "vmeste_test"}.items()
    assert group["profiles"] == []
    [user] = await call(vk, "users.get", user_ids=[OLGA], fields=["screen_name"])
    assert (user["first_name"], user["last_name"], user["screen_name"]) == ("Olga", "P.", "id5001")
    assert emu.calls[-1] == ("users.get", {"user_ids": [OLGA], "fields": ["screen_name"]})
    assert emu.rejected == []


async def test_tokens_and_method_names_are_checked_like_vk(emu, vk):
    with pytest.raises(ApiError) as raised:
        await call(vk_session(emu, token="vk1.a.wrong"), "groups.getById")
    assert raised.value.code == 5
    assert raised.value.error["error_msg"] == "User authorization failed: invalid access_token (4)."
    body = await raw_call(emu, "groups.getById", access_token="")
    assert body["error"]["error_code"] == 5
    assert {"key": "method", "value": "groups.getById"} in body["error"]["request_params"]

    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.sendTelepathy")
    assert (raised.value.code, raised.value.error["error_msg"]) == (3, "Unknown method passed")
    body = await raw_call(emu, "board.addTopic", title="x")
    assert body["error"]["error_code"] == 3 and "messages" in body["error"]["error_msg"]
    body = await raw_call(emu, "messages.deleteReaction", peer_id=OLGA, cmid=1)
    assert body["error"]["error_code"] == 3
    assert "messages.deleteReaction is known to VK but not emulated" in body["error"]["error_msg"]
    body = await raw_call(emu, "docs.get")  # user token only
    assert body["error"]["error_code"] == 27
    assert [code for _, _, code, _ in emu.rejected] == [5, 5, 3, 3, 3, 27]


INVALID_CALLS = {
    "no random_id": (
        "messages.send", dict(peer_id=OLGA, message="x"),
        "One of the parameters specified was missing or invalid: random_id is a required parameter",
    ),
    "unknown parameter": (
        "messages.send", dict(peer_id=OLGA, random_id=1, message="x", colour="red"),
        "One of the parameters specified was missing or invalid: unknown parameter colour",
    ),
    "a required parameter": (
        "messages.getConversationMembers", dict(),
        "One of the parameters specified was missing or invalid: peer_id is a required parameter",
    ),
    "not an integer": (
        "messages.send", dict(peer_id="olga", random_id=1, message="x"), "peer_id not integer",
    ),
    "boolean as True": (
        "messages.send", dict(peer_id=OLGA, random_id=1, message="x", dont_parse_links=True),
        "dont_parse_links should be 0 or 1",
    ),
    "not in the enum": (
        "messages.send", dict(peer_id=OLGA, random_id=1, message="x", intent="spam"),
        "intent should be one of",
    ),
    "below the minimum": (
        "messages.getConversationMembers", dict(peer_id=2000000001, count=0),
        "count should be at least 1",
    ),
    "two recipients": (
        "messages.send", dict(peer_id=OLGA, user_id=OLGA, random_id=1, message="x"),
        "exactly one of user_id, peer_id, peer_ids, domain, chat_id is required, got user_id, peer_id",
    ),
    "nothing to send": ("messages.send", dict(peer_id=OLGA, random_id=1), "message is empty or invalid"),
    "bad forward JSON": (
        "messages.send", dict(peer_id=OLGA, random_id=1, message="x", forward="{"),
        "forward is not a valid JSON",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", INVALID_CALLS)
async def test_malformed_calls_are_error_100(emu, olga, case):
    method, params, text = INVALID_CALLS[case]
    body = await raw_call(emu, method, **params)
    assert body["error"]["error_code"] == 100 and text in body["error"]["error_msg"]
    assert emu.rejected[-1][0] == method and emu.rejected[-1][2] == 100
    assert olga.bot_messages == []


async def test_the_api_version_is_required(emu):
    body = await raw_call(emu, "groups.getById", v="")
    assert (body["error"]["error_code"], body["error"]["error_msg"]) == (
        8, "Invalid request: v (version) is required",
    )  # fmt: skip


# messages.send and what the user sees


async def test_send_to_one_peer_and_to_many(emu, vk, olga):
    ivan = emu.user(IVAN, first_name="Ivan")
    emu.user(5003, allowed=False)  # never wrote to the community
    message_id = await call(vk, "messages.send", peer_id=OLGA, random_id=11, message="Привет")
    assert isinstance(message_id, int) and message_id > 0
    assert (olga.last.text, olga.last.message_id, olga.last.id) == ("Привет", 1, message_id)
    assert olga.last.raw["from_id"] == -GROUP and olga.last.raw["out"] == 1

    batch = await call(
        vk, "messages.send", peer_ids=[OLGA, IVAN, 5003], random_id=12, message="News"
    )
    assert batch[0] == {"peer_id": OLGA, "message_id": message_id + 1, "conversation_message_id": 2}
    assert batch[1]["peer_id"] == IVAN and batch[1]["conversation_message_id"] == 1
    assert batch[2] == {
        "peer_id": 5003,
        "error": {"code": 901, "description": "Can't send messages for users without permission"},
    }
    assert [m.text for m in olga.bot_messages] == ["Привет", "News"]
    assert ivan.last.text == "News"
    assert emu.rejected == []


async def test_at_most_100_peer_ids(emu, vk):
    peers = [emu.user(6000 + n).id for n in range(101)]
    sent = await call(vk, "messages.send", peer_ids=peers[:100], random_id=1, message="all")
    assert len(sent) == 100 and all("error" not in item for item in sent)
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.send", peer_ids=peers, random_id=2, message="too many")
    assert raised.value.code == 100 and "at most 100 items" in str(raised.value)
    assert emu.user(6100).bot_messages == []


async def test_the_same_random_id_sends_once(emu, vk, olga):
    first = await call(vk, "messages.send", user_id=OLGA, random_id=777, message="once")
    again = await call(vk, "messages.send", peer_id=OLGA, random_id=777, message="once")
    assert first == again and [m.text for m in olga.bot_messages] == ["once"]
    batch = await call(vk, "messages.send", peer_ids=[OLGA], random_id=777, message="once")
    assert batch == [{"peer_id": OLGA, "message_id": first, "conversation_message_id": 1}]
    await call(vk, "messages.send", peer_id=OLGA, random_id=0, message="no check")
    await call(vk, "messages.send", peer_id=OLGA, random_id=0, message="no check")
    assert len(olga.bot_messages) == 3


async def test_message_length(emu, vk, olga):
    await call(vk, "messages.send", peer_id=OLGA, random_id=1, message="я" * 4096)
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.send", peer_id=OLGA, random_id=2, message="я" * 4097)
    assert (raised.value.code, raised.value.error["error_msg"]) == (914, "Message is too long")
    assert len(olga.bot_messages) == 1


INVALID_KEYBOARDS = {
    "label of 41 characters": (keyboard([text_button("x" * 41)]), "label is longer than 40"),
    "11 inline buttons": (
        keyboard(*[[callback(str(n), {"n": n})] for n in range(5)],
                 [callback(str(n), {"n": n}) for n in range(5, 11)]),
        "at most 10 buttons",
    ),
    "7 inline rows": (keyboard(*[[callback(str(n), {})] for n in range(7)]), "at most 6 rows"),
    "6 buttons in a row": (
        keyboard([text_button(str(n)) for n in range(6)], inline=False), "at most 5 fit",
    ),
    "bad JSON": ('{"buttons": [[', "keyboard is not a valid JSON"),
    "payload of 256 characters": (
        keyboard([{"action": {"type": "callback", "label": "a", "payload": json.dumps("x" * 254)}}]),
        "payload is longer than 255",
    ),
    "payload that is not JSON": (
        keyboard([{"action": {"type": "text", "label": "a", "payload": "{oops"}}]),
        "payload is not a valid JSON",
    ),
    "unknown action": (
        keyboard([{"action": {"type": "dance", "label": "a"}}]), "action.type should be one of",
    ),
    "link without URL": (keyboard([{"action": {"type": "open_link", "label": "a"}}]), "link is required"),
    "colored link": (
        keyboard([{"action": {"type": "open_link", "label": "a", "link": "https://vk.ru"},
                   "color": "positive"}]),
        "only text and callback buttons have a color",
    ),
    "no buttons": ('{"one_time": true}', "buttons should be an array"),
}  # fmt: skip


@pytest.mark.parametrize("case", INVALID_KEYBOARDS)
async def test_invalid_keyboards_are_error_911(emu, vk, olga, case):
    markup, text = INVALID_KEYBOARDS[case]
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.send", peer_id=OLGA, random_id=1, message="x", keyboard=markup)
    assert raised.value.code == 911 and text in raised.value.error["error_msg"]
    assert raised.value.error["error_msg"].startswith("Keyboard format is invalid: ")
    assert emu.rejected[-1][2] == 911 and olga.bot_messages == []


def test_valid_keyboards_pass():
    validate_keyboard(keyboard(*[[callback(str(n), {"n": n}) for n in range(5)]] * 2))
    validate_keyboard(json.dumps({"one_time": True, "buttons": [[text_button("x" * 40)]] * 10}))
    validate_keyboard(json.dumps({"buttons": []}))  # hides the keyboard


async def test_keyboards_as_the_user_sees_them(emu, vk, olga):
    reply = json.dumps({"one_time": True, "buttons": [[text_button("Help", {"cmd": "help"})]]})
    await call(vk, "messages.send", peer_id=OLGA, random_id=1, message="Menu", keyboard=reply)
    inline = keyboard(
        [
            callback("Yes", {"a": "yes"}),
            {"action": {"type": "open_link", "label": "Site", "link": "https://vk.ru"}},
        ]
    )
    await call(vk, "messages.send", peer_id=OLGA, random_id=2, message="Sure?", keyboard=inline)
    assert olga.keyboard == [["Help"]] and olga.messages[0].buttons == []
    assert olga.last.buttons == [[("Yes", '{"a": "yes"}'), ("Site", "https://vk.ru")]]
    olga.click("Help")  # a text button: message_new with the payload; one_time hides it
    event = emu.updates[-1]
    assert (event["type"], event["object"]["message"]["payload"]) == ("message_new", '{"cmd": "help"}')
    assert olga.keyboard is None
    with pytest.raises(AssertionError, match="Yes"):
        olga.click("No")
    with pytest.raises(AssertionError, match="open_link"):
        olga.click("Site")


# Bots Long Poll


async def test_long_poll_returns_as_soon_as_an_event_arrives(emu, vk, olga):
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP, wait=5)
    started = time.monotonic()
    poll = asyncio.create_task(asyncio.to_thread(longpoll.check))
    await asyncio.sleep(0.1)
    olga.send("hello", ref="lesson-1", ref_source="site")
    [event] = await poll
    assert time.monotonic() - started < 1.5
    assert event.type == VkBotEventType.MESSAGE_NEW and event.from_user
    assert (event.message.text, event.message.from_id, event.message.peer_id) == ("hello", OLGA, OLGA)
    assert (event.message.ref, event.message.ref_source) == ("lesson-1", "site")
    assert event.client_info.inline_keyboard and "callback" in event.client_info.button_actions
    assert event.raw["group_id"] == GROUP and event.raw["v"] == "5.199"
    validate_object("callback/objects.json#/definitions/callback_message_new", event.raw["object"])


async def test_long_poll_times_out_with_no_events(emu, vk):
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP, wait=1)
    started = time.monotonic()
    assert await asyncio.to_thread(longpoll.check) == []
    assert time.monotonic() - started >= 0.9


async def test_failed_answers_are_handled_by_vk_bot_long_poll(emu, vk, olga):
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP, wait=1)
    olga.send("one")
    good_ts = longpoll.ts
    longpoll.ts = str(int(good_ts) + 100)  # from the future: failed 1 with a fresh ts
    assert await asyncio.to_thread(longpoll.check) == []
    assert longpoll.ts == str(int(good_ts) + 1)
    longpoll.ts = good_ts  # (the emulator keeps history, so the event is still there)
    emu.expire_longpoll_key()  # failed 2: vk_api asks for a new key and keeps its ts
    old_key = longpoll.key
    assert await asyncio.to_thread(longpoll.check) == []
    assert longpoll.key != old_key and longpoll.ts == good_ts
    [event] = await asyncio.to_thread(longpoll.check)
    assert event.message.text == "one"
    emu.fail_next("longpoll", error_code=3)  # information lost: new key and ts
    assert await asyncio.to_thread(longpoll.check) == []
    emu.fail_next("longpoll", http_status=502)
    with pytest.raises(ValueError):  # vk_api does not check the status: its .json() fails
        await asyncio.to_thread(longpoll.check)


async def test_a_bot_that_starts_late_still_gets_unconfirmed_events(emu, vk, olga):
    olga.send("before the bot started")
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP, wait=1)
    [event] = await asyncio.to_thread(longpoll.check)
    assert event.message.text == "before the bot started"


# callback buttons


async def test_callback_button_and_event_answer(emu, vk, olga):
    await call(vk, "messages.send", peer_id=OLGA, random_id=1, message="Rate",
               keyboard=keyboard([callback("👍", {"rate": 5})]))  # fmt: skip
    event_id = olga.click("👍")
    event = emu.updates[-1]
    assert event["type"] == "message_event"
    assert event["object"] == {
        "user_id": OLGA, "peer_id": OLGA, "event_id": event_id,
        "payload": {"rate": 5}, "conversation_message_id": 1,
    }  # fmt: skip
    snackbar = json.dumps({"type": "show_snackbar", "text": "Спасибо"})
    assert await call(vk, "messages.sendMessageEventAnswer", event_id=event_id, user_id=OLGA,
                      peer_id=OLGA, event_data=snackbar) == 1  # fmt: skip
    answer = olga.callback_answers[0]
    assert (answer.answered, answer.text, answer.payload) == (True, "Спасибо", {"rate": 5})
    assert emu.rejected == []

    with pytest.raises(ApiError, match="already been answered"):
        await call(vk, "messages.sendMessageEventAnswer", event_id=event_id, user_id=OLGA, peer_id=OLGA)
    with pytest.raises(ApiError, match="do not name an event"):
        await call(vk, "messages.sendMessageEventAnswer", event_id="f00", user_id=OLGA, peer_id=OLGA)
    second = olga.click({"rate": 5})  # by payload
    too_long = json.dumps({"type": "show_snackbar", "text": "x" * 91})
    with pytest.raises(ApiError, match="longer than 90"):
        await call(vk, "messages.sendMessageEventAnswer", event_id=second, user_id=OLGA,
                   peer_id=OLGA, event_data=too_long)  # fmt: skip
    assert [code for _, _, code, _ in emu.rejected] == [100, 100, 100]
    emu.rejected.clear()

    olga.click_payload({"forged": True})
    assert emu.updates[-1]["object"]["payload"] == {"forged": True}
    assert not olga.callback_answers[-1].answered


# editing and deleting


async def test_edits_like_vk(emu, vk, olga):
    olga.send("question")
    message_id = await call(vk, "messages.send", peer_id=OLGA, random_id=1, message="Sure?",
                            keyboard=keyboard([callback("Yes", {"y": 1})]))  # fmt: skip
    assert olga.last.message_id == 2
    assert await call(vk, "messages.edit", peer_id=OLGA, conversation_message_id=2, message="Done") == 1
    assert (olga.last.text, olga.last.buttons, olga.last.edited) == ("Done", [], True)
    await call(vk, "messages.edit", peer_id=OLGA, message_id=message_id, message="Done!",
               keyboard=keyboard([callback("Undo", {"u": 1})]))  # fmt: skip
    assert olga.last.buttons == [[("Undo", '{"u": 1}')]]
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.edit", peer_id=OLGA, conversation_message_id=1, message="hacked")
    assert raised.value.code == 15
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.edit", peer_id=OLGA, conversation_message_id=99, message="x")
    assert raised.value.code == 100 and "message not found" in str(raised.value)

    [item] = await call(vk, "messages.delete", peer_id=OLGA, cmids=[1], delete_for_all=1)
    assert item["error"]["code"] == 924  # a user's message in a private chat
    [item] = await call(vk, "messages.delete", peer_id=OLGA, cmids=[2], delete_for_all=1)
    assert item == {"peer_id": OLGA, "message_id": message_id, "conversation_message_id": 2, "response": 1}
    assert olga.bot_messages == [] and olga.messages[1].deleted


async def test_chats_use_conversation_message_ids(emu, vk, olga):
    chat = emu.group(1, title="Parents", bot_member=False)
    chat.send(olga, "before the bot")
    chat.invite_bot(by=olga)
    chat.send(olga, "hi all")
    invite, hello = emu.updates
    assert invite["object"]["message"]["action"] == {"type": "chat_invite_user", "member_id": -GROUP}
    expected = {"peer_id": 2000000001, "id": 0, "conversation_message_id": 3}
    assert hello["object"]["message"].items() >= expected.items()
    assert await call(vk, "messages.send", peer_id=2000000001, random_id=1, message="Welcome") == 0
    [sent] = await call(vk, "messages.send", peer_ids=[2000000001], random_id=2, message="Rules")
    assert sent == {"peer_id": 2000000001, "message_id": 0, "conversation_message_id": 5}
    await call(vk, "messages.edit", peer_id=2000000001, conversation_message_id=5, message="Rules v2")
    assert chat.last.text == "Rules v2" and chat.bot_messages[0].text == "Welcome"
    members = await call(vk, "messages.getConversationMembers", peer_id=2000000001)
    assert {item["member_id"] for item in members["items"]} == {OLGA, -GROUP}
    chat.remove_bot(by=olga)
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.send", chat_id=1, random_id=3, message="still here?")
    assert raised.value.code == 917


# uploads and files


async def test_photo_and_voice_upload_then_send_and_download(emu, vk, olga):
    upload = VkUpload(vk)
    photo_data = b"\xff\xd8 fake jpeg"
    [photo] = await asyncio.to_thread(upload.photo_messages, io.BytesIO(photo_data), peer_id=OLGA)
    assert photo["owner_id"] == -GROUP and photo["access_key"]
    assert {size["type"] for size in photo["sizes"]} >= {"s", "m", "x"}
    voice = await asyncio.to_thread(upload.audio_message, io.BytesIO(b"OggS voice"), peer_id=OLGA)
    assert voice["type"] == "audio_message"
    audio = voice["audio_message"]
    doc = await asyncio.to_thread(
        upload.document_message, io.BytesIO(b"%PDF-1.4"), title="report.pdf", peer_id=OLGA
    )
    attachment = ",".join(
        [
            f"photo{photo['owner_id']}_{photo['id']}_{photo['access_key']}",
            f"doc{audio['owner_id']}_{audio['id']}",
            f"doc{doc['doc']['owner_id']}_{doc['doc']['id']}",
        ]
    )
    await call(vk, "messages.send", peer_id=OLGA, random_id=1, message="Files", attachment=attachment)
    assert olga.last.kind == "photo" and olga.last.caption == "Files"
    assert [a["type"] for a in olga.last.attachments] == ["photo", "audio_message", "doc"]
    assert await fetch(photo["sizes"][-1]["url"]) == photo_data
    assert await fetch(audio["link_ogg"]) == b"OggS voice"
    assert doc["doc"]["title"] == "report.pdf" and await fetch(doc["doc"]["url"]) == b"%PDF-1.4"
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.send", peer_id=OLGA, random_id=2, attachment=f"photo-{GROUP}_1")
    assert raised.value.code == 100 and "no such photo" in str(raised.value)
    with pytest.raises(ApiError) as raised:  # an upload is saved once
        await call(vk, "docs.save", file="123|nope")
    assert raised.value.code == 100
    assert emu.rejected[-2:] and all(r[2] == 100 for r in emu.rejected)


async def test_files_users_send(emu, vk, olga):
    olga.send_photo("look", data=b"photo bytes")
    olga.send_voice(duration=7, data=b"OggS")
    olga.send_document(file_name="form.pdf")
    olga.send_video()
    olga.send_sticker()
    photo, voice, document, video, sticker = (e["object"]["message"] for e in emu.updates)
    assert photo["text"] == "look" and photo["attachments"][0]["type"] == "photo"
    assert await fetch(photo["attachments"][0]["photo"]["sizes"][-1]["url"]) == b"photo bytes"
    audio = voice["attachments"][0]["audio_message"]
    assert audio["duration"] == 7 and await fetch(audio["link_ogg"]) == b"OggS"
    assert document["attachments"][0]["doc"]["title"] == "form.pdf"
    assert video["attachments"][0]["type"] == "video" and sticker["attachments"][0]["sticker"]["sticker_id"]
    for event in emu.updates:
        validate_object("callback/objects.json#/definitions/callback_message_new", event["object"])
    # the bot may send the user's photo on, with its access key
    p = photo["attachments"][0]["photo"]
    await call(vk, "messages.send", peer_id=OLGA, random_id=1,
               attachment=f"photo{p['owner_id']}_{p['id']}_{p['access_key']}")  # fmt: skip
    with pytest.raises(ApiError, match="access key"):
        await call(vk, "messages.send", peer_id=OLGA, random_id=2, attachment=f"photo{OLGA}_{p['id']}")


async def test_a_voice_message_with_vks_transcript(emu, olga):
    olga.send_voice(duration=3, transcript="When is the next session?")
    olga.send_voice()
    transcribed, plain = (e["object"]["message"]["attachments"][0]["audio_message"] for e in emu.updates)
    # messages_audio_message in VK's schema names transcript_error only; the API returns these beside it
    assert (transcribed["transcript"], transcribed["transcript_state"]) == ("When is the next session?", "done")
    assert "transcript" not in plain and "transcript_state" not in plain
    for event in emu.updates:
        validate_object("callback/objects.json#/definitions/callback_message_new", event["object"])


async def test_a_message_with_several_photos(emu, vk, olga):
    sent = olga.send_album(count=3, caption="drawings")
    [event] = emu.updates
    assert event["object"]["message"] == sent and sent["text"] == "drawings"
    photos = [attachment["photo"] for attachment in sent["attachments"]]
    assert [a["type"] for a in sent["attachments"]] == ["photo"] * 3 and len({p["id"] for p in photos}) == 3
    assert all(p["owner_id"] == OLGA and p["access_key"] for p in photos)
    validate_object("callback/objects.json#/definitions/callback_message_new", event["object"])
    attachment = ",".join(f"photo{p['owner_id']}_{p['id']}_{p['access_key']}" for p in photos)
    await call(vk, "messages.send", peer_id=OLGA, random_id=1, attachment=attachment)  # the bot may send them on
    assert len(olga.last.attachments) == 3
    with pytest.raises(ValueError, match="1 to 10"):
        olga.send_album(count=11)


# users who cannot be written to


async def test_users_who_refuse_messages(emu, vk, olga):
    olga.deny()
    assert emu.updates[-1]["type"] == "message_deny"
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.send", peer_id=OLGA, random_id=1, message="still there?")
    assert (raised.value.code, raised.value.error["error_msg"]) == (
        901, "Can't send messages for users without permission",
    )  # fmt: skip
    olga.allow()
    assert emu.updates[-1]["object"] == {"user_id": OLGA, "key": ""}
    await call(vk, "messages.send", peer_id=OLGA, random_id=2, message="welcome back")
    olga.block(code=902)
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.send", peer_id=OLGA, random_id=3, message="x")
    assert raised.value.code == 902
    olga.unblock()
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.send", peer_id=999, random_id=4, message="who?")
    assert raised.value.code == 901
    assert emu.rejected == []  # not malformed calls: the platform's state


# faults and limits


async def test_injected_faults(emu, vk, olga):
    emu.fail_next("messages.send", error_code=9)
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.send", peer_id=OLGA, random_id=1, message="one")
    assert (raised.value.code, raised.value.error["error_msg"]) == (9, "Flood control")
    emu.fail_next("messages.send", http_status=502)
    with pytest.raises(ApiHttpError):
        await call(vk, "messages.send", peer_id=OLGA, random_id=2, message="two")
    emu.fail_next("messages.send", error_code=6)
    strict = vk_session(emu)
    del strict.error_handlers[6]  # vk_api otherwise sleeps 0.5 s and retries error 6 itself
    with pytest.raises(ApiError) as raised:
        await call(strict, "messages.send", peer_id=OLGA, random_id=3, message="three")
    assert raised.value.code == 6
    emu.fail_next("messages.send", error_code=6)
    await call(vk, "messages.send", peer_id=OLGA, random_id=4, message="four")  # retried
    assert [m.text for m in olga.bot_messages] == ["four"]
    assert [code for _, _, code in emu.throttled] == [9, 6, 6] and emu.rejected == []


async def test_rate_limit_answers_error_6(emu, olga):
    emu.set_limits(per_second=2)
    answers = [
        await raw_call(emu, "messages.send", peer_id=OLGA, random_id=n, message="x")
        for n in range(1, 4)
    ]
    assert [a.get("error", {}).get("error_code") for a in answers] == [None, None, 6]
    assert answers[2]["error"]["error_msg"] == "Too many requests per second"
    assert emu.throttled == [("messages.send", OLGA, 6)]
    await asyncio.sleep(1.0)
    assert "response" in await raw_call(emu, "messages.send", peer_id=OLGA, random_id=9, message="y")


# Callback API


async def test_callback_api_delivery_with_confirmation_secret_and_resend(emu, olga):
    received: list[dict] = []
    answers = iter(["", "confirm-me", "not ok", "ok"])

    async def handler(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text=next(answers, "ok"))

    app = web.Application()
    app.router.add_post("/vk", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        emu.set_callback_server(
            f"http://127.0.0.1:{port}/vk", secret="s3cret", confirmation_code="confirm-me"
        )
        olga.send("ping")
        await emu.settle()
        kinds = [(body["type"], body.get("secret")) for body in received]
        assert kinds == [("confirmation", "s3cret")] * 2 + [("message_new", "s3cret")] * 2
        assert received[2]["event_id"] == received[3]["event_id"] == emu.updates[0]["event_id"]
        assert received[0]["group_id"] == GROUP
        assert [what for what, _ in emu.callback_errors] == ["confirmation", received[2]["event_id"]]
        assert "not ok" in emu.callback_errors[1][1]
    finally:
        emu.set_callback_server(None)
        await runner.cleanup()


# settle


async def test_settle_waits_for_confirmation_and_calls_in_flight(emu, vk, olga):
    await emu.settle(timeout=1)  # nothing to wait for
    olga.send("nobody polls")
    with pytest.raises(TimeoutError, match="not confirmed by the long poll"):
        await emu.settle(timeout=0.3)
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP, wait=1)
    await asyncio.to_thread(longpoll.check)  # delivered, not confirmed yet
    assert len(emu.pending_events) == 1
    await asyncio.to_thread(longpoll.check)  # the next a_check confirms it
    await emu.settle(timeout=1)

    emu.fail_next("messages.send", error_code=None, delay=0.3)
    slow = asyncio.create_task(call(vk, "messages.send", peer_id=OLGA, random_id=1, message="slow"))
    await asyncio.sleep(0.05)
    await emu.settle()
    assert slow.done() and olga.last.text == "slow"


async def test_a_vk_api_bot_end_to_end(emu, vk, olga):
    """The loop a VK bot runs: long poll in a thread, answer through the API."""
    stop = threading.Event()

    def bot() -> None:
        api = vk.get_api()
        longpoll = VkBotLongPoll(vk, GROUP, wait=1)
        while not stop.is_set():
            for event in longpoll.check():
                if event.type == VkBotEventType.MESSAGE_NEW:
                    api.messages.send(
                        peer_id=event.message.peer_id, random_id=event.message.id,
                        message=f"You said: {event.message.text}",
                        keyboard=keyboard([callback("Again", {"cmd": "again"})]),
                    )  # fmt: skip
                elif event.type == VkBotEventType.MESSAGE_EVENT:
                    api.messages.sendMessageEventAnswer(
                        event_id=event.object.event_id, user_id=event.object.user_id,
                        peer_id=event.object.peer_id,
                        event_data=json.dumps({"type": "show_snackbar", "text": "Once more"}),
                    )  # fmt: skip
                    api.messages.edit(
                        peer_id=event.object.peer_id, message="Said again",
                        conversation_message_id=event.object.conversation_message_id,
                    )  # fmt: skip

    thread = asyncio.create_task(asyncio.to_thread(bot))
    try:
        olga.send("hi")
        await emu.settle()
        assert olga.last.text == "You said: hi"
        olga.click("Again")
        await emu.settle()
        assert (olga.last.text, olga.callback_answers[-1].text) == ("Said again", "Once more")
    finally:
        stop.set()
        await thread
    assert emu.rejected == []


async def test_long_poll_settings_choose_the_event_types(emu, vk, olga):
    settings = await call(vk, "groups.getLongPollSettings", group_id=GROUP)
    assert settings["events"]["message_new"] == 1 and settings["events"]["message_reply"] == 0
    await call(vk, "groups.setLongPollSettings", group_id=GROUP, message_reply=1, message_allow=0)
    await call(vk, "messages.send", peer_id=OLGA, random_id=1, message="echo")
    olga.allow()
    assert [event["type"] for event in emu.updates] == ["message_reply"]
    assert emu.updates[0]["object"]["text"] == "echo"


# the schema copy


def test_every_schema_reference_of_the_copied_methods_resolves():
    index = load_index()
    assert {"messages.send", "groups.getLongPollServer", "docs.save"} <= index.methods.keys()
    missing = []
    for spec in index.methods.values():
        for param in spec.params.values():
            for ref in _refs(param):
                if resolve(ref, spec.file) is None and spec.name != "groups.getAddresses":
                    missing.append((spec.name, ref))
    assert missing == []


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


# invite links: joining and leaving a chat


async def test_invite_link_only_for_a_chat_the_community_administers(emu, vk, olga):
    emu.group(2, title="Parents")
    first = await call(vk, "messages.getInviteLink", peer_id=2000000002)
    assert list(first) == ["link"]
    assert re.fullmatch(r"https://vk\.me/join/[A-Za-z0-9_-]{20,}", first["link"])
    assert await call(vk, "messages.getInviteLink", peer_id=2000000002, reset=0) == first
    assert await call(vk, "messages.getInviteLink", peer_id=2000000002, group_id=GROUP) == first

    emu.group(3, bot_admin=False)
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.getInviteLink", peer_id=2000000003)
    assert raised.value.code == 919
    assert raised.value.error["error_msg"].startswith("You can't see invite link for this chat")
    emu.group(4, bot_member=False)
    for peer_id in (2000000004, 2000000099):
        with pytest.raises(ApiError) as raised:
            await call(vk, "messages.getInviteLink", peer_id=peer_id)
        assert raised.value.code == 917
    assert emu.rejected == []  # the platform's state, not malformed calls
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.getInviteLink", peer_id=OLGA)
    assert raised.value.code == 100 and "not a chat" in str(raised.value)
    body = await raw_call(emu, "messages.getInviteLink", peer_id=2000000002, reset="yes")
    assert body["error"]["error_code"] == 100 and "reset should be 0 or 1" in body["error"]["error_msg"]


async def test_reset_makes_a_new_invite_link_and_the_old_one_stops_working(emu, vk, olga):
    chat = emu.group(1, title="Parents")
    old = (await call(vk, "messages.getInviteLink", peer_id=2000000001))["link"]
    new = (await call(vk, "messages.getInviteLink", peer_id=2000000001, reset=1))["link"]
    assert new != old and chat.invite_link == new
    assert await call(vk, "messages.getInviteLink", peer_id=2000000001) == {"link": new}
    with pytest.raises(AssertionError, match="no chat's invite link"):
        olga.join_by_link(old)
    with pytest.raises(AssertionError, match="no chat's invite link"):
        olga.join_by_link("https://vk.me/join/made-up-link-of-the-test")
    assert chat.members == set() and emu.updates == []


async def test_joining_by_the_link_and_leaving_reach_the_bot_through_long_poll(emu, vk, olga):
    chat = emu.group(1, title="Parents")
    chat.send(emu.user(IVAN, first_name="Ivan"), "hello")
    link = (await call(vk, "messages.getInviteLink", peer_id=2000000001))["link"]
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP, wait=1)
    assert len(await asyncio.to_thread(longpoll.check)) == 1  # Ivan's message

    sent = olga.join_by_link(link)
    [event] = await asyncio.to_thread(longpoll.check)
    assert event.type == VkBotEventType.MESSAGE_NEW and event.from_chat and event.chat_id == 1
    assert (event.message.from_id, event.message.peer_id) == (OLGA, 2000000001)
    assert event.message.action == {"type": "chat_invite_user_by_link", "member_id": OLGA}
    assert event.raw["object"]["message"] == sent
    validate_object("callback/objects.json#/definitions/callback_message_new", event.raw["object"])
    assert chat.members == {OLGA, IVAN}
    members = await call(vk, "messages.getConversationMembers", peer_id=2000000001)
    assert {item["member_id"] for item in members["items"]} == {OLGA, IVAN, -GROUP}
    with pytest.raises(AssertionError, match="already a member"):
        olga.join_by_link(link)

    olga.leave(chat)
    [event] = await asyncio.to_thread(longpoll.check)
    assert event.message.from_id == OLGA
    assert event.message.action == {"type": "chat_kick_user", "member_id": OLGA}
    validate_object("callback/objects.json#/definitions/callback_message_new", event.raw["object"])
    assert chat.members == {IVAN}
    members = await call(vk, "messages.getConversationMembers", peer_id=2000000001)
    assert {item["member_id"] for item in members["items"]} == {IVAN, -GROUP}
    [conversation] = (await call(vk, "messages.getConversationsById", peer_ids=[2000000001]))["items"]
    assert conversation["chat_settings"]["members_count"] == 1
    with pytest.raises(AssertionError, match="not a member"):
        olga.leave(2000000001)
    olga.join_by_link(link)  # the link still works: back in the chat
    emu.user(IVAN).leave(1)  # by chat id
    assert chat.members == {OLGA}
    assert [e.message.action["type"] for e in await asyncio.to_thread(longpoll.check)] == [
        "chat_invite_user_by_link", "chat_kick_user",
    ]  # fmt: skip
    assert emu.rejected == []


# moderating a chat: deleting for everybody, pinning, removing members; forwards and links


async def test_deleting_members_messages_for_everybody_needs_admin_rights(emu, vk, olga):
    ivan = emu.user(IVAN, first_name="Ivan")
    chat = emu.group(1, title="Parents")
    chat.send(ivan, "spam spam")
    chat.send(olga, "a question")
    [item] = await call(vk, "messages.delete", peer_id=2000000001, cmids=[1], delete_for_all=1)
    assert item == {"peer_id": 2000000001, "message_id": 0, "conversation_message_id": 1, "response": 1}
    assert chat.message(1).deleted and not chat.message(2).deleted
    found = await call(vk, "messages.getByConversationMessageId", peer_id=2000000001, conversation_message_ids=[1, 2])
    assert [m["text"] for m in found["items"]] == ["a question"]
    [item] = await call(vk, "messages.delete", peer_id=2000000001, cmids=[1], delete_for_all=1)
    assert item["error"]["code"] == 104  # already gone

    plain = emu.group(2, title="No rights", bot_admin=False)
    plain.send(ivan, "spam again")
    await call(vk, "messages.send", peer_id=2000000002, random_id=1, message="Please don't")
    result = await call(vk, "messages.delete", peer_id=2000000002, cmids=[1, 2], delete_for_all=1)
    assert [r.get("error", {}).get("code") for r in result] == [924, None]
    assert result[0]["error"]["description"] == "Can't delete this message for everybody"
    assert not plain.message(1).deleted and plain.message(2).deleted  # its own message: fine
    assert emu.rejected == []


async def test_pin_and_unpin_need_admin_rights_in_a_chat(emu, vk, olga):
    chat = emu.group(1, title="Parents")
    chat.send(olga, "hello")
    await call(vk, "messages.send", peer_id=2000000001, random_id=1, message="Rules: be kind")
    shown = await call(vk, "messages.pin", peer_id=2000000001, conversation_message_id=2)
    validate_object("messages/objects.json#/definitions/messages_pinned_message", shown)
    assert (shown["conversation_message_id"], shown["from_id"], shown["text"], shown["out"]) == (2, -GROUP, "Rules: be kind", True)
    assert chat.pinned is chat.message(2)
    [conversation] = (await call(vk, "messages.getConversationsById", peer_ids=[2000000001]))["items"]
    assert conversation["chat_settings"]["pinned_message"] == shown
    await call(vk, "messages.pin", peer_id=2000000001, cmid=1)  # a member's message too
    assert chat.pinned is chat.message(1)
    assert await call(vk, "messages.unpin", peer_id=2000000001) == 1
    assert chat.pinned is None
    [conversation] = (await call(vk, "messages.getConversationsById", peer_ids=[2000000001]))["items"]
    assert "pinned_message" not in conversation["chat_settings"]
    await call(vk, "messages.pin", peer_id=2000000001, conversation_message_id=2)
    await call(vk, "messages.delete", peer_id=2000000001, cmids=[2], delete_for_all=1)
    assert chat.pinned is None  # deleted for everybody: unpinned

    olga.send("hi")
    message_id = await call(vk, "messages.send", peer_id=OLGA, random_id=2, message="Pinned for you")
    await call(vk, "messages.pin", peer_id=OLGA, message_id=message_id)  # no admins in a private chat
    assert olga.chat.pinned is olga.last

    plain = emu.group(2, title="No rights", bot_admin=False)
    plain.send(olga, "pin me")
    emu.group(3, title="Left", bot_member=False)
    for method, params, code in [
        ("messages.pin", {"peer_id": 2000000002, "conversation_message_id": 1}, 925),
        ("messages.unpin", {"peer_id": 2000000002}, 925),
        ("messages.pin", {"peer_id": 2000000003, "conversation_message_id": 1}, 917),
        ("messages.unpin", {"peer_id": 2000000099}, 917),
    ]:
        with pytest.raises(ApiError) as raised:
            await call(vk, method, **params)
        assert raised.value.code == code
    assert plain.pinned is None and emu.rejected == []
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.pin", peer_id=2000000001, conversation_message_id=99)
    assert raised.value.code == 100 and "message not found" in str(raised.value)
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.pin", peer_id=2000000001)
    assert raised.value.code == 100


async def test_members_forward_messages_and_post_links(emu, vk, olga):
    ivan = emu.user(IVAN, first_name="Ivan")
    chat = emu.group(1, title="Parents")
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP, wait=1)
    chat.send(ivan, "the original")
    sent = chat.send(olga, "look at this", forward=[chat.message(1), "a note of mine", (ivan, "said elsewhere"), (-777, "a community's post")])
    assert [(f["from_id"], f["text"]) for f in sent["fwd_messages"]] == [
        (IVAN, "the original"), (OLGA, "a note of mine"), (IVAN, "said elsewhere"), (-777, "a community's post"),
    ]  # fmt: skip
    assert sent["fwd_messages"][0]["conversation_message_id"] == 1 and sent["text"] == "look at this"
    chat.send(olga, "see https://example.org/page?id=1.", link_preview=True)
    chat.send(olga, "plain https://example.org")
    first, forwarded, linked, plain = await asyncio.to_thread(longpoll.check)
    for event in (first, forwarded, linked, plain):
        validate_object("callback/objects.json#/definitions/callback_message_new", event.raw["object"])
    assert first.message.fwd_messages == [] and forwarded.message.fwd_messages == sent["fwd_messages"]
    [snippet] = linked.message.attachments
    assert snippet["type"] == "link" and snippet["link"]["url"] == "https://example.org/page?id=1"
    assert chat.message(3).kind == "link" and chat.message(3).text == "see https://example.org/page?id=1."
    assert plain.message.attachments == [] and chat.message(4).kind == "text"  # the bot sees the text

    olga.send("from my friend", forward=[(ivan, "hi there")])
    assert olga.messages[-1].raw["fwd_messages"][0]["text"] == "hi there"
    chat.message(1).deleted = True
    with pytest.raises(AssertionError, match="cannot be forwarded"):
        chat.send(olga, "again", forward=[chat.message(1)])


async def test_conversation_members_count_matches_the_members(emu, vk, olga):
    chat = emu.group(1, title="Parents")

    async def members() -> dict[str, Any]:
        answer = await call(vk, "messages.getConversationMembers", peer_id=2000000001)
        assert answer["count"] == len(answer["items"]) == len(chat.members) + 1  # and the community
        return answer

    assert (await members())["count"] == 1
    chat.send(olga, "hi")
    chat.send(emu.user(IVAN), "hello")
    chat.send(olga, "again")
    assert (await members())["count"] == 3
    emu.user(IVAN).leave(chat)
    await call(vk, "messages.removeChatUser", chat_id=1, member_id=OLGA)
    assert [item["member_id"] for item in (await members())["items"]] == [-GROUP]


async def test_removing_a_member_needs_admin_rights(emu, vk, olga):
    ivan = emu.user(IVAN, first_name="Ivan")
    chat = emu.group(1, title="Parents")
    chat.owner_id = OLGA
    chat.send(olga, "my chat")
    chat.send(ivan, "spam")
    chat.make_admin(ivan)
    updates = len(emu.updates)
    assert await call(vk, "messages.removeChatUser", chat_id=1, member_id=IVAN) == 1
    assert chat.members == {OLGA} and chat.admins == set()
    kick = chat.messages[-1]
    assert (kick.raw["from_id"], kick.raw["action"], kick.kind) == (-GROUP, {"type": "chat_kick_user", "member_id": IVAN}, "service")
    assert len(emu.updates) == updates and kick not in chat.bot_messages  # no event for its own action
    chat.send(emu.user(5003), "new here")
    assert await call(vk, "messages.removeChatUser", chat_id=1, user_id=5003) == 1
    members = await call(vk, "messages.getConversationMembers", peer_id=2000000001)
    assert [(m["member_id"], m.get("can_kick")) for m in members["items"]] == [(OLGA, False), (-GROUP, None)]

    emu.group(2, title="No rights", bot_admin=False).send(ivan, "hi")
    emu.group(3, title="Left", bot_member=False)
    for chat_id, member_id, code in [(1, IVAN, 935), (1, OLGA, 15), (2, IVAN, 925), (3, IVAN, 917), (99, IVAN, 917)]:
        with pytest.raises(ApiError) as raised:
            await call(vk, "messages.removeChatUser", chat_id=chat_id, member_id=member_id)
        assert raised.value.code == code, (chat_id, member_id)
    assert chat.members == {OLGA} and emu.rejected == []
    with pytest.raises(ApiError) as raised:
        await call(vk, "messages.removeChatUser", chat_id=1)
    assert raised.value.code == 100


async def test_the_bot_forwards_a_chat_message_into_a_private_chat(emu, vk, olga):
    ivan = emu.user(IVAN, first_name="Ivan")
    chat = emu.group(1, title="Parents")
    chat.send(ivan, "is the meeting at 6?")
    chat.send(olga, "yes, at 6")
    olga.send("what did they say?")
    forward = json.dumps({"peer_id": 2000000001, "conversation_message_ids": [1, 2]})
    await call(vk, "messages.send", peer_id=OLGA, random_id=1, message="Here", forward=forward)
    sent = olga.last
    assert sent.from_bot and sent.text == "Here" and "reply_message" not in sent.raw
    assert sent.forwarded == ["is the meeting at 6?", "yes, at 6"]
    first = sent.raw["fwd_messages"][0]
    assert (first["from_id"], first["peer_id"], first["conversation_message_id"]) == (IVAN, 2000000001, 1)
    validate_object("messages/objects.json#/definitions/messages_foreign_message", first)
    # forward of the same chat without is_reply is a forward too, not a reply
    again = json.dumps({"peer_id": OLGA, "conversation_message_ids": [1], "is_reply": False})
    await call(vk, "messages.send", peer_id=OLGA, random_id=2, message="You said", forward=again)
    assert olga.last.forwarded == ["what did they say?"] and "reply_message" not in olga.last.raw

    chat.message(1).deleted = True
    emu.group(2, title="Not ours", bot_member=False).send(ivan, "secret")
    for target, error in [
        ({"peer_id": 2000000001, "conversation_message_ids": [1]}, "message 1 not found"),  # deleted
        ({"peer_id": 2000000001, "conversation_message_ids": [2, 99]}, "message 99 not found"),
        ({"peer_id": 2000000002, "conversation_message_ids": [1]}, "not accessible"),
        ({"peer_id": 2000000042, "conversation_message_ids": [1]}, "not accessible"),
    ]:
        with pytest.raises(ApiError) as raised:
            await call(vk, "messages.send", peer_id=OLGA, random_id=3, message="x", forward=json.dumps(target))
        assert raised.value.code == 100 and error in str(raised.value), target
    assert olga.last.text == "You said"


async def test_a_members_reply_in_a_chat_carries_reply_message(emu, vk, olga):
    ivan = emu.user(IVAN, first_name="Ivan")
    chat = emu.group(1, title="Parents")
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP, wait=1)
    chat.send(ivan, "who brings the cake?")
    chat.send(olga, "I do", reply_to=1)
    _, answer = await asyncio.to_thread(longpoll.check)
    validate_object("callback/objects.json#/definitions/callback_message_new", answer.raw["object"])
    quoted = answer.raw["object"]["message"]["reply_message"]
    assert (quoted["from_id"], quoted["text"], quoted["conversation_message_id"], quoted["peer_id"]) == (IVAN, "who brings the cake?", 1, 2000000001)
    assert chat.message(2).reply_message == quoted
