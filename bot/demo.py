"""`python -m bot demo`: the real bot process against the local emulator, printed as a chat transcript."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.content import load_content
from bot.emulator.telegram import TelegramEmulator

DEMO_TOKEN = "100200300:DemoTokenThatOnlyTheLocalEmulatorKnows"
BOT_NAME = "Vmeste"


class Transcript:
    """Prints what a user does and what the bot shows them, edits and pop-ups included."""

    def __init__(self, emulator: TelegramEmulator) -> None:
        self.emulator = emulator
        self.seen: dict[int, tuple[str, list]] = {}
        self.answers_seen = 0

    async def act(self, user, who: str, description: str, action) -> None:
        print(f"\n👤 {who}: {description}")
        action()
        await self.emulator.settle(timeout=15)
        self.show_bot(user)

    def show_bot(self, user) -> None:
        for answer in user.callback_answers[self.answers_seen :]:
            if answer.text:
                print(f"   🤖 {BOT_NAME} (pop-up): {answer.text}")
        self.answers_seen = len(user.callback_answers)
        for message in user.bot_messages:
            state = (message.text, message.buttons)
            if self.seen.get(message.message_id) == state:
                continue
            verb = "edits its message" if message.message_id in self.seen else "says"
            self.seen[message.message_id] = state
            print(f"   🤖 {BOT_NAME} {verb}:")
            print(textwrap.indent(message.text or f"[{message.kind}]", "      "))
            for row in message.buttons:
                print("      " + "  ".join(f"[{text}]" for text, _ in row))


async def play(platform: str = "telegram") -> int:
    content = load_content(PROJECT_ROOT / "content")
    en = content.texts["en"]
    emulator = TelegramEmulator(bot_username="vmeste_demo_bot")
    base_url = await emulator.start()
    with tempfile.TemporaryDirectory() as workdir:
        log_path = Path(workdir) / "bot.log"
        print(f"Vmeste demo: the real bot process (python -m bot run) talking to a local Telegram emulator at {base_url}.")
        print("No token and no network are used. A parent registers:")
        with log_path.open("w") as log:
            process = await start_bot(base_url, workdir, log)
            try:
                if not await wait_until_polling(emulator, process):
                    print(f"\nThe bot did not start. Its log:\n{log_path.read_text()}", file=sys.stderr)
                    return 1
                olga = emulator.user(5001, first_name="Olga", language_code="en")
                say = Transcript(emulator)
                await say.act(olga, "Olga", "/start", lambda: olga.send("/start"))
                await say.act(olga, "Olga", "taps [English]", lambda: olga.click("English"))
                await say.act(olga, "Olga", f"taps [{en('consent.accept')}]", lambda: olga.click(en("consent.accept")))
                await say.act(olga, "Olga", "taps [Northern district]", lambda: olga.click("Northern district"))
                await say.act(olga, "Olga", "taps [4–7 years]", lambda: olga.click("4–7 years"))
                await say.act(olga, "Olga", "sends a sticker", olga.send_sticker)
                await say.act(olga, "Olga", f"taps [{en('menu.open')}]", lambda: olga.click(en("menu.open")))
                await say.act(olga, "Olga", f"taps [{en('menu.my_data')}]", lambda: olga.click(en("menu.my_data")))
            finally:
                code = await stop_bot(process)
        await emulator.stop()
    rejected = len(emulator.rejected)
    print(f"\nDemo finished: the bot stopped with exit code {code}; the emulator refused {rejected} of {len(emulator.calls)} Bot API calls.")
    return 0 if code == 0 and rejected == 0 else 1


async def start_bot(base_url: str, workdir: str, log) -> asyncio.subprocess.Process:
    env = os.environ | {
        "BOT_TOKEN": DEMO_TOKEN,
        "TELEGRAM_API_URL": base_url,
        "DATABASE_URL": f"sqlite:///{workdir}/demo.db",
        "CONTENT_DIR": str(PROJECT_ROOT / "content"),
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_URL": "",
    }
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=workdir, env=env, stdout=log, stderr=log)


async def wait_until_polling(emulator: TelegramEmulator, process: asyncio.subprocess.Process, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.returncode is None:
        if any(method == "getUpdates" for method, _ in emulator.calls):
            return True
        await asyncio.sleep(0.05)
    return False


async def stop_bot(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), timeout=15)
