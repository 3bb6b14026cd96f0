"""A person blocking the bot (Telegram's my_chat_member, VK's message_deny) drops out of broadcasts
at once, before a send fails; any update from them afterwards, unblocking included, brings them
back (IdentityMiddleware)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import KICKED, ChatMemberUpdatedFilter, MagicData
from aiogram.types import ChatMemberUpdated

from bot.db.models import Account, utcnow


def build_router() -> Router:
    router = Router(name="membership")
    router.my_chat_member.register(blocked, MagicData(F.event.chat.type == ChatType.PRIVATE), ChatMemberUpdatedFilter(member_status_changed=KICKED))
    return router


async def blocked(event: ChatMemberUpdated, account: Account | None) -> None:
    if account is not None:  # someone who never registered: nothing kept, nothing to mark
        account.unreachable_since = utcnow()
