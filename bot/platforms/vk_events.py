"""VK Bots Long Poll / Callback API events as aiogram Updates, so the same handlers serve VK."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiogram import Bot
from aiogram.types import Update

from bot.platforms.vk_format import callback_data_of
from bot.platforms.vk_session import chat_type, vk_file_id

START_PAYLOAD = {"command": "start"}  # what VK's own "Start" button sends


def update_id(event: dict[str, Any]) -> int:
    """A stable number for a VK event_id, so a re-delivered event is recognised as processed."""
    return int.from_bytes(hashlib.blake2b(str(event["event_id"]).encode(), digest_size=7).digest(), "big")


def to_update(event: dict[str, Any], bot: Bot) -> Update | None:
    """The Update for a VK event, or None for events the bot does not handle."""
    convert = CONVERTERS.get(str(event.get("type")))
    if convert is None:
        return None
    payload = convert(event["object"], event.get("group_id", bot.id))
    return None if payload is None else Update.model_validate({"update_id": update_id(event), **payload}, context={"bot": bot})


class VkEvents:
    """A VK event as an aiogram Update (see bot.platforms.Convert)."""

    update = staticmethod(to_update)

    @staticmethod
    def kind(event: Any) -> str:
        kind = event.get("type") if isinstance(event, dict) else None
        return kind if isinstance(kind, str) and kind in CONVERTERS else "unknown"


def message_new(obj: dict[str, Any], group_id: int) -> dict[str, Any] | None:
    message = obj["message"]
    action = message.get("action")
    if action:
        return member_change(message, action, group_id)
    return {"message": message_of(message)}


MEMBER_ACTIONS = {"chat_invite_user": "new_chat_members", "chat_invite_user_by_link": "new_chat_members", "chat_kick_user": "left_chat_member"}


def member_change(message: dict[str, Any], action: dict[str, Any], group_id: int) -> dict[str, Any] | None:
    """Someone came into or left a conversation: Telegram's service message (new_chat_members,
    left_chat_member); the community itself added: my_chat_member."""
    field, member = MEMBER_ACTIONS.get(str(action.get("type"))), action.get("member_id")
    if member is None and action.get("type") == "chat_invite_user_by_link":  # who joined by the link is the message's author
        member = message.get("from_id")
    if field is None or not isinstance(member, int):
        return None
    if member == -group_id:
        return bot_joined(message, group_id) if field == "new_chat_members" else None
    user = sender(member)
    service = {"message_id": message.get("conversation_message_id") or message.get("id"), "date": message["date"], "from": sender(message["from_id"])}
    service["chat"] = {"id": message["peer_id"], "type": chat_type(message["peer_id"])}
    return {"message": service | {field: [user] if field == "new_chat_members" else user}}


def bot_joined(message: dict[str, Any], group_id: int) -> dict[str, Any]:
    """The community was added to a chat: Telegram's my_chat_member, left -> member."""
    return bot_membership_change(message["peer_id"], message["from_id"], message["date"], group_id, "left", "member")


