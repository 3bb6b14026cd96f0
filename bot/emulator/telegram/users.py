"""What tests hold: emulated users, their private chats, groups and chat messages, and
the callback answers of the buttons they pressed. Their actions go through the
emulator (acting.py), which turns them into updates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.emulator.common import EmulatedChatBase, EmulatedUserBase

if TYPE_CHECKING:
    from bot.emulator.telegram.acting import TelegramActing

# what a message carries, in the order that decides its kind (an animation also has a document)
CONTENT_KINDS = (
    "text", "animation", "photo", "document", "voice", "video", "audio",
    "sticker", "video_note", "contact", "location",
)  # fmt: skip
CONTENT_KEYS = (*CONTENT_KINDS, "entities", "caption", "caption_entities")
# the bot's administrator rights in a group (ChatAdministratorRights less is_anonymous and the
# channels' own): all granted unless a test takes one away, e.g. group.bot_rights[...] = False
BOT_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_pin_messages", "can_manage_topics",
)  # fmt: skip


@dataclass
class CallbackAnswer:
    """A callback query a user made, and how the bot answered it (if it did)."""

    query_id: str
    data: str
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None


class ChatMessage:
    """One message of a chat, in its current state (edits applied)."""

    def __init__(self, raw: dict[str, Any], from_bot: bool) -> None:
        self.raw = raw
        self.from_bot = from_bot
        self.deleted = False
        self.edited = False
        self.reply_keyboard: list[list[str]] | None = None  # a reply keyboard sent with it

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else "user"
        return (
            f"<ChatMessage {self.message_id} from {who} {self.kind}: {self.text or self.caption!r}>"
        )

    @property
    def message_id(self) -> int:
        return self.raw["message_id"]

    @property
    def chat_id(self) -> int:
        return self.raw["chat"]["id"]

    @property
    def text(self) -> str | None:
        return self.raw.get("text")

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def entities(self) -> list[dict[str, Any]]:
        return self.raw.get("entities") or self.raw.get("caption_entities") or []

    @property
    def kind(self) -> str:
        return next((kind for kind in CONTENT_KINDS if kind in self.raw), "service")

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        return (self.raw.get("reply_markup") or {}).get("inline_keyboard", [])

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Rows of (text, callback_data or url)."""
        return [
            [(button["text"], button.get("callback_data", button.get("url"))) for button in row]
            for row in self.inline_keyboard
        ]


class EmulatedChat(EmulatedChatBase[ChatMessage]):
    """A chat as its members see it: every message in order."""

    keyboard: list[list[str]] | None = None  # the reply keyboard shown now: an attribute here, set as replies come

    def new_message(self, raw: dict[str, Any], from_bot: bool) -> ChatMessage:
        return ChatMessage(raw, from_bot)

    def __init__(self, emulator: TelegramActing, raw: dict[str, Any]) -> None:
        super().__init__(emulator)
        self.raw = raw
        self.keyboard = None
        self.pinned: list[int] = []  # ids of the pinned messages

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"

    @property
    def pinned_message_id(self) -> int | None:
        """The most recent pinned message (by sending date), as getChat names it."""
        return max(self.pinned, default=None)

    @property
    def id(self) -> int:
        return self.raw["id"]

    @property
    def is_private(self) -> bool:
        return self.raw["type"] == "private"

    def _add(self, sender: dict[str, Any], content: dict[str, Any], from_bot: bool) -> ChatMessage:
        raw = {
            "message_id": next(self._numbers),
            "from": sender,
            "chat": self.raw,
            "date": int(time.time()),
            **content,
        }
        return self._append(raw, from_bot)


