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
from bot.emulator.vk import VkEmulator

BOT_NAME = "Vmeste"
TELEGRAM_TOKEN = "100200300:DemoTokenThatOnlyTheLocalEmulatorKnows"
VK_TOKEN, VK_GROUP_ID = "vk1.a.demo-token-that-only-the-local-emulator-knows", 200300400


class DemoPlatform:
    """The emulator of one messenger, and how the bot process is pointed at it."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "vk":
            self.emulator, self.listen_method = VkEmulator(group_id=VK_GROUP_ID, screen_name="vmeste_demo", token=VK_TOKEN), "groups.getLongPollServer"
        else:
            self.emulator, self.listen_method = TelegramEmulator(bot_username="vmeste_demo_bot"), "getUpdates"

    def bot_env(self, base_url: str) -> dict[str, str]:
        if self.name == "vk":
            return {"VK_TOKEN": VK_TOKEN, "VK_GROUP_ID": str(VK_GROUP_ID), "VK_API_URL": base_url}
        return {"BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_API_URL": base_url}

    def parent(self):
        if self.name == "vk":
            return self.emulator.user(5001, first_name="Olga")
        return self.emulator.user(5001, first_name="Olga", language_code="en")


class Transcript:
    """Prints what a user does and what the bot shows them, edits and pop-ups included."""

    def __init__(self, emulator: TelegramEmulator | VkEmulator) -> None:
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
    demo = DemoPlatform(platform)
    emulator = demo.emulator
    base_url = await emulator.start()
    with tempfile.TemporaryDirectory() as workdir:
        log_path = Path(workdir) / "bot.log"
        messenger = "VK" if platform == "vk" else "Telegram"
        print(f"Vmeste demo: the real bot process (python -m bot run) talking to a local {messenger} emulator at {base_url}.")
        print("No token and no network are used. A parent registers:")
        with log_path.open("w") as log:
            process = await start_bot(demo.bot_env(base_url), workdir, log)
            try:
                if not await wait_until_listening(demo, process):
                    print(f"\nThe bot did not start. Its log:\n{log_path.read_text()}", file=sys.stderr)
                    return 1
                olga = demo.parent()
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
    print(f"\nDemo finished: the bot stopped with exit code {code}; the emulator refused {rejected} of {len(emulator.calls)} API calls.")
    return 0 if code == 0 and rejected == 0 else 1


async def start_bot(platform_env: dict[str, str], workdir: str, log) -> asyncio.subprocess.Process:
    # Only the emulator: a token or URL in the operator's environment must not reach a real messenger.
    unset = dict.fromkeys(("BOT_TOKEN", "TELEGRAM_API_URL", "VK_TOKEN", "VK_GROUP_ID", "VK_API_URL", "VK_CONFIRMATION_CODE", "WEBHOOK_URL", "ADMINS"), "")
    env = os.environ | unset | platform_env | {
        "DATABASE_URL": f"sqlite:///{workdir}/demo.db",
        "CONTENT_DIR": str(PROJECT_ROOT / "content"),
        "LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=workdir, env=env, stdout=log, stderr=log)


async def wait_until_listening(demo: DemoPlatform, process: asyncio.subprocess.Process, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.returncode is None:
        if any(method == demo.listen_method for method, _ in demo.emulator.calls):
            return True
        await asyncio.sleep(0.05)
    return False


async def stop_bot(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), timeout=15)
