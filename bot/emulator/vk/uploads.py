"""Uploads: the upload servers photos.getMessagesUploadServer and
docs.getMessagesUploadServer hand out, the POST to them, and photos.saveMessagesPhoto and
docs.save that turn an upload into a stored file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.emulator.vk.acting import VkActing
from bot.emulator.vk.server import endpoint
from bot.emulator.vk.spec import api_error, param_error


@dataclass
class _UploadServer:
    kind: str  # photo | doc
    doc_type: str  # doc | audio_message | graffiti (docs only)
    peer_id: int | None


@dataclass
class _Upload:
    kind: str
    doc_type: str
    data: bytes = dataclasses.field(repr=False)
    filename: str
    server: int


class VkUploads(VkActing):
    """Upload servers, uploads waiting to be saved, and the save methods."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._upload_servers: dict[str, _UploadServer] = {}
        self._uploads: dict[str, _Upload] = {}
        self._secret = secrets.token_bytes(16)

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        super()._add_routes(router)
        router.add_route("*", "/upload/{server}", self._handle_upload)

    def _upload_server(self, kind: str, doc_type: str, peer_id: int | None) -> str:
        token = secrets.token_urlsafe(12)
        self._upload_servers[token] = _UploadServer(kind, doc_type, peer_id)
        return f"{self.base_url}/upload/{token}"

    async def _handle_upload(self, request: web.Request) -> web.Response:
        server = self._upload_servers.get(request.match_info["server"])
        if server is None or request.method != "POST":
            return web.json_response({"error": "Invalid upload URL"})
        with self._running(f"upload {server.kind}"):
            files = await _read_files(request)
        number = int.from_bytes(hashlib.sha1(request.match_info["server"].encode()).digest()[:3])
        if server.kind == "photo":
            # VK takes the field "photo"; vk_api sends file0, file1, ... which VK accepts too
            chosen = [f for name, f in files if name == "photo" or name.startswith("file")]
            tokens = []
            for filename, data in chosen[:5]:
                token = secrets.token_hex(10)
                self._uploads[token] = _Upload("photo", "", data, filename, number)
                tokens.append({"photo": token, "sizes": [], "kid": secrets.token_hex(4)})
            photo = json.dumps(tokens)
            return web.json_response(
                {"server": number, "photo": photo, "hash": self._hash(number, photo)}
            )
        chosen = [f for name, f in files if name == "file"]
        if not chosen:
            return web.json_response({"error": "no_file", "error_descr": "file not found"})
        filename, data = chosen[0]
        token = f"{number}|{secrets.token_hex(12)}"
        self._uploads[token] = _Upload("doc", server.doc_type, data, filename, number)
        return web.json_response({"file": token})

    def _hash(self, server: int, photo: str) -> str:
        return hmac.new(self._secret, f"{server}:{photo}".encode(), hashlib.md5).hexdigest()

    # endpoints

    @endpoint("photos.getMessagesUploadServer")
    async def _photos_get_messages_upload_server(self, params: dict[str, Any]) -> dict[str, Any]:
        peer_id = params.get("peer_id")
        if peer_id:
            self._writable(peer_id)
        return {
            "upload_url": self._upload_server("photo", "", peer_id),
            "album_id": -3,
            "group_id": self.group_id,
            "user_id": 0,
        }

    @endpoint("photos.saveMessagesPhoto")
    async def _photos_save_messages_photo(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        photo, server = params["photo"], params.get("server", 0)
        if params.get("hash") != self._hash(server, photo):
            raise api_error(121)
        try:
            entries = json.loads(photo)
        except ValueError:
            raise param_error("photos_list is invalid") from None
        tokens = [entry.get("photo") for entry in entries if isinstance(entry, dict)]
        uploads = [self._uploads.pop(token, None) if token is not None else None for token in tokens]
        if not uploads or None in uploads:
            raise param_error("photos_list is invalid")
        saved = []
        for upload in uploads:
            assert upload is not None
            ext = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else "jpg"
            stored = self._store_file(
                "photo", -self.group_id, upload.data, title=upload.filename, ext=ext
            )
            saved.append(self._file_object(stored))
        return saved

    @endpoint("docs.getMessagesUploadServer")
    async def _docs_get_messages_upload_server(self, params: dict[str, Any]) -> dict[str, Any]:
        peer_id = params.get("peer_id")
        if peer_id:
            self._writable(peer_id)
        return {"upload_url": self._upload_server("doc", params.get("type", "doc"), peer_id)}

    @endpoint("docs.save")
    async def _docs_save(self, params: dict[str, Any]) -> dict[str, Any]:
        upload = self._uploads.pop(params["file"], None)
        if upload is None:
            raise param_error("file is invalid")
        title = params.get("title") or upload.filename
        ext = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
        kind = upload.doc_type if upload.doc_type in ("audio_message", "graffiti") else "doc"
        ext = ext or {"audio_message": "ogg", "graffiti": "png"}.get(kind, "")
        stored = self._store_file(kind, -self.group_id, upload.data, title=title, ext=ext)
        return {"type": stored.kind, stored.kind: self._file_object(stored)}


async def _read_files(request: web.Request) -> list[tuple[str, tuple[str, bytes]]]:
    """(field name, (file name, data)) of every file part of a multipart upload."""
    if request.content_type != "multipart/form-data":
        return []
    files = []
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            files.append((name, (value.filename or "file", value.file.read())))
    return files
