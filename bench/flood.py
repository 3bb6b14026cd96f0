"""Flood benchmark: how long another user waits for a reply while one user floods the bot.

Run from the project root:

    python bench/flood.py [--messages 300] [--postgres postgresql://user@host/db]

On each platform, against its emulator with the platform's limits (Telegram 30 messages/s and
1/s per private chat, VK 20 requests/s): user A registers, then sends `--messages` messages at
once; as soon as the bot has answered one of them, user B sends /start. B's delay is timed from
B's send until B's reply arrives. Once with the flood limit at its defaults, once switched off
(FLOOD_MESSAGES=0). Progress goes to stderr; stdout's last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import RunningBot, make_settings
from tests.helpers import register, throwaway_postgres
from tests.messengers import TelegramMessenger, VkMessenger
from tests.test_flood import DEFAULT_LIMIT, PLATFORM_RATE
from tests.test_run import wait_for


async def flood(platform: str, database_url: str, messages: int, limit: dict[str, str]) -> dict[str, float | int]:
    emulator = TelegramMessenger() if platform == "telegram" else VkMessenger()
    await emulator.start()
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    logging.getLogger().addHandler(handler)
    try:
        async with RunningBot(make_settings(emulator, database_url, **limit)):
            flooder, other = emulator.user(7001, language_code="en"), emulator.user(7002, language_code="en")
            await register(emulator, flooder)
            emulator.limit_rate(PLATFORM_RATE[platform])
            sends_before, started = len(emulator.sends()), time.monotonic()
            for number in range(messages):
                flooder.send(f"flood {number}")
            await wait_for(lambda: len(emulator.sends()) > sends_before)
            sent = time.monotonic()
            other.send("/start")
            await wait_for(lambda: other.bot_messages, timeout=120)
            delay = time.monotonic() - sent
            await emulator.settle(timeout=120)
            return {
                "other_user_delay_s": round(delay, 3),
                "flood_handled_s": round(time.monotonic() - started, 2),
                "throttled_calls": len(emulator.throttled),
                "tracebacks": captured.getvalue().count("Traceback"),
            }
    finally:
        logging.getLogger().removeHandler(handler)
        await emulator.stop()


async def main(messages: int, postgres: str | None) -> dict:
    figures = {}
    for platform in ("telegram", "vk"):
        for name, limit in (("limit", DEFAULT_LIMIT), ("no_limit", {"FLOOD_MESSAGES": "0"})):
            with tempfile.TemporaryDirectory() as folder:
                if postgres:
                    async with throwaway_postgres(postgres) as url:
                        result = await flood(platform, url, messages, limit)
                else:
                    result = await flood(platform, f"sqlite+aiosqlite:///{folder}/vmeste.db", messages, limit)
            print(f"{platform} {name}: {result}", file=sys.stderr, flush=True)
            figures[f"{platform}_{name}"] = result
    return {"messages": messages, "database": "postgresql" if postgres else "sqlite", **figures}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--postgres", default=None)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=io.StringIO())
    print(json.dumps(asyncio.run(main(arguments.messages, arguments.postgres))))
