"""What a message carries besides its text and files, as VK shows it: messages quoted or
forwarded into it (reply_message, fwd_messages), the snippet VK makes of a link in its
text (an attachment of type "link"), and a pinned message (chat_settings.pinned_message,
the answer of messages.pin).
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.emulator.vk.chats import ChatMessage

if TYPE_CHECKING:
    from bot.emulator.vk.users import VkUser

# what a test forwards: a message of some conversation, the text of one of the sender's own
# messages, or (author, text) for a message of someone else (a VkUser, a user id or -group id)
Forward = ChatMessage | str | tuple["VkUser | int", str]

URL_RE = re.compile(r"https?://[^\s<>\"']+")
FORWARDED_AGE = 3600  # how much older than the message a forwarded text is dated


def foreign(raw: dict[str, Any], with_id: bool) -> dict[str, Any]:
    """A message as reply_message or fwd_messages show it."""
    keys = ["date", "from_id", "text", "attachments", "conversation_message_id", "peer_id"]
    keys += ["id"] if with_id else []
    shown = {key: copy.deepcopy(raw[key]) for key in keys if key in raw}
    if raw.get("fwd_messages"):
        shown["fwd_messages"] = copy.deepcopy(raw["fwd_messages"])
    return shown


def forwarded(sender_id: int, items: Iterable[Forward]) -> list[dict[str, Any]]:
    """fwd_messages of a message a user sends, from what the test gave."""
    found = []
    for item in items:
        if isinstance(item, ChatMessage):
            if item.deleted:
                raise AssertionError(f"{item!r} is deleted: it cannot be forwarded")
            found.append(foreign(item.raw, with_id=False))
            continue
        author, text = (sender_id, item) if isinstance(item, str) else item
        author_id = author if isinstance(author, int) else author.id
        found.append(
            {
                "date": int(time.time()) - FORWARDED_AGE,
                "from_id": author_id,
                "text": text,
                "attachments": [],
                "conversation_message_id": 0,  # of a conversation the bot does not see
            }
        )
    return found


def link_snippet(text: str) -> dict[str, Any] | None:
    """The "link" attachment VK adds for the first web link of a message's text, if any."""
    match = URL_RE.search(text)
    if match is None:
        return None
    url = match.group().rstrip(".,!?;:)")
    domain = urlsplit(url).netloc
    link = {"url": url, "title": domain, "caption": domain, "description": "", "is_external": True}
    return {"type": "link", "link": link}


def pinned(message: ChatMessage) -> dict[str, Any]:
    """The message as messages.pin answers and chat_settings.pinned_message shows it."""
    raw = message.raw
    keys = ["id", "date", "from_id", "peer_id", "text", "conversation_message_id",
            "attachments", "fwd_messages", "reply_message", "keyboard"]  # fmt: skip
    shown = {key: copy.deepcopy(raw[key]) for key in keys if key in raw}
    shown["out"] = bool(raw.get("out"))
    return shown
