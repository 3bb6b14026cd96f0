"""`python -m bot demo`: the real bot process against the local emulator, printed as a chat transcript:
a parent registers; the administrator invites a speech therapist; the parent asks her a question
(text and a photo), she takes it from her queue, answers (text and a voice message) and closes it,
and the parent rates the answer; then the parent starts a course, and its first lesson is
delivered, watched through the bot's tracked link and liked (bot/demo_course.py); she finds
a parent chat by theme and is let in (bot/demo_chats.py); last, the month's report is made from what
they did, its summary printed and its workbook and charts written (bot/demo_report.py).

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
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.channels import TELEGRAM, VK
from bot.config import PROJECT_ROOT
from bot.content import Choice, Content, load_content
from bot.demo_chats import connect_demo_chat, join_a_chat
from bot.demo_course import links_env, take_a_course
from bot.demo_report import show_the_report
from bot.emulator.telegram import TelegramEmulator
from bot.emulator.vk import VkEmulator

BOT_NAME = "Vmeste"
TELEGRAM_TOKEN = "100200300:DemoTokenThatOnlyTheLocalEmulatorKnows"
VK_TOKEN, VK_GROUP_ID = "vk1.a.demo-token-that-only-the-local-emulator-knows", 200300400
TELEGRAM_USERNAME, VK_SCREEN_NAME = "vmeste_demo_bot", "vmeste_demo"


@dataclass(frozen=True)
class Persona:
    role: str
    user_id: int
    name: str

    @property
    def title(self) -> str:
        return f"{self.name} ({self.role})"


# The people of the demo and of `python -m bot try`: the admin's account is in ADMINS when the bot starts.
PERSONAS = {
    persona.role: persona
    for persona in (
        Persona("parent", 5001, "Olga"),
        Persona("specialist", 5002, "Irina"),
        Persona("coordinator", 5003, "Marina"),
        Persona("head", 5004, "Elena"),
        Persona("admin", 5005, "Anna"),
    )
}
ADMIN = PERSONAS["admin"]

# What the demo's people write, in the language the demo is played in (content/demo.toml; the
# bot's own texts come from its locales).
LINES: dict[str, dict[str, str]] = tomllib.loads((PROJECT_ROOT / "content" / "demo.toml").read_text(encoding="utf-8"))


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

    def bot_env(self, base_url: str, admins: Iterable[int] = (), scripted: bool = True) -> dict[str, str]:
        # VK does not tell the bot a user's language, so a new VK user is greeted in the default one
        env = {"DEFAULT_LANGUAGE": self.language, "ADMINS": ",".join(f"{self.name}:{user_id}" for user_id in admins)}
        if scripted:  # a script taps faster than anyone reads: the flood limit (10 in 10 s by default) would drop its taps
            env["FLOOD_MESSAGES"] = "0"
        if self.name == "vk":
            return env | {"VK_TOKEN": VK_TOKEN, "VK_GROUP_ID": str(VK_GROUP_ID), "VK_API_URL": base_url}
        return env | {"BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_API_URL": base_url}

    def person(self, user_id: int, first_name: str):
        if isinstance(self.emulator, VkEmulator):
            return self.emulator.user(user_id, first_name=first_name)
        return self.emulator.user(user_id, first_name=first_name, language_code=self.language)

    def persona(self, persona: Persona):
        return self.person(persona.user_id, persona.name)

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


KIND_NAMES = {"audio_message": "voice"}  # VK's name for a voice message, as Telegram says it


def body(message: Any) -> str:
    """A message's text as the user sees it; media as [photo] with the caption."""
    text = message.text or message.caption or ""
    if message.kind not in ("text", "service"):
        text = f"[{KIND_NAMES.get(message.kind, message.kind)}] {text}".rstrip()
    return text


