"""A choice a person picks from a list of buttons: a district, an age group, a specialty."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import LANGUAGES
from bot.content_problems import ContentMistake, read_toml

DISTRICT_KINDS = {"city": False, "rural": True}  # a district's kind: is it rural


@dataclass(frozen=True)
class Choice:
    id: str
    labels: dict[str, str]

    def label(self, language: str) -> str:
        return self.labels[language]


@dataclass(frozen=True)
class District(Choice):
    """A district or town of the centre's region; reach and results are split city / rural."""

    rural: bool


def load_choices(path: Path) -> tuple[Choice, ...]:
    """The [[item]]s of a list in CONTENT_DIR (the age groups): an id and a label per language."""
    return tuple(Choice(item["id"], _labels(item)) for item in read_toml(path)["item"])


def load_districts(path: Path) -> tuple[District, ...]:
    """The districts, each a city or rural (`kind`); one without a kind is a ContentMistake."""
    return tuple(District(item["id"], _labels(item), _rural(path, item)) for item in read_toml(path)["item"])


def _rural(path: Path, item: dict[str, Any]) -> bool:
    kind = item.get("kind")
    if not isinstance(kind, str) or kind not in DISTRICT_KINDS:
        what = f"item {item['id']}: " + ("no kind" if kind is None else f"kind = {kind!r} is neither 'city' nor 'rural'")
        raise ContentMistake(path, what, 'write kind = "city" for a city or town, kind = "rural" for a rural district')
    return DISTRICT_KINDS[kind]


def _labels(item: dict[str, Any]) -> dict[str, str]:
    return {language: item[language] for language in LANGUAGES}
