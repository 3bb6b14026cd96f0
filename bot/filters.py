"""Router filters: which tier an update belongs to (the person's private chat with the bot, or a
group), and who may reach a router's handlers (bot.permissions). All async: aiogram runs a sync
filter (a magic filter such as `F.chat.type == ...` registered on a router) in a worker thread."""

from __future__ import annotations

from enum import StrEnum

from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import Chat, TelegramObject, User

from bot.permissions import NOBODY, Action, Actor, may

GROUP_CHATS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})


class ChatKind(StrEnum):
    private = "private"  # the person's own chat with the bot: every personal feature lives here
    group = "group"  # a group the bot is in (a press on a bot message there included)
    other = "other"  # no chat to speak of (a press on an inline message, a channel post)


def chat_kind(chat: Chat | None, user: User | None) -> ChatKind:
    """The tier of an event, from aiogram's `event_chat` and `event_from_user` (set for every update
    before the outer middlewares run): no I/O, so a middleware can ask it before any database work.
    Private means the presser's own chat: a press forged onto someone else's message is not."""
    if chat is None:
        return ChatKind.other
    if chat.type == ChatType.PRIVATE:
        return ChatKind.private if user is not None and chat.id == user.id else ChatKind.other
    return ChatKind.group if chat.type in GROUP_CHATS else ChatKind.other


def in_private_chat(chat: Chat | None, user: User | None) -> bool:
    return chat_kind(chat, user) == ChatKind.private


class InPrivateChat(Filter):
    """A message, a press on a bot message, or a membership change in the person's own private chat
    with the bot: personal screens open only there, never in a group (where a forged press would
    show them to everyone)."""

    async def __call__(self, event: TelegramObject, event_chat: Chat | None = None, event_from_user: User | None = None) -> bool:
        return in_private_chat(event_chat, event_from_user)


class InGroupChat(Filter):
    async def __call__(self, event: TelegramObject, event_chat: Chat | None = None, event_from_user: User | None = None) -> bool:
        return chat_kind(event_chat, event_from_user) == ChatKind.group


class Allowed(Filter):
    """The person may do `action` (bot.permissions), as the update found them (the `actor` of
    IdentityMiddleware). Handlers ask may() again with the row when the action is about one."""

    def __init__(self, action: Action) -> None:
        self.action = action

    async def __call__(self, event: TelegramObject, actor: Actor = NOBODY) -> bool:
        return may(actor, self.action)


class NotACommand(Filter):
    """A message that answers a question: commands (/menu) go to their own handlers meanwhile."""

    async def __call__(self, event: TelegramObject) -> bool:
        return not (getattr(event, "text", None) or "").startswith("/")