class Transcript:
    """Prints what a user does and what the bot shows them, edits and pop-ups included. The buttons
    of the messages printed last are numbered, so a person can press one by its number."""

    def __init__(self, emulator: TelegramEmulator | VkEmulator) -> None:
        self.emulator = emulator
        self.seen: dict[int, tuple[str, list]] = {}
        self.answers_seen = 0
        self.buttons: list[tuple[Any, str, str | None]] = []  # number - 1 -> (message, label, data or link)

    async def act(self, user, who: str, description: str, action, latest_only: bool = False) -> None:
        """Do `action` as `who` and print what the bot shows them (`latest_only`: its latest message alone)."""
        print(f"\n👤 {who}: {description}")
        action()
        await self.emulator.settle(timeout=15)
        if latest_only:
            self.show_last(user, "says")
        else:
            self.show_bot(user)

    async def quietly(self, user, action) -> None:
        """Do `action` and print nothing of it: what the bot answers counts as seen."""
        action()
        await self.emulator.settle(timeout=15)
        self.mark_seen(user)

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

    def show_last(self, user, verb: str = "said last") -> None:
        """Only the latest message, as someone coming back to the chat sees it."""
        self.mark_seen(user)
        self._print([(user.bot_messages[-1], verb)] if user.bot_messages else [])

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
    demo = DemoPlatform(platform, language)
    emulator = demo.emulator
    base_url = await emulator.start()
    with tempfile.TemporaryDirectory() as workdir:
        links = links_env(Path(workdir))
        connect_demo_chat(Path(links["CONTENT_DIR"]), platform)
        content = load_content(Path(links["CONTENT_DIR"]))
        log_path = Path(workdir) / "bot.log"
        print(f"Vmeste demo: the real bot process (python -m bot run) talking to a local {demo.messenger} emulator at {base_url}.")
        print("No token and no network are used. A parent registers:")
        with log_path.open("w") as log:
            process = await start_bot(demo.bot_env(base_url, admins=[ADMIN.user_id]) | links, workdir, log)
            problem = ""
            try:
                if not await listening(demo, process):
                    print(f"\nThe bot did not start. Its log:\n{log_path.read_text()}", file=sys.stderr)
                    return 1
                olga = Player(demo, PERSONAS["parent"])
                for description, action in script(olga.user, content, language):
                    await olga.do(description, action)
                await consultation(demo, content, language, olga)
                await take_a_course(content, language, olga, Path(workdir) / "demo.db")
                await join_a_chat(demo, content, language, olga)
            except (DemoError, AssertionError, TimeoutError) as error:  # the emulator: no such button, the bot still busy
                problem = str(error) or type(error).__name__
            finally:
                code = await stop_bot(process)
            if problem:
                print(f"\nThe demo stopped: {problem}. The bot's log:\n{log_path.read_text()}", file=sys.stderr)
            else:
                await show_the_report(content, language, Path(workdir) / "demo.db")
        await emulator.stop()
    rejected = len(emulator.rejected)
    print(f"\nDemo finished: the bot stopped with exit code {code}; the emulator refused {rejected} of {len(emulator.calls)} API calls.")
    return 0 if code == 0 and rejected == 0 and not problem else 1


class DemoError(Exception):
    """The bot did not answer as the demo's script expects."""


class Player:
    """One of the demo's people: their account in the emulated messenger and what they were shown."""

    def __init__(self, demo: DemoPlatform, persona: Persona) -> None:
        self.name, self.user, self.transcript = persona.name, demo.persona(persona), Transcript(demo.emulator)

    async def do(self, description: str, action: Callable[[], Any], latest_only: bool = False) -> None:
        await self.transcript.act(self.user, self.name, description, action, latest_only)

    async def send(self, text: str) -> None:
        await self.do(text, lambda: self.user.send(text))

    async def tap(self, label: str, latest_only: bool = False) -> None:
        await self.do(f"taps [{label}]", lambda: self.user.click(label), latest_only)

    async def quietly(self, action: Callable[[], Any]) -> None:
        await self.transcript.quietly(self.user, action)

    async def comes_back(self) -> None:
        """Open the chat again: what came while someone else was acting."""
        if self.transcript.has_news(self.user):
            await self.do("opens the chat", lambda: None)

    def offered(self, label: str) -> bool:
        """Whether the bot's latest message has this button."""
        latest = self.user.bot_messages[-1] if self.user.bot_messages else None
        return latest is not None and any(text == label for row in latest.buttons for text, _ in row)


