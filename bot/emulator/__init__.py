"""Local emulators of the messenger APIs, for tests and the demo."""

from bot.emulator.telegram import (
    CallbackAnswer,
    ChatMessage,
    EmulatedChat,
    EmulatedGroup,
    EmulatedUser,
    TelegramEmulator,
)

__all__ = [
    "CallbackAnswer",
    "ChatMessage",
    "EmulatedChat",
    "EmulatedGroup",
    "EmulatedUser",
    "TelegramEmulator",
]
