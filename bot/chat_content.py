"""The themed parent chats in CONTENT_DIR/chats/catalog.toml: one [[chat]] each, with its title,
description and rules per language, the child age groups it suits, its messenger and chat id (0 until the
centre has made the group and added the bot), and its moderators (messenger accounts, like ADMINS).

Every problem is told as `file:line: what is wrong — the fix`, like the courses'."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import PLATFORMS, parse_admins
from bot.content_problems import Problem, read_toml, texts_per_language

FILE = Path("chats") / "catalog.toml"
TITLE_LIMIT = 64
DESCRIPTION_LIMIT = 600
RULES_LIMIT = 1200
_ID = re.compile(r"[a-z][a-z0-9-]{0,31}")
_ROW = re.compile(r"^\s*\[\[chat\]\]")


@dataclass(frozen=True)
class ThemedChat:
    id: str
    platform: str
    chat_id: int  # 0: not made yet; parents do not see it
    age_groups: tuple[str, ...]
    titles: dict[str, str]
    descriptions: dict[str, str]
    rules: dict[str, str]  # shown to each newcomer and on /rules
    moderators: frozenset[tuple[str, int]]

    @property
    def connected(self) -> bool:
        return self.chat_id != 0

    def title(self, language: str) -> str:
        return self.titles[language]


def load_chats(directory: Path, age_groups: frozenset[str]) -> tuple[tuple[ThemedChat, ...], list[Problem]]:
    """The catalog of CONTENT_DIR/chats/catalog.toml (none if there is no such file), and the problems found."""
    path = directory / FILE
    if not path.is_file():
        return (), []
    problems: list[Problem] = []
    table = read_toml(path)  # broken TOML: a ContentMistake at its line
    rows = table.get("chat", [])
    starts = [number for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if _ROW.match(line)]
    chats, seen = [], set()
    for index, row in enumerate(rows if isinstance(rows, list) else []):
        line = starts[index] if index < len(starts) else 1
        chat = _chat(path, line, row, age_groups, problems)
        if chat is None:
            continue
        if chat.id in seen:
            problems.append(Problem(path, line, f"the chat id {chat.id!r} is used twice", "give each [[chat]] its own id"))
            continue
        seen.add(chat.id)
        chats.append(chat)
    return tuple(chats), problems


def _chat(path: Path, line: int, row: Any, age_groups: frozenset[str], problems: list[Problem]) -> ThemedChat | None:
    before = len(problems)

    def problem(what: str, fix: str) -> None:
        problems.append(Problem(path, line, what, fix))

    if not isinstance(row, dict):
        problem("a [[chat]] is not a table", "write each chat as [[chat]] with its keys under it")
        return None
    chat_id_text = row.get("id")
    if not isinstance(chat_id_text, str) or not _ID.fullmatch(chat_id_text):
        problem(f"id = {chat_id_text!r} is not an id", 'write id = "autism" (small Latin letters, digits and -)')
    platform = row.get("platform")
    if platform not in PLATFORMS:
        problem(f"platform = {platform!r} is not a messenger", f"write platform = one of {', '.join(repr(name) for name in PLATFORMS)}")
    number = row.get("chat_id", 0)
    if isinstance(number, bool) or not isinstance(number, int) or (number > 0 and platform == "telegram") or (number < 0 and platform == "vk"):
        fix = "Telegram groups' ids are negative (-100…), VK conversations' 2000000001 and up; 0 until it exists"
        problem(f"chat_id = {number!r} is not a {platform} group's id", fix)
    groups = row.get("age_groups", [])
    if not isinstance(groups, list) or not groups or any(group not in age_groups for group in groups):
        problem(f"age_groups = {groups!r} names no or unknown age groups", f"list ids from age_groups.toml: {', '.join(sorted(age_groups))}")
    try:
        moderators = parse_admins(",".join(map(str, row.get("moderators", []))))
    except ValueError as error:
        problem(f"moderators: {error}".split(" — ")[0], 'list accounts like ["123456789", "vk:123456789"]')
        moderators = frozenset()
    titles = texts_per_language(row.get("title"), "[chat.title]", TITLE_LIMIT, problem)
    descriptions = texts_per_language(row.get("description"), "[chat.description]", DESCRIPTION_LIMIT, problem)
    rules = texts_per_language(row.get("rules"), "[chat.rules]", RULES_LIMIT, problem)
    if len(problems) > before:
        return None
    return ThemedChat(str(chat_id_text), str(platform), int(number), tuple(groups), titles, descriptions, rules, moderators)
