"""Texts read naturally in ru, ro and en: plural forms by CLDR's rules, numbers and dates the
language's way and in the centre's time zone; every key the code uses exists in every locale, and
every locale key is used."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from sqlalchemy import select

from bot.config import LANGUAGES, PROJECT_ROOT, ConfigError
from bot.content import PLURALS, Texts, load_content
from bot.db.models import Account, ConsentRecord, InviteCode
from tests.conftest import ADMIN_ID, RunningBot, make_settings
from tests.helpers import CONTENT, TEXTS, register, step
from tests.test_invites import admin_creates_invite

LOCALES = PROJECT_ROOT / "content" / "locales"
CODE_FOLDERS = ("bot", "handlers", "scheduler")
MOSCOW = load_content(PROJECT_ROOT / "content", "Europe/Moscow").texts

def raw_locale(language: str) -> dict:
    with (LOCALES / f"{language}.toml").open("rb") as file:
        return tomllib.load(file)


# every locale has the same keys, and each plural phrase the forms its language needs

@pytest.mark.parametrize("language", LANGUAGES)
def test_every_locale_has_the_same_keys(language):
    assert CONTENT.texts[language].keys() == CONTENT.texts["en"].keys()


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_plural_phrase_has_exactly_the_cldr_categories_of_its_language(language):
    needed = Locale.parse(language).plural_form.tags | {"other"}  # Babel leaves "other" implicit; CLDR has it for fractions
    phrases = raw_locale(language)[PLURALS]
    assert phrases
    assert {name: set(forms) for name, forms in phrases.items()} == {name: needed for name in phrases}


# plurals through the real Texts and the real locale files

@pytest.mark.parametrize(
    ("language", "count", "shown"),
    [
        ("ru", 1, "1 получатель"), ("ru", 2, "2 получателя"), ("ru", 5, "5 получателей"), ("ru", 11, "11 получателей"),
        ("ru", 21, "21 получатель"), ("ru", 22, "22 получателя"), ("ru", 111, "111 получателей"),
        ("ro", 1, "1 persoană"), ("ro", 2, "2 persoane"), ("ro", 19, "19 persoane"), ("ro", 20, "20 de persoane"), ("ro", 101, "101 persoane"),
        ("en", 1, "1 person"), ("en", 2, "2 people"), ("en", 0, "0 people"),
    ],
)
def test_the_audience_is_counted_in_the_right_plural_form(language, count, shown):
    text = TEXTS[language]("broadcast.audience", audience="-", count=count)
    assert f"— {shown}." in text


@pytest.mark.parametrize(
    ("language", "minutes", "shown"),
    [
        ("ru", 1, "1 минуту"), ("ru", 3, "3 минуты"), ("ru", 15, "15 минут"), ("ru", 21, "21 минуту"),
        ("ro", 1, "1 minut"), ("ro", 15, "15 minute"), ("ro", 20, "20 de minute"),
        ("en", 1, "1 minute"), ("en", 15, "15 minutes"),
    ],
)
def test_the_link_code_lifetime_is_counted_in_the_right_plural_form(language, minutes, shown):
    assert shown in TEXTS[language]("link.code", code="ABCD2345", minutes=minutes)


def test_two_counts_in_one_text_each_take_their_own_form():
    card = TEXTS["ru"]("broadcast.card", id=7, audience="-", count=21, length=2, media="-", buttons="-")
    assert "21 получатель" in card and "2 символа" in card
    card = TEXTS["ro"]("broadcast.card", id=7, audience="-", count=1, length=20, media="-", buttons="-")
    assert "1 persoană" in card and "20 de caractere" in card


@pytest.mark.parametrize(
    ("language", "forms", "expected"),
    [
        ("ru", {"one": "{n} семья", "few": "{n} семьи", "many": "{n} семей", "other": "{n} семьи"},
         {1: "1 семья", 2: "2 семьи", 5: "5 семей", 11: "11 семей", 21: "21 семья"}),
        ("ro", {"one": "{n} familie", "few": "{n} familii", "other": "{n} de familii"}, {1: "1 familie", 2: "2 familii", 20: "20 de familii"}),
        ("en", {"one": "{n} family", "other": "{n} families"}, {1: "1 family", 2: "2 families"}),
    ],
)
def test_families_are_counted_by_the_cldr_rules_of_each_language(language, forms, expected):
    """The issue's own examples (no screen counts families yet, so the phrase is the test's)."""
    texts = Texts(language, {"families.count": "{count:families}"}, {"families": forms})
    assert {count: texts("families.count", count=count) for count in expected} == expected


# numbers and dates the language's way

@pytest.mark.parametrize(("language", "shown"), [("ru", "3\u00a0000"), ("ro", "3.000"), ("en", "3,000")])
def test_numbers_are_grouped_the_language_s_way_and_identifiers_are_not(language, shown):
    texts = TEXTS[language]
    assert f"— {shown}\n" in texts("staff.list_title", count=3000)
    assert "12345" in texts("staff.list_line", id=12345, roles="-")


@pytest.mark.parametrize(
    ("language", "moment", "day"),
    [
        ("ru", "11 декабря 2026\u202fг., 15:05", "12 декабря 2026\u202fг."),
        ("ro", "11 decembrie 2026, 15:05", "12 decembrie 2026"),
        ("en", "December 11, 2026, 3:05\u202fPM", "December 12, 2026"),
    ],
)
def test_dates_are_shown_in_the_centre_s_zone_and_the_reader_s_language(language, moment, day):
    texts = MOSCOW[language]
    assert texts.date_time(datetime(2026, 12, 11, 12, 5, tzinfo=UTC)) == moment
    assert texts.date_time(datetime(2026, 12, 11, 12, 5)) == moment  # the database's naive times are UTC
    assert texts.date(datetime(2026, 12, 11, 22, 5, tzinfo=UTC)) == day  # past midnight in Moscow
    assert texts.in_zone(ZoneInfo("America/New_York")).date(datetime(2026, 12, 11, 22, 5, tzinfo=UTC)) != day  # a family elsewhere, later


async def test_an_invite_s_expiry_is_shown_to_the_admin_in_the_centre_s_zone(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url, DEFAULT_TIMEZONE="Europe/Moscow")) as running:
        admin = emulator.user(ADMIN_ID, language_code="en")
        await register(emulator, admin)
        await admin_creates_invite(emulator, admin, TEXTS["en"]("roles.head"))
        async with running.session() as session:
            expires = (await session.scalar(select(InviteCode))).expires_at
        assert MOSCOW["en"].date_time(expires) in admin.last.text
        assert TEXTS["en"].date_time(expires) not in admin.last.text  # not UTC's three hours earlier
        assert "UTC" not in admin.last.text


async def test_my_data_shows_the_consent_date_in_the_centre_s_zone(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url, DEFAULT_TIMEZONE="Europe/Moscow")) as running:
        parent = emulator.user(3001, language_code="ru")
        await register(emulator, parent, "ru")
        await step(emulator, lambda: parent.click(TEXTS["ru"]("menu.my_data")))
        async with running.session() as session:
            decided = await session.scalar(select(ConsentRecord.decided_at).join(Account, Account.person_id == ConsentRecord.person_id))
        assert MOSCOW["ru"].date_time(decided) in parent.last.text
        assert "UTC" not in parent.last.text


# the content check at load: one line naming the file and the key, the fix after the dash

def broken_content(tmp_path: Path, language: str, old: str, new: str) -> Path:
    folder = shutil.copytree(PROJECT_ROOT / "content", tmp_path / "content")
    path = folder / "locales" / f"{language}.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("language", "old", "new", "named"),
    [
        ("ru", 'many = "{n} получателей", ', "", "plural.recipients"),  # a form missing
        ("en", 'one = "{n} person", ', 'one = "{n} person", few = "{n} persons", ', "plural.recipients"),  # a form English has not
        ("ro", 'one = "{n} minut"', 'one = "{n} minut {count}"', "plural.minutes.one"),
        ("en", "<b>{count:recipients}</b> (", "<b>{count:recipient}</b> (", "broadcast.confirm"),  # no such phrase
        ("ro", "Către: {audience} — {count:recipients}", "Către: {audience} — {total:recipients}", "broadcast.card"),  # a placeholder the others do not have
        ("ro", 'no_roles = "încă niciun rol"\n', "", "staff.no_roles"),  # a key missing
        ("ru", 'no_roles = "пока нет роли"\n', 'no_roles = "пока нет роли"\nno_rights = "нет прав"\n', "staff.no_rights"),  # a key only one has
        ("ru", "Ваша роль: {roles}.", "Ваша роль: {role}.", "menu.title"),
        ("en", "Your role: {roles}.", "Your role: {roles.", "menu.title"),  # a brace left open
    ],
)
def test_a_locale_mistake_is_one_line_naming_the_file_and_the_key(tmp_path, language, old, new, named):
    with pytest.raises(ConfigError) as raised:
        load_content(broken_content(tmp_path, language, old, new))
    message = str(raised.value)
    assert message.startswith("config error: CONTENT_DIR: ") and "\n" not in message
    told = re.search(rf"{language}\.toml:(\d+): {re.escape(named)}:", message)
    assert told, message
    line = (tmp_path / "content" / "locales" / f"{language}.toml").read_text(encoding="utf-8").splitlines()[int(told.group(1)) - 1]
    assert named.split(".")[-1] in line or line.startswith("["), line  # the key's line, or its section's when it is missing
    assert "—" in message  # the fix follows the dash


def test_the_cli_checks_the_locales_before_aiogram_is_imported(tmp_path):
    content = broken_content(tmp_path, "ru", 'many = "{n} минут", ', "")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BOT_", "VK_", "DATABASE_", "CONTENT_"))}
    env |= {"CONTENT_DIR": str(content), "DATABASE_URL": f"sqlite:///{tmp_path / 'vmeste.db'}"}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot", "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("import time:")]
    assert len(lines) == 1 and lines[0].startswith("config error: CONTENT_DIR: ") and re.search(r"ru\.toml:\d+: plural\.minutes:", lines[0])
    assert " aiogram\n" not in result.stderr  # -X importtime names each module imported, one a line


# literal keys: each used key exists in every locale, each locale key is used

SECTIONS = frozenset(raw_locale("en"))
KEY_SHAPE = re.compile(r"([a-z_]+)\.[a-z0-9_]+")


@cache
def code_files() -> list[tuple[str, ast.Module]]:
    return [
        (path.relative_to(PROJECT_ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
        for folder in CODE_FOLDERS
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py"))
    ]


def is_key(value: object) -> bool:
    return isinstance(value, str) and (match := KEY_SHAPE.fullmatch(value)) is not None and match[1] in SECTIONS


@cache
def literal_keys() -> dict[str, str]:
    """Each key-shaped string literal in the code (a call's argument, a dict's value, a returned
    problem) and where it first appears."""
    found: dict[str, str] = {}
    for name, tree in code_files():
        in_f_strings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and is_key(node.value) and id(node) not in in_f_strings:
                found.setdefault(node.value, f"{name}:{node.lineno}")
    return found


def built_keys() -> list[str]:
    """f-strings that build a key (f"roles.{role}"): a test cannot see which keys they use."""
    return [
        f"{name}:{node.lineno}"
        for name, tree in code_files()
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant)
        and (prefix := str(node.values[0].value)).partition(".")[0] in SECTIONS and "." in prefix and " " not in prefix
    ]


def texts_of(table: dict) -> list[str]:
    return [text for value in table.values() for text in (texts_of(value) if isinstance(value, dict) else [value])]


def phrases_in_locales() -> set[str]:
    """plural.<phrase> for each {count:phrase} in a locale text: the locales use these keys themselves."""
    return {
        f"{PLURALS}.{phrase}"
        for language in LANGUAGES
        for text in texts_of({section: table for section, table in raw_locale(language).items() if section != PLURALS})
        for phrase in re.findall(r"\{[a-z_]+:([a-z_]+)\}", text)
    }


def test_no_key_is_built_at_run_time():
    assert built_keys() == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_the_code_uses_exists(language):
    keys = CONTENT.texts[language].keys()
    assert {key: where for key, where in literal_keys().items() if key not in keys} == {}


def test_every_locale_key_is_used():
    used = set(literal_keys()) | phrases_in_locales()
    assert sorted(CONTENT.texts["en"].keys() - used) == []
