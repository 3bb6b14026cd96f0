"""What an operator meets first: the README's first screen, `--help` and `--version`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import PROJECT_ROOT

COMMANDS = ("run", "migrate", "demo", "try", "content", "report")
NOT_BUILT: tuple[str, ...] = ()  # a feature the README's first screen may name only after "Coming next"


def first_screen() -> str:
    return "\n".join((PROJECT_ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:40])


def test_the_first_screen_says_what_works_and_marks_the_rest_as_coming():
    screen = first_screen()
    coming = screen.index("Coming next")
    for feature in NOT_BUILT:
        assert feature not in screen[:coming].lower(), f"the first screen promises {feature}s before 'Coming next'"
    for command in ("python -m pip install", "python -m bot demo", "python -m bot try", "python -m pytest"):
        assert command in screen


def test_every_command_has_a_one_line_description(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    listed = {line.split()[0]: line.split(maxsplit=1)[1:] for line in capsys.readouterr().out.splitlines() if line.startswith("    ")}
    for command in COMMANDS:
        assert listed.get(command), f"`{command}` has no description in --help"


@pytest.mark.starts_processes
def test_the_installed_script_calls_itself_vmeste_and_tells_its_version():
    script = Path(sys.executable).with_name("vmeste")
    if not script.exists():
        pytest.skip("the vmeste script is not installed next to this Python")
    usage = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=30).stdout
    assert usage.startswith("usage: vmeste ")
    version = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=30)
    assert version.returncode == 0 and version.stdout.startswith("vmeste 0.")
