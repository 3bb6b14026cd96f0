"""A bot session that turns the Bot API calls handlers make into VK API calls.

Chat ids are VK peer ids, message ids are conversation_message_ids, callback query ids carry
"event_id:user_id:peer_id", and file ids are "vk|<attachment>|<url>". vk_api is synchronous, so
every call runs in a thread. VK counts every call of the community token against one limit (20
requests/s), so every call, replies and bulk sends alike, waits for the session's one pacer first.
"""

from __future__ import annotations

import asyncio
import io
import json
import secrets
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import requests
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    CreateChatInviteLink,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    GetFile,
    GetMe,
    PinChatMessage,
    SendChatAction,
    SendDocument,
    SendMessage,
    SendPhoto,
    SendVideo,
    SendVoice,
    TelegramMethod,
)
from aiogram.types import Chat, ChatInviteLink, Document, File, InlineKeyboardMarkup, InputFile, Message, MessageId, PhotoSize, User, Voice
from vk_api import VkApiGroup, VkUpload
from vk_api.exceptions import ApiError, ApiHttpError
from vk_api.vk_api import VkApiMethod

from bot.delivery.limits import Pacer
from bot.platforms import resolved
from bot.platforms.vk_format import plain_text, vk_keyboard

VK_API_VERSION = "5.199"
GROUP_CHAT_OFFSET = 2_000_000_000
SNACKBAR_LIMIT = 90
RATE_ERRORS = {6, 9, 29}
BATCH_LIMIT = 100  # peer_ids in one messages.send
OUTBOX_RANDOM_IDS = 1 << 30  # random ids at and above this are the outbox's; interactive replies draw below it
UNREACHABLE_ERRORS = {7, 900, 901, 902}
TOKEN_RATE = 20  # VK's limit for a community token: requests per second, all methods together


class UnmappedMethod(RuntimeError):
    """A Bot API method the VK bridge has no VK equivalent for."""


def chat_type(peer_id: int) -> str:
    return "group" if peer_id >= GROUP_CHAT_OFFSET else "private"


def vk_file_id(attachment: str, url: str) -> str:
    return f"vk|{attachment}|{url}"


def parse_file_id(file_id: str) -> tuple[str, str] | None:
    kind, _, rest = file_id.partition("|")
    attachment, _, url = rest.partition("|")
    return (attachment, url) if kind == "vk" and attachment else None


class PacedInThread:
    """The API as VkUpload sees it: VkUpload calls it from its worker thread, so each call takes
    its room in the token's pacer on the event loop first."""

    def __init__(self, api: VkApiGroup, pacer: Pacer, loop: asyncio.AbstractEventLoop) -> None:
        self.api, self.pacer, self.loop = api, pacer, loop

    def method(self, method: str, values: dict[str, Any] | None = None) -> Any:
        asyncio.run_coroutine_threadsafe(self.pacer.take(), self.loop).result()
        try:
            return self.api.method(method, values)
        finally:
            self.loop.call_soon_threadsafe(self.pacer.release)


