"""`python -m bot try`: chat with the real bot process yourself, in the terminal, against the local emulator.

Each role is a person of its own in the emulated messenger. The admin's account is in ADMINS when
the bot starts; a specialist, coordinator or head gets the role the way staff do: the admin sends
/invite and they open the link (registering in the chosen language, with consent). The specialist
then sets the name families see her answers under, so a person can play both sides of a question:
ask as the parent, /as specialist take it from /queue and answer, /as parent read and rate it."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from bot.content import Content, load_content
from bot.demo import ADMIN, LINES, PERSONAS, DemoPlatform, Persona, Transcript, listening, start_bot, stop_bot
from bot.demo_chats import connect_demo_chat, demo_group, is_join_link, join, said_in_chat
from bot.demo_course import links_env

INVITED = ("specialist", "coordinator", "head")  # the admin invites them

# The sample files a person can send, by terminal command: the emulator's user method for each.
MEDIA = {"/photo": "send_photo", "/voice": "send_voice", "/video": "send_video", "/document": "send_document", "/sticker": "send_sticker"}
CAPTIONED = ("/photo", "/video", "/document")

HELP = """\
Type a message and press Enter to send it to the bot. Also:
  N                  press button [N] of the bot's latest messages
  /photo [caption]   send a sample photo (also /video, /document; /voice, /sticker)
  /as ROLE [SPEC]    speak as another person: parent (Olga), specialist (Irina), coordinator (Marina),
                     head (Elena) or admin (Anna). Anna's account is in ADMINS; the others get their role
                     from an invite Anna makes with /invite (a specialist of SPEC, such as speech; by
                     default the first specialty). Play both sides of a question: as Olga ask a specialist
                     from the menu, /as specialist take it from /queue and answer, /as parent rate it.
  /open LINK         open a link to the bot, such as an invite link
  /say TEXT          send TEXT exactly as typed (a number, or /help for the bot's own help)
  /help              this help
  /quit              stop the bot and leave (or Ctrl-D)"""


class TrialError(Exception):
    """Something the terminal user should read, after which the trial ends."""


class Trial:
    """The people in the emulated messenger, who the terminal user is now, and what they see."""

    def __init__(self, demo: DemoPlatform, content: Content, language: str, process: asyncio.subprocess.Process) -> None:
        self.demo, self.content, self.texts, self.process = demo, content, content.texts[language], process
        self.users: dict[str, Any] = {}  # role -> the emulated user, once they exist
        self.transcripts: dict[str, Transcript] = {}
        self.persona = PERSONAS["parent"]
        self.rejected_seen = 0

    @property
    def user(self):
        return self.users[self.persona.role]

    @property
    def transcript(self) -> Transcript:
        return self.transcripts[self.persona.role]

    async def handle(self, line: str) -> bool:
        """Act on one line the person typed; False when they want to leave."""
        command, _, rest = line.strip().partition(" ")
        if command in ("/quit", "/exit"):
            return False
        commands = {"/help": self.help, "/as": self.switch_to, "/open": self.open_link, "/say": self.say}
        if command in commands:
            await commands[command](rest.strip())
        elif command in MEDIA:
            await self.send_media(command, rest.strip())
        elif command.isdigit() and not rest.strip():
            await self.press(int(command))
        elif command:
            await self.say(line.strip())
        self.check_health()
        return True

    async def help(self, _: str) -> None:
        print(HELP)

    async def act(self, description: str, action) -> None:
        try:
            await self.transcript.act(self.user, self.persona.name, description, action)
        except TimeoutError as error:
            print(f"   (the bot is still busy: {error})")
        except AssertionError as error:  # the emulator: no such button (any more), ...
            print(f"   (could not: {error})")

    async def say(self, text: str) -> None:
        if not text:
            print("   (/say TEXT sends TEXT)")
            return
        await self.act(text, lambda: self.user.send(text))

    async def send_media(self, command: str, caption: str) -> None:
        send = getattr(self.user, MEDIA[command])
        kind = command.removeprefix("/")
        if caption and command in CAPTIONED:
            await self.act(f"sends a sample {kind}: {caption}", lambda: send(caption=caption))
        else:
            await self.act(f"sends a sample {kind}", send)

    async def press(self, number: int) -> None:
        found = self.transcript.button(number)
        if found is None:
            print(f"   (no button [{number}] now: the numbers are those of the bot's latest messages)")
            return
        message, label, data = found
        if data is not None and is_join_link(self.demo, data):  # a parent chat's link: the demo's group is behind it
            await self.join_chat(label, data)
            return
        if data is None or self.is_link(message, label):
            print(f"   ([{number}] is a link: {data}" + (" — open it with /open LINK)" if self.demo.start_payload(data or "") else ")"))
            return
        await self.act(f"taps [{label}]", lambda: self.user.click(data, message))

    async def join_chat(self, label: str, link: str) -> None:
        before = len(said_in_chat(self.demo))
        await self.act(f"taps [{label}] and opens the chat's link", lambda: join(self.demo, self.user, link))
        for text in said_in_chat(self.demo)[before:]:
            print("   🤖 in the chat: " + text.replace("\n", "\n      "))

    @staticmethod
    def is_link(message: Any, label: str) -> bool:
        for row in message.inline_keyboard:
            for button in row:
                action = button.get("action", button)  # VK nests a button's fields in its action
                if action.get("label", action.get("text")) == label:
                    return "url" in action or action.get("type") == "open_link"
        return False

    async def open_link(self, link: str) -> None:
        payload = self.demo.start_payload(link)
        if payload is None:
            print(f"   (not a link to this bot with a code in it: {link or 'give the link after /open'})")
            return
        await self.act(f"opens {link}", lambda: self.demo.open_start_link(self.user, payload))

    async def switch_to(self, who: str) -> None:
        await self.switch(*who.split(maxsplit=1))

    async def switch(self, role: str = "", specialty: str = "") -> None:
        persona = PERSONAS.get(role)
        if persona is None:
            print(f"   (who? /as one of: {', '.join(PERSONAS)})")
            return
        if persona.role in self.users:
            self.persona = persona
            print(f"\nYou are {persona.title} now.")
            if not self.transcript.show_bot(self.user):  # what came while you were someone else, or where you were
                self.transcript.show_last(self.user)
            return
        await self.become(persona, specialty)

    async def become(self, persona: Persona, specialty: str = "") -> None:
        """Meet this person for the first time; staff other than the admin come in with an invite."""
        invite = await self.invite(persona.role, specialty) if persona.role in INVITED else None
        if persona.role in INVITED and invite is None:
            return
        self.persona = persona
        self.users[persona.role] = self.demo.person(persona.user_id, persona.name)
        self.transcripts[persona.role] = Transcript(self.demo.emulator)
        print(f"\nYou are {persona.title} now.")
        if invite is None:
            note = " Anna's account is in ADMINS: once she has registered, her menu has the admin's tools." if persona == ADMIN else ""
            print(f"{persona.name} has not written to the bot yet: type /start.{note}")
            return
        await self.act("opens the invite link", lambda: self.demo.open_start_link(self.user, invite))
        await self.register()
        if persona.role == "specialist":
            await self.name_for_families()

    async def register(self) -> None:
        """Pick the language and accept the consent, by the buttons the bot shows."""
        for label in (self.texts("language.name"), self.texts("consent.accept")):
            await self.act(f"taps [{label}]", lambda label=label: self.user.click(label))

    async def name_for_families(self) -> None:
        """Irina sets the name her answers reach families under (/queue, "My name for families"), as a
        new specialist does; then her queue is where she is."""
        name, rename = LINES[self.texts.language]["name"], self.texts("queue.rename")
        print(f"\n({self.persona.name} tells the bot the name families see her answers under: /queue, [{rename}], {name})")
        try:
            for action in (lambda: self.user.send("/queue"), lambda: self.user.click(rename), lambda: self.user.send(name)):
                await self.quietly(action)
        except AssertionError as error:  # no such button: she is no specialist after all
            print(f"   (could not: {error})")
        self.transcript.show_last(self.user, "says")

    async def invite(self, role: str, specialty: str) -> str | None:
        """Anna, the admin, registers if she has not yet and asks the bot for an invite: its code."""
        if role == "specialist":
            specialty = specialty or self.content.specialties[0].id
        else:
            specialty = ""
        admin = self.users.get("admin") or self.demo.person(ADMIN.user_id, ADMIN.name)
        self.users.setdefault("admin", admin)
        self.transcripts.setdefault("admin", Transcript(self.demo.emulator))
        command = f"/invite {role} {specialty}".strip()
        print(f"\n(Anna, the admin, sends {command} to the bot for a one-time invite link)")
        await self.quietly(lambda: admin.send("/start"))
        for label in (self.texts("language.name"), self.texts("consent.accept")):
            if admin.bot_messages and any(text == label for row in admin.bot_messages[-1].buttons for text, _ in row):
                await self.quietly(lambda label=label: admin.click(label))
        self.transcripts["admin"].mark_seen(admin)  # her registration; the invite itself she sees when she is you
        await self.quietly(lambda: admin.send(command))
        answer = admin.bot_messages[-1].text if admin.bot_messages else ""
        code = self.demo.start_payload(answer)
        if code is None:
            print(f"   (the bot gave Anna no invite link; it said: {answer or 'nothing'})")
        return code

    async def quietly(self, action) -> None:
        action()
        try:
            await self.demo.emulator.settle(timeout=15)
        except TimeoutError:
            pass  # what it leads to is checked by the caller

    def check_health(self) -> None:
        if self.process.returncode is not None:
            raise TrialError(f"the bot process stopped (exit code {self.process.returncode})")
        for method, _, code, description in self.demo.emulator.rejected[self.rejected_seen :]:
            print(f"   ⚠ the emulator refused the bot's {method}: {code} {description}")
        self.rejected_seen = len(self.demo.emulator.rejected)


def read_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Standard input, line by line (None at its end), read by a daemon thread so leaving never waits for it."""
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="stdin", daemon=True).start()
    return lines


