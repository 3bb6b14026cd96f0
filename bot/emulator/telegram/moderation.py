"""Moderation: what the bot's administrator rights in a group (EmulatedGroup.bot_rights)
let it do, namely delete members' messages, restrict members and pin messages; what
members do that moderation cares about (forwards, anonymous reactions); getChatMemberCount.

    group.bot_rights["can_pin_messages"] = False        # pinChatMessage: not enough rights
    await bot.restrict_chat_member(group.id, anna.id, ChatPermissions(can_send_messages=False))
    group.send(anna, "hi")                              # AssertionError: user is muted
    group.forward(anna, "Sale!", from_chat_title="News")  # forward_origin: the channel
    group.react(message, "👍", count=3)                  # message_reaction_count

A method without the right it needs answers 400 with Telegram's wording. Restrictions end
at their until_date (emulator time is time.time()); message_reaction_count updates reach
the bot only when it is an administrator and named them in allowed_updates (updates.py).
"""

from __future__ import annotations

import copy
import time
import zlib
from typing import Any

from bot.emulator.telegram.acting import quoted
from bot.emulator.telegram.joining import TelegramJoining
from bot.emulator.telegram.parse_mode import detected_entities
from bot.emulator.telegram.server import Call, endpoint
from bot.emulator.telegram.spec import bad_request, load_spec
from bot.emulator.telegram.users import (
    CONTENT_KINDS,
    ChatMessage,
    EmulatedChat,
    EmulatedGroup,
    EmulatedUser,
)

DELETE_REFUSED = "message can't be deleted"  # what Telegram answers a bot without the right
RESTRICT_RIGHTS = "not enough rights to restrict/unrestrict chat member"
PIN_RIGHTS = "not enough rights to manage pinned messages in the chat"
# a restriction ending sooner than 30 seconds or later than 366 days from now is forever
MIN_RESTRICTION, MAX_RESTRICTION = 30, 366 * 24 * 60 * 60
MEDIA_PERMISSIONS = (
    "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
    "can_send_video_notes", "can_send_voice_notes",
)  # fmt: skip
# the permission a message of each kind needs; the rest need can_send_messages
SEND_PERMISSIONS = {
    "photo": "can_send_photos", "video": "can_send_videos", "document": "can_send_documents",
    "audio": "can_send_audios", "voice": "can_send_voice_notes",
    "video_note": "can_send_video_notes", "animation": "can_send_other_messages",
    "sticker": "can_send_other_messages",
}  # fmt: skip
# permissions that, when not passed, take the value of another
IMPLIED_DEFAULTS = {
    "can_react_to_messages": "can_send_messages",
    "can_edit_tag": "can_pin_messages",
    "can_manage_topics": "can_pin_messages",
}


