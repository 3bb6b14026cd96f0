"""A local VK API server (methods, Bots Long Poll, uploads, Callback API), and the users
who talk to the community's bot through it.

    vk = VkEmulator(group_id=218000000, token="vk1.a.test-token")
    base_url = await vk.start()       # the bot's requests adapter sends api.vk.ru here
    olga = vk.user(5001, first_name="Olga")
    olga.send("hello")
    await vk.settle()
    assert olga.last.text == "..."

The bot reaches the emulator over HTTP only (vk_api posts to https://api.vk.ru/method/…,
which the bot's session adapter points here; the long poll server and the upload URLs
the emulator hands out are loopback URLs), so it may run in another process. Users are
driven from the event loop the server runs in. Every call is validated against VK's JSON
schema (see spec.py) and answered the way VK answers it: HTTP 200 with {"response": …}
or {"error": {"error_code", "error_msg", "request_params"}}.
"""

from __future__ import annotations

from bot.emulator.vk.callback_api import VkCallbackApi
from bot.emulator.vk.conversations import VkConversations
from bot.emulator.vk.messages import VkMessages
from bot.emulator.vk.moderation import VkModeration
from bot.emulator.vk.uploads import VkUploads
from bot.emulator.vk.wall import VkWall


class VkEmulator(VkMessages, VkConversations, VkModeration, VkUploads, VkCallbackApi, VkWall):
    """A local VK API server: every method group of this package in one object."""

    def __init__(
        self,
        group_id: int = 218000000,
        *,
        screen_name: str = "vmeste_test",
        name: str = "Vmeste",
        token: str = "vk1.a.test-token",
        service_token: str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        events: frozenset[str] | set[str] | None = None,
    ) -> None:
        super().__init__(
            group_id=group_id,
            screen_name=screen_name,
            name=name,
            token=token,
            service_token=service_token,  # the VK app's service key: wall.get
            events=events,
        )
