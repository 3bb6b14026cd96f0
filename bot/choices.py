"""A choice a person picks from a list of buttons: a district, an age group, a specialty."""

from __future__ import annotations

from dataclasses import dataclass


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
