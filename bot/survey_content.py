"""The surveys in CONTENT_DIR/surveys: one <id>.toml per survey, with its title per language, when it
is asked (`waves`: months after registration; `after`: occasions such as a closed consultation or a
finished course), how long an unanswered wave stays open, and its [[question]]s, each with its text
per language and its [[question.option]] buttons (an id, the value the answer counts as, a label per
language). A question may name a planned result: `target`, the % of answers of value 1 the centre
plans, counted `among` all families or only those of rural districts.

Every problem is told as `file:line: what is wrong — the fix`, like the courses' and the chats'."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content_problems import Problem, read_toml, texts_per_language

FOLDER = "surveys"
TITLE_LIMIT = 80
QUESTION_LIMIT = 300
LABEL_LIMIT = 40  # one button; VK cuts a label at 40 characters
OPTIONS_LIMIT = 5  # a row each, and one row for skip and "don't ask me": VK shows at most 6 rows
AMONG = ("all", "rural")
OCCASIONS = ("consultation", "course")
EXPIRE_DAYS = 14  # how long an unanswered wave stays open, unless the survey says otherwise
_ID = re.compile(r"[a-z][a-z0-9_]{0,15}")  # 16 at most: the wave table's columns, and a press's callback data within 64 bytes
_QUESTION_ROW = re.compile(r"^\s*\[\[question\]\]")
_OPTION_ROW = re.compile(r"^\s*\[\[question\.option\]\]")


@dataclass(frozen=True)
class Option:
    id: str
    value: float  # what the answer counts as: 1 yes, 0 no; 1..5 on a scale
    labels: dict[str, str]  # ru, ro, en

    def label(self, language: str) -> str:
        return self.labels[language]


@dataclass(frozen=True)
class Question:
    id: str  # [a-z][a-z0-9_]*
    texts: dict[str, str]
    options: tuple[Option, ...]
    target: int | None = None  # a planned result: the % of answers with value 1 the centre plans (100, 86, 72, 82)
    among: str = "all"  # "all" or "rural": whose answers the result counts (district kind, Content.rural_districts)

    def text(self, language: str) -> str:
        return self.texts[language]

    def option(self, option_id: str) -> Option | None:
        return next((option for option in self.options if option.id == option_id), None)


@dataclass(frozen=True)
class Survey:
    id: str  # "results", "quality"
    titles: dict[str, str]
    questions: tuple[Question, ...]
    waves: tuple[int, ...] = ()  # months after registration when it is asked: results (0, 6, 12)
    after: tuple[str, ...] = ()  # occasions after which it is asked: quality ("consultation", "course")
    expire_days: int = EXPIRE_DAYS

    def title(self, language: str) -> str:
        return self.titles[language]

    def question(self, question_id: str) -> Question | None:
        return next((question for question in self.questions if question.id == question_id), None)

    def after_question(self, question_id: str) -> Question | None:
        """The question that follows `question_id` (None after the last)."""
        ids = [question.id for question in self.questions]
        index = ids.index(question_id) + 1 if question_id in ids else len(ids)
        return self.questions[index] if index < len(ids) else None


def load_surveys(directory: Path) -> tuple[tuple[Survey, ...], list[Problem]]:
    """The surveys of CONTENT_DIR/surveys (none if there is no such folder), and the problems found."""
    folder = directory / FOLDER
    if not folder.is_dir():
        return (), []
    surveys: list[Survey] = []
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.toml")):
        survey = _survey(path, problems)
        if survey is not None:
            surveys.append(survey)
    occasions = [occasion for survey in surveys for occasion in survey.after]
    for occasion in sorted({occasion for occasion in occasions if occasions.count(occasion) > 1}):
        problems.append(Problem(folder, 1, f"more than one survey is asked after {occasion!r}", "name each occasion in one survey's after only"))
    return tuple(surveys), problems


class _Lines:
    """The lines of a survey file's [[question]] and [[question.option]] rows, in order."""

    def __init__(self, text: str) -> None:
        self.questions: list[int] = []
        self.options: list[list[int]] = []
        for number, line in enumerate(text.splitlines(), 1):
            if _QUESTION_ROW.match(line):
                self.questions.append(number)
                self.options.append([])
            elif _OPTION_ROW.match(line) and self.options:
                self.options[-1].append(number)

    def question(self, index: int) -> int:
        return self.questions[index] if index < len(self.questions) else 1

    def option(self, question: int, index: int) -> int:
        rows = self.options[question] if question < len(self.options) else []
        return rows[index] if index < len(rows) else self.question(question)


