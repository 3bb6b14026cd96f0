"""A local VK API server (methods, Bots Long Poll, uploads, Callback API), and the users
who talk to the community's bot through it.

    vk = VkEmulator(group_id=218000000, token="vk1.a.test-token")
    base_url = await vk.start()
    olga = vk.user(5001, first_name="Olga")
    olga.send("hello")
    await vk.settle()

How the package is put together: one module per concern, each a layer of the one
emulator class. A layer subclasses the layers it builds on, adds its own state in
`__init__` (passing the options on) and registers its API methods on the shared
`server.ENDPOINTS` table with `@endpoint("messages.send")`; `emulator.VkEmulator`
inherits every layer, so importing it registers every method. No layer imports a layer
above it, so there are no import cycles (chats.py and users.py name VkActing for
types only).

    server.py         VkServer: HTTP, a call's token/version/schema checks, faults and
                      the rate limit; the control API (fail_next, set_limits; calls,
                      rejected, throttled)
    longpoll.py       VkLongPoll: the event queue, a_check, groups.*LongPoll* methods
    callback_api.py   VkCallbackApi: events POSTed to the bot's server instead
    files.py          VkFiles: stored files, their objects, attachment strings, downloads
    acting.py         VkActing: users and chats, the events their actions queue, and
                      where the community may write
    messages.py       VkMessages: messages.send, messages.edit, messages.delete
    profiles.py       VkProfiles: groups.getById, users.get
    conversations.py  VkConversations: the other messages.* methods
    moderation.py     VkModeration: messages.pin, messages.unpin, messages.removeChatUser
    uploads.py        VkUploads: upload servers, photos.saveMessagesPhoto, docs.save
    wall.py           VkWall: the community's wall posts (wall_post) and wall.get, read
                      with the app's service key (service_token)
    emulator.py       VkEmulator: all of the above
    chats.py          what tests hold: VkChat, VkGroupChat, ChatMessage
    content.py        what a message carries besides text and files: forwarded and
                      quoted messages, link snippets, the pinned message's form
    users.py          what tests hold: VkUser, CallbackAnswer
    spec.py           validation of every call against VK's JSON schema
    keyboards.py      the rules VK states in prose: keyboards, payloads, event_data
"""

from bot.emulator.vk.chats import ChatMessage, VkChat, VkGroupChat
from bot.emulator.vk.emulator import VkEmulator
from bot.emulator.vk.files import StoredFile
from bot.emulator.vk.users import CallbackAnswer, VkUser
from bot.emulator.vk.wall import WallPost

__all__ = [
    "CallbackAnswer",
    "ChatMessage",
    "StoredFile",
    "VkChat",
    "VkEmulator",
    "VkGroupChat",
    "VkUser",
    "WallPost",
]
