"""The other messages.* methods: answering a callback button (sendMessageEventAnswer),
typing and read marks, reading conversations, their members and messages, and a chat's
invite link (getInviteLink).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.emulator.vk.chats import CHAT_PEER_START, VkGroupChat
from bot.emulator.vk.content import pinned
from bot.emulator.vk.keyboards import validate_event_data
from bot.emulator.vk.profiles import VkProfiles
from bot.emulator.vk.server import endpoint
from bot.emulator.vk.spec import VkApiError, api_error, param_error


class VkConversations(VkProfiles):
    """messages.* methods about conversations rather than sending."""

    @endpoint("messages.sendMessageEventAnswer")
    async def _messages_send_message_event_answer(self, params: dict[str, Any]) -> int:
        answer = self._answers.get(params["event_id"])
        if (
            answer is None
            or answer.user_id != params["user_id"]
            or answer.peer_id != params["peer_id"]
        ):
            raise param_error("event_id, user_id and peer_id do not name an event the bot got")
        if answer.answered:
            raise param_error(f"event {params['event_id']} has already been answered")
        event_data = validate_event_data(params["event_data"]) if "event_data" in params else None
        answer.answered = True
        answer.event_data = event_data
        return 1

    @endpoint("messages.setActivity")
    async def _messages_set_activity(self, params: dict[str, Any]) -> int:
        peer_id = params.get("peer_id", params.get("user_id"))
        if peer_id is None:
            raise param_error("peer_id is a required parameter")
        chat = self._writable(peer_id)
        chat.actions.append(params.get("type", "typing"))
        return 1

    @endpoint("messages.markAsRead")
    async def _messages_mark_as_read(self, params: dict[str, Any]) -> int:
        return 1

    @endpoint("messages.getConversationMembers")
    async def _messages_get_conversation_members(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chats.get(params["peer_id"])
        if not isinstance(chat, VkGroupChat):
            raise param_error(f"peer_id {params['peer_id']} is not a chat")
        if not chat.bot_member or not chat.bot_admin:
            raise api_error(917, rejected=False)
        members = sorted(chat.members)
        items = [
            {
                "member_id": user_id,
                "invited_by": chat.owner_id or user_id,
                "join_date": int(time.time()),
                "is_admin": user_id in chat.admins,
                "can_kick": user_id != chat.owner_id,  # nobody removes the chat's owner
            }
            for user_id in members
        ]
        items.append({"member_id": -self.group_id, "invited_by": chat.owner_id or 0,
                      "join_date": int(time.time()), "is_admin": True})  # fmt: skip
        profiles = [self._user_object(self._users[u], set()) for u in members if u in self._users]
        return {"count": len(items), "items": items, "profiles": profiles,
                "groups": [self._group_object()]}  # fmt: skip

    @endpoint("messages.getInviteLink")
    async def _messages_get_invite_link(self, params: dict[str, Any]) -> dict[str, str]:
        if params.get("group_id", self.group_id) != self.group_id:
            raise api_error(15, f"no access to group {params['group_id']}")
        peer_id = params["peer_id"]
        if peer_id < CHAT_PEER_START:
            raise param_error(f"peer_id {peer_id} is not a chat")
        chat = self._chats.get(peer_id)
        if not isinstance(chat, VkGroupChat) or not chat.bot_member:
            raise api_error(917, rejected=False)
        if not chat.bot_admin:  # VK documents 919 (and 931 for reset) for this method
            raise api_error(919, "the community is not an admin of the chat", rejected=False)
        return {"link": self._invite_link(chat, params.get("reset", False))}

    @endpoint("messages.getConversationsById")
    async def _messages_get_conversations_by_id(self, params: dict[str, Any]) -> dict[str, Any]:
        items = []
        for peer_id in params["peer_ids"]:
            chat = self._chats.get(peer_id)
            if chat is None:
                continue
            last = chat.messages[-1] if chat.messages else None
            conversation: dict[str, Any] = {
                "peer": {
                    "id": peer_id,
                    "type": "user" if chat.is_private else "chat",
                    "local_id": peer_id if chat.is_private else peer_id - CHAT_PEER_START,
                },
                "last_message_id": last.id if last else 0,
                "last_conversation_message_id": last.conversation_message_id if last else 0,
                "in_read": last.id if last else 0,
                "out_read": last.id if last else 0,
                "version": next(self._versions),
            }
            try:
                self._writable(peer_id)
                conversation["can_write"] = {"allowed": True}
            except VkApiError as error:
                conversation["can_write"] = {"allowed": False, "reason": error.error_code}
            if isinstance(chat, VkGroupChat):
                conversation["chat_settings"] = {
                    "title": chat.title,
                    "members_count": len(chat.members),
                    "owner_id": chat.owner_id or 0,
                    "state": "in" if chat.bot_member else "kicked",
                    "admin_ids": sorted(chat.admins),
                }
                if chat.pinned is not None:
                    conversation["chat_settings"]["pinned_message"] = pinned(chat.pinned)
            items.append(conversation)
        return {"count": len(items), "items": items}

    @endpoint("messages.getByConversationMessageId")
    async def _messages_get_by_cmid(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chats.get(params["peer_id"])
        items = []
        for cmid in params["conversation_message_ids"]:
            message = chat.message(cmid) if chat else None
            if message is not None and not message.deleted and not message.deleted_for_bot:
                items.append(copy.deepcopy(message.raw))
        return {"count": len(items), "items": items}
