"""Media the consultations need from both messengers: VK's transcript of a voice note, several media in one
message (a VK message's attachments, a Telegram album), and voice notes that stay voice notes across the bridge.
Each emulator is driven directly, with a bot on it and no dispatcher: the events are converted as the bot would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BufferedInputFile, Message, Update

from bot.emulator.telegram import TelegramEmulator
from bot.emulator.vk import VkEmulator
from bot.platforms.media import VOICE, Media, all_media_of, media_of, relay, transcript_of
from bot.platforms.vk import build_api
from bot.platforms.vk_events import to_update
from bot.platforms.vk_session import VkSession

TELEGRAM_TOKEN = "4242:AAEmulatorMediaBridgeTokenxxxxxxxxxx"
VK_TOKEN = "vk1.a.media-bridge-token"
GROUP = 218000000
ANNA, OLGA = 1001, 5001


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[TelegramEmulator, Bot]]:
    emulator = TelegramEmulator(bot_username="vmeste_test_bot")
    await emulator.start()
    bot = Bot(TELEGRAM_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)))
    yield emulator, bot
    await bot.session.close()
    await emulator.stop()
    assert emulator.rejected == []


@pytest.fixture
async def vk() -> AsyncIterator[tuple[VkEmulator, Bot]]:
    emulator = VkEmulator(group_id=GROUP, screen_name="vmeste_test", token=VK_TOKEN)
    await emulator.start()
    session = VkSession(build_api(VK_TOKEN, emulator.base_url), GROUP)
    session.vk.RPS_DELAY = 0
    bot = Bot(f"{GROUP}:vk-bridge", session=session)
    yield emulator, bot
    await bot.session.close()
    await emulator.stop()
    assert emulator.rejected == []


def vk_message(emulator: VkEmulator, bot: Bot) -> Message:
    """The latest VK event as the message the handlers get."""
    update = to_update(emulator.updates[-1], bot)
    assert update is not None and update.message is not None
    return update.message


def telegram_messages(emulator: TelegramEmulator, bot: Bot, count: int) -> list[Message]:
    updates = [Update.model_validate(raw, context={"bot": bot}) for raw in emulator.updates[-count:]]
    return [update.message for update in updates if update.message is not None]


# VK's transcript of a voice note


async def test_a_vk_voice_note_carries_its_transcript(vk):
    emulator, bot = vk
    olga = emulator.user(OLGA)
    olga.send_voice(duration=4, transcript="My son does not sleep at night")
    message = vk_message(emulator, bot)
    assert message.voice is not None and message.voice.duration == 4
    assert transcript_of(message) == "My son does not sleep at night"
    assert media_of(message, (VOICE,)) == Media(VOICE, message.voice.file_id, None, "My son does not sleep at night")

    olga.send_voice()
    message = vk_message(emulator, bot)
    assert message.voice is not None and transcript_of(message) is None
    assert "transcript" not in (message.voice.model_extra or {})


@pytest.mark.parametrize(
    "fields",
    [
        {"transcript": "", "transcript_state": "done"},
        {"transcript": "   ", "transcript_state": "done"},
        {"transcript": "so far", "transcript_state": "in_progress"},
        {"transcript_error": 3},
        {"transcript_state": "done"},
    ],
)
async def test_a_transcript_not_done_or_empty_is_none(vk, fields):
    _, bot = vk
    audio = {"id": 1, "owner_id": OLGA, "duration": 2, "link_ogg": "https://vk.example/a.ogg", "link_mp3": "https://vk.example/a.mp3", "waveform": []}
    event = {
        "type": "message_new",
        "event_id": "e1",
        "group_id": GROUP,
        "object": {"message": {"date": 1, "from_id": OLGA, "peer_id": OLGA, "text": "", "conversation_message_id": 1,
                               "attachments": [{"type": "audio_message", "audio_message": audio | fields}]}},
    }  # fmt: skip
    update = to_update(event, bot)
    assert update is not None and update.message is not None and update.message.voice is not None
    assert transcript_of(update.message) is None
    assert "transcript" not in (update.message.voice.model_extra or {})


async def test_a_telegram_voice_note_has_no_transcript(telegram):
    emulator, bot = telegram
    emulator.user(ANNA).send_voice()
    [message] = telegram_messages(emulator, bot, 1)
    assert message.voice is not None and transcript_of(message) is None
    assert media_of(message, (VOICE,)).transcript is None


# several media in one message


async def test_a_vk_message_with_three_photos_gives_three_media(vk):
    emulator, bot = vk
    emulator.user(OLGA).send_album(count=3, caption="Three drawings")
    attachments = emulator.updates[-1]["object"]["message"]["attachments"]
    message = vk_message(emulator, bot)
    media = all_media_of(message)
    assert [item.kind for item in media] == ["photo"] * 3
    assert media[0] == media_of(message)  # the message itself is what every handler saw before: the first photo
    assert message.caption == "Three drawings" and message.photo is not None
    photos = [attachment["photo"] for attachment in attachments]
    assert [item.file_id.split("|")[1] for item in media] == [f"photo{p['owner_id']}_{p['id']}_{p['access_key']}" for p in photos]
    assert len((message.model_extra or {})["extra_media"]) == 2
    assert all_media_of(message, kinds=("document",)) == []


async def test_a_vk_message_with_one_medium_has_no_extra_media(vk):
    emulator, bot = vk
    emulator.user(OLGA).send_photo("one")
    message = vk_message(emulator, bot)
    assert "extra_media" not in (message.model_extra or {})
    assert len(all_media_of(message)) == 1


async def test_a_mixed_vk_message_keeps_every_kind(vk):
    emulator, bot = vk
    olga = emulator.user(OLGA)
    olga.send_voice(transcript="see the photo")
    olga.send_photo()
    voice, photo = (event["object"]["message"]["attachments"][0] for event in emulator.updates[-2:])
    event = emulator.updates[-1] | {"event_id": "mixed"}
    event["object"] = {"message": event["object"]["message"] | {"attachments": [photo, voice]}}
    update = to_update(event, bot)
    assert update is not None and update.message is not None
    media = all_media_of(update.message)
    assert [item.kind for item in media] == ["photo", VOICE]
    assert media[1].transcript == "see the photo"
    assert transcript_of(update.message) is None  # the message's own medium is the photo


async def test_a_telegram_album_is_messages_sharing_a_media_group(telegram):
    emulator, bot = telegram
    emulator.user(ANNA).send_album(count=2, caption="Two drawings")
    first, second = telegram_messages(emulator, bot, 2)
    assert first.media_group_id is not None and first.media_group_id == second.media_group_id
    assert (first.caption, second.caption) == ("Two drawings", None)
    assert [len(all_media_of(message)) for message in (first, second)] == [1, 1]
    assert all_media_of(first)[0].file_id != all_media_of(second)[0].file_id


# voice notes stay voice notes


async def test_the_bot_sends_voice_notes_as_voice_notes(vk, telegram):
    vk_emulator, vk_bot = vk
    telegram_emulator, telegram_bot = telegram
    olga, anna = vk_emulator.user(OLGA), telegram_emulator.user(ANNA)

    sent = await vk_bot.send_voice(OLGA, BufferedInputFile(b"OggS bot voice", "answer.ogg"))
    assert sent.voice is not None and olga.last.kind == "audio_message"
    assert (await vk_bot.download(sent.voice.file_id)).read() == b"OggS bot voice"
    again = await vk_bot.send_voice(OLGA, sent.voice.file_id)  # by file id
    assert again.voice is not None and olga.last.kind == "audio_message"

    sent = await telegram_bot.send_voice(ANNA, BufferedInputFile(b"OggS bot voice", "answer.ogg"))
    assert sent.voice is not None and anna.last.kind == "voice"


async def test_relay_keeps_a_voice_note_a_voice_note_both_ways(vk, telegram):
    vk_emulator, vk_bot = vk
    telegram_emulator, telegram_bot = telegram
    olga, anna = vk_emulator.user(OLGA), telegram_emulator.user(ANNA)

    olga.send_voice(duration=4, data=b"OggS from VK", transcript="a question")
    sent = await relay(vk_bot, vk_message(vk_emulator, vk_bot), telegram_bot, ANNA, caption="From a parent on VK")
    assert sent.voice is not None and anna.last.kind == "voice" and anna.last.caption == "From a parent on VK"
    assert (await telegram_bot.download(sent.voice.file_id)).read() == b"OggS from VK"

    anna.send_voice(duration=5, data=b"OggS from Telegram")
    [answer] = telegram_messages(telegram_emulator, telegram_bot, 1)
    sent = await relay(telegram_bot, answer, vk_bot, OLGA)
    assert sent.voice is not None and olga.last.kind == "audio_message"
    assert (await vk_bot.download(sent.voice.file_id)).read() == b"OggS from Telegram"

    sent = await relay(vk_bot, vk_message(vk_emulator, vk_bot), vk_bot, OLGA)  # same messenger: by file id
    assert sent.voice is not None and olga.last.kind == "audio_message"