class VkSession(BaseSession):
    def __init__(self, api: VkApiGroup, group_id: int, rate: float = TOKEN_RATE) -> None:
        super().__init__(api=TelegramAPIServer(base="vk:{method}", file="{path}"))  # file paths are plain URLs
        self.vk, self.group_id = api, group_id
        self.pacer = Pacer(rate)  # the token's: the outbox takes evenly spaced turns, replies take the next room
        self._http: aiohttp.ClientSession | None = None
        self._me: User | None = None
        self.handlers: dict[type, Callable[[Bot, Any], Awaitable[Any]]] = {
            GetMe: self.get_me,
            SendMessage: self.send_message,
            EditMessageText: self.edit_message_text,
            EditMessageReplyMarkup: self.edit_message_reply_markup,
            AnswerCallbackQuery: self.answer_callback_query,
            SendPhoto: self.send_photo,
            SendDocument: self.send_document,
            SendVoice: self.send_voice,
            SendVideo: self.send_video,
            SendChatAction: self.send_chat_action,
            DeleteMessage: self.delete_message,
            GetFile: self.get_file,
            CreateChatInviteLink: self.create_chat_invite_link,
            CopyMessage: self.copy_message,
            PinChatMessage: self.pin_chat_message,
        }

    async def make_request(self, bot: Bot, method: TelegramMethod, timeout: int | None = None) -> Any:  # noqa: ASYNC109 - aiogram's BaseSession signature
        handler = self.handlers.get(type(method))
        if handler is None:
            raise UnmappedMethod(f"the VK bridge cannot map the Bot API method {method.__api_method__}")
        return await handler(bot, method)

    async def call(self, method: TelegramMethod, vk_method: str, **values: Any) -> Any:
        await self.pacer.take()
        try:
            return await self.request(method, vk_method, values)
        finally:
            self.pacer.release()

    async def request(self, method: TelegramMethod, vk_method: str, values: dict[str, Any]) -> Any:
        """One call, not paced: the caller holds its turn of `self.pacer`."""
        values = {key: value for key, value in values.items() if value is not None}
        try:
            return await in_thread(self.vk.method, vk_method, values)
        except ApiError as error:
            if error.code in RATE_ERRORS:
                self.pacer.pause(1)
            raise translate_error(method, error.code, error.error.get("error_msg", "")) from error
        except ApiHttpError as error:
            raise TelegramServerError(method=method, message=f"VK answered HTTP {error.response.status_code}") from error
        except requests.RequestException as error:
            raise TelegramNetworkError(method=method, message=f"VK is unreachable: {error}") from error

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - aiogram's BaseSession signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        async with self._http.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout), raise_for_status=raise_for_status) as response:
            async for chunk in response.content.iter_chunked(chunk_size):
                yield chunk

    # identity

    async def get_me(self, bot: Bot, method: GetMe) -> User:
        if self._me is None:
            answer = await self.call(method, "groups.getById", group_id=self.group_id)
            group = (answer["groups"] if isinstance(answer, dict) else answer)[0]
            self._me = User(id=self.group_id, is_bot=True, first_name=group["name"], username=group.get("screen_name") or f"club{self.group_id}")
        return self._me

    async def create_chat_invite_link(self, bot: Bot, method: CreateChatInviteLink) -> ChatInviteLink:
        """The conversation's own link: VK has no join requests, whoever holds it may join."""
        answer = await self.call(method, "messages.getInviteLink", peer_id=int(method.chat_id), group_id=self.group_id)
        me = await self.get_me(bot, GetMe())
        return ChatInviteLink(invite_link=answer["link"], creator=me, creates_join_request=False, is_primary=True, is_revoked=False)

    async def copy_message(self, bot: Bot, method: CopyMessage) -> MessageId:
        """A message of one conversation shown in another: VK forwards it (its author is kept)."""
        source = {"peer_id": int(method.from_chat_id), "conversation_message_ids": [method.message_id]}
        answer = await self.call(
            method, "messages.send", peer_ids=int(method.chat_id), random_id=secrets.randbelow(OUTBOX_RANDOM_IDS), forward=json.dumps(source),
        )
        entry = answer[0]
        if "error" in entry:
            raise translate_error(method, entry["error"]["code"], entry["error"].get("description", ""))
        return MessageId(message_id=entry["conversation_message_id"])

    async def pin_chat_message(self, bot: Bot, method: PinChatMessage) -> bool:
        await self.call(method, "messages.pin", peer_id=int(method.chat_id), conversation_message_id=method.message_id)
        return True

    # messages

    async def send_message(self, bot: Bot, method: SendMessage) -> Message:
        text = plain_text(method.text, resolved(bot, method.parse_mode))
        return await self.send(bot, method, int(method.chat_id), text, method.reply_markup)

    async def send(self, bot: Bot, method: TelegramMethod, peer_id: int, text: str, markup: Any, attachment: str | None = None, **media: Any) -> Message:
        answer = await self.call(
            method, "messages.send", peer_ids=peer_id, random_id=secrets.randbelow(OUTBOX_RANDOM_IDS), message=text or None,
            attachment=attachment, keyboard=self.keyboard(method, markup), dont_parse_links=1,
        )
        entry = answer[0]
        if "error" in entry:
            raise translate_error(method, entry["error"]["code"], entry["error"].get("description", ""))
        caption_or_text = {"caption": text} if attachment else {"text": text}
        return await self.message(bot, peer_id, entry["conversation_message_id"], markup, **caption_or_text, **media)

    async def send_batch(self, peer_ids: list[int], text: str, markup: Any, attachment: str | None, random_id: int) -> dict[int, int | TelegramAPIError]:
        """One messages.send to up to 100 peers: each peer's conversation_message_id, or its error.
        A retry with the same random_id is not delivered twice: VK de-duplicates per peer.
        The caller holds its turn of `self.pacer`."""
        method = SendMessage(chat_id=peer_ids[0], text=text)  # names the call in errors
        values = dict(
            peer_ids=",".join(map(str, peer_ids)), random_id=random_id, message=plain_text(text, "HTML") or None,
            attachment=attachment, keyboard=self.keyboard(method, markup), dont_parse_links=1,
        )
        answer = await self.request(method, "messages.send", values)
        return {
            entry["peer_id"]: translate_error(method, entry["error"]["code"], entry["error"].get("description", ""))
            if "error" in entry
            else entry["conversation_message_id"]
            for entry in answer
        }

    async def edit_message_text(self, bot: Bot, method: EditMessageText) -> Message:
        peer_id, message_id = addressed(method)
        text = plain_text(method.text, resolved(bot, method.parse_mode))
        await self.edit(method, peer_id, message_id, text, method.reply_markup)
        return await self.message(bot, peer_id, message_id, method.reply_markup, text=text)

    async def edit_message_reply_markup(self, bot: Bot, method: EditMessageReplyMarkup) -> Message:
        peer_id, message_id = addressed(method)
        found = await self.call(method, "messages.getByConversationMessageId", peer_id=peer_id, conversation_message_ids=message_id, group_id=self.group_id)
        if not found["items"]:
            raise TelegramBadRequest(method=method, message="message to edit not found")
        text = found["items"][0]["text"]
        await self.edit(method, peer_id, message_id, text, method.reply_markup)
        return await self.message(bot, peer_id, message_id, method.reply_markup, text=text)

    async def edit(self, method: TelegramMethod, peer_id: int, message_id: int, text: str, markup: Any) -> None:
        empty = json.dumps({"inline": True, "buttons": []})  # as in Telegram, an edit without markup drops the buttons
        await self.call(
            method,
            "messages.edit",
            peer_id=peer_id,
            conversation_message_id=message_id,
            message=text,
            keyboard=self.keyboard(method, markup) or empty,
            dont_parse_links=1,
            keep_forward_messages=1,
        )

    async def delete_message(self, bot: Bot, method: DeleteMessage) -> bool:
        await self.call(method, "messages.delete", peer_id=int(method.chat_id), cmids=method.message_id, delete_for_all=1)
        return True

    async def send_chat_action(self, bot: Bot, method: SendChatAction) -> bool:
        await self.call(method, "messages.setActivity", peer_id=int(method.chat_id), type="typing", group_id=self.group_id)
        return True

    async def answer_callback_query(self, bot: Bot, method: AnswerCallbackQuery) -> bool:
        event_id, user_id, peer_id = method.callback_query_id.split(":")
        event_data = None
        if method.url:
            event_data = {"type": "open_link", "link": method.url}
        elif method.text:
            event_data = {"type": "show_snackbar", "text": method.text[:SNACKBAR_LIMIT]}
        await self.call(
            method,
            "messages.sendMessageEventAnswer",
            event_id=event_id,
            user_id=int(user_id),
            peer_id=int(peer_id),
            event_data=json.dumps(event_data, ensure_ascii=False) if event_data else None,
        )
        return True

    # media

    async def send_photo(self, bot: Bot, method: SendPhoto) -> Message:
        peer_id = int(method.chat_id)
        attachment, url, data = await self.attachment(bot, method, method.photo, "photo")
        if data is not None:
            saved = (await self.upload(method, "photo_messages", data, peer_id=peer_id))[0]
            attachment = f"photo{saved['owner_id']}_{saved['id']}" + (f"_{saved['access_key']}" if saved.get("access_key") else "")
            url = max(saved.get("sizes") or [{}], key=lambda size: size.get("width", 0)).get("url", "")
        photo = [PhotoSize(file_id=vk_file_id(attachment, url), file_unique_id=attachment, width=0, height=0)]
        caption = plain_text(method.caption or "", resolved(bot, method.parse_mode))
        return await self.send(bot, method, peer_id, caption, method.reply_markup, attachment, photo=photo)

    async def send_document(self, bot: Bot, method: SendDocument) -> Message:
        return await self.send_doc(bot, method, method.document, "doc", method.caption)

    async def send_video(self, bot: Bot, method: SendVideo) -> Message:
        return await self.send_doc(bot, method, method.video, "doc", method.caption)  # community tokens cannot upload videos

    async def send_voice(self, bot: Bot, method: SendVoice) -> Message:
        return await self.send_doc(bot, method, method.voice, "audio_message", method.caption)

    async def send_doc(self, bot: Bot, method: SendDocument | SendVideo | SendVoice, file: InputFile | str, doc_type: str, caption: str | None) -> Message:
        peer_id = int(method.chat_id)
        attachment, url, data = await self.attachment(bot, method, file, "doc")
        name = getattr(file, "filename", None) or ("voice.ogg" if doc_type == "audio_message" else "file")
        if data is not None:
            upload = "audio_message" if doc_type == "audio_message" else "document_message"
            extra = {} if doc_type == "audio_message" else {"title": name}
            saved = await self.upload(method, upload, data, peer_id=peer_id, name=name, **extra)
            doc = saved[saved["type"]]
            attachment = f"doc{doc['owner_id']}_{doc['id']}" + (f"_{doc['access_key']}" if doc.get("access_key") else "")
            url = doc.get("url") or doc.get("link_ogg") or ""
        file_id = vk_file_id(attachment, url)
        media = (
            {"voice": Voice(file_id=file_id, file_unique_id=attachment, duration=0)}
            if doc_type == "audio_message"
            else {"document": Document(file_id=file_id, file_unique_id=attachment, file_name=name)}
        )
        text = plain_text(caption or "", resolved(bot, getattr(method, "parse_mode", None)))
        return await self.send(bot, method, peer_id, text, method.reply_markup, attachment, **media)

    async def attachment(self, bot: Bot, method: TelegramMethod, file: InputFile | str, kind: str) -> tuple[str, str, bytes | None]:
        """A VK file id is sent as it is; anything else is read and uploaded."""
        if isinstance(file, str):
            parsed = parse_file_id(file)
            if parsed is None:
                raise TelegramBadRequest(
                    method=method, message=f"wrong file identifier for VK: {file[:40]!r}; pass the file itself to move it between messengers"
                )
            return parsed[0], parsed[1], None
        data = b"".join([chunk async for chunk in file.read(bot)])
        return "", "", data

    async def upload(self, method: TelegramMethod, kind: str, data: bytes, name: str = "photo.jpg", **values: Any) -> Any:
        """VkUpload's `kind` (photo_messages, document_message, audio_message): two API calls, each paced."""
        stream = io.BytesIO(data)
        stream.name = name
        uploads = VkUpload(VkApiMethod(PacedInThread(self.vk, self.pacer, asyncio.get_running_loop())))
        try:
            return await in_thread(getattr(uploads, kind), stream, **values)
        except ApiError as error:
            raise translate_error(method, error.code, error.error.get("error_msg", "")) from error
        except requests.RequestException as error:
            raise TelegramNetworkError(method=method, message=f"VK upload failed: {error}") from error
        finally:
            uploads.http.close()

    async def get_file(self, bot: Bot, method: GetFile) -> File:
        parsed = parse_file_id(method.file_id)
        if parsed is None or not parsed[1]:
            raise TelegramBadRequest(method=method, message="wrong file identifier for VK")
        return File(file_id=method.file_id, file_unique_id=parsed[0], file_path=parsed[1])

    # helpers

    def keyboard(self, method: TelegramMethod, markup: Any) -> str | None:
        try:
            return vk_keyboard(markup)
        except ValueError as error:
            raise TelegramBadRequest(method=method, message=str(error)) from None

    async def message(self, bot: Bot, peer_id: int, message_id: int, markup: Any, **content: Any) -> Message:
        return Message(
            message_id=message_id,
            date=datetime.now(UTC),
            chat=Chat(id=peer_id, type=chat_type(peer_id)),
            from_user=await self.get_me(bot, GetMe()),
            reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
            **content,
        ).as_(bot)


