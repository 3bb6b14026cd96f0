"""The demo's parent-chat part: the parent finds a chat by theme and is let in (Telegram: her join
request is approved by the bot, as she is registered; VK: the conversation's link, which the bot
gives registered parents only), and the chat welcomes her with its rules.

The demo connects one catalog chat of the shipped content to a group of the emulator: the shipped
catalog's chats have no chat id until the centre makes them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.chat_content import FILE
from bot.content import Content

if TYPE_CHECKING:
    from bot.demo import DemoPlatform, Player

CHAT = "speech"  # the catalog's chat the demo connects: speech development, 0–11
TELEGRAM_GROUP, VK_CHAT = -1002003004005, 1


def connect_demo_chat(content_dir: Path, platform: str) -> int:
    """Point the demo's chat at the emulator's group on `platform`; the group's chat id."""
    chat_id = TELEGRAM_GROUP if platform == "telegram" else 2_000_000_000 + VK_CHAT
    catalog = content_dir / FILE
    text = catalog.read_text(encoding="utf-8")
    block = re.compile(rf'(id = "{CHAT}"\nplatform = )"\w+"(\nchat_id = )0')
    catalog.write_text(block.sub(rf'\1"{platform}"\g<2>{chat_id}', text, count=1), encoding="utf-8")
    return chat_id


def demo_group(demo: DemoPlatform) -> Any:
    emulator: Any = demo.emulator
    return emulator.group(TELEGRAM_GROUP if demo.name == "telegram" else VK_CHAT, title="Parents: speech")


def is_join_link(demo: DemoPlatform, link: str) -> bool:
    """Whether `link` lets someone into the demo's group (the link the bot gave out for it)."""
    group = demo_group(demo)
    return link in group.invite_links if demo.name == "telegram" else link == group.invite_link


def join(demo: DemoPlatform, user: Any, link: str) -> None:
    """Opening the chat's link: Telegram sends the bot a request to join; VK lets them in."""
    group = demo_group(demo)
    if demo.name == "telegram":
        user.request_join(group, link)
    else:
        user.join_by_link(link)


def said_in_chat(demo: DemoPlatform) -> list[str]:
    """What the bot said in the demo's group, in order."""
    return [message.text or "" for message in demo_group(demo).messages if message.from_bot]


async def join_a_chat(demo: DemoPlatform, content: Content, language: str, olga: Player) -> None:
    texts = content.texts[language]
    chat = next(chat for chat in content.chats if chat.id == CHAT)
    group = demo_group(demo)
    print(f"\n{olga.name} looks for other parents whose children are learning to speak:")
    await olga.send("/chats")
    await olga.tap(chat.title(language))
    link = next(target for row in olga.user.bot_messages[-1].buttons for label, target in row if label == texts("chats.join"))
    how = "Telegram sends the bot her request to join" if demo.name == "telegram" else "she joins the conversation"
    await olga.do(f"taps [{texts('chats.join')}]: {how}", lambda: join(demo, olga.user, link))
    if olga.user.id not in group.members:
        raise TimeoutError(f"{olga.name} was not let into the chat")
    print(f"   ✅ {olga.name} is a member of «{chat.title(language)}» now. The bot says in the chat:")
    for text in said_in_chat(demo):
        print("      " + text.replace("\n", "\n      "))
