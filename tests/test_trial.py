"""`python -m bot try`: a person chats with the real bot process in the terminal, against the emulator:
types, presses buttons by number, sends a sample photo, becomes a coordinator by the admin's invite,
and plays both sides of a question to a specialist."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.demo import LINES
from bot.platforms.vk_format import plain_text
from tests.helpers import CONTENT, TEXTS

pytestmark = pytest.mark.starts_processes

LANGUAGE_BUTTON = {"ru": 1, "ro": 2, "en": 3}  # the language keyboard: Русский, Română, English


@pytest.mark.parametrize(("platform", "language"), [("telegram", "ro"), ("vk", "en")])
def test_try_lets_a_person_chat_switch_role_and_quit(platform, language, tmp_path):
    texts = TEXTS[language]
    typed = ["/help", "/start", str(LANGUAGE_BUTTON[language]), "1", "/photo", "/as coordinator", "/quit", "never read"]
    env = {"PATH": "/usr/bin:/bin", "BOT_TOKEN": "1:would-reach-telegram-if-used", "HOME": str(tmp_path), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    command = [sys.executable, "-m", "bot", "try", "--platform", platform, "--language", language]
    result = subprocess.run(command, input="\n".join(typed) + "\n", cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "/as ROLE" in out and "/quit" in out  # the terminal's own help
    assert "👤 Olga: /start" in out
    assert f"[{LANGUAGE_BUTTON[language]}] {texts('language.name')}" in out  # buttons are numbered
    assert f"👤 Olga: taps [{texts('language.name')}]" in out
    assert f"👤 Olga: taps [{texts('consent.accept')}]" in out
    assert texts("profile.district_prompt") in out  # registered: the optional questions come
    assert "👤 Olga: sends a sample photo" in out
    assert texts("fallback.media", kind=texts("kind.photo")) in out
    assert "You are Marina (coordinator) now." in out
    assert texts("invite.accepted", role=texts("roles.coordinator")) in out
    assert texts("menu.broadcasts") in out.split("You are Marina")[1]  # her menu has a coordinator's tools
    assert "never read" not in out
    assert "Bye: the bot stopped with exit code 0." in out
    assert "refused" not in out


def test_try_lets_a_person_play_both_sides_of_a_question(tmp_path):
    """As the parent ask the speech therapist; /as specialist (Irina, invited by Anna, names herself
    for families) take it from the queue, answer in writing and by voice, close it; /as parent read
    the answer and rate it. The numbers are the buttons as the bot draws them."""
    platform, language = "vk", "ru"
    texts, name = TEXTS[language], LINES[language]["name"]
    speech = CONTENT.specialties[0].label(language)  # the first specialty: Irina's, by default, and the first button
    question, answer = "Сыну три года, он не говорит. Как помочь?", "Называйте то, на что он показывает, и ждите."
    typed = [
        "/start", str(LANGUAGE_BUTTON[language]), "1",  # registers: language, consent
        "/ask", "1", "/voice", question, "1",  # the first specialty; a voice message (no FAQ for it), the text; Send
        "/as specialist", "1", "1", answer, "/voice", "2",  # take next; reply; close
        "/as parent", "5", "1", "Спасибо!", "/quit",  # 5 stars; a comment
    ]  # fmt: skip
    env = {"PATH": "/usr/bin:/bin", "BOT_TOKEN": "1:would-reach-telegram-if-used", "HOME": str(tmp_path), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    command = [sys.executable, "-m", "bot", "try", "--platform", platform, "--language", language]
    result = subprocess.run(command, input="\n".join(typed) + "\n", cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout

    def shown(key: str, **values) -> str:  # as the user sees it: without the HTML tags
        return plain_text(texts(key, **values), "HTML")

    asking, specialist = out.split("You are Irina (specialist) now.")
    assert shown("ask.sent", id=1, specialty=speech, position=1) in asking
    specialist, family = specialist.split("You are Olga (parent) now.")
    assert texts("invite.accepted", role=texts("roles.specialist")) in specialist
    assert shown("work.name_saved", name=name) in specialist  # the name families see, set as she joined
    assert f"👤 Irina: taps [{texts('queue.take', specialty=speech)}]" in specialist
    assert f"— {texts('work.family')}: {question}" in specialist  # the card
    assert specialist.count(texts("work.sent", id=1)) == 2  # the text and the voice message
    assert f"👤 Irina: taps [{texts('work.finish')}]" in specialist and texts("work.closed", id=1) in specialist
    header = shown("ticket.from_specialist", name=name, title=speech, id=1)
    assert shown("ticket.taken_notice", id=1, specialty=speech) in family  # what came while she was Irina
    assert f"{header}\n      {answer}" in family and family.count(header) == 2
    assert shown("ticket.closed_notice", id=1, specialty=speech) in family
    assert f"👤 Olga: taps [{texts('ticket.stars', count=5)}]" in family and shown("ticket.rated", count=5) in family
    assert texts("ticket.comment_saved") in family
    assert "Bye: the bot stopped with exit code 0." in out
    assert "refused" not in out and "could not" not in out


@pytest.mark.parametrize("platform", ["telegram", "vk"])
def test_try_lets_a_parent_find_a_chat_by_theme_and_be_let_in(platform, tmp_path):
    texts = TEXTS["en"]
    speech_chat = next(chat for chat in CONTENT.chats if chat.id == "speech")
    typed = ["/start", str(LANGUAGE_BUTTON["en"]), "1", "/chats", "1", "1", "/quit"]  # registers; the chat; its link
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    command = [sys.executable, "-m", "bot", "try", "--platform", platform, "--language", "en"]
    result = subprocess.run(command, input="\n".join(typed) + "\n", cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"👤 Olga: taps [{speech_chat.title('en')}]" in out
    assert f"👤 Olga: taps [{texts('chats.join')}] and opens the chat's link" in out
    assert "🤖 in the chat: " + texts("chats.welcome_all" if platform == "vk" else "chats.welcome", name="Olga", rules="").split("\n")[0] in out
