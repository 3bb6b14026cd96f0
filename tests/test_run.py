"""`python -m bot run` as a real process against the emulator: polling, webhook, clean shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time

from tests.conftest import BOT_TOKEN
from tests.helpers import TEXTS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def start_bot_process(emulator, tmp_path, **env: str) -> asyncio.subprocess.Process:
    environment = os.environ | {
        "BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_URL": emulator.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/vmeste.db",
        "LOG_LEVEL": "WARNING",
    } | env
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=environment, stderr=asyncio.subprocess.PIPE
    )


async def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def test_run_answers_start_within_a_second_and_stops_cleanly(emulator, tmp_path):
    process = await start_bot_process(emulator, tmp_path)
    await wait_for(lambda: any(method == "getUpdates" for method, _ in emulator.calls))
    parent = emulator.user(4001, language_code="ro")

    started = time.monotonic()
    parent.send("/start")
    await wait_for(lambda: parent.bot_messages, timeout=5)
    assert time.monotonic() - started < 1.0
    assert parent.last.text == TEXTS["ro"]("language.prompt")

    parent.click("Română")
    await emulator.settle()
    assert "Traceback" not in await stop(process)
    assert parent.last.text == __import__("tests.helpers", fromlist=["CONTENT"]).CONTENT.consent_text("ro").text
    methods = {method for method, _ in emulator.calls}
    assert {"getMe", "setMyCommands", "deleteWebhook", "getUpdates", "sendMessage", "editMessageText", "answerCallbackQuery"} <= methods


async def test_webhook_mode_checks_the_secret_and_answers(emulator, tmp_path):
    port = free_port()
    process = await start_bot_process(
        emulator, tmp_path, WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram", WEBHOOK_SECRET="s3cret_token", WEBHOOK_HOST="127.0.0.1", WEBHOOK_PORT=str(port)
    )
    await wait_for(lambda: any(method == "setWebhook" for method, _ in emulator.calls))
    parent = emulator.user(4002, language_code="en")
    parent.send("/start")
    await emulator.settle(timeout=10)
    assert parent.last.text == TEXTS["en"]("language.prompt")

    import aiohttp

    async with aiohttp.ClientSession() as http:
        forged = await http.post(f"http://127.0.0.1:{port}/telegram", json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
        assert forged.status == 401
    await stop(process)


async def test_sigterm_mid_update_finishes_it_and_loses_nothing(emulator, tmp_path):
    process = await start_bot_process(emulator, tmp_path)
    await wait_for(lambda: any(method == "getUpdates" for method, _ in emulator.calls))
    parent = emulator.user(4003, language_code="en")
    emulator.fail_next("sendMessage", status=None, delay=1.0)  # the reply is still on its way when SIGTERM comes
    parent.send("/start")
    waiting = parent.send("are you there?")
    await wait_for(lambda: any(method == "sendMessage" for method, _ in emulator.calls))
    await stop(process)
    assert [message.text for message in parent.bot_messages] == [TEXTS["en"]("language.prompt"), TEXTS["en"]("fallback.not_registered")]
    assert emulator.pending_updates == []

    process = await start_bot_process(emulator, tmp_path)  # a restart replays nothing
    await wait_for(lambda: sum(method == "getUpdates" for method, _ in emulator.calls) >= 3)
    await emulator.settle()
    await stop(process)
    assert len(parent.bot_messages) == 2
    assert waiting["text"] == "are you there?"
