"""Files the emulator holds (photos, documents, voice messages, videos, stickers), the
objects VK shows for them, the attachment strings that name them (photo-1_2), and the
download route.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.emulator.vk.server import VkServer
from bot.emulator.vk.spec import param_error

MAX_ATTACHMENTS = 10
ATTACHMENT_RE = re.compile(r"(photo|doc|audio_message|video)(-?\d+)_(\d+)(?:_([0-9A-Za-z]+))?")
# VK's doc type codes by extension: 1 text, 2 archive, 3 gif, 4 image, 5 audio, 6 video,
# 7 e-book, 8 anything else
DOC_TYPES = {
    **dict.fromkeys(("pdf", "doc", "docx", "txt", "rtf", "odt", "xls", "xlsx", "ppt", "pptx"), 1),
    **dict.fromkeys(("zip", "rar", "7z", "tar", "gz"), 2),
    "gif": 3,
    **dict.fromkeys(("jpg", "jpeg", "png", "webp", "bmp"), 4),
    **dict.fromkeys(("mp3", "ogg", "oga", "opus", "wav", "m4a"), 5),
    **dict.fromkeys(("mp4", "avi", "mov", "mkv", "webm"), 6),
    **dict.fromkeys(("epub", "fb2", "djvu"), 7),
}
MIME_TYPES = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
    "webp": "image/webp", "pdf": "application/pdf", "ogg": "audio/ogg", "oga": "audio/ogg",
    "opus": "audio/ogg", "mp3": "audio/mpeg", "mp4": "video/mp4", "txt": "text/plain",
}  # fmt: skip
PHOTO_SIZES = (("s", 75), ("m", 130), ("x", 604), ("y", 807))


@dataclass
class StoredFile:
    """A photo, document, voice message, video or sticker the emulator holds."""

    kind: str  # photo, doc, audio_message, graffiti, video, sticker
    owner_id: int
    id: int
    data: bytes = dataclasses.field(repr=False)
    access_key: str
    title: str
    ext: str
    path: str  # under /files/
    date: int
    attributes: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def mime_type(self) -> str:
        return MIME_TYPES.get(self.ext, "application/octet-stream")


class VkFiles(VkServer):
    """Stored files by (kind, owner, id) and by download path."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._file_ids = itertools.count(457_239_017)
        self._files: dict[tuple[str, int, int], StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        super()._add_routes(router)
        router.add_get("/files/{path:.+}", self._handle_file)

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.Response(status=404, text="404 Not Found")
        return web.Response(body=stored.data, content_type=stored.mime_type)

    def _attachments(self, text: str) -> list[dict[str, Any]]:
        """Attachment objects of an attachment parameter such as photo-1_2,doc-1_3."""
        items = [item.strip() for item in text.split(",") if item.strip()]
        if len(items) > MAX_ATTACHMENTS:
            raise param_error(f"attachment: at most {MAX_ATTACHMENTS} attachments")
        attachments = []
        for item in items:
            match = ATTACHMENT_RE.fullmatch(item)
            if match is None:
                raise param_error(f"attachment {item} is invalid")
            kind, key = match.group(1), match.group(4)
            owner, media = int(match.group(2)), int(match.group(3))
            kinds = ("doc", "audio_message", "graffiti") if kind == "doc" else (kind,)
            stored = next(
                (self._files[(k, owner, media)] for k in kinds if (k, owner, media) in self._files),
                None,
            )
            if stored is None:
                raise param_error(f"attachment {item} is invalid: no such {kind}")
            own = owner == -self.group_id
            if (key or not own) and key != stored.access_key:
                raise param_error(f"attachment {item} is invalid: wrong or missing access key")
            attachments.append(self._attachment(stored))
        return attachments

    def _store_file(
        self, kind: str, owner_id: int, data: bytes, *, title: str, ext: str, **attributes: Any
    ) -> StoredFile:
        file_id = next(self._file_ids)
        secret = secrets.token_hex(6)
        stored = StoredFile(
            kind=kind,
            owner_id=owner_id,
            id=file_id,
            data=data,
            access_key=secrets.token_hex(9),
            title=title,
            ext=ext,
            path=f"{kind}/{owner_id}_{file_id}_{secret}.{ext}",
            date=int(time.time()),
            attributes=attributes,
        )
        self._files[(kind, owner_id, file_id)] = stored
        self._files_by_path[stored.path] = stored
        return stored

    def _file_url(self, stored: StoredFile) -> str:
        return f"{self.base_url}/files/{stored.path}"

    def _attachment(self, stored: StoredFile) -> dict[str, Any]:
        return {"type": stored.kind, stored.kind: self._file_object(stored)}

    def _file_object(self, stored: StoredFile) -> dict[str, Any]:
        """The photo/doc/audio_message/video object VK shows for a stored file."""
        base = {"id": stored.id, "owner_id": stored.owner_id, "access_key": stored.access_key}
        url = self._file_url(stored)
        match stored.kind:
            case "photo":
                sizes = [
                    {"type": kind, "url": url, "width": width, "height": width * 3 // 4}
                    for kind, width in PHOTO_SIZES
                ]
                return base | {
                    "album_id": -3,
                    "date": stored.date,
                    "sizes": sizes,
                    "text": "",
                    "has_tags": False,
                }
            case "doc":
                return base | {
                    "title": stored.title,
                    "size": len(stored.data),
                    "ext": stored.ext,
                    "date": stored.date,
                    "type": DOC_TYPES.get(stored.ext, 8),
                    "url": url,
                }
            case "audio_message":
                duration = stored.attributes.get("duration") or max(1, len(stored.data) // 4000)
                waveform = [(b * 7) % 32 for b in hashlib.sha1(stored.data).digest()][:20]
                return base | _transcribed(stored) | {
                    "duration": duration,
                    "waveform": waveform,
                    "link_ogg": url,
                    "link_mp3": url.rsplit(".", 1)[0] + ".mp3",
                }
            case "graffiti":
                return base | {"url": url, "width": 512, "height": 512}
            case "video":
                return base | {
                    "title": stored.title,
                    "duration": stored.attributes.get("duration", 5),
                    "date": stored.date,
                    "width": 640,
                    "height": 480,
                    "type": "video",
                    "image": [{"url": url, "width": 320, "height": 240}],
                    "player": url,
                }
        raise ValueError(f"unknown file kind {stored.kind}")

    def _sticker(self, sticker_id: int) -> dict[str, Any]:
        path = f"stickers/{sticker_id}.png"
        if path not in self._files_by_path:
            self._files_by_path[path] = StoredFile(
                "sticker", 0, sticker_id, b"\x89PNG emulated sticker", "", "sticker", "png",
                path, int(time.time()),
            )  # fmt: skip
        url = f"{self.base_url}/files/{path}"
        images = [{"url": url, "width": size, "height": size} for size in (64, 128, 256)]
        return {
            "inner_type": "base_sticker_new",
            "product_id": 1,
            "sticker_id": sticker_id,
            "images": images,
            "images_with_background": images,
            "is_allowed": True,
        }


def _transcribed(stored: StoredFile) -> dict[str, Any]:
    """VK's speech-to-text of a voice message, once done. VK's schema
    (messages_audio_message in specs/vk/messages/objects.json) names only transcript_error;
    the API also returns transcript (the text) and transcript_state ("done" when finished),
    which VK's clients and SDKs read (vk-io's IAudioMessageAttachmentPayload, for one)."""
    transcript = stored.attributes.get("transcript")
    return {"transcript": transcript, "transcript_state": "done"} if transcript is not None else {}