def script(olga, content: Content, language: str) -> list[tuple[str, Callable[[], Any]]]:
    """What the demo's parent does, in the chosen language: she taps the texts and content labels the bot shows."""
    texts = content.texts[language]

    def tap(label: str) -> tuple[str, Callable[[], Any]]:
        return f"taps [{label}]", lambda: olga.click(label)

    return [
        ("/start", lambda: olga.send("/start")),
        tap(texts("language.name")),
        tap(texts("consent.accept")),
        tap(label_of(content.districts, "cherepovets-district", language)),
        tap(label_of(content.age_groups, "4-7", language)),
        ("sends a sticker", olga.send_sticker),
        tap(texts("menu.open")),
        tap(texts("menu.my_data")),
    ]


async def consultation(demo: DemoPlatform, content: Content, language: str, olga: Player) -> None:
    """The demo's second part: Anna, the admin, invites Irina, a speech therapist; Olga asks her a
    question, Irina takes it from her queue, answers and closes it, and Olga rates the answer."""
    texts, lines = content.texts[language], LINES[language]
    speech = content.specialty("speech")
    if speech is None:
        raise DemoError("the content no longer has the speech therapist the demo's parent asks")
    therapist = speech.label(language)
    anna, irina = Player(demo, ADMIN), Player(demo, PERSONAS["specialist"])
    language_button, consent = texts("language.name"), texts("consent.accept")

    print(f"\nThe centre's administrator, {anna.name}, invites {irina.name}, a speech therapist, to the team:")
    for action in (lambda: anna.user.send("/start"), lambda: anna.user.click(language_button), lambda: anna.user.click(consent)):
        await anna.quietly(action)  # Anna registers as any user does; her account is in ADMINS
    invite = f"/invite specialist {speech.id}"
    await anna.send(invite)
    code = demo.start_payload(anna.user.bot_messages[-1].text if anna.user.bot_messages else "")
    if code is None:
        raise DemoError(f"the bot gave {anna.name} no invite link for {invite}")
    await irina.do("opens the invite link", lambda: demo.open_start_link(irina.user, code))
    await irina.quietly(lambda: irina.user.click(language_button))
    await irina.do(f"taps [{language_button}], then [{consent}] (the consent {olga.name} read)", lambda: irina.user.click(consent), latest_only=True)
    await irina.tap(texts("menu.queue"))
    await irina.tap(texts("queue.rename"))
    await irina.send(lines["name"])

    print(f"\n{olga.name} asks the speech therapist a question:")
    await olga.tap(texts("menu.back"))  # from "My data" to the menu
    await olga.tap(texts("menu.ask"))
    await olga.tap(therapist)
    await olga.send(lines["question"])
    if olga.offered(texts("ask.still")):  # the FAQ's answers came first
        await olga.tap(texts("ask.still"))
    await olga.do(f"sends a photo: {lines['photo']}", lambda: olga.user.send_photo(caption=lines["photo"]))
    await olga.tap(texts("ask.send"))

    print(f"\n{irina.name} takes the question from her queue, answers it in writing and by voice, and closes it:")
    await irina.comes_back()  # in the centre's working hours, the bot told her of the new question
    await irina.send("/queue")
    await irina.tap(texts("queue.take", specialty=therapist))
    await irina.tap(texts("work.reply"))
    await irina.send(lines["answer"])
    await irina.do("sends a voice message", lambda: irina.user.send_voice(duration=40))
    await irina.tap(texts("work.finish"))

    print(f"\n{olga.name} reads the answer in her chat and rates it:")
    await olga.comes_back()
    await olga.tap(texts("ticket.stars", count=5))
    await olga.tap(texts("ticket.comment"))
    await olga.send(lines["comment"])


async def start_bot(platform_env: dict[str, str], workdir: str, log) -> asyncio.subprocess.Process:
    # Only the emulator: a token or URL in the operator's environment must not reach a real messenger.
    # The content is the bot's own default (shipped beside the code), the one the demo's script reads,
    # unless the demo gives a copy (CONTENT_DIR in platform_env).
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
