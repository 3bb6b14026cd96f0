"""The flash courses in CONTENT_DIR/courses: one folder per course, its course.toml (titles and
descriptions per language, the child age groups it suits, its default rhythm, the specialty that
answers questions about it) and one Markdown file per lesson and language,
<course>/<language>/<NN>-<name>.md, opening with TOML front matter between two `+++` lines
(title, the week's task, optionally a video as a link or a file in the course's folder, and
attachments).

Every problem is found, not only the first, and told as `file:line: what is wrong — the fix`, so
the centre's staff can correct files they edited themselves (`python -m bot content check`)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import LANGUAGES
from bot.consultation_content import WEEKDAYS, Weekday
from bot.content_problems import KeyLines, Problem, toml_error_line, without_location

FOLDER = "courses"
COURSE_FILE = "course.toml"
FENCE = "+++"
TITLE_LIMIT = 80
TASK_LIMIT = 400
BODY_LIMIT = 3000  # with the title and the task, one message on both messengers
_COURSE_ID = re.compile(r"[a-z][a-z0-9-]{0,39}")
_LESSON_FILE = re.compile(r"(\d\d)-[a-z0-9-]+\.md")
_LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Rhythm:
    """A lesson every `every_days` days, or on `weekdays`."""

    every_days: int | None = None
    weekdays: tuple[Weekday, ...] = ()


@dataclass(frozen=True)
class Lesson:
    id: str  # the file's name without .md, the same in every language
    title: str
    task: str
    text: str
    video: str | None = None  # a link, or a file's path relative to the course's folder
    attachments: tuple[str, ...] = ()
    reviewed: bool = False  # starting material until the centre's specialists say otherwise


@dataclass(frozen=True)
class Course:
    id: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    age_groups: tuple[str, ...]
    specialty: str
    rhythm: Rhythm
    lessons: dict[str, tuple[Lesson, ...]]  # language -> the lessons in order

    def title(self, language: str) -> str:
        return self.titles[language]


def load_courses(directory: Path, specialties: frozenset[str], age_groups: frozenset[str]) -> tuple[tuple[Course, ...], list[Problem]]:
    """The courses of CONTENT_DIR/courses (none if there is no such folder), and the problems found."""
    courses: list[Course] = []
    problems: list[Problem] = []
    folder = directory / FOLDER
    if folder.is_dir():
        for course_folder in sorted(path for path in folder.iterdir() if path.is_dir()):
            course = _course(course_folder, specialties, age_groups, problems)
            if course is not None:
                courses.append(course)
    return tuple(courses), problems


def _course(folder: Path, specialties: frozenset[str], age_groups: frozenset[str], problems: list[Problem]) -> Course | None:
    before = len(problems)
    path = folder / COURSE_FILE
    if not _COURSE_ID.fullmatch(folder.name):
        problems.append(Problem(folder, 1, f"the course folder's name {folder.name!r} is not an id", "name it with small Latin letters, digits and -"))
    if not path.is_file():
        problems.append(Problem(path, 1, "the course has no course.toml", "add one with its title, description, age_groups, specialty and [rhythm]"))
        return None
    text = path.read_text(encoding="utf-8")
    table = _parse(path, text, 0, problems)
    if table is None:
        return None
    lines = KeyLines(text)
    titles = _per_language(path, lines, table, "title", TITLE_LIMIT, problems)
    descriptions = _per_language(path, lines, table, "description", None, problems)
    specialty = table.get("specialty")
    if specialty not in specialties:
        known = ", ".join(sorted(specialties))
        problems.append(
            Problem(path, lines.of("specialty"), f"specialty = {specialty!r} is not a specialty", f"use one of {known} (consultations/specialties.toml)")
        )
    groups = table.get("age_groups", [])
    if not isinstance(groups, list) or not groups or any(group not in age_groups for group in groups):
        known = ", ".join(sorted(age_groups))
        problems.append(
            Problem(path, lines.of("age_groups"), f"age_groups = {groups!r} names no or unknown age groups", f"list ids from age_groups.toml: {known}")
        )
    rhythm = _rhythm(path, lines, table.get("rhythm"), problems)
    lessons = _lessons(folder, problems)
    if len(problems) > before:
        return None
    return Course(folder.name, titles, descriptions, tuple(groups), str(specialty), rhythm, lessons)


def _per_language(path: Path, lines: KeyLines, table: dict[str, Any], name: str, limit: int | None, problems: list[Problem]) -> dict[str, str]:
    values = table.get(name)
    if not isinstance(values, dict):
        problems.append(
            Problem(path, lines.of(name), f"[{name}] is missing", f"add [{name}] with " + ", ".join(f'{language} = "..."' for language in LANGUAGES))
        )
        return {}
    for language in values.keys() - set(LANGUAGES):
        problems.append(
            Problem(path, lines.of(language, name), f"[{name}] has the unknown language {language!r}", f"languages are {', '.join(LANGUAGES)}")
        )
    for language in LANGUAGES:
        value = values.get(language)
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(path, lines.of(name), f"[{name}] has no {language} text", f'add {language} = "..." to [{name}]'))
        elif limit is not None and len(value) > limit:
            problems.append(
                Problem(path, lines.of(language, name), f"{name} {language} is {len(value)} characters long", f"shorten it to {limit}")
            )
    return {language: values[language] for language in LANGUAGES if isinstance(values.get(language), str)}


def _rhythm(path: Path, lines: KeyLines, table: Any, problems: list[Problem]) -> Rhythm:
    fix = 'write [rhythm] with every_days = 2, or with weekdays = ["tue", "fri"]'
    if not isinstance(table, dict) or len({"every_days", "weekdays"} & table.keys()) != 1:
        problems.append(Problem(path, lines.of("[rhythm]"), "[rhythm] must say either every_days or weekdays", fix))
        return Rhythm()
    if "every_days" in table:
        days = table["every_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 30:
            problems.append(Problem(path, lines.of("every_days"), f"every_days = {days!r} is not a number of days from 1 to 30", fix))
            return Rhythm()
        return Rhythm(every_days=days)
    days = table["weekdays"]
    if not isinstance(days, list) or not days or any(day not in WEEKDAYS for day in days):
        problems.append(Problem(path, lines.of("weekdays"), f"weekdays = {days!r} is not a list of weekdays", "use mon, tue, wed, thu, fri, sat, sun"))
        return Rhythm()
    return Rhythm(weekdays=tuple(sorted({Weekday(day) for day in days}, key=WEEKDAYS.index)))


def _lessons(folder: Path, problems: list[Problem]) -> dict[str, tuple[Lesson, ...]]:
    """Every language's lessons; the same lessons in every language, numbered 01, 02, ... without a gap."""
    files: dict[str, dict[str, Path]] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_dir() or path.name in {"videos", "files"}:
            continue
        if path.name not in LANGUAGES:
            problems.append(Problem(path, 1, f"{path.name!r} is not a language", f"lesson folders are named {', '.join(LANGUAGES)}"))
            continue
        files[path.name] = {lesson.stem: lesson for lesson in sorted(path.glob("*.md"))}
    for language in LANGUAGES:
        if language not in files:
            problems.append(
                Problem(folder / language, 1, f"the course has no {language} lessons", f"add the folder {language}/ with a Markdown file per lesson")
            )
    names = sorted({name for lessons in files.values() for name in lessons})
    for name in names:
        having = [language for language in LANGUAGES if name in files.get(language, {})]
        for language in set(files) - set(having):
            problems.append(
                Problem(
                    files[having[0]][name],
                    1,
                    f"this lesson has no {language} version ({folder / language / (name + '.md')})",
                    "translate it, or remove it from every language",
                )
            )
    _check_numbering(folder, names, problems)
    return {language: tuple(_lesson(folder, path, problems) for path in lessons.values()) for language, lessons in files.items()}


