"""`python -m bot demo`: the real bot process against the local emulator, printed as a chat transcript.

What `python -m bot try` shares with it lives here too: the emulated messenger, the transcript with
numbered buttons, and starting and stopping the bot process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bot.channels import TELEGRAM, VK
from bot.config import PROJECT_ROOT
from bot.content import Choice, Content, load_content
from bot.emulator.telegram import TelegramEmulator
from bot.emulator.vk import VkEmulator

BOT_NAME = "Vmeste"
TELEGRAM_TOKEN = "100200300:DemoTokenThatOnlyTheLocalEmulatorKnows"
VK_TOKEN, VK_GROUP_ID = "vk1.a.demo-token-that-only-the-local-emulator-knows", 200300400
TELEGRAM_USERNAME, VK_SCREEN_NAME = "vmeste_demo_bot", "vmeste_demo"


class DemoPlatform:
    """The emulator of one messenger, its users, and how the bot process is pointed at it."""

    def __init__(self, name: str, language: str = "en") -> None:
        self.name, self.language = name, language
        self.emulator: VkEmulator | TelegramEmulator
        if name == "vk":
            self.emulator, self.listen_method = VkEmulator(group_id=VK_GROUP_ID, screen_name=VK_SCREEN_NAME, token=VK_TOKEN), "groups.getLongPollServer"
            self.channel, self.username = VK, VK_SCREEN_NAME
        else:
            self.emulator, self.listen_method = TelegramEmulator(bot_username=TELEGRAM_USERNAME), "getUpdates"
            self.channel, self.username = TELEGRAM, TELEGRAM_USERNAME

    @property
    def messenger(self) -> str:
        return "VK" if self.name == "vk" else "Telegram"

    def bot_env(self, base_url: str, admins: Iterable[int] = ()) -> dict[str, str]:
        # VK does not tell the bot a user's language, so a new VK user is greeted in the default one
        env = {"DEFAULT_LANGUAGE": self.language, "ADMINS": ",".join(f"{self.name}:{user_id}" for user_id in admins)}
        if self.name == "vk":
            return env | {"VK_TOKEN": VK_TOKEN, "VK_GROUP_ID": str(VK_GROUP_ID), "VK_API_URL": base_url}
        return env | {"BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_API_URL": base_url}

    def person(self, user_id: int, first_name: str):
        if isinstance(self.emulator, VkEmulator):
            return self.emulator.user(user_id, first_name=first_name)
        return self.emulator.user(user_id, first_name=first_name, language_code=self.language)

    def parent(self):
        return self.person(5001, "Olga")

    def open_start_link(self, user, payload: str) -> None:
        """What opening the bot's link with a payload does: /start PAYLOAD, or VK's Start with ref."""
        if self.name == "vk":
            user.start(ref=payload)
        else:
            user.send(f"/start {payload}")

    def start_payload(self, text: str) -> str | None:
        """The payload of the first link to this bot in `text` (an invite's code), if any."""
        prefix = self.channel.start_link.format(username=self.username, payload="")
        found = re.search(re.escape(prefix) + "([A-Za-z0-9_-]+)", text or "")
        return found.group(1) if found else None


def body(message: Any) -> str:
    """A message's text as the user sees it; media as [photo] with the caption."""
    text = message.text or message.caption or ""
    if message.kind not in ("text", "service"):
        text = f"[{message.kind}] {text}".rstrip()
    return text


class Transcript:
    """Prints what a user does and what the bot shows them, edits and pop-ups included. The buttons
    of the messages printed last are numbered, so a person can press one by its number."""

    def __init__(self, emulator: TelegramEmulator | VkEmulator) -> None:
        self.emulator = emulator
        self.seen: dict[int, tuple[str, list]] = {}
        self.answers_seen = 0
        self.buttons: list[tuple[Any, str, str | None]] = []  # number - 1 -> (message, label, data or link)

    async def act(self, user, who: str, description: str, action) -> None:
        print(f"\n👤 {who}: {description}")
        action()
        await self.emulator.settle(timeout=15)
        self.show_bot(user)

    def show_bot(self, user) -> int:
        """Print the pop-ups, messages and edits not shown yet; how many messages that was."""
        for answer in self.new_answers(user):
            print(f"   🤖 {BOT_NAME} (pop-up): {answer.text}")
        self.answers_seen = len(user.callback_answers)
        changed = self.changed(user)
        for message, _ in changed:
            self.seen[message.message_id] = (body(message), message.buttons)
        self._print(changed)
        return len(changed)

    def has_news(self, user) -> bool:
        return bool(self.new_answers(user) or self.changed(user))

    def new_answers(self, user) -> list[Any]:
        return [answer for answer in user.callback_answers[self.answers_seen :] if answer.text]

    def changed(self, user) -> list[tuple[Any, str]]:
        """The messages new or edited since last shown, with how to say so."""
        return [
            (message, "edits its message" if message.message_id in self.seen else "says")
            for message in user.bot_messages
            if self.seen.get(message.message_id) != (body(message), message.buttons)
        ]

    def show_last(self, user) -> None:
        """Only the latest message, as someone coming back to the chat sees it."""
        self.mark_seen(user)
        self._print([(user.bot_messages[-1], "said last")] if user.bot_messages else [])

    def mark_seen(self, user) -> None:
        for message in user.bot_messages:
            self.seen[message.message_id] = (body(message), message.buttons)
        self.answers_seen = len(user.callback_answers)

    def _print(self, messages: list[tuple[Any, str]]) -> None:
        numbered = []
        for message, verb in messages:
            print(f"   🤖 {BOT_NAME} {verb}:")
            print(textwrap.indent(body(message), "      "))
            for row in message.buttons:
                labels = []
                for label, data in row:
                    numbered.append((message, label, data))
                    labels.append(f"[{len(numbered)}] {label}")
                print("      " + "   ".join(labels))
        if numbered:
            self.buttons = numbered

    def button(self, number: int) -> tuple[Any, str, str | None] | None:
        return self.buttons[number - 1] if 0 < number <= len(self.buttons) else None


async def play(platform: str = "telegram", language: str = "en") -> int:
    content = load_content(PROJECT_ROOT / "content")
    demo = DemoPlatform(platform, language)
    emulator = demo.emulator
    base_url = await emulator.start()
    with tempfile.TemporaryDirectory() as workdir:
        log_path = Path(workdir) / "bot.log"
        print(f"Vmeste demo: the real bot process (python -m bot run) talking to a local {demo.messenger} emulator at {base_url}.")
        print("No token and no network are used. A parent registers:")
        with log_path.open("w") as log:
            process = await start_bot(demo.bot_env(base_url), workdir, log)
            try:
                if not await listening(demo, process):
                    print(f"\nThe bot did not start. Its log:\n{log_path.read_text()}", file=sys.stderr)
                    return 1
                olga = demo.parent()
                say = Transcript(emulator)
                for description, action in script(olga, content, language):
                    await say.act(olga, "Olga", description, action)
            finally:
                code = await stop_bot(process)
        await emulator.stop()
    rejected = len(emulator.rejected)
    print(f"\nDemo finished: the bot stopped with exit code {code}; the emulator refused {rejected} of {len(emulator.calls)} API calls.")
    return 0 if code == 0 and rejected == 0 else 1


def script(olga, content: Content, language: str) -> list[tuple[str, Callable[[], Any]]]:
    """What the demo's parent does, in the chosen language: she taps the texts and content labels the bot shows."""
    texts = content.texts[language]

    def tap(label: str) -> tuple[str, Callable[[], Any]]:
        return f"taps [{label}]", lambda: olga.click(label)

    return [
        ("/start", lambda: olga.send("/start")),
        tap(texts("language.name")),
        tap(texts("consent.accept")),
        tap(label_of(content.districts, "north", language)),
        tap(label_of(content.age_groups, "4-7", language)),
        ("sends a sticker", olga.send_sticker),
        tap(texts("menu.open")),
        tap(texts("menu.my_data")),
    ]


async def start_bot(platform_env: dict[str, str], workdir: str, log) -> asyncio.subprocess.Process:
    # Only the emulator: a token or URL in the operator's environment must not reach a real messenger.
    # The content is the bot's own default (shipped beside the code), the one the demo's script reads.
    unset = dict.fromkeys(
        ("BOT_TOKEN", "TELEGRAM_API_URL", "VK_TOKEN", "VK_GROUP_ID", "VK_API_URL", "VK_CONFIRMATION_CODE", "WEBHOOK_URL", "ADMINS", "CONTENT_DIR"), ""
    )
    env = os.environ | unset | platform_env | {
        "DATABASE_URL": f"sqlite:///{workdir}/demo.db",
        "LOG_LEVEL": "WARNING",
        # the same code as this process, from a checkout too: the bot runs in a temporary folder
        "PYTHONPATH": os.pathsep.join(filter(None, (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")))),
    }
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=workdir, env=env, stdout=log, stderr=log)


def label_of(choices: tuple[Choice, ...], choice_id: str, language: str) -> str:
    choice = Content.find(choices, choice_id)
    if choice is None:
        raise LookupError(f"the demo's script taps {choice_id!r}, which the content no longer offers")
    return choice.label(language)


async def listening(demo: DemoPlatform, process: asyncio.subprocess.Process, seconds: float = 30.0) -> bool:
    """Whether the bot polls the emulator within `seconds` (False if it exits first)."""
    try:
        async with asyncio.timeout(seconds):
            return await until_listening(demo, process)
    except TimeoutError:
        return False


async def until_listening(demo: DemoPlatform, process: asyncio.subprocess.Process) -> bool:
    """The emulator records calls and signals none: poll its log until the bot polls it or exits."""
    while process.returncode is None:
        if any(method == demo.listen_method for method, _ in demo.emulator.calls):
            return True
        await asyncio.sleep(0.05)
    return False


async def stop_bot(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), timeout=15)
