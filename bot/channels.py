"""What a handler may need to know about the messenger an update came from (re-exported by
bot.platforms). A module of its own, free of aiogram, so that `python -m bot demo` and `try`, which
only read the links, start without importing aiogram (seconds of start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiogram import Bot


@dataclass(frozen=True)
class Channel:
    """What a handler may need to know about the messenger an update came from."""

    name: str  # the `platform` stored with accounts and events
    chat_link: str  # format with username
    start_link: str  # format with username and payload
    tells_names: bool = True  # a user's name comes with their messages (VK events carry only the id)
    file_ids_name_owner: bool = False  # a file id names the account that uploaded it (VK's photo<owner>_<id>)
    join_requests: bool = True  # a group's link can ask to join, and the bot decides (VK: the link lets anyone in)
    can_mute: bool = True  # the bot can keep a member from writing for a while (VK: only remove them)
    tells_rights: bool = True  # a bot can read its own admin rights in a group, right by right (VK: admin or not)

    async def link_to_bot(self, bot: Bot, payload: str = "") -> str:
        username = (await bot.me()).username
        return self.start_link.format(username=username, payload=payload) if payload else self.chat_link.format(username=username)


TELEGRAM = Channel("telegram", "https://t.me/{username}", "https://t.me/{username}?start={payload}")
VK = Channel(
    "vk", "https://vk.me/{username}", "https://vk.me/{username}?ref={payload}", tells_names=False, file_ids_name_owner=True, join_requests=False,
    can_mute=False, tells_rights=False,
)
CHANNELS = {channel.name: channel for channel in (TELEGRAM, VK)}