def bot_membership_change(peer_id: int, user_id: int, date: int, group_id: int, old: str, new: str) -> dict[str, Any]:
    def member(status: str) -> dict[str, Any]:
        return {"status": status, "user": bot_user(group_id)} | ({"until_date": 0} if status == "kicked" else {})

    return {
        "my_chat_member": {
            "chat": {"id": peer_id, "type": chat_type(peer_id)},
            "from": sender(user_id),
            "date": date,
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
    }


def bot_user(group_id: int) -> dict[str, Any]:
    return {"id": group_id, "is_bot": True, "first_name": "bot"}


def message_of(message: dict[str, Any]) -> dict[str, Any]:
    peer_id = message["peer_id"]
    raw = {
        "message_id": message.get("conversation_message_id") or message.get("id"),
        "date": message["date"],
        "chat": {"id": peer_id, "type": chat_type(peer_id)},
        "from": sender(message["from_id"]),
    }
    text = command_text(message)
    media, *extra = [found for found in map(media_of, message.get("attachments", ())) if found] or [{}]
    if media:
        raw |= media | ({"caption": text} if text else {}) | ({"extra_media": extra} if extra else {})
    elif text or not message.get("attachments"):
        raw["text"] = text or " "
    else:
        raw["text"] = " "  # an attachment kind we do not map still gets an answer
    if message.get("fwd_messages"):  # forwarded messages: Telegram's forward_origin (the original author is not told)
        raw["forward_origin"] = {"type": "hidden_user", "sender_user_name": "VK", "date": message["date"]}
    replied = message.get("reply_message")
    if isinstance(replied, dict) and "from_id" in replied and (replied.get("conversation_message_id") or replied.get("id")):  # what it answers (/report)
        raw["reply_to_message"] = message_of({"peer_id": peer_id, "date": message["date"]} | replied)
    return raw


def command_text(message: dict[str, Any]) -> str:
    """VK deep links (vk.me/club?ref=code) and the Start button become /start, as on Telegram."""
    payload = _json(message.get("payload"))
    if message.get("ref"):
        return f"/start {message['ref']}"
    if payload == START_PAYLOAD:
        return "/start"
    return message.get("text", "")


def sender(user_id: int) -> dict[str, Any]:
    # VK events carry no names and no client language; we keep neither anyway. A negative id is a
    # community (this bot's, or another added to the chat): a bot, as Telegram would say.
    return {"id": user_id, "is_bot": user_id < 0, "first_name": str(user_id)}


def media_of(attachment: dict[str, Any]) -> dict[str, Any] | None:
    kind, body = attachment["type"], attachment.get(attachment["type"], {})
    owner_item = f"{body.get('owner_id')}_{body.get('id')}" + (f"_{body['access_key']}" if body.get("access_key") else "")
    if kind == "photo":
        size = max(body.get("sizes") or [{}], key=lambda item: item.get("width", 0))
        file_id = vk_file_id(f"photo{owner_item}", size.get("url", ""))
        return {"photo": [{"file_id": file_id, "file_unique_id": f"photo{owner_item}", "width": size.get("width", 0), "height": size.get("height", 0)}]}
    if kind == "audio_message":
        file_id = vk_file_id(f"doc{owner_item}", body.get("link_ogg") or body.get("link_mp3", ""))
        return {"voice": {"file_id": file_id, "file_unique_id": f"doc{owner_item}", "duration": body.get("duration", 0)} | voice_transcript(body)}
    if kind == "doc":
        file_id = vk_file_id(f"doc{owner_item}", body.get("url", ""))
        return {"document": {"file_id": file_id, "file_unique_id": f"doc{owner_item}", "file_name": body.get("title")}}
    if kind == "video":
        file_id = vk_file_id(f"video{owner_item}", "")
        return {
            "video": {
                "file_id": file_id,
                "file_unique_id": f"video{owner_item}",
                "width": body.get("width", 0),
                "height": body.get("height", 0),
                "duration": body.get("duration", 0),
            }
        }
    if kind == "sticker":
        image = max(body.get("images") or [{}], key=lambda item: item.get("width", 0))
        sticker_id = f"sticker{body.get('sticker_id')}"
        return {
            "sticker": {
                "file_id": vk_file_id(sticker_id, image.get("url", "")),
                "file_unique_id": sticker_id,
                "type": "regular",
                "width": image.get("width", 0),
                "height": image.get("height", 0),
                "is_animated": False,
                "is_video": False,
            }
        }
    return None


def voice_transcript(audio_message: dict[str, Any]) -> dict[str, str]:
    """VK's speech-to-text of a voice message, as the extra field "transcript" of the Voice:
    only a finished one (transcript_state "done", or no state but the text) and never empty.
    VK's schema names only transcript_error; transcript and transcript_state are what the API
    returns beside it."""
    text, state = audio_message.get("transcript"), audio_message.get("transcript_state")
    done = state in (None, "done") and not audio_message.get("transcript_error")
    return {"transcript": text} if done and isinstance(text, str) and text.strip() else {}


def message_event(obj: dict[str, Any], group_id: int) -> dict[str, Any]:
    """A callback button press. The query id carries what sendMessageEventAnswer needs back."""
    peer_id, user_id = obj["peer_id"], obj["user_id"]
    data = callback_data_of(_json(obj.get("payload")))
    query = {
        "id": f"{obj['event_id']}:{user_id}:{peer_id}",
        "from": sender(user_id),
        "chat_instance": str(peer_id),
        "message": {
            "message_id": obj["conversation_message_id"],
            "date": 0,
            "chat": {"id": peer_id, "type": chat_type(peer_id)},
            "from": bot_user(group_id),
            "text": " ",
        },
    }
    if data is not None:
        query["data"] = data
    return {"callback_query": query}


def membership(obj: dict[str, Any], group_id: int, allowed: bool) -> dict[str, Any]:
    """message_allow / message_deny as Telegram's my_chat_member: the user (un)blocked the bot."""
    old, new = ("kicked", "member") if allowed else ("member", "kicked")
    return bot_membership_change(obj["user_id"], obj["user_id"], 0, group_id, old, new)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


CONVERTERS = {
    "message_new": message_new,
    "message_event": message_event,
    "message_allow": lambda obj, group_id: membership(obj, group_id, allowed=True),
    "message_deny": lambda obj, group_id: membership(obj, group_id, allowed=False),
}
