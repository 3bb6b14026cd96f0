"""What tests hold, part one: conversations (a user's private one, multi-user chats) and
their messages. A chat member's actions go through the emulator (acting.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bot.emulator.common import EmulatedChatBase

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bot.emulator.vk.acting import VkActing
    from bot.emulator.vk.content import Forward
    from bot.emulator.vk.users import VkUser

CHAT_PEER_START = 2_000_000_000


class ChatMessage:
    """One message of a conversation, in its current state (edits applied)."""

    def __init__(self, raw: dict[str, Any], from_bot: bool) -> None:
        self.raw = raw
        self.from_bot = from_bot
        self.deleted = False  # deleted for everybody: the user no longer sees it
        self.deleted_for_bot = False  # deleted for the community only: the user still sees it
        self.edited = False

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else "user"
        return f"<ChatMessage {self.message_id} from {who} {self.kind}: {self.text!r}>"

    @property
    def message_id(self) -> int:
        """The conversation_message_id: what identifies a message in every kind of chat."""
        return self.raw["conversation_message_id"]

    @property
    def conversation_message_id(self) -> int:
        return self.raw["conversation_message_id"]

    @property
    def id(self) -> int:
        """The community-wide message id; 0 in multi-user chats, as VK gives bots there."""
        return self.raw["id"]

    @property
    def peer_id(self) -> int:
        return self.raw["peer_id"]

    @property
    def chat_id(self) -> int:
        return self.raw["peer_id"]

    @property
    def text(self) -> str:
        return self.raw.get("text", "")

    @property
    def caption(self) -> str | None:
        """The text of a message with attachments (VK has no separate caption)."""
        return (self.text or None) if self.attachments else None

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return self.raw.get("attachments", [])

    @property
    def payload(self) -> str | None:
        return self.raw.get("payload")

    @property
    def forwarded(self) -> list[str]:
        """Texts of the messages forwarded into this one (raw["fwd_messages"]), in order."""
        return [item.get("text", "") for item in self.raw.get("fwd_messages", [])]

    @property
    def reply_message(self) -> dict[str, Any] | None:
        """The message this one replies to, as VK quotes it."""
        return self.raw.get("reply_message")

    @property
    def kind(self) -> str:
        """text, service (a chat action), or the type of the first attachment."""
        if self.attachments:
            return self.attachments[0]["type"]
        return "service" if "action" in self.raw else "text"

    @property
    def keyboard(self) -> dict[str, Any] | None:
        return self.raw.get("keyboard")

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        keyboard = self.keyboard or {}
        return keyboard.get("buttons", []) if keyboard.get("inline") else []

    @property
    def buttons(self) -> list[list[tuple[str | None, str | None]]]:
        """Rows of the inline keyboard as (label, payload string or link)."""
        return [[_button_view(button) for button in row] for row in self.inline_keyboard]


class VkChat(EmulatedChatBase[ChatMessage]):
    """A conversation as its members see it: every message in order."""

    noun = "peer"
    def new_message(self, raw: dict[str, Any], from_bot: bool) -> ChatMessage:
        return ChatMessage(raw, from_bot)

    def __init__(self, emulator: VkActing, peer_id: int) -> None:
        super().__init__(emulator)
        self.peer_id = peer_id
        self.keyboard_raw: dict[str, Any] | None = None  # the (non-inline) keyboard shown now
        self.pinned: ChatMessage | None = None  # by messages.pin; unpinned, or deleted for all

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.peer_id}>"

    @property
    def id(self) -> int:
        return self.peer_id

    @property
    def is_private(self) -> bool:
        return 0 < self.peer_id < CHAT_PEER_START

    @property
    def keyboard(self) -> list[list[str]] | None:
        """Labels of the keyboard under the input field, if the bot set one."""
        if not self.keyboard_raw:
            return None
        return [[b["action"].get("label", "") for b in row] for row in self.keyboard_raw["buttons"]]

    def message(self, conversation_message_id: int) -> ChatMessage | None:
        return super().message(conversation_message_id)  # a message_id is a cmid here

    def _add(self, raw: dict[str, Any], from_bot: bool) -> ChatMessage:
        raw["conversation_message_id"] = next(self._numbers)
        return self._append(raw, from_bot)


class VkGroupChat(VkChat):
    """A multi-user chat (peer_id 2000000000 + chat id) the community's bot takes part in."""

    def __init__(
        self, emulator: VkActing, chat_id: int, title: str, bot_member: bool, bot_admin: bool
    ) -> None:
        super().__init__(emulator, CHAT_PEER_START + chat_id)
        self.chat_id = chat_id
        self.title = title
        self.bot_member = bot_member
        self.bot_admin = bot_admin  # admins read every message and may list members
        self.members: set[int] = set()
        self.admins: set[int] = set()
        self.owner_id: int | None = None
        self.invite_link: str | None = None  # valid now; made by messages.getInviteLink

    def send(
        self,
        user: VkUser,
        text: str,
        *,
        payload: Any = None,
        reply_to: int | None = None,
        forward: Iterable[Forward] = (),
        link_preview: bool = False,
    ) -> dict[str, Any]:
        """A member writes to the chat (message_new if the community is in it). reply_to is
        a conversation_message_id; forward gives fwd_messages: ChatMessage objects, texts of
        the sender's own messages, or (author, text) pairs (author a VkUser or an id);
        link_preview adds the "link" attachment VK makes of the first link in text."""
        self.members.add(user.id)
        content: dict[str, Any] = {"text": text}
        if payload is not None:
            content["payload"] = payload if isinstance(payload, str) else json.dumps(payload)
        return self._emulator._user_message(self, user, content, reply_to, forward, link_preview)

    def send_photo(self, user: VkUser, caption: str = "") -> dict[str, Any]:
        self.members.add(user.id)
        return self._emulator._user_media(self, user, "photo", None, caption)

    def click(self, user: VkUser, button: Any, message: ChatMessage | int | None = None) -> str:
        return self._emulator._user_click(self, user, button, message)

    def click_payload(
        self, user: VkUser, payload: Any, message: ChatMessage | int | None = None
    ) -> str:
        return self._emulator._user_click_payload(self, user, payload, message)

    def invite_bot(self, by: VkUser | None = None) -> dict[str, Any]:
        """Someone adds the community to the chat: message_new with chat_invite_user."""
        self.bot_member = True
        inviter = by or self._emulator._users.get(self.owner_id or 0)
        if inviter is not None:
            self.members.add(inviter.id)
        action = {"type": "chat_invite_user", "member_id": -self._emulator.group_id}
        return self._emulator._service_message(self, inviter, action)

    def remove_bot(self, by: VkUser | None = None) -> dict[str, Any]:
        """The community is removed from the chat; it can no longer write there."""
        action = {"type": "chat_kick_user", "member_id": -self._emulator.group_id}
        message = self._emulator._service_message(self, by, action)
        self.bot_member = False
        return message

    def join(self, user: VkUser) -> dict[str, Any]:
        self.members.add(user.id)
        action = {"type": "chat_invite_user_by_link", "member_id": user.id}
        return self._emulator._service_message(self, user, action)

    def leave(self, user: VkUser) -> dict[str, Any]:
        self.members.discard(user.id)
        self.admins.discard(user.id)
        action = {"type": "chat_kick_user", "member_id": user.id}
        return self._emulator._service_message(self, user, action)

    def make_admin(self, user: VkUser) -> None:
        self.members.add(user.id)
        self.admins.add(user.id)


def _button_view(button: dict[str, Any]) -> tuple[str | None, str | None]:
    action = button["action"]
    return action.get("label"), action.get("link", action.get("payload"))
