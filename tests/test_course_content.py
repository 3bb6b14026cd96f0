"""The flash courses' content (bot.course_content): the shipped courses load in every language,
and `python -m bot content check` tells each mistake a centre can make as `file:line: what — fix`,
every one of them at once; the bot refuses to start with the same lines."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import LANGUAGES, PROJECT_ROOT, ConfigError
from bot.consultation_content import Weekday
from bot.content import load_content
from bot.course_content import Rhythm
from tests.helpers import CONTENT

CONTENT_DIR = PROJECT_ROOT / "content"
COURSES = ("home", "rehab-school", "virtual-club")

LESSON = """+++
title = "Dressing in the morning"
task = "This week: let your child pull up the trousers alone."
+++
Put the clothes out in the order they go on.
"""


def test_the_three_starter_courses_load_with_the_same_lessons_in_every_language():
    assert [course.id for course in CONTENT.courses] == list(COURSES)
    for course in CONTENT.courses:
        names = {language: [lesson.id for lesson in course.lessons[language]] for language in LANGUAGES}
        assert len(names["en"]) >= 5 and names["ru"] == names["ro"] == names["en"], course.id
        assert all(course.title(language) and course.descriptions[language] for language in LANGUAGES)
        assert CONTENT.specialty(course.specialty) is not None
        lessons = [lesson for language in LANGUAGES for lesson in course.lessons[language]]
        assert all(lesson.title and lesson.task and lesson.text and not lesson.reviewed for lesson in lessons)  # starting material, marked
    home = next(course for course in CONTENT.courses if course.id == "home")
    assert home.title("ru") == "Дома с пользой" and home.rhythm == Rhythm(every_days=2)
    club = next(course for course in CONTENT.courses if course.id == "virtual-club")
    assert club.rhythm == Rhythm(weekdays=(Weekday.tue, Weekday.fri))


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The project's content with one small course of its own, `demo`, in every language."""
    copy = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, copy, ignore=shutil.ignore_patterns("courses"))
    course = copy / "courses" / "demo"
    course.mkdir(parents=True)
    titles = "\n".join(f'{language} = "Demo {language}"' for language in LANGUAGES)
    (course / "course.toml").write_text(
        f'specialty = "defectologist"\nage_groups = ["4-7"]\n\n[rhythm]\nevery_days = 2\n\n[title]\n{titles}\n\n[description]\n{titles}\n', encoding="utf-8"
    )
    for language in LANGUAGES:
        (course / language).mkdir()
        for name in ("01-dressing", "02-meals"):
            (course / language / f"{name}.md").write_text(LESSON, encoding="utf-8")
    return copy


def check(content: Path, capsys, monkeypatch) -> tuple[int, list[str]]:
    monkeypatch.setenv("CONTENT_DIR", str(content))
    code = main(["content", "check"])
    return code, capsys.readouterr().out.splitlines()


def test_valid_content_passes_the_check(content, capsys, monkeypatch):
    code, lines = check(content, capsys, monkeypatch)
    assert code == 0
    assert lines == [
        f"{content}: valid — 1 courses, 6 lesson files (6 not yet reviewed by the centre's specialists);"
        " 8 parent chats (8 without a chat_id yet: parents do not see them); 2 surveys"
    ]


def test_each_mistake_is_a_line_with_its_file_and_line_and_all_of_them_are_told(content, capsys, monkeypatch):
    course = content / "courses" / "demo"
    (course / "ro" / "02-meals.md").unlink()  # a lesson missing in one language
    for language in LANGUAGES:  # a missing lesson file: 01, 02, then 04
        (course / language / "04-bath.md").write_text(LESSON, encoding="utf-8")
    (course / "de").mkdir()  # an unknown language
    (course / "en" / "01-dressing.md").write_text('+++\ntitle = "Dressing\ntask = "x"\n+++\nText.\n', encoding="utf-8")  # broken front matter
    (course / "ru" / "04-bath.md").write_text('+++\ntitle = "Купание"\n+++\nТекст.\n', encoding="utf-8")  # no task
    code, lines = check(content, capsys, monkeypatch)
    assert code == 1
    assert lines[0] == "5 problems in the content (python -m bot content check lists them):"
    assert lines[1:] == [
        f"{course / 'de'}:1: 'de' is not a language — lesson folders are named ru, ro, en",
        f"{course / 'ru' / '02-meals.md'}:1: this lesson has no ro version ({course / 'ro' / '02-meals.md'}) — translate it, or remove it from every language",
        f"{course}:1: lesson 03 is missing: the lessons are numbered 01, 02, 04 — add the lesson's file, or number the others without a gap",
        f"{course / 'en' / '01-dressing.md'}:2: not valid TOML: Illegal character '\\n' — correct the line (a text goes in quotes; a quote inside it as \\\")",
        f"{course / 'ru' / '04-bath.md'}:2: the front matter has no task — add task = \"...\" between the +++ lines",
    ]


def test_course_file_mistakes_name_their_line(content, capsys, monkeypatch):
    path = content / "courses" / "demo" / "course.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('"defectologist"', '"astrologer"').replace("every_days = 2", "every_days = 0"), encoding="utf-8")
    code, lines = check(content, capsys, monkeypatch)
    assert code == 1
    assert lines[1].startswith(f"{path}:1: specialty = 'astrologer' is not a specialty — use one of ")
    assert lines[2] == f'{path}:5: every_days = 0 is not a number of days from 1 to 30 — write [rhythm] with every_days = 2, or with weekdays = ["tue", "fri"]'


def test_the_bot_refuses_to_start_with_the_same_lines(content):
    course = content / "courses" / "demo"
    (course / "ro" / "02-meals.md").unlink()
    with pytest.raises(ConfigError) as refused:
        load_content(content)
    assert str(refused.value) == (
        f"config error: CONTENT_DIR: {course / 'ru' / '02-meals.md'}:1: this lesson has no ro version ({course / 'ro' / '02-meals.md'})"
        " — translate it, or remove it from every language"
    )
    (course / "de").mkdir()
    with pytest.raises(ConfigError) as refused:
        load_content(content)
    assert str(refused.value).splitlines()[1:] == [
        f"{course / 'de'}:1: 'de' is not a language — lesson folders are named ru, ro, en",
        f"{course / 'ru' / '02-meals.md'}:1: this lesson has no ro version ({course / 'ro' / '02-meals.md'}) — translate it, or remove it from every language",
    ]


def test_mistakes_in_different_parts_of_the_content_are_all_told(content, capsys, monkeypatch):
    """A broken locale does not hide a broken FAQ or course: each part is checked on its own."""
    locale = content / "locales" / "ro.toml"
    locale.write_text(locale.read_text(encoding="utf-8").replace("[menu]", "[menu", 1), encoding="utf-8")
    faq = content / "consultations" / "faq" / "en.toml"
    faq.write_text(faq.read_text(encoding="utf-8").replace('specialty = "speech"', 'specialty = "astrology"', 1), encoding="utf-8")
    (content / "courses" / "demo" / "en" / "02-meals.md").write_text("no front matter\n", encoding="utf-8")
    code, lines = check(content, capsys, monkeypatch)
    assert code == 1 and lines[0].startswith("3 problems in the content")
    assert lines[1].startswith(f"{locale}:27: is not valid TOML: Expected ']' at the end of a table declaration"), lines[1]
    assert re.match(rf"{re.escape(str(faq))}:\d+: entry [a-z-]+: specialty 'astrology' is not in specialties.toml", lines[2]), lines[2]
    assert lines[3].startswith(f"{content / 'courses' / 'demo' / 'en' / '02-meals.md'}:1: the lesson does not open with front matter")
