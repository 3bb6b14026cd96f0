"""Texts, consent versions and choice lists from CONTENT_DIR, loaded once at start."""

from __future__ import annotations

import hashlib
import html
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import LANGUAGES, ConfigError


@dataclass(frozen=True)
class Choice:
    id: str
    labels: dict[str, str]

    def label(self, language: str) -> str:
        return self.labels[language]


@dataclass(frozen=True)
class ConsentText:
    version: str
    language: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


class Texts:
    """The texts of one language: texts("menu.title", roles=...). Values are HTML-escaped."""

    def __init__(self, language: str, strings: dict[str, str]) -> None:
        self.language = language
        self._strings = strings

    def __call__(self, key: str, **values: Any) -> str:
        escaped = {name: html.escape(str(value), quote=False) for name, value in values.items()}
        return self._strings[key].format(**escaped)


@dataclass(frozen=True)
class Content:
    texts: dict[str, Texts]
    consent: dict[str, dict[str, ConsentText]]
    districts: tuple[Choice, ...]
    age_groups: tuple[Choice, ...]
    specialties: tuple[Choice, ...]

    @property
    def consent_version(self) -> str:
        return max(self.consent, key=lambda version: int(version.lstrip("v")))

    def consent_text(self, language: str) -> ConsentText:
        return self.consent[self.consent_version][language]

    @staticmethod
    def find(choices: tuple[Choice, ...], choice_id: str | None) -> Choice | None:
        return next((choice for choice in choices if choice.id == choice_id), None)


def load_content(directory: Path) -> Content:
    try:
        return Content(
            texts={language: Texts(language, _flatten(_toml(directory / "locales" / f"{language}.toml"))) for language in LANGUAGES},
            consent=_consent_versions(directory / "consent"),
            districts=_choices(directory / "districts.toml"),
            age_groups=_choices(directory / "age_groups.toml"),
            specialties=_choices(directory / "specialties.toml"),
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError) as error:
        raise ConfigError(f"config error: CONTENT_DIR: cannot load content from {directory}: {error} — point CONTENT_DIR at the project's content/ folder") from None


def _toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        return tomllib.load(file)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def _choices(path: Path) -> tuple[Choice, ...]:
    items = _toml(path)["item"]
    return tuple(Choice(item["id"], {language: item[language] for language in LANGUAGES}) for item in items)


def _consent_versions(directory: Path) -> dict[str, dict[str, ConsentText]]:
    versions = {
        folder.name: {
            language: ConsentText(folder.name, language, (folder / f"{language}.txt").read_text(encoding="utf-8").strip())
            for language in LANGUAGES
        }
        for folder in directory.iterdir()
        if folder.is_dir() and folder.name.startswith("v")
    }
    if not versions:
        raise ValueError(f"no consent versions (v1, v2, ...) in {directory}")
    return versions
