"""How a mistake in CONTENT_DIR is told: `file:line: what is wrong — the fix`, so the centre's staff
can open the file they edited at the line (`python -m bot content check`)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import LANGUAGES

_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_ROW = re.compile(r"\b(?:item|entry|answer|id) '?([a-z][a-z0-9_-]*)'?")
_KEY = re.compile(r"\[*([a-z_.]+)\]*")


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} — {self.fix}"


class ContentMistake(ValueError):
    """A mistake in a content file, told as a Problem with the line `what` points at (line_of)."""

    def __init__(self, path: Path, what: str, fix: str) -> None:
        super().__init__(str(Problem(path, line_of(path, what), what, fix)))


def read_toml(path: Path) -> dict[str, Any]:
    """A content file's table; broken TOML is a ContentMistake at its line (OSError passes on)."""
    with path.open("rb") as file:
        try:
            return tomllib.load(file)
        except tomllib.TOMLDecodeError as error:
            raise ContentMistake(path, f"is not valid TOML: {error}", "correct the file at that line") from None


def toml_error_line(message: str) -> int | None:
    """The line tomllib names in its error, if it names one."""
    found = _TOML_LINE.search(message)
    return int(found.group(1)) if found else None


def without_location(message: str) -> str:
    """tomllib's error without its "(at line N, column M)"."""
    return _TOML_LINE.sub("", message).strip()


def line_of(path: Path, what: str) -> int:
    """The line a mistake described by `what` is on: the line TOML names, the row whose id it
    names, or the key it starts with; else the first line."""
    if (line := toml_error_line(what)) is not None:
        return line
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    if (row := _ROW.search(what)) is not None:
        found = _first(lines, re.compile(rf'^\s*id\s*=\s*"{re.escape(row.group(1))}"'))
        if found:
            return found
    if (key := _KEY.match(what)) is not None:
        name = key.group(1).split(".")[-1]
        found = _first(lines, re.compile(rf"^\s*\[*{re.escape(name)}\b"))
        if found:
            return found
    return 1


def key_line(path: Path, dotted: str) -> int:
    """The line of a key like menu.title (or plural.minutes.one, in an inline table) in a TOML file
    of sections: the key's own line after its section's, else the section's, else the first."""
    try:
        lines = KeyLines(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return 1
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        section = ".".join(parts[:split])
        if lines.section(section):
            return lines.of(parts[split], section)
    return lines.of(parts[0])


class KeyLines:
    """Where a key is written in a TOML text that starts on line offset + 1 of its file, for the
    line of a problem: the key's line (after its section's, if given), else the section's, else the first."""

    def __init__(self, text: str, offset: int = 0) -> None:
        self.lines = text.splitlines()
        self.offset = offset

    def section(self, name: str) -> int:
        """The line of [name] in the text (0: not there)."""
        return _first(self.lines, re.compile(rf"^\s*\[{re.escape(name)}\]\s*(#.*)?$"))

    def of(self, key: str, section: str | None = None) -> int:
        start = self.section(section) if section else 0
        written = re.compile(rf'^\s*(?:{re.escape(key)}\s*$|"?{re.escape(key)}"?\s*=)')
        own = _first(self.lines[start:], written)
        return (start + own if own else start or 1) + self.offset


def _first(lines: list[str], pattern: re.Pattern[str]) -> int:
    return next((number for number, line in enumerate(lines, 1) if pattern.search(line)), 0)


def texts_per_language(values: Any, name: str, limit: int, problem: Callable[[str, str], None]) -> dict[str, str]:
    """A table of one text per language (`name` as the file writes it, like [chat.title]): each
    language's text present and at most `limit` long, no other language; every problem told by
    `problem(what, fix)`, and then nothing returned."""
    if not isinstance(values, dict):
        problem(f"{name} is missing", f"add {name} with " + ", ".join(f'{language} = "..."' for language in LANGUAGES))
        return {}
    for language in LANGUAGES:
        value = values.get(language)
        if not isinstance(value, str) or not value.strip():
            problem(f"{name} has no {language} text", f'add {language} = "..." to {name}')
        elif len(value) > limit:
            problem(f"{name} {language} is {len(value)} characters long", f"shorten it to {limit}")
    for language in values.keys() - set(LANGUAGES):
        problem(f"{name} has the unknown language {language!r}", f"languages are {', '.join(LANGUAGES)}")
    if any(not isinstance(values.get(language), str) or not values[language].strip() or len(values[language]) > limit for language in LANGUAGES):
        return {}
    return {language: values[language] for language in LANGUAGES}
