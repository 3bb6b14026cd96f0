"""What tests hold, part two: VK users, and the answers to the callback buttons they
pressed. What a user does goes through the emulator (acting.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.emulator.common import EmulatedUserBase
from bot.emulator.vk.chats import ChatMessage, VkChat, VkGroupChat

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bot.emulator.vk.acting import VkActing
    from bot.emulator.vk.content import Forward


@dataclass
class CallbackAnswer:
    """A callback button a user pressed (a message_event), and the bot's answer if any."""

    event_id: str
    payload: Any
    user_id: int
    peer_id: int
    conversation_message_id: int | None
    answered: bool = False
    event_data: dict[str, Any] | None = None

    @property
    def text(self) -> str | None:
        """The snackbar text the user saw."""
        if self.event_data and self.event_data.get("type") == "show_snackbar":
            return self.event_data["text"]
        return None

    @property
    def link(self) -> str | None:
        if self.event_data and self.event_data.get("type") == "open_link":
            return self.event_data["link"]
        return None


class VkUser(EmulatedUserBase[VkChat]):
    """A VK user; their private conversation with the community has peer_id == user id."""

    callback_answers: list[CallbackAnswer]

    def __init__(self, emulator: VkActing, raw: dict[str, Any], allowed: bool) -> None:
        super().__init__(emulator, raw)
        self.allowed = allowed  # has written to the community or allowed its messages
        self.denied = False  # forbade messages from the community (message_deny)
        self.blocked_code: int | None = None  # 900/902: sends fail with this code
        self.chat = VkChat(emulator, raw["id"])

    @property
    def peer_id(self) -> int:
        return self.raw["id"]

    @property
    def blocked(self) -> bool:
        return self.denied or self.blocked_code is not None

    def send(
        self,
        text: str,
        *,
        ref: str | None = None,
        ref_source: str | None = None,
        payload: Any = None,
        reply_to: int | None = None,
        forward: Iterable[Forward] = (),
        link_preview: bool = False,
    ) -> dict[str, Any]:
        """Write to the community (message_new); reply_to is a conversation_message_id;
        forward and link_preview as in VkGroupChat.send."""
        content: dict[str, Any] = {"text": text}
        if ref is not None:
            content["ref"] = ref
        if ref_source is not None:
            content["ref_source"] = ref_source
        if payload is not None:
            content["payload"] = payload if isinstance(payload, str) else json.dumps(payload)
        return self._emulator._user_message(
            self.chat, self, content, reply_to, forward, link_preview
        )

    def start(
        self, ref: str | None = None, ref_source: str | None = None, text: str = "Start"
    ) -> dict[str, Any]:
        """Press "Start" in a new conversation (from a vk.me/…?ref= link when ref is set)."""
        return self.send(
            text, ref=ref, ref_source=ref_source, payload={"command": "start"}
        )

    def send_photo(self, caption: str = "", data: bytes | None = None) -> dict[str, Any]:
        return self._emulator._user_media(self.chat, self, "photo", data, caption)

    def send_document(
        self, file_name: str = "document.pdf", caption: str = "", data: bytes | None = None
    ) -> dict[str, Any]:
        return self._emulator._user_media(
            self.chat, self, "doc", data, caption, file_name=file_name
        )

    def send_voice(
        self, duration: int = 3, data: bytes | None = None, transcript: str | None = None
    ) -> dict[str, Any]:
        """A voice message; with a transcript, VK's speech-to-text of it is done (the
        audio_message object carries transcript and transcript_state "done")."""
        return self._emulator._user_media(
            self.chat, self, "audio_message", data, "", duration=duration, transcript=transcript
        )

    def send_album(self, count: int = 2, caption: str = "") -> dict[str, Any]:
        """One message with `count` photos (VK: up to 10 attachments in a message)."""
        return self._emulator._user_album(self.chat, self, count, caption)

    def send_video(
        self, duration: int = 5, caption: str = "", data: bytes | None = None
    ) -> dict[str, Any]:
        return self._emulator._user_media(
            self.chat, self, "video", data, caption, duration=duration
        )

    def send_sticker(self, sticker_id: int = 9010) -> dict[str, Any]:
        return self._emulator._user_media(
            self.chat, self, "sticker", None, "", sticker_id=sticker_id
        )

    def click(self, button: Any, message: ChatMessage | int | None = None) -> str:
        """Press a button by its label or payload (string, or the decoded object).

        A callback button sends message_event (returns its event_id, the one the bot
        answers); a text button sends message_new with the payload (returns the event's
        event_id). Searches the latest bot message with such a button, then the keyboard
        under the input field.
        """
        return self._emulator._user_click(self.chat, self, button, message)

    def click_payload(self, payload: Any, message: ChatMessage | int | None = None) -> str:
        """A message_event with an arbitrary payload, as a stale or forged button sends."""
        return self._emulator._user_click_payload(self.chat, self, payload, message)

    click_data = click_payload  # the Telegram emulator's name

    def join_by_link(self, link: str) -> dict[str, Any]:
        """Join a multi-user chat by the invite link messages.getInviteLink gave: the user
        becomes a member, and the community gets message_new from them with action
        {"type": "chat_invite_user_by_link", "member_id": user id}. A link never given,
        or replaced by reset=1, raises AssertionError, as does joining twice."""
        return self._emulator._join_by_link(self, link)

    def leave(self, chat: VkGroupChat | int) -> dict[str, Any]:
        """Leave a multi-user chat (or the one with this peer id or chat id): message_new
        from the user with action {"type": "chat_kick_user", "member_id": user id}."""
        return self._emulator._leave_chat(self, chat)

    def allow(self, key: str = "") -> dict[str, Any]:
        """Allow messages from the community (message_allow)."""
        return self._emulator._set_allowed(self, True, key)

    def deny(self) -> dict[str, Any]:
        """Forbid messages from the community (message_deny); sends then fail with 901."""
        return self._emulator._set_allowed(self, False, "")

    def block(self, code: int = 901) -> None:
        """Make the community's messages fail: 901 is deny(); 900 blacklist, 902 privacy."""
        if code == 901:
            self.deny()
        elif code in (900, 902):
            self.blocked_code = code
        else:
            raise ValueError("VK refuses messages to a user with error 900, 901 or 902")

    def unblock(self) -> None:
        self.blocked_code = None
        if self.denied:
            self.allow()
