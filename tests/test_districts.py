"""The districts are the seed practice's region, each a city or rural, and a parent reaches every one."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import LANGUAGES, PROJECT_ROOT, ConfigError
from bot.content import load_content
from bot.db.models import Person
from bot.platforms.vk_format import INLINE_BUTTON_LIMIT, INLINE_ROW_LIMIT, vk_keyboard
from handlers.menu import district_keyboard
from handlers.ui import CHOICES_PER_PAGE
from tests.helpers import CONTENT, TEXTS, button_texts, register, step

DISTRICTS_FILE = PROJECT_ROOT / "content" / "districts.toml"


def test_the_region_is_vologda_oblast_cherepovets_first():
    ids = [district.id for district in CONTENT.districts]
    assert ids[:3] == ["cherepovets", "cherepovets-district", "vologda"]
    assert len(ids) == len(set(ids)) == 2 + 26  # two cities, 26 districts
    assert all(re.fullmatch(r"[a-z][a-z-]*", district_id) for district_id in ids)
    rest = [district.label("ru") for district in CONTENT.districts[3:]]
    assert rest == sorted(rest)  # in Russian alphabetical order (no ё among them)


def test_each_district_is_a_city_or_rural():
    cities = {district.id for district in CONTENT.districts if not district.rural}
    assert cities == {"cherepovets", "vologda"}
    assert CONTENT.rural_districts == {district.id for district in CONTENT.districts} - cities
    assert "cherepovets-district" in CONTENT.rural_districts and "other" not in CONTENT.rural_districts


def broken(tmp_path: Path, old: str, new: str) -> Path:
    folder = shutil.copytree(PROJECT_ROOT / "content", tmp_path / "content")
    path = folder / "districts.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


ENTRY = 'id = "cherepovets-district"\nkind = "rural"\n'
ENTRY_LINE = DISTRICTS_FILE.read_text(encoding="utf-8").splitlines().index('id = "cherepovets-district"') + 1


@pytest.mark.parametrize(
    ("new", "named"),
    [
        ('id = "cherepovets-district"\nkind = "town"\n', "item cherepovets-district: kind = 'town' is neither 'city' nor 'rural'"),
        ('id = "cherepovets-district"\nkind = ["rural"]\n', "item cherepovets-district: kind = ['rural'] is neither 'city' nor 'rural'"),
        ('id = "cherepovets-district"\n', "item cherepovets-district: no kind"),
    ],
    ids=["wrong", "not-a-word", "missing"],
)
def test_a_wrong_or_missing_kind_is_told_at_its_line(tmp_path, new, named):
    with pytest.raises(ConfigError) as raised:
        load_content(broken(tmp_path, ENTRY, new))
    message = str(raised.value)
    assert message.startswith("config error: CONTENT_DIR: ") and "\n" not in message
    assert f"districts.toml:{ENTRY_LINE}: {named} — " in message, message
    assert 'write kind = "city"' in message


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("onboarding", [True, False])
def test_every_page_of_the_picker_fits_vk(language, onboarding):
    pages = -(-len(CONTENT.districts) // CHOICES_PER_PAGE)
    seen = []
    for page in range(pages):
        markup = district_keyboard(CONTENT, TEXTS[language], onboarding, page)
        rows = markup.inline_keyboard
        assert len(rows) <= INLINE_ROW_LIMIT and sum(map(len, rows)) <= INLINE_BUTTON_LIMIT
        assert vk_keyboard(markup)  # the VK bridge refuses a keyboard over VK's limits
        assert rows[-2][0].text == TEXTS[language]("profile.district_other")  # "other" on every page
        seen += [button.text for row in rows for button in row]
    assert {district.label(language) for district in CONTENT.districts} <= set(seen)


async def test_a_parent_picks_a_district_on_the_last_page(emulator, running_bot):
    parent = emulator.user(1031, language_code="ru")
    await register(emulator, parent, language="ru", district=None, age=None)  # to the menu, both questions skipped
    await step(emulator, lambda: parent.click(TEXTS["ru"]("menu.settings")))
    await step(emulator, lambda: parent.click(TEXTS["ru"]("settings.district")))
    last = CONTENT.districts[-1].label("ru")
    while last not in button_texts(parent.last):
        await step(emulator, lambda: parent.click("▶"))
    await step(emulator, lambda: parent.click(last))
    async with running_bot.session() as session:
        assert (await session.scalar(select(Person))).district == CONTENT.districts[-1].id
