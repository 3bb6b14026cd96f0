"""A local Telegram Bot API server, and the users who talk to the bot through it.

    emu = TelegramEmulator()
    base_url = await emu.start()          # the bot uses TelegramAPIServer.from_base(base_url)
    anna = emu.user(1001, first_name="Anna")
    anna.send("/start")
    await emu.settle()
    assert anna.last.text == "..."

The bot reaches the emulator over HTTP only, so it may run in another process. Users
are driven from the event loop the server runs in. Every call is validated against the
public Bot API spec (see spec.py) and answered the way Telegram answers it.
"""

from __future__ import annotations

from bot.emulator.telegram.messages import TelegramMessages
from bot.emulator.telegram.moderation import TelegramModeration
from bot.emulator.telegram.profile import TelegramProfile


class TelegramEmulator(TelegramMessages, TelegramProfile, TelegramModeration):
    """A local Telegram Bot API server: every method group of this package in one object."""

    def __init__(
        self,
        bot_username: str = "vmeste_test_bot",
        bot_name: str = "Vmeste",
        privacy_mode: bool = False,
    ) -> None:
        super().__init__(bot_username=bot_username, bot_name=bot_name, privacy_mode=privacy_mode)
