"""A local Telegram Bot API server, and the users who talk to the bot through it.

    emu = TelegramEmulator()
    base_url = await emu.start()
    anna = emu.user(1001, first_name="Anna")
    anna.send("/start")
    await emu.settle()

How the package is put together: one module per concern, each a layer of the one
emulator class. A layer subclasses the layers it builds on, adds its own state in
`__init__` (passing the options on) and registers its Bot API methods on the shared
`server.ENDPOINTS` table with `@endpoint("methodName")`; `emulator.TelegramEmulator`
inherits every layer, so importing it registers every method. No layer imports a layer
above it, so there are no import cycles (users.py names TelegramActing for types only).

    server.py      TelegramServer: HTTP, a call's validation, faults and flood limits; the
                   control API (fail_next, set_limits; calls, rejected, throttled)
    updates.py     TelegramUpdates: the update queue, getUpdates, the webhook and its pushes
    files.py       TelegramFiles: stored files, getFile, downloads; media objects
    acting.py      TelegramActing: users and chats, the updates their actions queue, getChat
    joining.py     TelegramJoining: group members, invite links, join requests (create/
                   revokeChatInviteLink, approve/declineChatJoinRequest), getChatMember
    moderation.py  TelegramModeration: the bot's admin rights at work (deleteMessage(s),
                   restrictChatMember, pin/unpin(All)ChatMessage), forwards and anonymous
                   reactions in groups, getChatMemberCount
    messages.py    TelegramMessages: send, edit, copy, forward; answerCallbackQuery
    profile.py     TelegramProfile: getMe, logOut/close, commands, the menu button
    emulator.py    TelegramEmulator: all of the above
    users.py       what tests hold: EmulatedUser, EmulatedGroup, EmulatedChat, ChatMessage,
                   CallbackAnswer
    spec.py        validation of every call against the public Bot API spec
    parse_mode.py  Telegram's HTML parse_mode: markup to text and entities; the entities
                   Telegram finds in users' text (commands, links)
"""

from bot.emulator.telegram.emulator import TelegramEmulator
from bot.emulator.telegram.users import (
    CallbackAnswer,
    ChatMessage,
    EmulatedChat,
    EmulatedGroup,
    EmulatedUser,
)

__all__ = [
    "CallbackAnswer",
    "ChatMessage",
    "EmulatedChat",
    "EmulatedGroup",
    "EmulatedUser",
    "TelegramEmulator",
]