async def in_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """function(*args) in a thread. A cancelled caller still waits for the thread (once): the
    request may be on its way to VK, so the caller's turn of the pacer must last until it is done."""
    thread = asyncio.ensure_future(asyncio.to_thread(function, *args, **kwargs))
    try:
        return await asyncio.shield(thread)
    finally:
        if not thread.done():
            await asyncio.wait([thread])


def translate_error(method: TelegramMethod, code: int, message: str) -> TelegramAPIError:
    """VK error codes as the Bot API errors handlers and senders already know how to treat."""
    text = f"VK error {code}: {message}"
    if code in RATE_ERRORS:
        return TelegramRetryAfter(method=method, message=text, retry_after=1)
    if code in UNREACHABLE_ERRORS:
        return TelegramForbiddenError(method=method, message=text)
    if code == 5:
        return TelegramUnauthorizedError(method=method, message=text)
    if code in (1, 10):
        return TelegramServerError(method=method, message=text)
    return TelegramBadRequest(method=method, message=text)


def addressed(method: EditMessageText | EditMessageReplyMarkup) -> tuple[int, int]:
    """VK edits a message by its chat and number: an inline message (Telegram only) has neither."""
    if method.chat_id is None or method.message_id is None:
        raise TelegramBadRequest(method=method, message="VK edits a message by chat_id and message_id")
    return int(method.chat_id), method.message_id


def vk_session(bot: Bot) -> VkSession:
    """The VK session behind a bot of the VK bridge."""
    if not isinstance(bot.session, VkSession):
        raise TypeError(f"a VK bot runs on a VkSession, not on {type(bot.session).__name__}")
    return bot.session