def _check_numbering(folder: Path, names: list[str], problems: list[Problem]) -> None:
    for name in names:
        if not _LESSON_FILE.fullmatch(name + ".md"):
            problems.append(
                Problem(folder / LANGUAGES[0] / (name + ".md"), 1, f"{name}.md is not named NN-name.md", "name lessons like 01-morning-dressing.md")
            )
    numbers = sorted({int(name[:2]) for name in names if _LESSON_FILE.fullmatch(name + ".md")})
    for missing in sorted(set(range(1, (numbers[-1] if numbers else 0) + 1)) - set(numbers)):
        problems.append(
            Problem(
                folder,
                1,
                f"lesson {missing:02d} is missing: the lessons are numbered {', '.join(f'{n:02d}' for n in numbers)}",
                "add the lesson's file, or number the others without a gap",
            )
        )


def _lesson(folder: Path, path: Path, problems: list[Problem]) -> Lesson:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if not lines or lines[0].strip() != FENCE:
        problems.append(
            Problem(
                path,
                1,
                f"the lesson does not open with front matter ({FENCE} on the first line)",
                f'start it with {FENCE}, title = "...", task = "...", {FENCE}',
            )
        )
        return Lesson(path.stem, "", "", text)
    end = next((number for number in range(1, len(lines)) if lines[number].strip() == FENCE), None)
    if end is None:
        problems.append(Problem(path, 1, "the front matter is not closed", f"end it with a line {FENCE}"))
        return Lesson(path.stem, "", "", "")
    front = "\n".join(lines[1:end])
    table = _parse(path, front, 1, problems)
    body = "\n".join(lines[end + 1 :]).strip()
    if table is None:  # its line is told; what it would have said is not known
        return Lesson(path.stem, "", "", body)
    keys = KeyLines(front, offset=1)
    title = _text(path, keys, table, "title", TITLE_LIMIT, problems)
    task = _text(path, keys, table, "task", TASK_LIMIT, problems)
    if not body:
        problems.append(Problem(path, end + 1, "the lesson has no text after the front matter", "write the lesson below the closing +++"))
    elif len(body) > BODY_LIMIT:
        problems.append(Problem(path, end + 2, f"the lesson's text is {len(body)} characters long", f"shorten it to {BODY_LIMIT}"))
    video = table.get("video")
    if video is not None:
        _check_file(folder, path, keys.of("video"), "video", video, problems)
    attachments = table.get("attachments", [])
    if not isinstance(attachments, list):
        problems.append(Problem(path, keys.of("attachments"), "attachments is not a list", 'write attachments = ["files/plan.pdf"]'))
        attachments = []
    for attachment in attachments:
        _check_file(folder, path, keys.of("attachments"), "attachment", attachment, problems)
    reviewed = table.get("reviewed", False)
    return Lesson(path.stem, title, task, body, video if isinstance(video, str) else None, tuple(map(str, attachments)), reviewed is True)


