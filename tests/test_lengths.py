"""Every text the bot sends fits the messenger as the messenger counts it (Telegram: UTF-16 units
of the visible text, 4,096 a message, 1,024 a caption; VK: 4,096 characters of the plain text); a
longer one arrives in parts split between paragraphs, nothing lost; formatting survives."""

from __future__ import annotations

from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.emulator.telegram.parse_mode import parse_html
from bot.lengths import split, utf16_len, visible_text
from tests.conftest import ADMIN_ID
from tests.helpers import TEXTS, button_texts, register, step
from tests.test_broadcasts import last_campaign, open_new_draft
from tests.test_delivery import add_parents, finished

T = TEXTS["en"]
KEYBOARD = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="OK", callback_data="ok")]])


async def send_now(emulator, running_bot, admin) -> None:
    await step(emulator, lambda: admin.click(T("broadcast.do_send")))
    await step(emulator, lambda: admin.click(T("broadcast.do_now")))
    await step(emulator, lambda: admin.click(T("broadcast.do_confirm")))
    await finished(running_bot, (await last_campaign(running_bot)).id)
    await emulator.settle()


async def test_a_command_as_long_as_a_message_gets_a_proper_answer(emulator, running_bot):
    user = emulator.user(8301, language_code="en")
    await register(emulator, user)
    await step(emulator, lambda: user.send("/" + "x" * 4095))
    assert user.last.text == T("fallback.command", command="/" + "x" * 38 + "…")


async def test_a_broadcast_is_measured_by_its_visible_text(emulator, running_bot):
    parents = await add_parents(running_bot, emulator, [8311])
    admin = emulator.user(ADMIN_ID, language_code="en")
    await open_new_draft(emulator, admin)

    await step(emulator, lambda: admin.send("😀" * 2049))  # 2,049 characters, 4,098 UTF-16 units: too long for Telegram
    assert admin.last.text == T("broadcast.text_too_long", limit=4096)

    near = "<" * 4000 + " & " + ">" * 93  # 4,096 visible; its HTML (&lt; ... &gt;) is five times longer
    await step(emulator, lambda: admin.send(near))
    assert "4,096 characters" in admin.last.text  # numbers as the reader's language writes them
    await step(emulator, lambda: admin.click(T("broadcast.do_preview")))
    assert admin.bot_messages[-2].text == near

    await step(emulator, lambda: admin.click(T("broadcast.do_text")))
    await step(emulator, lambda: admin.send("&" * 1000))
    assert "1,000 characters" in admin.last.text
    await send_now(emulator, running_bot, admin)
    assert parents[0].last.text == "&" * 1000


async def test_formatting_with_quotes_in_attributes_survives(emulator, running_bot):
    """A link whose URL holds a quote and a code block whose language does: as Telegram clients make them."""
    parents = await add_parents(running_bot, emulator, [8331])
    admin = emulator.user(ADMIN_ID, language_code="en")
    await open_new_draft(emulator, admin)
    url = 'https://example.org/guide?q="a&b"&lang=<ru>'
    text = 'Read the guide <now>, then run:\nprint("hi & bye")'
    code = 'print("hi & bye")'
    link = {"type": "text_link", "offset": 5, "length": 9, "url": url}
    pre = {"type": "pre", "offset": utf16_len(text) - utf16_len(code), "length": utf16_len(code), "language": 'py"3'}
    bold = {"type": "bold", "offset": 15, "length": 5}
    await step(emulator, lambda: emulator.send_formatted(admin, text, [link, bold, pre]))
    assert "Broadcast draft" in admin.last.text

    emulator.refuse_next_send()  # had the messenger refused it, the coordinator would be told why, then see the card
    await step(emulator, lambda: admin.click(T("broadcast.do_preview")))
    assert admin.bot_messages[-2].text == T("lengths.preview_refused") and "Broadcast draft" in admin.last.text
    await step(emulator, lambda: admin.click(T("broadcast.do_preview")))
    preview = admin.bot_messages[-2]
    await send_now(emulator, running_bot, admin)
    for received in (preview, parents[0].last):
        assert received.text == text
        if emulator.platform == "telegram":
            assert sorted(received.entities, key=lambda entity: entity["offset"]) == [link, bold, pre]


