"""Users and chats on the emulator's side: the ones it knows (user, group, chat), the
events their actions queue (messages, button presses, allowing and denying messages,
joining a chat by its invite link and leaving it), and which conversations the
community may write to.
"""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

from bot.emulator.common import find_button, sample_data
from bot.emulator.vk.chats import CHAT_PEER_START, ChatMessage, VkChat, VkGroupChat
from bot.emulator.vk.content import Forward, foreign, forwarded, link_snippet
from bot.emulator.vk.files import MAX_ATTACHMENTS, VkFiles
from bot.emulator.vk.longpoll import VkLongPoll
from bot.emulator.vk.spec import api_error, param_error
from bot.emulator.vk.users import CallbackAnswer, VkUser

BUTTON_ACTIONS = [
    "text", "vkpay", "open_app", "location", "open_link", "callback",
    "intent_subscribe", "intent_unsubscribe",
]  # fmt: skip
INVITE_LINK_PREFIX = "https://vk.me/join/"


class VkActing(VkLongPoll, VkFiles):
    """The users and chats, and what they send the community."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._users: dict[int, VkUser] = {}
        self._chats: dict[int, VkChat] = {}
        self._message_ids = itertools.count(1)
        self._versions = itertools.count(10_000_001)
        self._answers: dict[str, CallbackAnswer] = {}
        self._invite_links: dict[str, VkGroupChat] = {}  # the links that work now

    # users and chats

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        *,
        screen_name: str | None = None,
        sex: int = 0,
        allowed: bool = True,
    ) -> VkUser:
        """The user with this id, created on first use. allowed=False: never wrote to the
        community nor allowed its messages, so sends to them fail with 901."""
        if not 0 < user_id < CHAT_PEER_START:
            raise ValueError("VK user ids are positive and below 2000000000")
        if user_id not in self._users:
            raw = {
                "id": user_id,
                "first_name": first_name or f"User{user_id}",
                "last_name": last_name or "Test",
                "can_access_closed": True,
                "is_closed": False,
                "screen_name": screen_name or f"id{user_id}",
                "sex": sex,
            }
            user = VkUser(self, raw, allowed)
            self._users[user_id] = user
            self._chats[user_id] = user.chat
        return self._users[user_id]

    def group(
        self,
        chat_id: int,
        title: str = "Chat",
        *,
        bot_member: bool = True,
        bot_admin: bool = True,
    ) -> VkGroupChat:
        """The multi-user chat with this local id (or its peer id, 2000000000 + id)."""
        if chat_id >= CHAT_PEER_START:
            chat_id -= CHAT_PEER_START
        if chat_id <= 0:
            raise ValueError("VK chat ids are positive (peer_id = 2000000000 + chat id)")
        peer_id = CHAT_PEER_START + chat_id
        if peer_id not in self._chats:
            self._chats[peer_id] = VkGroupChat(self, chat_id, title, bot_member, bot_admin)
        chat = self._chats[peer_id]
        assert isinstance(chat, VkGroupChat)
        return chat

    def chat(self, peer_id: int) -> VkChat:
        return self._chats[peer_id]

    def expire_button_presses(self) -> None:
        """The message events not answered yet can no longer be, as after VK's minute for
        messages.sendMessageEventAnswer passed: answering one is refused."""
        for event_id in [event_id for event_id, answer in self._answers.items() if not answer.answered]:
            del self._answers[event_id]

    # invite links (messages.getInviteLink) and who is in a chat

    def _invite_link(self, chat: VkGroupChat, reset: bool) -> str:
        """The chat's invite link; reset makes a new one, and the old one stops working."""
        if chat.invite_link is None or reset:
            self._invite_links.pop(chat.invite_link or "", None)
            chat.invite_link = INVITE_LINK_PREFIX + secrets.token_urlsafe(18)
            self._invite_links[chat.invite_link] = chat
        return chat.invite_link

    def _join_by_link(self, user: VkUser, link: str) -> dict[str, Any]:
        chat = self._invite_links.get(link)
        if chat is None:
            raise AssertionError(
                f"{link!r} is no chat's invite link: never given by messages.getInviteLink, "
                "or replaced since (reset=1)"
            )
        if user.id in chat.members:
            raise AssertionError(f"user {user.id} is already a member of peer {chat.peer_id}")
        return chat.join(user)

    def _leave_chat(self, user: VkUser, chat: VkGroupChat | int) -> dict[str, Any]:
        if isinstance(chat, int):
            peer_id = chat if chat >= CHAT_PEER_START else CHAT_PEER_START + chat
            found = self._chats.get(peer_id)
            if not isinstance(found, VkGroupChat):
                raise AssertionError(f"no chat with peer_id {peer_id}")
            chat = found
        if user.id not in chat.members:
            raise AssertionError(f"user {user.id} is not a member of peer {chat.peer_id}")
        return chat.leave(user)

    # users acting

    def _base_message(self, chat: VkChat, from_id: int) -> dict[str, Any]:
        return {
            "date": int(time.time()),
            "from_id": from_id,
            "id": next(self._message_ids) if chat.is_private else 0,
            "out": 0,
            "version": next(self._versions),
            "attachments": [],
            "conversation_message_id": 0,
            "fwd_messages": [],
            "important": False,
            "is_hidden": False,
            "peer_id": chat.peer_id,
            "random_id": 0,
            "text": "",
        }

    def _user_message(
        self,
        chat: VkChat,
        user: VkUser,
        content: dict[str, Any],
        reply_to: int | None = None,
        forward: Iterable[Forward] = (),
        link_preview: bool = False,
    ) -> dict[str, Any]:
        """forward: fwd_messages (see content.Forward); link_preview: the "link" attachment
        VK makes of the first link in the text."""
        if chat.is_private:
            user.allowed = True  # writing to a community allows its replies
        raw = self._base_message(chat, user.id) | content
        raw["fwd_messages"] = forwarded(user.id, forward)
        snippet = link_snippet(raw["text"]) if link_preview else None
        if snippet is not None:
            raw["attachments"] = [*raw["attachments"], snippet]
        if reply_to is not None:
            raw["reply_message"] = self._quoted(chat, reply_to)
        message = chat._add(raw, from_bot=False)
        if not isinstance(chat, VkGroupChat) or chat.bot_member:
            self._enqueue("message_new", {"message": message.raw, "client_info": _client_info()})
        return copy.deepcopy(message.raw)

    def _service_message(
        self, chat: VkGroupChat, user: VkUser | None, action: dict[str, Any]
    ) -> dict[str, Any]:
        raw = self._base_message(chat, user.id if user else 0) | {"action": action}
        message = chat._add(raw, from_bot=False)
        if chat.bot_member:
            self._enqueue("message_new", {"message": message.raw, "client_info": _client_info()})
        return copy.deepcopy(message.raw)

    def _user_media(
        self,
        chat: VkChat,
        user: VkUser,
        kind: str,
        data: bytes | None,
        caption: str,
        *,
        file_name: str | None = None,
        duration: int | None = None,
        sticker_id: int | None = None,
        transcript: str | None = None,
    ) -> dict[str, Any]:
        if kind == "sticker":
            attachment = {"type": "sticker", "sticker": self._sticker(sticker_id or 9010)}
        else:
            details = {"duration": duration, "transcript": transcript}
            attributes = {key: value for key, value in details.items() if value is not None}
            attachment = self._user_file(user, kind, data, file_name, attributes)
        return self._user_message(chat, user, {"text": caption, "attachments": [attachment]})

    def _user_album(
        self, chat: VkChat, user: VkUser, count: int, caption: str
    ) -> dict[str, Any]:
        if not 1 <= count <= MAX_ATTACHMENTS:
            raise ValueError(f"a VK message carries 1 to {MAX_ATTACHMENTS} attachments")
        photos = [self._user_file(user, "photo", None, None, {}) for _ in range(count)]
        return self._user_message(chat, user, {"text": caption, "attachments": photos})

    def _user_file(
        self,
        user: VkUser,
        kind: str,
        data: bytes | None,
        file_name: str | None,
        attributes: dict[str, Any],
    ) -> dict[str, Any]:
        """The attachment of a file the user sends, stored as theirs."""
        data = sample_data(kind, data)
        ext = {"photo": "jpg", "audio_message": "ogg", "video": "mp4"}.get(kind, "pdf")
        if file_name and "." in file_name:
            ext = file_name.rsplit(".", 1)[1].lower()
        stored = self._store_file(
            kind, user.id, data, title=file_name or f"{kind}.{ext}", ext=ext, **attributes
        )
        return self._attachment(stored)

    def _quoted(self, chat: VkChat, conversation_message_id: int) -> dict[str, Any]:
        replied = chat.message(conversation_message_id)
        if replied is None or replied.deleted:
            raise AssertionError(
                f"no message {conversation_message_id} to reply to in peer {chat.peer_id}"
            )
        return foreign(replied.raw, with_id=True)

    def _user_click(
        self, chat: VkChat, user: VkUser, target: Any, message: ChatMessage | int | None
    ) -> str:
        candidates = [chat.shown(message)] if message is not None else chat.bot_messages[::-1]
        found = find_button(candidates, lambda button: _matches(button, target))
        if found is not None:
            candidate, button = found
            return self._press(chat, user, candidate, button, inline=True)
        if message is None and chat.keyboard_raw:
            for row in chat.keyboard_raw["buttons"]:
                for button in row:
                    if _matches(button, target):
                        return self._press(chat, user, None, button, inline=False)
        shown = next((m.buttons for m in candidates if m.inline_keyboard), [])
        raise AssertionError(
            f"no button {target!r} in peer {chat.peer_id}; latest inline buttons: {shown}; "
            f"keyboard: {chat.keyboard}"
        )

    def _press(
        self,
        chat: VkChat,
        user: VkUser,
        message: ChatMessage | None,
        button: dict[str, Any],
        inline: bool,
    ) -> str:
        action = button["action"]
        payload = action.get("payload")
        if action["type"] == "callback":
            cmid = message.conversation_message_id if message else None
            return self._message_event(chat, user, cmid, _decode(payload))
        if action["type"] != "text":
            raise AssertionError(f"button {action.get('label')!r} is a {action['type']} button")
        if not inline and chat.keyboard_raw and chat.keyboard_raw.get("one_time"):
            chat.keyboard_raw = None
        content: dict[str, Any] = {"text": action["label"]}
        if payload is not None:
            content["payload"] = payload
        if isinstance(chat, VkGroupChat):
            chat.members.add(user.id)
        queued = len(self.updates)
        self._user_message(chat, user, content)
        return self.updates[-1]["event_id"] if len(self.updates) > queued else ""

    def _user_click_payload(
        self, chat: VkChat, user: VkUser, payload: Any, message: ChatMessage | int | None
    ) -> str:
        target = chat.last if message is None else chat.shown(message)
        if isinstance(payload, str):
            payload = _decode(payload)
        return self._message_event(chat, user, target.conversation_message_id, payload)

    def _message_event(
        self, chat: VkChat, user: VkUser, cmid: int | None, payload: Any
    ) -> str:
        event_id = secrets.token_hex(6)
        answer = CallbackAnswer(event_id, payload, user.id, chat.peer_id, cmid)
        self._answers[event_id] = answer
        user.callback_answers.append(answer)
        obj: dict[str, Any] = {
            "user_id": user.id,
            "peer_id": chat.peer_id,
            "event_id": event_id,
            "payload": payload,
        }
        if cmid is not None:
            obj["conversation_message_id"] = cmid
        self._enqueue("message_event", obj)
        return event_id

    def _set_allowed(self, user: VkUser, allowed: bool, key: str) -> dict[str, Any]:
        user.allowed = allowed
        user.denied = not allowed
        if allowed:
            obj = {"user_id": user.id, "key": key}
            self._enqueue("message_allow", obj)
        else:
            obj = {"user_id": user.id}
            self._enqueue("message_deny", obj)
        return obj

    # where the community may write

    def _writable(self, peer_id: int) -> VkChat:
        """The conversation a message may go to, or the error VK answers."""
        if peer_id >= CHAT_PEER_START:
            chat = self._chats.get(peer_id)
            if not isinstance(chat, VkGroupChat) or not chat.bot_member:
                raise api_error(917, rejected=False)
            return chat
        if peer_id <= 0:
            raise param_error(f"peer_id {peer_id} is not a user or a chat")
        user = self._users.get(peer_id)
        if user is None or not user.allowed or user.denied:
            raise api_error(901, rejected=False)
        if user.blocked_code is not None:
            raise api_error(user.blocked_code, rejected=False)
        return user.chat


def _client_info() -> dict[str, Any]:
    return {
        "button_actions": list(BUTTON_ACTIONS),
        "keyboard": True,
        "inline_keyboard": True,
        "carousel": True,
        "lang_id": 0,
    }


def _decode(payload: Any) -> Any:
    """A button payload as VK delivers it in message_event: the decoded JSON."""
    if not isinstance(payload, str):
        return payload
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def _matches(button: dict[str, Any], target: Any) -> bool:
    action = button["action"]
    payload = action.get("payload")
    if isinstance(target, str):
        return target in (action.get("label"), payload)
    return payload is not None and _decode(payload) == target
