"""`python -m bot try`: a person chats with the real bot process in the terminal, against the emulator:
types, presses buttons by number, sends a sample photo, and becomes a coordinator by the admin's invite."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import TEXTS

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