class TelegramModeration(TelegramJoining):
    """The bot's administrator rights at work, and the members it moderates."""

    # restrictions

    def _restriction(self, chat: EmulatedChat, user_id: int) -> dict[str, Any] | None:
        """The user's restriction in the group now (an expired one is dropped)."""
        if not isinstance(chat, EmulatedGroup):
            return None
        restriction = chat.restrictions.get(user_id)
        if restriction is not None and 0 < restriction["until_date"] <= time.time():
            del chat.restrictions[user_id]
            return None
        return restriction

    def _chat_member(self, group: EmulatedGroup, user: EmulatedUser) -> dict[str, Any]:
        restriction = self._restriction(group, user.id)
        if restriction is None or user.id in group.admins:
            return super()._chat_member(group, user)
        member = {"status": "restricted", "user": user.raw, "is_member": user.id in group.members}
        return member | restriction

    def _user_message(
        self, chat: EmulatedChat, user: EmulatedUser, content: dict[str, Any]
    ) -> dict[str, Any]:
        kind = next((kind for kind in CONTENT_KINDS if kind in content), None)
        restriction = self._restriction(chat, user.id)
        if kind is not None and restriction is not None:
            needed = SEND_PERMISSIONS.get(kind, "can_send_messages")
            if not restriction[needed]:
                until = restriction["until_date"] or "forever"
                raise AssertionError(
                    f"user is muted: {user} may not send {kind} to group {chat.id} "
                    f"({needed} is false, until {until})"
                )
        return super()._user_message(chat, user, content)

    # what members do

    def _forward_origin(
        self,
        from_chat_title: str | None,
        channel: bool,
        from_user: EmulatedUser | None,
        hidden_user: str | None,
    ) -> dict[str, Any]:
        """A MessageOrigin: of exactly one of a chat (by its title), a user, a hidden user."""
        if [from_chat_title, from_user, hidden_user].count(None) != 2:
            raise ValueError("name exactly one of from_chat_title, from_user, hidden_user")
        date = int(time.time()) - 60
        if from_user is not None:
            return {"type": "user", "date": date, "sender_user": from_user.raw}
        if hidden_user is not None:
            return {"type": "hidden_user", "date": date, "sender_user_name": hidden_user}
        assert from_chat_title is not None
        chat_id = -1_000_000_000_000 - zlib.crc32(from_chat_title.encode())  # one id per title
        kind = "channel" if channel else "supergroup"
        chat = {"id": chat_id, "type": kind, "title": from_chat_title}
        if channel:
            return {"type": "channel", "date": date, "chat": chat, "message_id": 1}
        return {"type": "chat", "date": date, "sender_chat": chat}

    def _user_forward(
        self, group: EmulatedGroup, user: EmulatedUser, text: str, origin: dict[str, Any]
    ) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text, "forward_origin": origin}
        if entities := detected_entities(text):
            content["entities"] = entities
        return self._user_message(group, user, content)

    def _react(
        self, group: EmulatedGroup, message: ChatMessage | int, emoji: str, count: int
    ) -> dict[str, Any]:
        target = group.shown(message)
        counts = group.reactions.setdefault(target.message_id, {})
        if count > 0:
            counts[emoji] = count
        else:
            counts.pop(emoji, None)
        ordered = sorted(counts.items(), key=lambda item: -item[1])
        update = {
            "chat": group.raw,
            "message_id": target.message_id,
            "date": int(time.time()),
            "reactions": [
                {"type": {"type": "emoji", "emoji": name}, "total_count": total}
                for name, total in ordered
            ],
        }
        if group.bot_admin:
            self._enqueue("message_reaction_count", update)
        return copy.deepcopy(update)

    # deleting messages

    def _check_deletable(self, chat: EmulatedChat, message: ChatMessage) -> None:
        """The bot deletes its own messages anywhere, and any message in a private chat;
        others' messages in a group only with can_delete_messages."""
        if isinstance(chat, EmulatedGroup) and not message.from_bot:
            if not chat.bot_may("can_delete_messages"):
                raise bad_request(DELETE_REFUSED)

    @staticmethod
    def _delete(chat: EmulatedChat, message: ChatMessage) -> None:
        message.deleted = True
        if message.message_id in chat.pinned:
            chat.pinned.remove(message.message_id)

    @endpoint("deleteMessage")
    async def _delete_message(self, call: Call) -> bool:
        chat = self._chat(call.params["chat_id"])
        message = chat.message(call.params["message_id"])
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        self._check_deletable(chat, message)
        self._delete(chat, message)
        return True

    @endpoint("deleteMessages")
    async def _delete_messages(self, call: Call) -> bool:
        """Messages not found are skipped; if any found one can't be deleted, none is."""
        chat = self._chat(call.params["chat_id"])
        found = [chat.message(message_id) for message_id in call.params["message_ids"]]
        shown = [message for message in found if message is not None and not message.deleted]
        for message in shown:
            self._check_deletable(chat, message)
        for message in shown:
            self._delete(chat, message)
        return True

    # restricting members

    @endpoint("restrictChatMember")
    async def _restrict_chat_member(self, call: Call) -> bool:
        params = call.params
        chat = self._chat(params["chat_id"])
        if chat.is_private:
            raise bad_request("chat member status can't be changed in private chats")
        if not isinstance(chat, EmulatedGroup) or chat.raw["type"] != "supergroup":
            raise bad_request("method is available for supergroup and channel chats only")
        if not chat.bot_may("can_restrict_members"):
            raise bad_request(RESTRICT_RIGHTS)
        if params["user_id"] == self.bot_id:
            raise bad_request("can't restrict self")
        user = self._users.get(params["user_id"])
        if user is None:
            raise bad_request("user not found")
        if user.id in chat.admins:
            raise bad_request("user is an administrator of the chat")
        old = self._chat_member(chat, user)
        independent = params.get("use_independent_chat_permissions", False)
        permissions = _permissions(params["permissions"], independent)
        if all(permissions.values()):
            chat.restrictions.pop(user.id, None)  # every permission: the restriction is lifted
        else:
            until = _until_date(params.get("until_date", 0))
            chat.restrictions[user.id] = permissions | {"until_date": until}
        new = self._chat_member(chat, user)
        if new != old:
            self._member_changed(chat, call.bot, old, new, None)
        return True

    # pinned messages

    def _pinning_chat(self, chat_id: int | str) -> EmulatedChat:
        """Pinning needs no right in a private chat, can_pin_messages in a group."""
        chat = self._chat(chat_id)
        if isinstance(chat, EmulatedGroup) and not chat.bot_may("can_pin_messages"):
            raise bad_request(PIN_RIGHTS)
        return chat

    @endpoint("pinChatMessage")
    async def _pin_chat_message(self, call: Call) -> bool:
        """Pins the message, and the chat gets a pinned_message service message from the bot."""
        chat = self._pinning_chat(call.params["chat_id"])
        message = chat.message(call.params["message_id"])
        if message is None or message.deleted:
            raise bad_request("message to pin not found")
        if message.message_id not in chat.pinned:
            chat.pinned.append(message.message_id)
            chat._add(call.bot, {"pinned_message": quoted(message.raw)}, from_bot=True)
        return True

    @endpoint("unpinChatMessage")
    async def _unpin_chat_message(self, call: Call) -> bool:
        """Unpins the message, or without message_id the most recent pinned one."""
        chat = self._pinning_chat(call.params["chat_id"])
        message_id = call.params.get("message_id", chat.pinned_message_id)
        if message_id not in chat.pinned:
            raise bad_request("message to unpin not found")
        chat.pinned.remove(message_id)
        return True

    @endpoint("unpinAllChatMessages")
    async def _unpin_all_chat_messages(self, call: Call) -> bool:
        self._pinning_chat(call.params["chat_id"]).pinned.clear()
        return True

    # counting members

    @endpoint("getChatMemberCount")
    async def _get_chat_member_count(self, call: Call) -> int:
        """A group's members and the bot; a private chat's user and the bot."""
        chat = self._chat(call.params["chat_id"])
        return len(chat.members) + 1 if isinstance(chat, EmulatedGroup) else 2


def _permissions(given: dict[str, Any], independent: bool) -> dict[str, bool]:
    """Every field of ChatPermissions: those not passed are False or implied, as in Telegram."""
    names = load_spec().types["ChatPermissions"].fields
    permissions = {name: bool(given.get(name, False)) for name in names}
    if not independent:
        if permissions["can_send_other_messages"] or permissions["can_add_web_page_previews"]:
            permissions |= dict.fromkeys(("can_send_messages", *MEDIA_PERMISSIONS), True)
        if permissions["can_send_polls"]:
            permissions["can_send_messages"] = True
    for name, source in IMPLIED_DEFAULTS.items():
        if name not in given:
            permissions[name] = permissions[source]
    return permissions


def _until_date(until_date: int) -> int:
    """Telegram's until_date: 0 (forever) for one sooner than 30 s or later than 366 days."""
    ahead = until_date - time.time()
    return until_date if MIN_RESTRICTION <= ahead <= MAX_RESTRICTION else 0
