"""Moving what a user sent (voice, photo, document, video) to a chat on any messenger."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BufferedInputFile, Message

MEDIA_SENDERS = {
    "voice": ("send_voice", "voice.ogg"),
    "photo": ("send_photo", "photo.jpg"),
    "document": ("send_document", "document"),
    "video": ("send_video", "video.mp4"),
}


async def relay(source: Bot, message: Message, target: Bot, chat_id: int, caption: str | None = None) -> Message:
    """Send the message's media (or text) to chat_id through target. Within one messenger the file id
    is reused; across messengers the file is downloaded from one and uploaded to the other."""
    kind = next((kind for kind in MEDIA_SENDERS if getattr(message, kind)), None)
    if kind is None:
        return await target.send_message(chat_id, caption or message.text or "", parse_mode=None)
    media = getattr(message, kind)
    file = media[-1] if kind == "photo" else media  # the largest photo size
    method, default_name = MEDIA_SENDERS[kind]
    if source is not target:
        data = await source.download(file.file_id)
        file_name = getattr(file, "file_name", None) or default_name
        payload = BufferedInputFile(data.read(), filename=file_name)
    else:
        payload = file.file_id
    return await getattr(target, method)(chat_id, payload, caption=caption or message.caption, parse_mode=None)
