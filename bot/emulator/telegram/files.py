"""Files: what users and the bot send (uploads, file_ids, URLs), getFile, and the file
download route; and the Photo/Document/Voice/... objects a message shows for a file.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.emulator.telegram.server import (
    TOKEN_RE,
    Call,
    TelegramServer,
    endpoint,
    error_response,
)
from bot.emulator.telegram.spec import ApiError, Upload, bad_request

MEDIA_ATTRIBUTES = ("duration", "width", "height", "title", "performer", "emoji")


@dataclass(frozen=True)
class MediaKind:
    folder: str
    extension: str
    mime_type: str


MEDIA = {
    "photo": MediaKind("photos", "jpg", "image/jpeg"),
    "document": MediaKind("documents", "bin", "application/octet-stream"),
    "voice": MediaKind("voice", "oga", "audio/ogg"),
    "video": MediaKind("videos", "mp4", "video/mp4"),
    "audio": MediaKind("music", "mp3", "audio/mpeg"),
    "animation": MediaKind("animations", "mp4", "video/mp4"),
    "sticker": MediaKind("stickers", "webp", "image/webp"),
}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes = dataclasses.field(repr=False)
    file_path: str = ""
    file_name: str | None = None
    mime_type: str | None = None
    attributes: dict[str, Any] = dataclasses.field(default_factory=dict)  # duration, width, ...


class TelegramFiles(TelegramServer):
    """The files the emulator holds, by file_id, and how the bot gets them back."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._files: dict[str, StoredFile] = {}
        self._file_numbers = itertools.count(1)

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        super()._add_routes(router)
        router.add_get("/file/bot{token}/{path:.+}", self._handle_file)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if not TOKEN_RE.fullmatch(request.match_info["token"]):
            return error_response(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.file_path == path), None)
        if stored is None:
            return error_response(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.mime_type or MEDIA[stored.kind].mime_type
        )

    def _store_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        attributes: dict[str, Any],
    ) -> StoredFile:
        number = next(self._file_numbers)
        media = MEDIA[kind]
        extension = (
            file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else media.extension
        )
        stored = StoredFile(
            file_id=f"{kind[:2].upper()}AAQ{number}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{number}{secrets.token_urlsafe(6)}",
            kind=kind,
            data=data,
            file_path=f"{media.folder}/file_{number}.{extension}",
            file_name=file_name,
            mime_type=mime_type or media.mime_type,
            attributes={key: attributes[key] for key in MEDIA_ATTRIBUTES if key in attributes},
        )
        self._files[stored.file_id] = stored
        return stored

    def _input_file(self, kind: str, params: dict[str, Any]) -> StoredFile:
        """The file in params[kind]: an upload, a known file_id, or an http(s) URL."""
        value = params[kind]
        if isinstance(value, Upload):
            mime_type = (
                value.content_type if value.content_type != "application/octet-stream" else None
            )
            return self._store_file(
                kind, value.data, file_name=value.filename, mime_type=mime_type, attributes=params
            )
        if value in self._files:
            stored = self._files[value]
            if stored.kind != kind:
                raise bad_request(f"can't use file of type {stored.kind} as {kind}")
            return stored
        if value.startswith(("http://", "https://")):
            file_name = value.rsplit("/", 1)[-1] or None
            return self._store_file(kind, b"", file_name=file_name, attributes=params)
        raise bad_request("wrong file identifier/HTTP URL specified")

    @endpoint("getFile")
    async def _get_file(self, call: Call) -> dict[str, Any]:
        stored = self._files.get(call.params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


def media_content(kind: str, stored: StoredFile) -> dict[str, Any]:
    content = {kind: _media_object(kind, stored)}
    if kind == "animation":  # Telegram adds the file as a document too, for older clients
        content["document"] = _media_object("document", stored)
    return content


def _media_object(kind: str, stored: StoredFile) -> Any:
    """The Photo/Document/Voice/... object of a stored file, with sizes and durations."""
    base = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    named = {"file_name": stored.file_name} if stored.file_name else {}
    params = stored.attributes
    duration = {"duration": params.get("duration", 5)}
    frame = {"width": params.get("width", 640), "height": params.get("height", 480)}
    mime = {"mime_type": stored.mime_type}
    match kind:
        case "photo":
            return [base | {"width": 800, "height": 600}]
        case "document":
            return base | named | mime
        case "voice":
            return base | duration | mime
        case "video" | "animation":
            return base | frame | duration | named | mime
        case "audio":
            tags = {key: params[key] for key in ("title", "performer") if key in params}
            return base | duration | named | mime | tags
        case "sticker":
            sticker = base | {"type": "regular", "width": 512, "height": 512}
            sticker |= {"is_animated": False, "is_video": False}
            return sticker | ({"emoji": params["emoji"]} if "emoji" in params else {})
    raise ValueError(f"unknown media kind {kind}")
