"""Every language has every text with the same placeholders; no user-facing text lives in Python."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.config import LANGUAGES, PROJECT_ROOT
from tests.helpers import CONTENT


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "en"])
def test_locales_have_the_same_keys_and_placeholders(language):
    english, other = CONTENT.texts["en"]._strings, CONTENT.texts[language]._strings
    assert set(other) == set(english)
    for key, template in english.items():
        assert placeholders(other[key]) == placeholders(template), key


def test_every_choice_and_consent_exists_in_every_language():
    for choices in (CONTENT.districts, CONTENT.age_groups, CONTENT.specialties):
        assert all(set(choice.labels) == set(LANGUAGES) for choice in choices)
    for language in LANGUAGES:
        assert len(CONTENT.consent_text(language).text) < 4096  # fits one message


def test_no_cyrillic_in_python_code():
    cyrillic = re.compile("[\u0400-\u04ff]")
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for folder in ("bot", "handlers", "scheduler")
        for path in Path(PROJECT_ROOT, folder).rglob("*.py")
        if cyrillic.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


BUTTON_KEYS = [
    "language.name", "consent.accept", "consent.decline", "profile.district_other", "profile.skip",
    "menu.open", "menu.settings", "menu.my_data", "menu.link", "menu.invite", "menu.back",
    "settings.language", "settings.district", "settings.age",
    "my_data.delete", "my_data.delete_yes", "my_data.delete_no",
    "roles.parent", "roles.specialist", "roles.coordinator", "roles.head", "roles.admin",
    "menu.broadcasts", "broadcast.new", "broadcast.media_remove", "broadcast.buttons_remove", "broadcast.audience_done",
    *(f"broadcast.do_{action}" for action in ("text", "media", "button", "audience", "preview", "send", "discard", "now", "schedule", "confirm", "cancel")),
    *(f"broadcast.by_{criterion}" for criterion in ("role", "district", "language", "platform")),
    "linking.accounts_button", "linking.unlink_yes", "linking.unlink_no",
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_button_labels_fit_vk(language):
    """VK cuts button labels at 40 characters; ours must fit whole."""
    texts = CONTENT.texts[language]
    labels = [texts(key) for key in BUTTON_KEYS]
    labels += [
        texts("linking.unlink", account=texts("linking.account", messenger=texts(f"linking.messenger_{platform}"), id=10**10 - 1))
        for platform in ("telegram", "vk")
    ]
    labels += [choice.label(language) for choices in (CONTENT.districts, CONTENT.age_groups, CONTENT.specialties) for choice in choices]
    assert [label for label in labels if len(label) > 40] == []
