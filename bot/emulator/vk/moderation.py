"""The community administering a chat: pinning a message (messages.pin, messages.unpin)
and removing a member (messages.removeChatUser).

In a multi-user chat each needs the community to be an admin of it: VK answers 925 ("You
are not admin of this chat") otherwise, and 917 where the community is no member. In
the private chat with a user the community pins freely. Deleting members' messages for
everybody is messages.delete's (messages.py: 924 without admin rights). VK has no method
to mute a member.
"""

from __future__ import annotations

from typing import Any

from bot.emulator.vk.acting import VkActing
from bot.emulator.vk.chats import CHAT_PEER_START, VkChat, VkGroupChat
from bot.emulator.vk.content import pinned
from bot.emulator.vk.server import endpoint
from bot.emulator.vk.spec import api_error, param_error


class VkModeration(VkActing):
    """messages.pin, messages.unpin and messages.removeChatUser."""

    @endpoint("messages.pin")
    async def _messages_pin(self, params: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("message_id", "conversation_message_id", "cmid") if name in params]
        if len(given) != 1:
            raise param_error("exactly one of message_id, conversation_message_id, cmid is required")
        chat = self._administered(params["peer_id"])
        value = params[given[0]]
        if given[0] == "message_id":
            message = next((m for m in chat.messages if value and m.id == value), None)
        else:
            message = chat.message(value)
        if message is None or message.deleted or message.deleted_for_bot:
            raise param_error(f"message not found in peer {chat.peer_id}")
        if "action" in message.raw:
            raise param_error("a service message cannot be pinned")
        chat.pinned = message
        return pinned(message)

    @endpoint("messages.unpin")
    async def _messages_unpin(self, params: dict[str, Any]) -> int:
        if params.get("group_id", self.group_id) != self.group_id:
            raise api_error(15, f"no access to group {params['group_id']}")
        chat = self._administered(params["peer_id"])
        chat.pinned = None
        return 1

    @endpoint("messages.removeChatUser")
    async def _messages_remove_chat_user(self, params: dict[str, Any]) -> int:
        given = [name for name in ("member_id", "user_id") if name in params]
        if len(given) != 1:
            raise param_error("exactly one of user_id, member_id is required")
        member_id = params[given[0]]
        chat = self._administered(CHAT_PEER_START + params["chat_id"])
        assert isinstance(chat, VkGroupChat)
        if member_id not in chat.members:
            raise api_error(935, f"{member_id} is not a member of chat {chat.chat_id}", rejected=False)
        if member_id == chat.owner_id:
            raise api_error(15, "the chat's owner cannot be removed", rejected=False)
        chat.members.discard(member_id)
        chat.admins.discard(member_id)
        # the chat shows who removed whom; the community gets no event for its own action
        action = {"type": "chat_kick_user", "member_id": member_id}
        chat._add(self._base_message(chat, -self.group_id) | {"action": action}, from_bot=False)
        return 1

    def _administered(self, peer_id: int) -> VkChat:
        """The conversation the community may administer, or the error VK answers."""
        if peer_id <= 0:
            raise param_error(f"peer_id {peer_id} is not a user or a chat")
        chat = self._chats.get(peer_id)
        if peer_id < CHAT_PEER_START:
            if chat is None:
                raise param_error(f"no conversation with user {peer_id}")
            return chat
        if not isinstance(chat, VkGroupChat) or not chat.bot_member:
            raise api_error(917, rejected=False)
        if not chat.bot_admin:
            raise api_error(925, rejected=False)
        return chat
