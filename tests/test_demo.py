"""`python -m bot demo` works as the README promises, on both platforms and in the chosen language,
with no token and no network."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import TEXTS

pytestmark = pytest.mark.starts_processes


@pytest.mark.parametrize(("platform", "language"), [("telegram", "en"), ("vk", "ru")])
def test_demo_plays_a_parent_registering(platform, language, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "BOT_TOKEN": "1:would-reach-telegram-if-used", "HOME": str(tmp_path), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    command = [sys.executable, "-m", "bot", "demo", "--platform", platform, "--language", language]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    transcript, texts = result.stdout, TEXTS[language]
    assert "👤 Olga: /start" in transcript
    assert f"👤 Olga: taps [{texts('consent.accept')}]" in transcript
    assert texts("menu.welcome") in transcript
    assert texts("commands.mydata") in transcript  # the title of "my data", the last screen
    assert "[1] " in transcript  # buttons are numbered
    assert "refused 0 of" in transcript
