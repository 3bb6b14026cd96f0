"""A person blocking the bot (Telegram's my_chat_member, VK's message_deny) drops out of broadcasts
at once, before a send fails; any update from them in their private chat with the bot afterwards,
unblocking included, brings them back (IdentityMiddleware)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import KICKED, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from bot.clock import Clock
from bot.db.models import Account
from bot.filters import InPrivateChat


def build_router() -> Router:
    """Neither tier: the event is about the private chat itself, and comes whether the bot may write there or not."""
    router = Router(name="membership")
    router.my_chat_member.register(blocked, InPrivateChat(), ChatMemberUpdatedFilter(member_status_changed=KICKED))
    return router


async def blocked(event: ChatMemberUpdated, account: Account | None, clock: Clock) -> None:
    if account is not None:  # someone who never registered: nothing kept, nothing to mark
        account.unreachable_since = clock.now()
