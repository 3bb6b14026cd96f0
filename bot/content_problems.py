"""How a mistake in CONTENT_DIR is told: `file:line: what is wrong — the fix`, so the centre's staff
can open the file they edited at the line (`python -m bot content check`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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


def toml_error_line(message: str) -> int | None:
    """The line tomllib names in its error, if it names one."""
    found = _TOML_LINE.search(message)
    return int(found.group(1)) if found else None


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
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        section = _first(lines, re.compile(rf"^\s*\[{re.escape('.'.join(parts[:split]))}\]\s*(#.*)?$"))
        if section:
            own = _first(lines[section:], re.compile(rf'^\s*"?{re.escape(parts[split])}"?\s*='))
            return section + own if own else section
    return _first(lines, re.compile(rf'^\s*"?{re.escape(parts[0])}"?\s*=')) or 1


def _first(lines: list[str], pattern: re.Pattern[str]) -> int:
    return next((number for number, line in enumerate(lines, 1) if pattern.search(line)), 0)
