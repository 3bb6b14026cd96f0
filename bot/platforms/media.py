"""Which file a message carries, and moving it to a chat on any messenger."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.types import BufferedInputFile, Document, Message, PhotoSize, Video, Voice

from bot.db.models import MediaKind

VOICE = "voice"
RELAYED_KINDS = (VOICE, *MediaKind)  # what a parent's question or a specialist's answer may carry
MEDIA_SENDERS = {
    VOICE: ("send_voice", "voice.ogg"),
    MediaKind.photo: ("send_photo", "photo.jpg"),
    MediaKind.document: ("send_document", "document"),
    MediaKind.video: ("send_video", "video.mp4"),
}


MEDIA_TYPES: dict[str, type[Voice | PhotoSize | Document | Video]] = {
    VOICE: Voice,
    MediaKind.photo: PhotoSize,  # a photo is a list of its sizes
    MediaKind.document: Document,
    MediaKind.video: Video,
}
TRANSCRIPT = "transcript"  # VK's speech-to-text of a voice note: an extra field of the Voice (bot.platforms.vk_events)
EXTRA_MEDIA = "extra_media"  # a VK message's further attachments: an extra field of the Message, raw Bot API dicts


@dataclass(frozen=True)
class Media:
    kind: str  # a MediaKind, or VOICE
    file_id: str
    file_name: str | None = None
    transcript: str | None = None  # of a voice note, VK's speech-to-text (see transcript_of)


def media_of(message: Message, kinds: Iterable[str] = tuple(MediaKind)) -> Media | None:
    """The message's file of one of `kinds` (a campaign's by default); of a photo, its largest size."""
    for kind in kinds:
        found = getattr(message, kind, None)
        if found:
            return _media(kind, found)
    return None


def all_media_of(message: Message, kinds: Iterable[str] = RELAYED_KINDS) -> list[Media]:
    """Every file of `kinds` the message carries: its own, then the further attachments of a VK
    message. On Telegram at most one: an album arrives there as messages sharing media_group_id."""
    kinds = tuple(kinds)
    own = media_of(message, kinds)
    further = (_extra(raw, kinds) for raw in _extra_fields(message).get(EXTRA_MEDIA) or ())
    return [media for media in (own, *further) if media is not None]


def transcript_of(message: Message) -> str | None:
    """VK's transcript of the message's voice note; None on Telegram, or when VK gave none."""
    return _transcript(message.voice) if message.voice else None


def _media(kind: str, found: Any) -> Media:
    file = found[-1] if isinstance(found, list) else found
    transcript = _transcript(file) if kind == VOICE else None
    return Media(kind, file.file_id, getattr(file, "file_name", None), transcript)


def _extra(raw: Any, kinds: tuple[str, ...]) -> Media | None:
    """The Media of one raw further attachment ({"photo": [...]}, {"voice": {...}}, ...)."""
    if not isinstance(raw, dict):
        return None
    kind = next((kind for kind in kinds if raw.get(kind) and kind in MEDIA_TYPES), None)
    if kind is None:
        return None
    model, value = MEDIA_TYPES[kind], raw[kind]
    return _media(kind, [model.model_validate(size) for size in value] if isinstance(value, list) else model.model_validate(value))


def _transcript(voice: Any) -> str | None:
    text = _extra_fields(voice).get(TRANSCRIPT)
    return text if isinstance(text, str) and text.strip() else None


def _extra_fields(model: Any) -> dict[str, Any]:
    return getattr(model, "model_extra", None) or {}


async def relay(source: Bot, message: Message, target: Bot, chat_id: int, caption: str | None = None) -> Message:
    """Send the message's media (or text) to chat_id through target. Within one messenger the file id
    is reused; across messengers the file is downloaded from one and uploaded to the other."""
    media = media_of(message, RELAYED_KINDS)
    if media is None:
        return await target.send_message(chat_id, caption or message.text or "", parse_mode=None)
    method, default_name = MEDIA_SENDERS[media.kind]
    if source is not target:
        payload: BufferedInputFile | str = BufferedInputFile(await download(source, media.file_id), filename=media.file_name or default_name)
    else:
        payload = media.file_id
    return await getattr(target, method)(chat_id, payload, caption=caption or message.caption, parse_mode=None)


async def download(bot: Bot, file_id: str) -> bytes:
    """The file's content. (Bot.download is typed Optional: it returns None when handed a
    destination to write to, which this does not.)"""
    data = await bot.download(file_id)
    if data is None:
        raise RuntimeError("Bot.download returned no buffer")
    return data.read()
