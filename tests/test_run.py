"""`python -m bot run` as a real process against the emulator: polling, push (webhook / Callback API),
clean shutdown — on Telegram and on VK."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time

import aiohttp
import pytest

from tests.helpers import CONTENT, TEXTS

pytestmark = pytest.mark.starts_processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def start_bot_process(emulator, tmp_path, **env: str) -> asyncio.subprocess.Process:
    environment = os.environ | emulator.bot_settings() | {"DATABASE_URL": f"sqlite:///{tmp_path}/vmeste.db", "LOG_LEVEL": "WARNING"} | env
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp_path, env=environment, stderr=asyncio.subprocess.PIPE)


async def wait_for(condition, timeout: float = 20.0) -> None:  # noqa: ASYNC109 - polls emulators and processes, which signal nothing
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def test_run_answers_start_within_a_second_and_stops_cleanly(emulator, tmp_path):
    process = await start_bot_process(emulator, tmp_path)
    await wait_for(lambda: emulator.listens() > 0)
    parent = emulator.user(4001, language_code="ro")

    started = time.monotonic()
    parent.send("/start")
    await wait_for(lambda: parent.bot_messages, timeout=5)
    assert time.monotonic() - started < 1.0
    assert parent.last.text == TEXTS[emulator.expected_language("ro")]("language.prompt")

    parent.click("Română")
    await emulator.settle()
    assert "Traceback" not in await stop(process)
    assert parent.last.text == CONTENT.consent_text("ro").text


async def test_push_mode_checks_the_secret_and_answers(emulator, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/{'telegram' if emulator.platform == 'telegram' else 'vk-callback'}"
    process = await start_bot_process(emulator, tmp_path, WEBHOOK_HOST="127.0.0.1", WEBHOOK_PORT=str(port), **emulator.push_settings(url))
    await wait_for(emulator.push_ready)
    parent = emulator.user(4002, language_code="en")
    parent.send("/start")
    await emulator.settle(timeout=15)
    assert parent.last.text == TEXTS["en"]("language.prompt")
    async with aiohttp.ClientSession() as http:
        assert await emulator.forged_push(http, url) in (401, 403)
    await stop(process)


async def test_sigterm_mid_update_finishes_it_and_loses_nothing(emulator, tmp_path):
    process = await start_bot_process(emulator, tmp_path)
    await wait_for(lambda: emulator.listens() > 0)
    parent = emulator.user(4003, language_code="en")
    emulator.delay_next_reply(1.0)  # the reply is still on its way when SIGTERM comes
    parent.send("/start")
    waiting = parent.send("are you there?")
    await wait_for(lambda: any(method == emulator.send_method for method, _ in emulator.calls), timeout=10)
    await stop(process)
    assert [message.text for message in parent.bot_messages] == [TEXTS["en"]("language.prompt"), TEXTS["en"]("fallback.not_registered")]

    listens = emulator.listens()
    process = await start_bot_process(emulator, tmp_path)  # a restart replays nothing
    await wait_for(lambda: emulator.listens() > listens)
    await emulator.settle()
    await stop(process)
    assert len(parent.bot_messages) == 2
    assert waiting["text"] == "are you there?"