def _text(path: Path, keys: KeyLines, table: dict[str, Any], name: str, limit: int, problems: list[Problem]) -> str:
    value = table.get(name)
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(path, keys.of(name), f"the front matter has no {name}", f'add {name} = "..." between the {FENCE} lines'))
        return ""
    if len(value) > limit:
        problems.append(Problem(path, keys.of(name), f"{name} is {len(value)} characters long", f"shorten it to {limit}"))
    return value


def _check_file(folder: Path, path: Path, line: int, what: str, value: Any, problems: list[Problem]) -> None:
    """A link, or a file in the course's folder that exists."""
    if isinstance(value, str) and _LINK.fullmatch(value):
        return
    if not isinstance(value, str) or not value or Path(value).is_absolute() or ".." in Path(value).parts:
        problems.append(
            Problem(
                path,
                line,
                f"the {what} {value!r} is neither a link nor a file in the course's folder",
                'write a link ("https://...") or a path like "videos/01.mp4"',
            )
        )
    elif not (folder / value).is_file():
        problems.append(Problem(path, line, f"the {what} file {value} is not in {folder}", "add the file, or correct the path"))


def _parse(path: Path, text: str, offset: int, problems: list[Problem]) -> dict[str, Any] | None:
    """The TOML `text`, which starts on line offset + 1 of `path`; None (and a problem) if it is not valid."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = toml_error_line(str(error))
        line = found + offset if found is not None else offset + 1
        what = without_location(str(error))
        problems.append(Problem(path, line, f"not valid TOML: {what}", 'correct the line (a text goes in quotes; a quote inside it as \\")'))
        return None
