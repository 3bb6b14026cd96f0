"""`pip install .` (not editable) gives a bot that runs from any folder: the content, the migrations
and the emulator specs are in the wheel, and the content is found without CONTENT_DIR."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from bot.config import PROJECT_ROOT

pytestmark = pytest.mark.starts_processes

# What `pip install .` reads from a checkout; a copy, so the build leaves no build/ behind in it.
PROJECT_FILES = ("pyproject.toml", "README.md", "bot", "handlers", "scheduler", "content")


def test_the_installed_wheel_plays_the_demo_from_another_folder(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in PROJECT_FILES:
        path = PROJECT_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.db*"))
        else:
            shutil.copy(path, source / name)
    venv = tmp_path / "venv"
    # The dependencies come from the system site-packages; the project itself only from the wheel.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", str(source)]
    built = subprocess.run(install, capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stdout + built.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(elsewhere)}  # no PYTHONPATH, no CONTENT_DIR
    imported = subprocess.run([python, "-c", "import bot; print(bot.__file__)"], cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert imported.stdout.startswith(str(venv)), imported.stdout  # not the checkout's editable install
    result = subprocess.run([python, "-m", "bot", "demo"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "refused 0 of" in result.stdout
