"""Which file a message carries, and moving it to a chat on any messenger."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import BufferedInputFile, Message

from bot.db.models import MediaKind

VOICE = "voice"
RELAYED_KINDS = (VOICE, *MediaKind)  # what a parent's question or a specialist's answer may carry
MEDIA_SENDERS = {
    VOICE: ("send_voice", "voice.ogg"),
    MediaKind.photo: ("send_photo", "photo.jpg"),
    MediaKind.document: ("send_document", "document"),
    MediaKind.video: ("send_video", "video.mp4"),
}


@dataclass(frozen=True)
class Media:
    kind: str  # a MediaKind, or VOICE
    file_id: str
    file_name: str | None = None


def media_of(message: Message, kinds: Iterable[str] = tuple(MediaKind)) -> Media | None:
    """The message's file of one of `kinds` (a campaign's by default); of a photo, its largest size."""
    for kind in kinds:
        found = getattr(message, kind, None)
        if found:
            file = found[-1] if isinstance(found, list) else found
            return Media(kind, file.file_id, getattr(file, "file_name", None))
    return None


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
