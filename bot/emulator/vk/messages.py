"""The community's messages: messages.send (to one peer or many, once per random_id),
messages.edit and messages.delete.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from bot.emulator.vk.acting import VkActing
from bot.emulator.vk.chats import CHAT_PEER_START, ChatMessage, VkChat, VkGroupChat
from bot.emulator.vk.content import foreign
from bot.emulator.vk.keyboards import validate_keyboard, validate_message_payload
from bot.emulator.vk.server import endpoint
from bot.emulator.vk.spec import MESSAGE_MAX_LENGTH, VkApiError, api_error, param_error

DEDUP_SECONDS = 3600  # the same random_id to the same peer within this window is one message


class VkMessages(VkActing):
    """The methods that send, edit and delete the community's messages."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._sent: dict[tuple[int, int], tuple[float, ChatMessage]] = {}

    @endpoint("messages.send")
    async def _messages_send(self, params: dict[str, Any]) -> Any:
        if "random_id" not in params:
            raise param_error("random_id is a required parameter")
        targets = self._target_peers(params)
        text = params.get("message", "")
        content_params = ("attachment", "sticker_id", "forward_messages", "forward")
        if not text.strip() and not any(name in params for name in content_params):
            raise param_error("message is empty or invalid")
        if len(text) > MESSAGE_MAX_LENGTH:
            raise api_error(914)
        if "template" in params:
            raise param_error("template (carousel) is not emulated")
        keyboard = validate_keyboard(params["keyboard"]) if "keyboard" in params else None
        if "payload" in params:
            validate_message_payload(params["payload"])
        attachments = self._attachments(params.get("attachment", ""))
        if "sticker_id" in params:
            attachments.append({"type": "sticker", "sticker": self._sticker(params["sticker_id"])})
        if isinstance(targets, int):
            chat = self._writable(targets)
            return self._send_once(chat, params, attachments, keyboard).id
        results: list[dict[str, Any]] = []
        for peer_id in targets:
            try:
                chat = self._writable(peer_id)
                message = self._send_once(chat, params, attachments, keyboard)
            except VkApiError as error:
                if error.rejected:
                    raise
                results.append(
                    {"peer_id": peer_id, "error": {"code": error.error_code,
                                                   "description": error.error_msg}}
                )  # fmt: skip
                continue
            results.append(
                {
                    "peer_id": peer_id,
                    "message_id": message.id,
                    "conversation_message_id": message.conversation_message_id,
                }
            )
        return results

    def _send_once(
        self,
        chat: VkChat,
        params: dict[str, Any],
        attachments: list[dict[str, Any]],
        keyboard: dict[str, Any] | None,
    ) -> ChatMessage:
        """Send unless this random_id already went to this peer within the hour."""
        random_id = params["random_id"]
        now = time.monotonic()
        key = (chat.peer_id, random_id)
        if random_id != 0 and key in self._sent and now - self._sent[key][0] < DEDUP_SECONDS:
            return self._sent[key][1]
        reply = self._reply_for(chat, params)
        fwd = self._forward_for(params)
        if "forward_messages" in params:
            fwd = self._forwarded(params["forward_messages"]) + fwd
        message = self._bot_message(
            chat, params, copy.deepcopy(attachments), keyboard, reply, fwd
        )
        if random_id != 0:
            self._sent[key] = (now, message)
        return message

    def _forwarded(self, message_ids: list[int]) -> list[dict[str, Any]]:
        found = []
        for message_id in message_ids:
            message = next(
                (m for chat in self._chats.values() for m in chat.messages
                 if m.id and m.id == message_id and not m.deleted),
                None,
            )  # fmt: skip
            if message is None:
                raise api_error(921, f"message {message_id} not found")
            found.append(foreign(message.raw, with_id=False))
        return found

    @endpoint("messages.edit")
    async def _messages_edit(self, params: dict[str, Any]) -> int:
        ids = [name for name in ("message_id", "conversation_message_id", "cmid") if name in params]
        if len(ids) != 1:
            raise param_error(
                "exactly one of message_id, conversation_message_id, cmid is required"
            )
        chat = self._writable(params["peer_id"])
        message = self._find_message(chat, params)
        if message is None:
            raise param_error(f"message not found in peer {params['peer_id']}")
        if not message.from_bot:
            raise api_error(15, "can't edit a message of another author")
        text = params.get("message", "")
        if not text.strip() and "attachment" not in params:
            raise param_error("message is empty or invalid")
        if len(text) > MESSAGE_MAX_LENGTH:
            raise api_error(914)
        keyboard = validate_keyboard(params["keyboard"]) if "keyboard" in params else None
        attachments = self._attachments(params.get("attachment", ""))
        if "template" in params:
            raise param_error("template (carousel) is not emulated")
        # VK rewrites the message: text, attachments and keyboard not passed again are gone
        message.raw["text"] = text
        message.raw["attachments"] = attachments
        if not params.get("keep_forward_messages"):
            message.raw["fwd_messages"] = []
        if keyboard is not None:
            message.raw["keyboard"] = keyboard | {"author_id": -self.group_id}
            self._show_keyboard(chat, keyboard)
        else:
            message.raw.pop("keyboard", None)
        message.raw["update_time"] = int(time.time())
        message.raw["version"] = next(self._versions)
        message.edited = True
        self._enqueue("message_edit", message.raw)
        return 1

    @endpoint("messages.delete")
    async def _messages_delete(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        cmids = params.get("cmids", []) + params.get("conversation_message_ids", [])
        message_ids = params.get("message_ids", [])
        if not cmids and not message_ids:
            raise param_error("message_ids or cmids is required")
        if cmids and "peer_id" not in params:
            raise param_error("peer_id is required with cmids")
        chats = [self._chats[params["peer_id"]]] if params.get("peer_id") in self._chats else []
        if "peer_id" not in params:
            chats = list(self._chats.values())
        found: list[tuple[ChatMessage | None, dict[str, Any]]] = []
        for cmid in cmids:
            message = chats[0].message(cmid) if chats else None
            found.append((message, {"peer_id": params["peer_id"], "conversation_message_id": cmid}))
        for message_id in message_ids:
            message = next(
                (m for chat in chats for m in chat.messages if m.id and m.id == message_id), None
            )
            found.append((message, {"message_id": message_id}))
        results = []
        for message, item in found:
            if message is None or message.deleted or message.deleted_for_bot:
                results.append(item | {"error": {"code": 104, "description": "Not found"}})
                continue
            item = {
                "peer_id": message.peer_id,
                "message_id": message.id,
                "conversation_message_id": message.conversation_message_id,
            }
            if params.get("delete_for_all"):
                chat = self._chats[message.peer_id]
                admin_in_chat = isinstance(chat, VkGroupChat) and chat.bot_admin
                if not message.from_bot and not admin_in_chat:
                    text = "Can't delete this message for everybody"
                    results.append(item | {"error": {"code": 924, "description": text}})
                    continue
                message.deleted = True
                if chat.pinned is message:
                    chat.pinned = None  # VK unpins a message deleted for everybody
            else:
                message.deleted_for_bot = True
            results.append(item | {"response": 1})
        return results

    # helpers

    def _target_peers(self, params: dict[str, Any]) -> list[int] | int:
        """The peer(s) of messages.send: a list for peer_ids, else one peer id."""
        given = [name for name in ("user_id", "peer_id", "peer_ids", "domain", "chat_id")
                 if name in params]
        if len(given) != 1:
            raise param_error(
                "exactly one of user_id, peer_id, peer_ids, domain, chat_id is required"
                + (f", got {', '.join(given)}" if given else "")
            )
        name = given[0]
        value = params[name]
        if name == "peer_ids":
            if not value:
                raise param_error("peer_ids is empty")
            return list(dict.fromkeys(value))
        if name == "chat_id":
            return CHAT_PEER_START + value
        if name == "domain":
            user = next(
                (u for u in self._users.values() if value in (u.raw["screen_name"], f"id{u.id}")),
                None,
            )
            if user is None:
                raise param_error(f"domain {value} not found")
            return user.id
        return value

    def _bot_message(
        self,
        chat: VkChat,
        params: dict[str, Any],
        attachments: list[dict[str, Any]],
        keyboard: dict[str, Any] | None,
        reply: dict[str, Any] | None,
        fwd: list[dict[str, Any]] | None = None,
    ) -> ChatMessage:
        raw = self._base_message(chat, -self.group_id)
        raw |= {
            "out": 1,
            "text": params.get("message", ""),
            "attachments": attachments,
            "fwd_messages": fwd or [],
            "random_id": params.get("random_id", 0),
        }
        if "payload" in params:
            raw["payload"] = params["payload"]
        if reply is not None:
            raw["reply_message"] = reply
        if keyboard is not None:
            raw["keyboard"] = keyboard | {"author_id": -self.group_id}
            self._show_keyboard(chat, keyboard)
        message = chat._add(raw, from_bot=True)
        self._enqueue("message_reply", message.raw)
        return message

    @staticmethod
    def _show_keyboard(chat: VkChat, keyboard: dict[str, Any]) -> None:
        if keyboard.get("inline"):
            return
        chat.keyboard_raw = keyboard if keyboard.get("buttons") else None

    def _find_message(self, chat: VkChat, params: dict[str, Any]) -> ChatMessage | None:
        if "conversation_message_id" in params or "cmid" in params:
            cmid = params["conversation_message_id"] if "conversation_message_id" in params else params["cmid"]
            found = chat.message(cmid)
        else:
            message_id = params.get("message_id")
            found = next(
                (m for m in chat.messages if message_id and m.id == message_id), None
            )
        return None if found is None or found.deleted or found.deleted_for_bot else found

    def _reply_for(self, chat: VkChat, params: dict[str, Any]) -> dict[str, Any] | None:
        """The message a bot message replies to: reply_to (a message id) or forward is_reply."""
        if "reply_to" in params:
            replied = next((m for m in chat.messages if m.id and m.id == params["reply_to"]), None)
            if replied is None:
                raise param_error("reply_to: message not found")
            return self._quoted(chat, replied.conversation_message_id)
        if "forward" in params:
            forward = _forward_param(params["forward"])
            cmids = forward.get("conversation_message_ids") or forward.get("cmids") or []
            if forward.get("is_reply") and cmids:
                if forward.get("peer_id", chat.peer_id) != chat.peer_id:
                    raise param_error("forward: a reply must be to a message of the same peer")
                replied = chat.message(cmids[0])
                if replied is None or replied.deleted:
                    raise param_error("forward: message not found")
                return self._quoted(chat, cmids[0])
        return None

    def _forward_for(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """fwd_messages from the forward parameter without is_reply: the given messages of
        forward.peer_id (any conversation the community sees), in the order given."""
        if "forward" not in params:
            return []
        forward = _forward_param(params["forward"])
        if forward.get("is_reply"):
            return []
        cmids = forward.get("conversation_message_ids") or forward.get("cmids") or []
        if not cmids:
            raise param_error("forward: conversation_message_ids is required")
        peer_id = forward.get("peer_id")
        if not isinstance(peer_id, int) or isinstance(peer_id, bool):
            raise param_error("forward: peer_id is required")
        source = self._chats.get(peer_id)
        visible = source is not None and (
            not isinstance(source, VkGroupChat) or source.bot_member
        )
        if source is None or not visible:
            raise param_error(f"forward: peer {peer_id} is not accessible to the community")
        found = []
        for cmid in cmids:
            message = source.message(cmid) if isinstance(cmid, int) else None
            if message is None or message.deleted or message.deleted_for_bot:
                raise param_error(f"forward: message {cmid} not found in peer {peer_id}")
            found.append(foreign(message.raw, with_id=False))
        return found


def _forward_param(value: Any) -> dict[str, Any]:
    """The forward parameter: a JSON object."""
    try:
        forward = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        raise param_error("forward: invalid JSON") from None
    if not isinstance(forward, dict):
        raise param_error("forward: a JSON object is expected")
    return forward