class EmulatedUser(EmulatedUserBase[EmulatedChat]):
    """A Telegram user; their private chat with the bot has the user's id."""

    callback_answers: list[CallbackAnswer]

    def __init__(self, emulator: TelegramActing, raw: dict[str, Any], started: bool) -> None:
        super().__init__(emulator, raw)
        self.started = started  # has ever written to the bot
        self.blocked = False
        private = {"id": raw["id"], "type": "private", "first_name": raw["first_name"]}
        private |= {key: raw[key] for key in ("last_name", "username") if key in raw}
        self.chat = EmulatedChat(emulator, private)

    def send(
        self, text: str, reply_to: int | None = None, entities: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Write to the bot; a leading /command gets a bot_command entity. `entities` is the
        formatting the app made (offsets in UTF-16 units), e.g. a text_link or a pre with a language."""
        return self._emulator._user_text(self.chat, self, text, reply_to, entities)

    def send_photo(self, caption: str | None = None, data: bytes | None = None) -> dict[str, Any]:
        return self._emulator._user_media(self.chat, self, "photo", data, caption)

    def send_document(
        self, file_name: str = "document.pdf", caption: str | None = None, data: bytes | None = None
    ) -> dict[str, Any]:
        return self._emulator._user_media(
            self.chat, self, "document", data, caption, file_name=file_name
        )

    def send_voice(self, duration: int = 3, data: bytes | None = None) -> dict[str, Any]:
        return self._emulator._user_media(self.chat, self, "voice", data, None, duration=duration)

    def send_video(
        self, duration: int = 5, caption: str | None = None, data: bytes | None = None
    ) -> dict[str, Any]:
        return self._emulator._user_media(
            self.chat, self, "video", data, caption, duration=duration
        )

    def send_album(
        self, count: int = 2, caption: str | None = None, kinds: tuple[str, ...] = ("photo", "photo")
    ) -> list[dict[str, Any]]:
        """An album: `count` messages sharing one media_group_id, each of the next of `kinds`
        (photo and video mix; documents and audio go only with their own kind). The caption
        goes on the first, as the app sends it."""
        return self._emulator._user_album(self.chat, self, count, caption, kinds)

    def send_audio(self, duration: int = 60, data: bytes | None = None) -> dict[str, Any]:
        return self._emulator._user_media(self.chat, self, "audio", data, None, duration=duration)

    def send_sticker(self, emoji: str = "👍") -> dict[str, Any]:
        return self._emulator._user_media(self.chat, self, "sticker", None, None, emoji=emoji)

    def send_contact(self, phone_number: str) -> dict[str, Any]:
        """Share the user's own contact, as a request_contact button does."""
        contact = {"phone_number": phone_number, "first_name": self.raw["first_name"]}
        contact["user_id"] = self.id
        return self._emulator._user_message(self.chat, self, {"contact": contact})

    def edit(self, message_id: int, text: str) -> dict[str, Any]:
        return self._emulator._user_edit(self.chat, self, message_id, text)

    def click(self, button: str, message: ChatMessage | int | None = None) -> str:
        """Press an inline button by its text or callback_data; returns the query id."""
        return self._emulator._user_click(self.chat, self, button, message)

    def click_data(self, data: str, message: ChatMessage | int | None = None) -> str:
        """A callback query with arbitrary data, as a stale or forged button would send."""
        return self._emulator._user_click_data(self.chat, self, data, message)

    def block(self, notify: bool = True) -> None:
        """Sends to the user fail with 403 from now on. notify=False: the bot never hears of it (as
        when it was offline for longer than Telegram keeps updates)."""
        self._emulator._set_blocked(self, True, notify)

    def unblock(self) -> None:
        self._emulator._set_blocked(self, False)

    def request_join(self, group: EmulatedGroup, invite_link: str) -> dict[str, Any]:
        """Open one of the group's invite links. A link that creates join requests queues a
        chat_join_request (returned) and leaves it pending until the bot approves or declines
        it; any other link makes the user a member at once (see EmulatedGroup.join; returns
        the new_chat_members message). An unknown, revoked or expired link: AssertionError."""
        return self._emulator._request_join(self, group, invite_link)

    def leave(self, group: EmulatedGroup) -> dict[str, Any]:
        """Leave the group (see EmulatedGroup.leave)."""
        return group.leave(self)


class EmulatedGroup(EmulatedChat):
    """A group or supergroup the bot is a member (and, unless bot_admin is set False,
    administrator with bot_rights) of; its members, the bot's invite links, the pending join
    requests, the members' restrictions and the messages' anonymous reaction counts."""

    def __init__(self, emulator: TelegramActing, raw: dict[str, Any]) -> None:
        super().__init__(emulator, raw)
        self.members: set[int] = set()
        self.admins: set[int] = set()
        self.bot_admin = True  # False: the bot is a plain member, without admin rights
        self.bot_rights: dict[str, bool] = dict.fromkeys(BOT_RIGHTS, True)  # while bot_admin
        self.invite_links: dict[str, dict[str, Any]] = {}  # ChatInviteLink by its URL
        self.join_requests: dict[int, dict[str, Any]] = {}  # ChatJoinRequest by user id
        # by user id: ChatPermissions (every field) and until_date (0: forever)
        self.restrictions: dict[int, dict[str, Any]] = {}
        self.reactions: dict[int, dict[str, int]] = {}  # by message id: emoji -> total count

    def bot_may(self, right: str) -> bool:
        """Whether the bot is an administrator with this right."""
        unknown = sorted(self.bot_rights.keys() - set(BOT_RIGHTS))
        if unknown:
            raise AssertionError(f"unknown administrator rights in bot_rights: {unknown}")
        return self.bot_admin and self.bot_rights.get(right, False)

    def send(self, user: EmulatedUser, text: str, reply_to: int | None = None) -> dict[str, Any]:
        """The user writes to the group (and becomes a member); http(s) links get url
        entities. A user restricted from sending messages: AssertionError "user is muted"."""
        self.members.add(user.id)
        return self._emulator._user_text(self, user, text, reply_to)

    def forward(
        self,
        user: EmulatedUser,
        text: str,
        *,
        from_chat_title: str | None = None,
        channel: bool = True,
        from_user: EmulatedUser | None = None,
        hidden_user: str | None = None,
    ) -> dict[str, Any]:
        """The user forwards a text message to the group; its forward_origin names one of:
        from_chat_title (a channel, MessageOriginChannel; channel=False: a group that sent it
        on its own behalf, MessageOriginChat), from_user (MessageOriginUser) or hidden_user
        (a name only, MessageOriginHiddenUser)."""
        self.members.add(user.id)
        origin = self._emulator._forward_origin(from_chat_title, channel, from_user, hidden_user)
        return self._emulator._user_forward(self, user, text, origin)

    def react(self, message: ChatMessage | int, emoji: str = "👍", count: int = 1) -> dict[str, Any]:
        """Anonymous reactions: the message now has `count` reactions of this emoji (0: none).
        Queues message_reaction_count (returned) if the bot is an administrator and asked for
        it in allowed_updates."""
        return self._emulator._react(self, message, emoji, count)

    def click(
        self, user: EmulatedUser, button: str, message: ChatMessage | int | None = None
    ) -> str:
        return self._emulator._user_click(self, user, button, message)

    def click_data(self, user: EmulatedUser, data: str, message: ChatMessage | int | None = None) -> str:
        """A callback query with arbitrary data on a message in the group, as a forged press sends."""
        return self._emulator._user_click_data(self, user, data, message)

    def join(self, user: EmulatedUser) -> dict[str, Any]:
        """The user joins: a new_chat_members message and, for a newcomer, a chat_member
        update (left -> member; sent only if the bot asked for chat_member updates)."""
        return self._emulator._member_joins(self, user)

    def leave(self, user: EmulatedUser) -> dict[str, Any]:
        """The user leaves: a left_chat_member message and, for a member, a chat_member update."""
        return self._emulator._member_leaves(self, user)

    def make_admin(self, user: EmulatedUser) -> None:
        self.members.add(user.id)
        self.admins.add(user.id)