async def test_a_long_text_arrives_in_parts_split_between_paragraphs(emulator, running_bot):
    user = emulator.user(8341, language_code="en")
    await register(emulator, user)
    paragraphs = [f"<b>Part {number}</b> 😀 " + " ".join(["word &amp; more"] * 80) for number in range(12)]  # ~1,000 units each
    paragraphs[3] += " <i>italic across"
    paragraphs[4] = "the split</i> " + paragraphs[4]
    text = "\n\n".join(paragraphs)
    before = len(user.bot_messages)
    await running_bot.bot.send_message(user.id, text, reply_markup=KEYBOARD)
    await emulator.settle()

    parts = user.bot_messages[before:]
    visible = [visible_text(paragraph) for paragraph in paragraphs]
    assert [part.text for part in parts] == ["\n\n".join(visible[start : start + 4]) for start in (0, 4, 8)]
    assert [button_texts(part) for part in parts] == [[], [], ["OK"]]
    if emulator.platform == "telegram":  # the italic is closed at the end of the first part and opened again
        assert parts[0].entities[-1]["type"] == "italic" and parts[1].entities[0] == {"type": "italic", "offset": 0, "length": 9}

    # an edit to a long text: the message shows the first part, the rest follow, the buttons under the last
    short = await running_bot.bot.send_message(user.id, "short", reply_markup=KEYBOARD)
    await emulator.settle()
    count = len(user.bot_messages)
    await running_bot.bot.edit_message_text(text, chat_id=user.id, message_id=short.message_id, reply_markup=KEYBOARD)
    await emulator.settle()
    edited, *rest = user.bot_messages[count - 1 :]
    assert [message.text for message in [edited, *rest]] == [part.text for part in parts]
    assert [button_texts(message) for message in [edited, *rest]] == [[], [], ["OK"]]

    # a caption too long for Telegram (not for VK, which has one limit) goes under the photo as a message
    caption = " ".join(["caption"] * 200)  # 1,599 characters
    count = len(user.bot_messages)
    await running_bot.bot.send_photo(user.id, BufferedInputFile(b"a photo", "photo.jpg"), caption=caption)
    await emulator.settle()
    sent = user.bot_messages[count:]
    if emulator.platform == "telegram":
        assert [message.kind for message in sent] == ["photo", "text"] and sent[0].caption is None and sent[1].text == caption
    else:
        assert len(sent) == 1 and sent[0].text == caption


def test_the_splitter_prefers_paragraphs_then_lines_then_words_and_keeps_every_part_valid():
    lines = "<b>one line</b>\n<i>another &amp; line</i>\n" + "<a href=\"https://example.org/?q=&quot;x&quot;\">a link that is long</a>"
    parts = split(lines, 25, utf16_len)
    assert [visible_text(part) for part in parts] == ["one line\nanother & line", "a link that is long"]
    words = split("<b>" + " ".join(["word"] * 10) + "</b>", 12, utf16_len)
    assert [visible_text(part) for part in words] == ["word word", "word word", "word word", "word word", "word word"]
    assert words[1] == "<b>word word</b>"
    hard = split("<code>" + "x" * 10 + "</code>", 4, utf16_len)  # no space to split at: cut, nothing lost
    assert "".join(visible_text(part) for part in hard) == "x" * 10
    for part in parts + words + hard:
        parse_html(part)  # as strict as Telegram: every tag closed, every & an entity
    assert parse_html(parts[1])[1][0]["url"] == 'https://example.org/?q="x"'
    assert split("😀" * 5, 4, utf16_len) == ["😀😀", "😀😀", "😀"]  # a surrogate pair is never cut