async def play_by_hand(platform: str = "telegram", role: str = "parent", language: str = "en") -> int:
    if role not in PERSONAS:
        print(f"try: --as {role!r}: not a role — use one of {', '.join(PERSONAS)}", file=sys.stderr)
        return 2
    demo = DemoPlatform(platform, language)
    base_url = await demo.emulator.start()
    with tempfile.TemporaryDirectory() as workdir:
        links = links_env(Path(workdir))  # the demo's content: a lesson with a video, a parent chat in the emulator
        connect_demo_chat(Path(links["CONTENT_DIR"]), platform)
        demo_group(demo)
        content = load_content(Path(links["CONTENT_DIR"]))
        log_path = Path(workdir) / "bot.log"
        print(f"Vmeste, by hand: the real bot process (python -m bot run) talking to a local {demo.messenger} emulator at {base_url}.")
        print("No token and no network are used. /help lists what you can do; /quit leaves.")
        with log_path.open("w") as log:
            # typed by hand, the flood limit stays as in production; lines piped from a script come faster than anyone types
            env = demo.bot_env(base_url, admins=[ADMIN.user_id], scripted=not sys.stdin.isatty()) | links
            process = await start_bot(env, workdir, log)
            try:
                if not await listening(demo, process):
                    print(f"\nThe bot did not start. Its log:\n{log_path.read_text()}", file=sys.stderr)
                    return 1
                problem = await chat(Trial(demo, content, language, process), role)
            finally:
                code = await stop_bot(process)
        await demo.emulator.stop()
        if problem:
            print(f"\nStopped: {problem}. The bot's log:\n{log_path.read_text()}", file=sys.stderr)
    print(f"\nBye: the bot stopped with exit code {code}.")
    return 0 if code == 0 and not problem else 1


async def chat(trial: Trial, role: str) -> str:
    """The conversation, until /quit or the end of input; what went wrong, if anything."""
    lines = read_lines(asyncio.get_running_loop())
    try:
        await trial.switch(role)
        while True:
            line = await next_line(lines, trial)
            if line is None or not await trial.handle(line):
                return ""
    except TrialError as error:
        return str(error)


async def next_line(lines: asyncio.Queue[str | None], trial: Trial) -> str | None:
    """The next line typed; meanwhile, what the bot sends on its own (a broadcast, a progress edit)."""
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print(f"\n{trial.persona.title}> ", end="", flush=True)
        while not trial.transcript.has_news(trial.user):
            try:
                return await asyncio.wait_for(lines.get(), timeout=0.5)
            except TimeoutError:
                pass
        if interactive:
            print()
        trial.transcript.show_bot(trial.user)
