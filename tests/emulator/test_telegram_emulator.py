"""The Telegram Bot API emulator, driven by the real aiogram client over HTTP."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiohttp import web

from bot.emulator.telegram import TelegramEmulator
from bot.emulator.telegram.parse_mode import parse_html
from bot.emulator.telegram.spec import validate_object

TOKEN = "4242:AAEmulatorSelfTestTokenxxxxxxxxxxxxx"
ANNA = 1001


@pytest.fixture
async def emu() -> AsyncIterator[TelegramEmulator]:
    emulator = TelegramEmulator(bot_username="vmeste_test_bot")
    await emulator.start()
    yield emulator
    await emulator.stop()


class LoopbackSession(AiohttpSession):
    async def close(self) -> None:
        # aiogram waits 250 ms for TLS connections to close; loopback has none
        if self._session is not None and not self._session.closed:
            await self._session.close()


@pytest.fixture
async def bot(emu: TelegramEmulator) -> AsyncIterator[Bot]:
    session = LoopbackSession(api=TelegramAPIServer.from_base(emu.base_url))
    client = Bot(TOKEN, session=session)
    yield client
    await client.session.close()


@pytest.fixture
def anna(emu: TelegramEmulator):
    return emu.user(ANNA, first_name="Anna", language_code="ru")


async def raw_call(
    emu: TelegramEmulator, method: str, token: str = TOKEN, **request
) -> tuple[int, dict]:
    url = f"{emu.base_url}/bot{token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, **request) as response:
        return response.status, await response.json()


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


# the server


async def test_get_me_returns_the_bot_of_the_token(bot):
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (4242, True, "vmeste_test_bot")
    assert me.can_join_groups


async def test_tokens_and_method_names_are_checked_like_telegram(emu):
    assert await raw_call(emu, "getMe", token="not-a-token") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert (await raw_call(emu, "GETME"))[1]["result"]["id"] == 4242
    status, body = await raw_call(emu, "sendTelepathy")
    assert (status, body["description"]) == (404, "Not Found")
    status, body = await raw_call(emu, "sendDice", json={"chat_id": ANNA})
    assert status == 501 and "sendDice" in body["description"]


async def test_params_arrive_as_json_form_or_query_string(emu, anna):
    status, _ = await raw_call(emu, "sendMessage", json={"chat_id": ANNA, "text": "json"})
    assert status == 200
    status, _ = await raw_call(emu, "sendMessage", data={"chat_id": str(ANNA), "text": "form"})
    assert status == 200
    status, _ = await raw_call(emu, "sendMessage", params={"chat_id": str(ANNA), "text": "query"})
    assert status == 200
    assert [message.text for message in anna.bot_messages] == ["json", "form", "query"]


# updates by long polling


async def test_long_poll_returns_as_soon_as_an_update_arrives(bot, anna):
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    anna.send("/start hello")
    updates = await poll
    assert time.monotonic() - started < 1
    message = updates[0].message
    assert (message.text, message.from_user.id, message.chat.type) == (
        "/start hello",
        ANNA,
        "private",
    )
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 6


async def test_long_poll_times_out_with_no_updates(bot):
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9


async def test_an_offset_confirms_every_earlier_update(emu, bot, anna):
    for text in ("one", "two", "three"):
        anna.send(text)
    updates = await bot.get_updates()
    ids = [update.update_id for update in updates]
    assert ids == list(range(ids[0], ids[0] + 3))
    again = await bot.get_updates(offset=ids[1])
    assert [update.message.text for update in again] == ["two", "three"]
    assert await bot.get_updates(offset=ids[2] + 1) == []
    assert emu.pending_updates == []


async def test_a_second_poll_ends_the_first_with_a_conflict(bot):
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError):
        await first
    assert await second == []


# sendMessage and what the user sees


async def test_send_message_with_html_and_buttons(emu, bot, anna):
    sent = await bot.send_message(
        ANNA,
        "<b>Привет</b>, 👋 <i>Anna</i>",
        parse_mode="HTML",
        reply_markup=keyboard(
            InlineKeyboardButton(text="Yes", callback_data="answer:yes"),
            InlineKeyboardButton(text="Site", url="https://example.org"),
        ),
    )
    assert sent.text == "Привет, 👋 Anna"
    # UTF-16 offsets: the emoji counts twice
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 6),
        ("italic", 11, 4),
    ]
    assert anna.last.text == "Привет, 👋 Anna"
    assert anna.last.buttons == [[("Yes", "answer:yes"), ("Site", "https://example.org")]]
    assert emu.calls[-1][0] == "sendMessage" and emu.calls[-1][1]["chat_id"] == ANNA
    validate_object("Message", anna.last.raw)


async def test_a_reply_keyboard_is_what_the_user_sees_until_removed(bot, anna):
    markup = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Help")]], resize_keyboard=True)
    sent = await bot.send_message(ANNA, "Menu", reply_markup=markup)
    assert sent.reply_markup is None  # Telegram returns inline keyboards only
    assert anna.keyboard == [["Help"]]


INVALID_SEND_MESSAGE = {
    "empty text": (dict(chat_id=ANNA, text=""), "Bad Request: message text is empty"),
    "4097 characters": (dict(chat_id=ANNA, text="x" * 4097), "Bad Request: message is too long"),
    "2049 emoji (4098 UTF-16 units)": (dict(chat_id=ANNA, text="😀" * 2049), "Bad Request: message is too long"),
    "bad HTML": (
        dict(chat_id=ANNA, text="<b>bold", parse_mode="HTML"),
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
    ),
    "callback_data of 66 bytes": (
        dict(
            chat_id=ANNA,
            text="x",
            reply_markup=keyboard(InlineKeyboardButton(text="a", callback_data="я" * 33)),
        ),
        "Bad Request: BUTTON_DATA_INVALID",
    ),
    "a button with two actions": (
        dict(
            chat_id=ANNA,
            text="x",
            reply_markup=keyboard(
                InlineKeyboardButton(text="a", callback_data="a", url="https://example.org")
            ),
        ),
        "can't parse InlineKeyboardButton",
    ),
    "unknown chat": (dict(chat_id=555, text="x"), "Bad Request: chat not found"),
}


async def test_the_limit_counts_utf16_units_of_the_text_after_entity_parsing(bot, anna):
    await bot.send_message(ANNA, "&amp;" * 4096, parse_mode="HTML")  # 20,480 characters of HTML, 4,096 shown
    await bot.send_message(ANNA, "😀" * 2048)
    assert [message.text for message in anna.bot_messages] == ["&" * 4096, "😀" * 2048]


@pytest.mark.parametrize("case", INVALID_SEND_MESSAGE)
async def test_invalid_send_message_is_a_bad_request(emu, bot, anna, case):
    params, description = INVALID_SEND_MESSAGE[case]
    with pytest.raises(TelegramBadRequest) as raised:
        await bot.send_message(**params)
    assert description in raised.value.message
    method, _, code, recorded = emu.rejected[-1]
    assert (method, code) == ("sendMessage", 400) and description in recorded
    assert anna.bot_messages == []


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"text": "x"}, "Bad Request: chat_id is empty"),
        ({"chat_id": ANNA, "text": "x", "colour": "red"}, "Bad Request: unknown parameter colour"),
        (
            {"chat_id": ANNA, "text": "*x*", "parse_mode": "MarkdownV2"},
            "Bad Request: emulator supports HTML parse_mode only",
        ),
    ],
)
async def test_malformed_raw_calls_are_rejected(emu, anna, body, description):
    status, answer = await raw_call(emu, "sendMessage", json=body)
    assert (status, answer["ok"], answer["description"]) == (400, False, description)
    assert emu.rejected[-1][2:] == (400, description)


async def test_a_blocked_user_answers_403_and_the_bot_hears_of_it(emu, bot, anna):
    anna.block()
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ANNA, "still there?")
    assert emu.rejected == []
    [update] = await bot.get_updates()
    assert update.my_chat_member.new_chat_member.status == "kicked"


async def test_a_user_who_never_wrote_cannot_be_messaged(bot, emu):
    emu.user(2002, started=False)
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(2002, "hello")


# faults and limits


async def test_injected_faults(emu, bot, anna):
    emu.fail_next("sendMessage", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(ANNA, "one")
    assert raised.value.retry_after == 3
    emu.fail_next("sendMessage", status=502)
    with pytest.raises(TelegramServerError):
        await bot.send_message(ANNA, "two")
    await bot.send_message(ANNA, "three")
    assert [message.text for message in anna.bot_messages] == ["three"]
    assert len(emu.throttled) == 1 and emu.rejected == []


async def test_a_slow_answer_times_the_client_out_but_the_message_is_sent(emu, bot, anna):
    emu.fail_next("sendMessage", status=None, delay=0.5)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(ANNA, "late", request_timeout=0.2)
    await emu.settle()
    assert anna.last.text == "late"


async def test_rate_limits_answer_429_with_retry_after(emu, bot, anna):
    emu.user(1002)
    emu.set_limits(per_chat_per_second=1)
    await bot.send_message(ANNA, "first")
    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(ANNA, "second")
    assert raised.value.retry_after == 1
    await bot.send_message(1002, "another chat is fine")

    emu.set_limits(global_per_second=2)
    await bot.send_message(ANNA, "a")
    await bot.send_message(1002, "b")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(1002, "c")
    assert len(emu.throttled) == 2


# editing


async def test_edits_like_telegram(bot, anna):
    sent = await bot.send_message(
        ANNA,
        "Question?",
        reply_markup=keyboard(InlineKeyboardButton(text="Yes", callback_data="y")),
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="Question?",
            chat_id=ANNA,
            message_id=sent.message_id,
            reply_markup=sent.reply_markup,
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=ANNA, message_id=999)
    await bot.edit_message_text(text="<b>Answered</b>", chat_id=ANNA, message_id=sent.message_id, parse_mode="HTML")
    assert (anna.last.text, anna.last.buttons, anna.last.edited) == ("Answered", [], True)
    assert anna.last.entities == [{"type": "bold", "offset": 0, "length": 8}]
    await bot.delete_message(ANNA, sent.message_id)
    assert anna.bot_messages == [] and anna.messages[0].deleted


# media


async def test_photo_upload_resend_by_file_id_and_download(bot, anna):
    sent = await bot.send_photo(
        ANNA,
        BufferedInputFile(b"\xff\xd8 fake jpeg", "cat.jpg"),
        caption="<i>A cat</i>",
        parse_mode="HTML",
    )
    file_id = sent.photo[-1].file_id
    assert sent.caption == "A cat" and sent.caption_entities[0].type == "italic"
    again = await bot.send_photo(ANNA, file_id)
    assert again.photo[-1].file_id == file_id
    file = await bot.get_file(file_id)
    assert (await bot.download_file(file.file_path)).read() == b"\xff\xd8 fake jpeg"
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(ANNA, "no-such-file-id")
    with pytest.raises(TelegramBadRequest, match="can't use file of type photo as voice"):
        await bot.send_voice(ANNA, file_id)
    voice = await bot.send_voice(ANNA, BufferedInputFile(b"OggS", "v.ogg"), duration=4)
    assert (await bot.send_voice(ANNA, voice.voice.file_id)).voice.duration == 4
    await bot.send_animation(ANNA, BufferedInputFile(b"GIF89a", "a.gif"))
    assert [message.kind for message in anna.bot_messages] == [
        "photo", "photo", "voice", "voice", "animation",
    ]  # fmt: skip
    for message in anna.bot_messages:
        validate_object("Message", message.raw)


async def test_files_users_send_can_be_downloaded(emu, bot, anna):
    anna.send_voice(duration=7, data=b"OggS voice")
    anna.send_document(file_name="report.pdf")
    anna.send_photo(caption="look")
    anna.send_video()
    anna.send_sticker()
    updates = await bot.get_updates()
    voice, document, photo, video, sticker = (update.message for update in updates)
    assert voice.voice.duration == 7 and document.document.file_name == "report.pdf"
    assert photo.caption == "look" and video.video.duration and sticker.sticker.emoji
    file = await bot.get_file(voice.voice.file_id)
    assert (await bot.download_file(file.file_path)).read() == b"OggS voice"
    for update in emu.pending_updates:
        validate_object("Update", update)


async def test_an_album_is_messages_sharing_a_media_group(emu, bot, anna):
    sent = anna.send_album(count=2, caption="drawings")
    first, second = (update.message for update in await bot.get_updates())
    assert [m.message_id for m in (first, second)] == [m["message_id"] for m in sent]
    assert first.media_group_id and first.media_group_id == second.media_group_id
    assert (first.caption, second.caption) == ("drawings", None)
    assert first.photo and second.photo and first.photo[-1].file_id != second.photo[-1].file_id
    anna.send_album(count=3, kinds=("photo", "video"))
    kinds = [[kind for kind in ("photo", "video") if kind in update] for update in (u["message"] for u in emu.updates[-3:])]
    assert kinds == [["photo"], ["video"], ["photo"]]
    assert emu.updates[-1]["message"]["media_group_id"] != first.media_group_id
    for update in emu.updates:
        validate_object("Update", update)
    with pytest.raises(ValueError, match="2 to 10"):
        anna.send_album(count=1)
    with pytest.raises(ValueError, match="cannot mix"):
        anna.send_album(kinds=("photo", "document"))
    with pytest.raises(ValueError, match="cannot carry voice"):
        anna.send_album(kinds=("voice",))


# buttons and callback queries


async def test_click_sends_a_callback_query_and_records_the_answer(emu, bot, anna):
    await bot.send_message(
        ANNA, "Rate", reply_markup=keyboard(InlineKeyboardButton(text="👍", callback_data="rate:5"))
    )
    query_id = anna.click("👍")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert (query.id, query.data, query.from_user.id, query.message.text) == (
        query_id,
        "rate:5",
        ANNA,
        "Rate",
    )
    await bot.answer_callback_query(query_id, text="Thanks")
    assert (anna.callback_answers[0].text, anna.callback_answers[0].answered) == ("Thanks", True)
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query(query_id)
    emu.rejected.clear()

    with pytest.raises(AssertionError, match=r"rate:5"):
        anna.click("👎")
    anna.click_data("garbage")
    [_, garbage] = await bot.get_updates()
    assert garbage.callback_query.data == "garbage" and not anna.callback_answers[1].answered


async def test_groups_commands_and_members(emu, bot, anna):
    group = emu.group(-100123, title="Parents of Kazan")
    group.send(anna, "/start@vmeste_test_bot")
    [update] = await bot.get_updates()
    assert update.message.chat.type == "supergroup"
    assert update.message.entities[0].length == len("/start@vmeste_test_bot")
    await bot.send_message(-100123, "Welcome")
    assert group.last.text == "Welcome"
    assert (await bot.get_chat_member(-100123, ANNA)).status == "member"
    assert (await bot.get_chat_member(-100123, 4242)).status == "administrator"
    assert (await bot.get_chat(-100123)).title == "Parents of Kazan"


async def test_other_methods(emu, bot, anna):
    anna.send("original")
    copied = await bot.copy_message(ANNA, from_chat_id=ANNA, message_id=1)
    forwarded = await bot.forward_message(ANNA, from_chat_id=ANNA, message_id=1)
    assert anna.chat.message(copied.message_id).text == "original"
    assert forwarded.forward_origin.sender_user.id == ANNA
    assert await bot.send_chat_action(ANNA, "typing")
    assert anna.chat.actions == ["typing"]
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    assert await bot.close() and await bot.log_out()


# webhook


async def test_webhook_delivery_with_secret_retry_and_reply(emu, bot, anna):
    received: list[tuple[dict, str | None]] = []
    answers = iter([web.Response(status=500)])

    async def webhook(request: web.Request) -> web.StreamResponse:
        received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        failure = next(answers, None)
        if failure is not None:
            return failure
        return web.json_response({"method": "sendMessage", "chat_id": ANNA, "text": "pong"})

    app = web.Application()
    app.router.add_post("/hook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        anna.send("ping")
        await emu.settle()
        assert [(update["message"]["text"], secret) for update, secret in received] == [
            ("ping", "s3cret")
        ] * 2
        assert len(emu.webhook_errors) == 1
        assert anna.last.text == "pong"
        with pytest.raises(TelegramConflictError):
            await bot.get_updates()
        assert (await bot.get_webhook_info()).url.endswith("/hook")
        await bot.delete_webhook()
        assert await bot.get_updates() == []
    finally:
        await runner.cleanup()


# settle


async def test_settle_waits_for_confirmation_and_calls_in_flight(emu, bot, anna):
    await emu.settle(timeout=1)  # nothing to wait for
    anna.send("nobody polls")
    with pytest.raises(TimeoutError, match="not confirmed"):
        await emu.settle(timeout=0.3)
    await bot.get_updates(offset=-1)  # forget it
    await bot.get_updates(offset=emu.pending_updates[-1]["update_id"] + 1)

    async def shouting_bot() -> None:
        offset = None
        while True:
            for update in await bot.get_updates(offset=offset, timeout=1):
                await asyncio.sleep(0.2)
                await bot.send_message(update.message.chat.id, update.message.text.upper())
                offset = update.update_id + 1

    task = asyncio.create_task(shouting_bot())
    try:
        anna.send("hello")
        await emu.settle()
        assert anna.last.text == "HELLO"
    finally:
        task.cancel()

    emu.fail_next("sendMessage", status=None, delay=0.3)
    slow = asyncio.create_task(bot.send_message(ANNA, "slow"))
    await asyncio.sleep(0.05)
    await emu.settle()
    assert slow.done() and anna.last.text == "slow"


async def test_a_real_dispatcher_end_to_end(emu, bot, anna):
    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(
            f"You said: {message.text}",
            reply_markup=keyboard(InlineKeyboardButton(text="Again", callback_data="again")),
        )

    @dispatcher.callback_query(F.data == "again")
    async def again(query: CallbackQuery) -> None:
        await query.answer("Once more")
        await query.message.edit_text("Said again")

    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        anna.send("hi")
        await emu.settle()
        assert anna.last.text == "You said: hi"
        anna.click("Again")
        await emu.settle()
        assert (anna.last.text, anna.callback_answers[-1].text) == ("Said again", "Once more")
    finally:
        await dispatcher.stop_polling()
        await polling
    assert emu.rejected == []


# the HTML parser


def test_html_entities_and_nesting():
    text, entities = parse_html(
        '<b>a <i>b</i></b> &lt;&amp;&gt; &#128512; <a href="https://x.org/?a=1&amp;b=2">l</a> '
        '<pre><code class="language-python">x = 1</code></pre> '
        "<blockquote expandable>q</blockquote> "
        '<span class="tg-spoiler">s</span> <tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    assert text == "a b <&> 😀 l x = 1 q s 👍"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 3},
        {"type": "italic", "offset": 2, "length": 1},
        {"type": "text_link", "offset": 11, "length": 1, "url": "https://x.org/?a=1&b=2"},
        {"type": "pre", "offset": 13, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 19, "length": 1},
        {"type": "spoiler", "offset": 21, "length": 1},
        {
            "type": "custom_emoji",
            "offset": 23,
            "length": 2,
            "custom_emoji_id": "5368324170671202286",
        },
    ]


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("<b>x", "Can't find end tag"),
        ("x</b>", "Unexpected end tag"),
        ("<b>x</i>", "Unmatched end tag"),
        ("<br>", 'Unsupported start tag "br"'),
        ("<span>x</span>", 'Unsupported start tag "span"'),
        ("1 < 2", "Unclosed start tag"),
        ("Tom & Jerry", "Character entity expected"),
    ],
)
def test_html_that_telegram_refuses(markup, error):
    with pytest.raises(ValueError, match=error):
        parse_html(markup)


# joining groups: invite links, join requests, members

GROUP = -100777
REQUESTER = 2002
MEMBER_UPDATES = ["message", "chat_join_request", "chat_member"]


async def test_invite_links_are_created_by_an_admin_bot_only(emu, bot, anna):
    group = emu.group(GROUP, title="Parents")
    link = await bot.create_chat_invite_link(GROUP, name="Autumn", creates_join_request=True)
    assert re.fullmatch(r"https://t\.me/\+[A-Za-z0-9_-]{16}", link.invite_link)
    assert (link.creator.id, link.creates_join_request, link.name) == (4242, True, "Autumn")
    assert not link.is_primary and not link.is_revoked
    validate_object("ChatInviteLink", group.invite_links[link.invite_link])
    with pytest.raises(TelegramBadRequest, match="member limit"):
        await bot.create_chat_invite_link(GROUP, creates_join_request=True, member_limit=5)
    group.bot_admin = False
    assert (await bot.get_chat_member(GROUP, 4242)).status == "member"
    with pytest.raises(TelegramBadRequest, match="not enough rights to manage chat invite links"):
        await bot.create_chat_invite_link(GROUP)
    with pytest.raises(TelegramBadRequest, match="not enough rights to manage chat invite links"):
        await bot.create_chat_invite_link(ANNA)
    assert len(group.invite_links) == 1


async def test_an_approved_join_request_makes_a_member(emu, bot):
    group = emu.group(GROUP)
    olga = emu.user(REQUESTER, "Olga", started=False)
    await bot.get_updates(allowed_updates=MEMBER_UPDATES)
    link = await bot.create_chat_invite_link(GROUP, creates_join_request=True)
    olga.request_join(group, link.invite_link)
    [update] = await bot.get_updates(allowed_updates=MEMBER_UPDATES)
    request = update.chat_join_request
    assert (request.chat.id, request.from_user.id, request.user_chat_id) == (GROUP, REQUESTER, REQUESTER)
    assert request.invite_link.invite_link == link.invite_link
    validate_object("Update", emu.updates[-1])
    assert not emu.is_member(group, olga)
    # while the request is pending, the bot may write to the requester first
    await bot.send_message(request.user_chat_id, "Tell us about your child")
    assert olga.last.text == "Tell us about your child"
    assert await bot.approve_chat_join_request(GROUP, REQUESTER)
    assert emu.is_member(group, olga) and REQUESTER in group.members
    assert (await bot.get_chat_member(GROUP, REQUESTER)).status == "member"
    assert group.messages[-1].raw["new_chat_members"][0]["id"] == REQUESTER
    joined, changed = await bot.get_updates(offset=update.update_id + 1)
    assert joined.message.new_chat_members[0].id == REQUESTER
    member = changed.chat_member
    assert (member.old_chat_member.status, member.new_chat_member.status) == ("left", "member")
    assert (member.from_user.id, member.invite_link.invite_link) == (4242, link.invite_link)
    for raw in emu.updates[-2:]:
        validate_object("Update", raw)
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(REQUESTER, "no longer pending")
    olga.leave(group)
    assert not emu.is_member(group, olga)
    assert (await bot.get_chat_member(GROUP, REQUESTER)).status == "left"
    left, gone = await bot.get_updates(offset=changed.update_id + 1)
    assert left.message.left_chat_member.id == REQUESTER
    statuses = (gone.chat_member.old_chat_member.status, gone.chat_member.new_chat_member.status)
    assert statuses == ("member", "left") and gone.chat_member.from_user.id == REQUESTER
    assert emu.rejected == []


async def test_declined_missing_and_stale_join_requests(emu, bot):
    group = emu.group(GROUP)
    olga = emu.user(REQUESTER, "Olga", started=False)
    link = await bot.create_chat_invite_link(GROUP, creates_join_request=True)
    olga.request_join(group, link.invite_link)
    with pytest.raises(AssertionError, match="already has a join request"):
        olga.request_join(group, link.invite_link)
    group.join_requests[REQUESTER]["date"] -= 5 * 60 + 1  # the 5 minutes to write first are over
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(REQUESTER, "too late")
    assert await bot.decline_chat_join_request(GROUP, REQUESTER)
    assert not emu.is_member(group, olga) and group.join_requests == {}
    with pytest.raises(TelegramBadRequest, match="HIDE_REQUESTER_MISSING"):
        await bot.approve_chat_join_request(GROUP, REQUESTER)
    assert emu.rejected[-1][2:] == (400, "Bad Request: HIDE_REQUESTER_MISSING")
    olga.request_join(group, link.invite_link)
    group.bot_admin = False
    with pytest.raises(TelegramBadRequest, match="CHAT_ADMIN_REQUIRED"):
        await bot.approve_chat_join_request(GROUP, REQUESTER)
    kinds = [next(key for key in update if key != "update_id") for update in emu.updates]
    assert kinds == ["chat_join_request", "chat_join_request"]


async def test_a_link_without_requests_lets_users_in_at_once(emu, bot, anna):
    group = emu.group(GROUP)
    link = await bot.create_chat_invite_link(GROUP, name="Open")
    anna.request_join(group, link.invite_link)
    assert emu.is_member(group, anna)
    with pytest.raises(AssertionError, match="already a member"):
        anna.request_join(group, link.invite_link)
    # chat_member updates come only when asked for by name in allowed_updates
    [joined] = await bot.get_updates()
    assert joined.message.new_chat_members[0].id == ANNA
    anna.leave(group)
    [left] = await bot.get_updates(offset=joined.update_id + 1)
    assert left.message.left_chat_member.id == ANNA and not emu.is_member(group, anna)
    revoked = await bot.revoke_chat_invite_link(GROUP, link.invite_link)
    assert revoked.is_revoked
    with pytest.raises(AssertionError, match="was revoked"):
        anna.request_join(group, link.invite_link)
    with pytest.raises(AssertionError, match="is not an invite link"):
        anna.request_join(group, "https://t.me/+unknownunknown123")
    expired = await bot.create_chat_invite_link(GROUP, expire_date=int(time.time()) - 1)
    with pytest.raises(AssertionError, match="has expired"):
        anna.request_join(group, expired.invite_link)


# moderation: the bot's admin rights; deleting, restricting, pinning; forwards, links, reactions

BASIC_GROUP = -777


async def member_of(emu: TelegramEmulator, user_id: int) -> dict:
    status, body = await raw_call(emu, "getChatMember", json={"chat_id": GROUP, "user_id": user_id})
    assert status == 200
    member = body["result"]
    # aiogram requires can_send_welcome_messages, which the spec does not have (yet)
    validate_object("ChatMember", {key: value for key, value in member.items() if key != "can_send_welcome_messages"})
    return member


async def test_the_bot_is_an_administrator_with_its_rights(emu, bot, anna):
    group = emu.group(GROUP)
    me = await member_of(emu, 4242)
    assert me["status"] == "administrator" and not me["can_be_edited"]
    assert all(me[right] for right in ("can_delete_messages", "can_restrict_members", "can_pin_messages", "can_invite_users"))
    group.bot_rights["can_pin_messages"] = False
    assert (await member_of(emu, 4242))["can_pin_messages"] is False
    assert (await bot.get_chat_member(GROUP, 4242)).can_pin_messages is False
    group.bot_rights["can_invite_users"] = False
    with pytest.raises(TelegramBadRequest, match="not enough rights to manage chat invite links"):
        await bot.create_chat_invite_link(GROUP)
    group.bot_admin = False
    assert (await member_of(emu, 4242))["status"] == "member"
    group.bot_rights["can_pin_message"] = False  # a typo is caught, not silently ignored
    with pytest.raises(AssertionError, match="unknown administrator rights"):
        group.bot_may("can_pin_messages")


async def test_deleting_others_messages_needs_the_right(emu, bot, anna):
    group = emu.group(GROUP)
    spam = group.send(anna, "buy now")["message_id"]
    own = (await bot.send_message(GROUP, "Welcome")).message_id
    group.bot_rights["can_delete_messages"] = False
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(GROUP, spam)
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_messages(GROUP, [own, spam])
    assert not group.message(own).deleted  # deleteMessages deletes all or none
    assert await bot.delete_message(GROUP, own)  # its own messages: always
    group.bot_rights["can_delete_messages"] = True
    assert await bot.delete_message(GROUP, spam)
    assert group.message(spam).deleted
    with pytest.raises(AssertionError, match="is not shown"):
        group.shown(spam)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(GROUP, spam)
    group.bot_admin = False
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(GROUP, group.send(anna, "again")["message_id"])
    incoming = anna.send("hi")["message_id"]  # in a private chat the bot deletes anything
    assert await bot.delete_message(ANNA, incoming) and anna.chat.message(incoming).deleted


async def test_a_restricted_member_is_muted_until_the_date(emu, bot, anna):
    group = emu.group(GROUP)
    group.join(anna)
    await bot.get_updates(allowed_updates=MEMBER_UPDATES)
    until = int(time.time()) + 3600
    assert await bot.restrict_chat_member(GROUP, ANNA, ChatPermissions(can_send_messages=False), until_date=until)
    member = await member_of(emu, ANNA)
    assert (member["status"], member["is_member"], member["until_date"]) == ("restricted", True, until)
    assert not member["can_send_messages"] and not member["can_react_to_messages"]
    with pytest.raises(AssertionError, match="user is muted"):
        group.send(anna, "hello?")
    with pytest.raises(AssertionError, match="user is muted"):
        group.forward(anna, "look", from_chat_title="News")
    changed = [update for update in emu.updates if "chat_member" in update][-1]["chat_member"]
    assert (changed["old_chat_member"]["status"], changed["new_chat_member"]["status"]) == ("member", "restricted")
    validate_object("Update", emu.updates[-1])
    group.restrictions[ANNA]["until_date"] = int(time.time()) - 1  # the date has passed
    assert group.send(anna, "I'm back")["text"] == "I'm back"
    assert (await bot.get_chat_member(GROUP, ANNA)).status == "member"
    # sooner than 30 seconds (or later than 366 days): forever; without independence,
    # other messages imply text and media
    await bot.restrict_chat_member(GROUP, ANNA, ChatPermissions(can_send_other_messages=True), until_date=int(time.time()) + 10)
    member = await member_of(emu, ANNA)
    assert member["until_date"] == 0 and member["can_send_messages"] and member["can_send_photos"]
    await bot.restrict_chat_member(GROUP, ANNA, ChatPermissions(can_send_other_messages=True), use_independent_chat_permissions=True)
    assert not (await member_of(emu, ANNA))["can_send_messages"]
    everything = ChatPermissions(**dict.fromkeys(ChatPermissions.model_fields, True))
    await bot.restrict_chat_member(GROUP, ANNA, everything)  # every permission lifts it
    assert (await member_of(emu, ANNA))["status"] == "member" and group.restrictions == {}


async def test_restricting_is_refused_like_telegram(emu, bot, anna):
    group = emu.group(GROUP)
    olga = emu.user(REQUESTER, "Olga")
    group.make_admin(olga)
    emu.group(BASIC_GROUP).join(anna)
    mute = ChatPermissions(can_send_messages=False)
    refusals = [
        (GROUP, REQUESTER, "user is an administrator of the chat"),
        (GROUP, 4242, "can't restrict self"),
        (GROUP, 999, "user not found"),
        (BASIC_GROUP, ANNA, "method is available for supergroup and channel chats only"),
        (ANNA, ANNA, "chat member status can't be changed in private chats"),
    ]
    for chat_id, user_id, error in refusals:
        with pytest.raises(TelegramBadRequest, match=re.escape(error)):
            await bot.restrict_chat_member(chat_id, user_id, mute)
    group.bot_rights["can_restrict_members"] = False
    with pytest.raises(TelegramBadRequest, match="not enough rights to restrict/unrestrict chat member"):
        await bot.restrict_chat_member(GROUP, ANNA, mute)
    assert group.restrictions == {}
    assert emu.rejected[-1][3] == "Bad Request: not enough rights to restrict/unrestrict chat member"


async def test_pinning_needs_the_right_and_leaves_a_service_message(emu, bot, anna):
    group = emu.group(GROUP)
    rules = (await bot.send_message(GROUP, "Rules")).message_id
    news = group.send(anna, "news")["message_id"]
    assert await bot.pin_chat_message(GROUP, rules, disable_notification=True)
    assert group.pinned_message_id == rules and group.last.kind == "service"
    assert group.last.raw["pinned_message"]["message_id"] == rules
    validate_object("Message", group.last.raw)
    await bot.pin_chat_message(GROUP, news)
    assert (group.pinned, group.pinned_message_id) == ([rules, news], news)
    assert await bot.unpin_chat_message(GROUP)  # the most recent one
    assert group.pinned_message_id == rules
    with pytest.raises(TelegramBadRequest, match="message to unpin not found"):
        await bot.unpin_chat_message(GROUP, message_id=news)
    with pytest.raises(TelegramBadRequest, match="message to pin not found"):
        await bot.pin_chat_message(GROUP, 999)
    await bot.delete_message(GROUP, rules)  # a deleted message is no longer pinned
    assert group.pinned_message_id is None
    group.bot_rights["can_pin_messages"] = False
    for pinning in (bot.pin_chat_message(GROUP, news), bot.unpin_chat_message(GROUP), bot.unpin_all_chat_messages(GROUP)):
        with pytest.raises(TelegramBadRequest, match="not enough rights to manage pinned messages in the chat"):
            await pinning
    group.bot_rights["can_pin_messages"], group.bot_admin = True, False
    with pytest.raises(TelegramBadRequest, match="not enough rights to manage pinned messages"):
        await bot.pin_chat_message(GROUP, news)
    # a private chat needs no rights
    anna.send("hi")
    note = (await bot.send_message(ANNA, "Your code: 42")).message_id
    assert await bot.pin_chat_message(ANNA, note) and anna.chat.pinned_message_id == note
    assert await bot.unpin_all_chat_messages(ANNA) and anna.chat.pinned == []


async def test_forwarded_messages_and_links_in_users_text(emu, bot, anna):
    group = emu.group(GROUP)
    olga = emu.user(REQUESTER, "Olga")
    group.forward(anna, "Big sale at https://shop.example/sale!", from_chat_title="News")
    group.forward(anna, "from a chat", from_chat_title="Neighbours", channel=False)
    group.forward(anna, "from Olga", from_user=olga)
    group.forward(anna, "from someone", hidden_user="Someone")
    with pytest.raises(ValueError, match="exactly one"):
        group.forward(anna, "from nowhere")
    updates = await bot.get_updates()
    channel, chat, user, hidden = (update.message.forward_origin for update in updates)
    assert (channel.type, channel.chat.type, channel.chat.title) == ("channel", "channel", "News")
    assert (chat.type, chat.sender_chat.title, user.type, user.sender_user.id) == ("chat", "Neighbours", "user", REQUESTER)
    assert (hidden.type, hidden.sender_user_name) == ("hidden_user", "Someone")
    [link] = updates[0].message.entities
    assert (link.type, link.extract_from(updates[0].message.text)) == ("url", "https://shop.example/sale")
    for raw in emu.updates:
        validate_object("Update", raw)
    sent = group.send(anna, "👋 see https://example.org, (or http://x.org/a_(b)).")
    assert sent["entities"] == [
        {"type": "url", "offset": 7, "length": 19},
        {"type": "url", "offset": 32, "length": 18},
    ]
    # a link the app already formatted (a text_link, code) gets no url entity of its own
    code = {"type": "code", "offset": 0, "length": 15}
    assert anna.send("https://x.org/a and /start")["entities"] == [{"type": "url", "offset": 0, "length": 15}]
    assert anna.send("https://x.org/a", entities=[code])["entities"] == [code]
    assert "entities" not in group.send(anna, "no links here")


async def test_reaction_counts_reach_an_admin_bot_that_asked(emu, bot, anna):
    group = emu.group(GROUP)
    await bot.get_updates(allowed_updates=["message", "message_reaction_count"])
    message = group.send(anna, "Meeting on Friday?")["message_id"]
    group.react(message, "👍", count=3)
    group.react(message, "🔥", count=5)
    _, first, second = await bot.get_updates()
    counted = first.message_reaction_count
    assert (counted.chat.id, counted.message_id) == (GROUP, message)
    assert [(r.type.emoji, r.total_count) for r in counted.reactions] == [("👍", 3)]
    reactions = second.message_reaction_count.reactions
    assert [(r.type.emoji, r.total_count) for r in reactions] == [("🔥", 5), ("👍", 3)]
    validate_object("Update", emu.updates[-1])
    assert group.react(message, "👍", count=0)["reactions"] == [{"type": {"type": "emoji", "emoji": "🔥"}, "total_count": 5}]
    group.bot_admin = False  # only administrators get them
    group.react(message, "🔥", count=6)
    await bot.get_updates(allowed_updates=["message"])  # nor does a bot that did not ask
    group.bot_admin = True
    group.react(message, "🔥", count=7)
    kinds = [next(key for key in update if key != "update_id") for update in emu.updates]
    assert kinds == ["message", "message_reaction_count", "message_reaction_count", "message_reaction_count"]
    assert group.reactions == {message: {"🔥": 7}}


async def test_get_chat_member_count(emu, bot, anna):
    group = emu.group(GROUP)
    olga = emu.user(REQUESTER, "Olga")
    assert await bot.get_chat_member_count(GROUP) == 1  # the bot
    group.join(anna)
    group.join(olga)
    assert await bot.get_chat_member_count(GROUP) == 3
    olga.leave(group)
    assert await bot.get_chat_member_count(GROUP) == 2
    assert await bot.get_chat_member_count(ANNA) == 2
