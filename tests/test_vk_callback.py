"""VK's Callback API: the server confirms itself, checks the secret, and a re-sent event is handled once."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.conftest import RunningBot, make_settings
from tests.helpers import TEXTS
from tests.messengers import VK_GROUP_ID, VkMessenger
from tests.test_run import free_port

SECRET, CODE = "callback-secret-1", "a1b2c3d4"


async def wait_for_port(port: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - polls a port another process opens; says which
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            assert asyncio.get_running_loop().time() < deadline, f"nothing listens on {port}"
            await asyncio.sleep(0.05)


async def test_callback_api_confirms_checks_the_secret_and_ignores_repeats(tmp_path):
    vk = VkMessenger()
    await vk.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}/vk-callback"
    settings = make_settings(
        vk, f"sqlite+aiosqlite:///{tmp_path}/vmeste.db",
        VK_CONFIRMATION_CODE=CODE, VK_CALLBACK_SECRET=SECRET, WEBHOOK_HOST="127.0.0.1", WEBHOOK_PORT=str(port),
    )
    async with RunningBot(settings), aiohttp.ClientSession() as http:
        await wait_for_port(port)
        confirmation = await http.post(url, json={"type": "confirmation", "group_id": VK_GROUP_ID})
        assert await confirmation.text() == CODE
        stranger_group = await http.post(url, json={"type": "confirmation", "group_id": 1})
        assert stranger_group.status == 403

        vk.set_callback_server(url, secret=SECRET, confirmation_code=CODE)
        parent = vk.user(8001)
        parent.send("/start")
        await vk.settle(timeout=10)
        assert [message.text for message in parent.bot_messages] == [TEXTS["en"]("language.prompt")]

        event = vk.updates[-1] | {"secret": SECRET}
        again = await http.post(url, json=event)  # VK re-sends when it did not see "ok" in time
        assert await again.text() == "ok"
        forged = await http.post(url, json=event | {"secret": "guess", "event_id": "other"})
        assert forged.status == 403
        assert len(parent.bot_messages) == 1
    await vk.stop()
    assert vk.rejected == [] and vk.callback_errors == []
