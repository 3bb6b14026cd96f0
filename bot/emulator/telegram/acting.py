"""Users and chats on the emulator's side: the ones it knows (user, group, chat), the
updates their actions queue (messages, edits, button presses, blocking the bot), and
the Bot API method that looks a chat up (getChat).
"""

from __future__ import annotations

import copy
import itertools
import time
from typing import Any

from bot.emulator.common import find_button, sample_data
from bot.emulator.telegram.files import TelegramFiles, media_content
from bot.emulator.telegram.parse_mode import detected_entities
from bot.emulator.telegram.server import Call, endpoint
from bot.emulator.telegram.spec import ApiError, bad_request
from bot.emulator.telegram.updates import TelegramUpdates
from bot.emulator.telegram.users import (
    CallbackAnswer,
    ChatMessage,
    EmulatedChat,
    EmulatedGroup,
    EmulatedUser,
)

MIN_ALBUM, MAX_ALBUM = 2, 10


class TelegramActing(TelegramUpdates, TelegramFiles):
    """The users and chats, and what they send the bot."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._users: dict[int, EmulatedUser] = {}
        self._chats: dict[int, EmulatedChat] = {}
        self._queries: dict[str, CallbackAnswer] = {}
        self._query_numbers = itertools.count(1)
        self._media_groups = itertools.count(13_572_468_135_792_468)

    # users and chats

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        started: bool = True,
    ) -> EmulatedUser:
        """The user with this id, created on first use. started=False: never wrote to the bot."""
        if user_id not in self._users:
            raw = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
            optional = {
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
            }
            raw |= {key: value for key, value in optional.items() if value is not None}
            user = EmulatedUser(self, raw, started)
            self._users[user_id] = user
            self._chats[user_id] = user.chat
        return self._users[user_id]

    def group(
        self, chat_id: int, title: str = "Group", *, username: str | None = None
    ) -> EmulatedGroup:
        """The group with this (negative) id; -100... ids are supergroups, as in Telegram."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id not in self._chats:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            raw = {"id": chat_id, "type": kind, "title": title}
            if username:
                raw["username"] = username
            self._chats[chat_id] = EmulatedGroup(self, raw)
        chat = self._chats[chat_id]
        assert isinstance(chat, EmulatedGroup)
        return chat

    def chat(self, chat_id: int) -> EmulatedChat:
        return self._chats[chat_id]

    def expire_button_presses(self) -> None:
        """The presses not answered yet can no longer be, as after Telegram's window for
        answerCallbackQuery passed: answering one is refused as "query is too old"."""
        for query_id in [query_id for query_id, answer in self._queries.items() if not answer.answered]:
            del self._queries[query_id]

    # users acting

    def _user_text(
        self,
        chat: EmulatedChat,
        user: EmulatedUser,
        text: str,
        reply_to: int | None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if found := detected_entities(text, entities):
            content["entities"] = found
        if reply_to is not None:
            content["reply_to_message"] = self._reply_copy(chat, reply_to)
        return self._user_message(chat, user, content)

    def _user_media(
        self,
        chat: EmulatedChat,
        user: EmulatedUser,
        kind: str,
        data: bytes | None,
        caption: str | None,
        **details: Any,
    ) -> dict[str, Any]:
        data = sample_data(kind, data)
        file_name = details.pop("file_name", None)
        stored = self._store_file(kind, data, file_name=file_name, attributes=details)
        content = media_content(kind, stored)
        if caption:
            content["caption"] = caption
        return self._user_message(chat, user, content)

    def _user_album(
        self,
        chat: EmulatedChat,
        user: EmulatedUser,
        count: int,
        caption: str | None,
        kinds: tuple[str, ...],
    ) -> list[dict[str, Any]]:
        chosen = [kinds[index % len(kinds)] for index in range(count)] if kinds else []
        check_album(chosen)
        group_id = str(next(self._media_groups))
        sent = []
        for index, kind in enumerate(chosen):
            stored = self._store_file(kind, sample_data(kind, None), attributes={})
            content = media_content(kind, stored) | {"media_group_id": group_id}
            if caption and index == 0:
                content["caption"] = caption
            sent.append(self._user_message(chat, user, content))
        return sent

    def _user_message(
        self, chat: EmulatedChat, user: EmulatedUser, content: dict[str, Any]
    ) -> dict[str, Any]:
        if chat.is_private:
            user.started = True
        message = chat._add(user.raw, content, from_bot=False)
        if self._reaches_bot(chat, message):
            self._enqueue("message", message.raw)
        return copy.deepcopy(message.raw)

    def _reaches_bot(self, chat: EmulatedChat, message: ChatMessage) -> bool:
        """Privacy mode: in groups only commands, replies to the bot and service messages."""
        if chat.is_private or not self.privacy_mode:
            return True
        replied = message.raw.get("reply_to_message", {})
        return (
            (message.text or "").startswith("/")
            or replied.get("from", {}).get("id") == self.bot_id
            or message.kind == "service"
        )

    def _user_edit(
        self, chat: EmulatedChat, user: EmulatedUser, message_id: int, text: str
    ) -> dict[str, Any]:
        message = chat.message(message_id)
        if message is None or message.from_bot or message.raw["from"]["id"] != user.id:
            raise AssertionError(f"{user} has no message {message_id} in chat {chat.id}")
        message.raw["text"] = text
        message.raw.pop("entities", None)
        if found := detected_entities(text):
            message.raw["entities"] = found
        message.raw["edit_date"] = int(time.time())
        message.edited = True
        self._enqueue("edited_message", message.raw)
        return copy.deepcopy(message.raw)

    def _user_click(
        self,
        chat: EmulatedChat,
        user: EmulatedUser,
        target: str,
        message: ChatMessage | int | None,
    ) -> str:
        candidates = [chat.shown(message)] if message is not None else chat.bot_messages[::-1]
        found = find_button(
            candidates, lambda button: target in (button["text"], button.get("callback_data"))
        )
        if found is not None:
            candidate, button = found
            if "callback_data" not in button:
                raise AssertionError(f"button {target!r} is not a callback button: {button}")
            return self._callback_query(chat, user, candidate, button["callback_data"])
        shown = next((m.buttons for m in candidates if m.inline_keyboard), [])
        raise AssertionError(
            f"no inline button {target!r} in chat {chat.id}; latest buttons: {shown}"
        )

    def _user_click_data(
        self, chat: EmulatedChat, user: EmulatedUser, data: str, message: ChatMessage | int | None
    ) -> str:
        target = chat.last if message is None else chat.shown(message)
        return self._callback_query(chat, user, target, data)

    def _callback_query(
        self, chat: EmulatedChat, user: EmulatedUser, message: ChatMessage, data: str
    ) -> str:
        query_id = f"{user.id}{next(self._query_numbers):06d}"
        answer = CallbackAnswer(query_id, data)
        self._queries[query_id] = answer
        user.callback_answers.append(answer)
        query = {
            "id": query_id,
            "from": user.raw,
            "message": message.raw,
            "chat_instance": f"{abs(chat.id) * 7919 % 10**12}",
            "data": data,
        }
        self._enqueue("callback_query", query)
        return query_id

    def _set_blocked(self, user: EmulatedUser, blocked: bool, notify: bool = True) -> None:
        if user.blocked == blocked:
            return
        user.blocked = blocked
        if not notify:
            return
        bot = {"status": "member", "user": self._bot_user()}
        banned = {"status": "kicked", "user": self._bot_user(), "until_date": 0}
        old, new = (bot, banned) if blocked else (banned, bot)
        update = {
            "chat": user.chat.raw,
            "from": user.raw,
            "date": int(time.time()),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        self._enqueue("my_chat_member", update)

    # finding chats for endpoints

    def _chat(self, chat_id: int | str) -> EmulatedChat:
        if isinstance(chat_id, str):
            username = chat_id.removeprefix("@")
            chat = next(
                (c for c in self._chats.values() if c.raw.get("username") == username), None
            )
        else:
            chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _writable_chat(self, chat_id: int | str) -> EmulatedChat:
        chat = self._chat(chat_id)
        user = self._users.get(chat.id) if chat.is_private else None
        if user is not None and user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if user is not None and not self._may_initiate(user):
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _may_initiate(self, user: EmulatedUser) -> bool:
        """Whether the bot may write to the user first: once they have written to it."""
        return user.started

    def _reply_copy(self, chat: EmulatedChat, message_id: int) -> dict[str, Any]:
        replied = chat.message(message_id)
        if replied is None or replied.deleted:
            raise AssertionError(f"no message {message_id} to reply to in chat {chat.id}")
        return quoted(replied.raw)

    @endpoint("getChat")
    async def _get_chat(self, call: Call) -> dict[str, Any]:
        chat = self._chat(call.params["chat_id"])
        return chat.raw | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }


def check_album(kinds: list[str]) -> None:
    """Telegram's rules for a media group (sendMediaGroup): 2-10 items; photos and videos
    mix, documents and audio files are grouped only with their own kind."""
    if not MIN_ALBUM <= len(kinds) <= MAX_ALBUM:
        raise ValueError(f"an album has {MIN_ALBUM} to {MAX_ALBUM} items")
    groups = {"photo": "visual", "video": "visual", "document": "document", "audio": "audio"}
    unknown = sorted(set(kinds) - groups.keys())
    if unknown:
        raise ValueError(f"an album cannot carry {unknown[0]}")
    if len({groups[kind] for kind in kinds}) > 1:
        raise ValueError(f"an album cannot mix {sorted(set(kinds))}")


def quoted(raw: dict[str, Any]) -> dict[str, Any]:
    """A message as reply_to_message shows it: without its own reply."""
    return {key: value for key, value in raw.items() if key != "reply_to_message"}
