"""Joining groups: the members a group keeps, the invite links the bot creates, the join
requests users send with them and the bot approves or declines; getChatMember.

    link = await bot.create_chat_invite_link(group.id, creates_join_request=True)
    anna.request_join(group, link.invite_link)   # queues chat_join_request
    await bot.approve_chat_join_request(group.id, anna.id)
    assert emu.is_member(group, anna)            # a new_chat_members message, a chat_member update

chat_member updates reach the bot only when it named them in allowed_updates (updates.py).
"""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from bot.emulator.telegram.acting import TelegramActing
from bot.emulator.telegram.server import Call, endpoint
from bot.emulator.telegram.spec import bad_request
from bot.emulator.telegram.users import BOT_RIGHTS, EmulatedGroup, EmulatedUser

# how long the bot may write first to a user whose join request is pending (user_chat_id)
JOIN_REQUEST_CONTACT_SECONDS = 5 * 60
LINK_RIGHTS = "not enough rights to manage chat invite links"
ADMIN_REQUIRED = "CHAT_ADMIN_REQUIRED"


class TelegramJoining(TelegramActing):
    """Group membership, invite links and join requests."""

    def is_member(self, group: EmulatedGroup, user: EmulatedUser) -> bool:
        """Whether the user is a member (or an administrator) of the group now."""
        return user.id in group.members

    # membership

    def _chat_member(self, group: EmulatedGroup, user: EmulatedUser) -> dict[str, Any]:
        """The user's ChatMember object in the group."""
        if user.id in group.admins:
            return _administrator(user.raw)
        status = "member" if user.id in group.members else "left"
        return {"status": status, "user": user.raw}

    def _member_joins(
        self,
        group: EmulatedGroup,
        user: EmulatedUser,
        invite_link: dict[str, Any] | None = None,
        by: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The user becomes a member: a new_chat_members message in the group and, for a
        user who was not a member, a chat_member update (`by`: who let them in)."""
        old = self._chat_member(group, user)
        newcomer = user.id not in group.members
        group.members.add(user.id)
        group.join_requests.pop(user.id, None)
        message = self._user_message(group, user, {"new_chat_members": [user.raw]})
        if newcomer:
            new = self._chat_member(group, user)
            self._member_changed(group, by or user.raw, old, new, invite_link)
        return message

    def _member_leaves(self, group: EmulatedGroup, user: EmulatedUser) -> dict[str, Any]:
        """The user leaves: a left_chat_member message and, for a member, a chat_member update."""
        old = self._chat_member(group, user)
        was_member = user.id in group.members
        group.members.discard(user.id)
        group.admins.discard(user.id)
        message = self._user_message(group, user, {"left_chat_member": user.raw})
        if was_member:
            self._member_changed(group, user.raw, old, self._chat_member(group, user), None)
        return message

    def _member_changed(
        self,
        group: EmulatedGroup,
        performer: dict[str, Any],
        old: dict[str, Any],
        new: dict[str, Any],
        invite_link: dict[str, Any] | None,
    ) -> None:
        update = {
            "chat": group.raw,
            "from": performer,
            "date": int(time.time()),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        if invite_link is not None:
            update["invite_link"] = invite_link
        self._enqueue("chat_member", update)

    # join requests

    def _request_join(
        self, user: EmulatedUser, group: EmulatedGroup, invite_link: str
    ) -> dict[str, Any]:
        link = group.invite_links.get(invite_link)
        if link is None:
            raise AssertionError(f"{invite_link!r} is not an invite link of group {group.id}")
        if link["is_revoked"]:
            raise AssertionError(f"invite link {invite_link} was revoked")
        if link.get("expire_date", time.time() + 1) <= time.time():
            raise AssertionError(f"invite link {invite_link} has expired")
        if user.id in group.members:
            raise AssertionError(f"{user} is already a member of group {group.id}")
        if not link["creates_join_request"]:
            return self._member_joins(group, user, invite_link=link)
        if user.id in group.join_requests:
            raise AssertionError(f"{user} already has a join request pending in group {group.id}")
        request = {
            "chat": group.raw,
            "from": user.raw,
            "user_chat_id": user.id,
            "date": int(time.time()),
            "invite_link": copy.deepcopy(link),
        }
        group.join_requests[user.id] = request
        self._enqueue("chat_join_request", request)
        return copy.deepcopy(request)

    def _may_initiate(self, user: EmulatedUser) -> bool:
        """A user with a join request pending may be written to first for 5 minutes."""
        now = time.time()
        requests = (
            chat.join_requests.get(user.id)
            for chat in self._chats.values()
            if isinstance(chat, EmulatedGroup)
        )
        return super()._may_initiate(user) or any(
            request is not None and now - request["date"] < JOIN_REQUEST_CONTACT_SECONDS
            for request in requests
        )

    def _managed_group(
        self, chat_id: int | str, refusal: str, right: str = "can_invite_users"
    ) -> EmulatedGroup:
        """A group the bot administers with this right; refusal: what Telegram answers otherwise."""
        chat = self._chat(chat_id)
        if not isinstance(chat, EmulatedGroup) or not chat.bot_may(right):
            raise bad_request(refusal)
        return chat

    # endpoints

    @endpoint("createChatInviteLink")
    async def _create_chat_invite_link(self, call: Call) -> dict[str, Any]:
        params = call.params
        group = self._managed_group(params["chat_id"], LINK_RIGHTS)
        creates_join_request = bool(params.get("creates_join_request", False))
        if creates_join_request and "member_limit" in params:
            raise bad_request(
                "member limit can't be specified for links requiring administrator approval"
            )
        link: dict[str, Any] = {
            "invite_link": f"https://t.me/+{secrets.token_urlsafe(12)}",  # 16 characters
            "creator": call.bot,
            "creates_join_request": creates_join_request,
            "is_primary": False,
            "is_revoked": False,
        }
        link |= {key: params[key] for key in ("name", "expire_date", "member_limit") if key in params}
        group.invite_links[link["invite_link"]] = link
        return link

    @endpoint("revokeChatInviteLink")
    async def _revoke_chat_invite_link(self, call: Call) -> dict[str, Any]:
        group = self._managed_group(call.params["chat_id"], LINK_RIGHTS)
        link = group.invite_links.get(call.params["invite_link"])
        if link is None:
            raise bad_request("INVITE_HASH_EXPIRED")
        link["is_revoked"] = True
        return link

    @endpoint("approveChatJoinRequest", "declineChatJoinRequest")
    async def _answer_join_request(self, call: Call) -> bool:
        group = self._managed_group(call.params["chat_id"], ADMIN_REQUIRED)
        request = group.join_requests.get(call.params["user_id"])
        if request is None:
            raise bad_request("HIDE_REQUESTER_MISSING")
        del group.join_requests[call.params["user_id"]]
        if call.method == "approveChatJoinRequest":
            user = self._users[call.params["user_id"]]
            self._member_joins(group, user, request.get("invite_link"), by=call.bot)
        return True

    @endpoint("getChatMember")
    async def _get_chat_member(self, call: Call) -> dict[str, Any]:
        chat = self._chat(call.params["chat_id"])
        user_id = call.params["user_id"]
        if user_id == self.bot_id:
            if isinstance(chat, EmulatedGroup) and chat.bot_admin:
                return _administrator(call.bot, chat.bot_rights)
            return {"status": "member", "user": call.bot}
        user = self._users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if isinstance(chat, EmulatedGroup):
            return self._chat_member(chat, user)
        if chat.id != user_id:
            raise bad_request("user not found")
        return {"status": "member", "user": user.raw}


def _administrator(user: dict[str, Any], rights: dict[str, bool] | None = None) -> dict[str, Any]:
    """A ChatMemberAdministrator with these rights (the bot's; None: every right)."""
    rights = dict.fromkeys(BOT_RIGHTS, True) if rights is None else rights
    member = {"status": "administrator", "user": user, "can_be_edited": False, "is_anonymous": False}
    member |= {name: bool(rights.get(name, False)) for name in BOT_RIGHTS}
    # aiogram requires this field, which the Bot API spec in specs/ does not have (yet)
    return member | {"can_send_welcome_messages": True}