def _survey(path: Path, problems: list[Problem]) -> Survey | None:
    before = len(problems)
    table = read_toml(path)  # broken TOML: a ContentMistake at its line

    def problem(line: int, what: str, fix: str) -> None:
        problems.append(Problem(path, line, what, fix))

    lines = _Lines(path.read_text(encoding="utf-8"))
    if not _ID.fullmatch(path.stem):
        problem(1, f"the survey file's name {path.stem!r} is not an id", "name it with small Latin letters, digits and _, like results.toml")
    titles = texts_per_language(table.get("title"), "[title]", TITLE_LIMIT, lambda what, fix: problem(1, what, fix))
    waves = _numbers(table.get("waves", []), lambda what, fix: problem(1, what, fix))
    after = table.get("after", [])
    if not isinstance(after, list) or any(occasion not in OCCASIONS for occasion in after):
        problem(1, f"after = {after!r} names unknown occasions", f"list some of {', '.join(repr(name) for name in OCCASIONS)}")
        after = []
    if not waves and not after:
        problem(1, "the survey is never asked", "write waves = [0, 6, 12] (months after registration) or after = [\"consultation\"]")
    expire_days = table.get("expire_days", EXPIRE_DAYS)
    if isinstance(expire_days, bool) or not isinstance(expire_days, int) or not 1 <= expire_days <= 60:
        problem(1, f"expire_days = {expire_days!r} is not a number of days from 1 to 60", "write expire_days = 14")
    rows = table.get("question", [])
    questions = [_question(index, row, lines, problem) for index, row in enumerate(rows if isinstance(rows, list) else [])]
    if not questions:
        problem(1, "the survey has no questions", "add [[question]] rows with id, [question.text] and [[question.option]]s")
    ids = [question.id for question in questions if question is not None]
    for index, question_id in enumerate(ids):
        if question_id in ids[:index]:
            problem(lines.question(index), f"the question id {question_id!r} is used twice", "give each [[question]] its own id")
    if len(problems) > before:
        return None
    return Survey(path.stem, titles, tuple(question for question in questions if question is not None), tuple(waves), tuple(after), int(expire_days))


def _question(index: int, row: Any, lines: _Lines, problem: Any) -> Question | None:
    line = lines.question(index)
    if not isinstance(row, dict):
        problem(line, "a [[question]] is not a table", "write each question as [[question]] with its keys under it")
        return None
    question_id = row.get("id")
    if not isinstance(question_id, str) or not _ID.fullmatch(question_id):
        problem(line, f"id = {question_id!r} is not an id", 'write id = "informed" (small Latin letters, digits and _)')
    texts = texts_per_language(row.get("text"), "[question.text]", QUESTION_LIMIT, lambda what, fix: problem(line, what, fix))
    target = row.get("target")
    if target is not None and (isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= 100):
        problem(line, f"target = {target!r} is not a percentage", "write target = 86 (the % of families the centre plans to answer yes), or leave it out")
    among = row.get("among", "all")
    if among not in AMONG:
        problem(line, f"among = {among!r} is neither 'all' nor 'rural'", 'write among = "rural" to count only families of rural districts')
    rows = row.get("option", [])
    options = [_option(lines.option(index, number), option, problem) for number, option in enumerate(rows if isinstance(rows, list) else [])]
    if not 2 <= len(options) <= OPTIONS_LIMIT:
        problem(line, f"the question has {len(options)} options", f"give it 2 to {OPTIONS_LIMIT} [[question.option]] rows")
    option_ids = [option.id for option in options if option is not None]
    if len(set(option_ids)) != len(option_ids):
        problem(line, "two options have the same id", "give each [[question.option]] its own id")
    if target is not None and None not in options and not any(option is not None and option.value == 1 for option in options):
        problem(line, "the question has a target but no option of value 1", "give the 'yes' option value = 1")
    if None in options or not isinstance(question_id, str) or not texts:
        return None
    return Question(question_id, texts, tuple(option for option in options if option is not None), target, str(among))


def _option(line: int, row: Any, problem: Any) -> Option | None:
    if not isinstance(row, dict):
        problem(line, "a [[question.option]] is not a table", "write each option as [[question.option]] with id, value and [question.option.label]")
        return None
    option_id = row.get("id")
    value = row.get("value")
    before = [option_id, value]
    if not isinstance(option_id, str) or not _ID.fullmatch(option_id):
        problem(line, f"option id = {option_id!r} is not an id", 'write id = "yes" (small Latin letters, digits and _)')
    if isinstance(value, bool) or not isinstance(value, int | float):
        problem(line, f"option value = {value!r} is not a number", "write value = 1 for yes, 0 for no, 1 to 5 on a scale")
    labels = texts_per_language(row.get("label"), "[question.option.label]", LABEL_LIMIT, lambda what, fix: problem(line, what, fix))
    if not labels or before != [option_id, value] or not isinstance(option_id, str) or not _ID.fullmatch(option_id):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Option(option_id, float(value), labels)


def _numbers(values: Any, problem: Any) -> list[int]:
    if not isinstance(values, list) or any(isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 60 for value in values):
        problem(f"waves = {values!r} is not a list of months", "write waves = [0, 6, 12] (months after registration)")
        return []
    if sorted(set(values)) != values:
        problem(f"waves = {values!r} is not in order", "list each month once, smallest first")
        return []
    return list(values)
