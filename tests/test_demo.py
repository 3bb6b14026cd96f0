"""`python -m bot demo` works as the README promises, on both platforms, with no token and no network."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("platform", ["telegram", "vk"])
def test_demo_plays_a_parent_registering(platform, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "BOT_TOKEN": "1:would-reach-telegram-if-used", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--platform", platform], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    transcript = result.stdout
    assert "👤 Olga: /start" in transcript
    assert "Welcome! You are registered." in transcript
    assert "What we keep about you" in transcript
    assert "refused 0 of" in transcript
