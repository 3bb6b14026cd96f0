"""The consultations' content in CONTENT_DIR/consultations: the specialties with their working hours
and target times, the FAQ and the specialists' ready answers, in every language.

Loaded and checked once at start: a mistake is one ConfigError line naming the file, what is wrong
and, after the dash, the fix, so the centre's staff can correct a file they edited themselves."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from bot.choices import Choice
from bot.config import LANGUAGES, ConfigError
from bot.content_problems import ContentMistake, read_toml
from bot.hours import DAYS_IN_WEEK, MIDNIGHT, Period, WorkingHours, check_day

FOLDER = "consultations"
LABEL_LIMIT = 40  # VK cuts button labels at 40 characters
ANSWER_LIMIT = 1500
CANNED_TEXT_LIMIT = 1000
ANY_SPECIALTY = ""  # a ready answer for every specialty
_ID = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_PERIOD = re.compile(r"(\d{1,2}):(\d\d)-(\d{1,2}):(\d\d)")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


WEEKDAYS = tuple(Weekday)  # in the order of date.weekday()


class Table(StrEnum):
    """The array of tables each file lists its rows in."""

    specialty = "item"
    faq = "entry"
    canned = "answer"


@dataclass(frozen=True)
class Specialty(Choice):
    hours: WorkingHours
    target: timedelta  # the working time a parent should wait for a first answer


@dataclass(frozen=True)
class FaqEntry:
    id: str
    specialty: str
    question: str
    answer: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class CannedAnswer:
    id: str
    specialty: str  # ANY_SPECIALTY for every specialty
    title: str
    text: str


Row = TypeVar("Row", FaqEntry, CannedAnswer)


@contextmanager
def _one_line() -> Iterator[None]:
    try:
        yield
    except ContentMistake as error:
        raise ConfigError(f"config error: CONTENT_DIR: {error}".replace("\n", " ")) from None


# The specialties


def load_specialties(directory: Path, zone: tzinfo) -> tuple[Specialty, ...]:
    path = directory / FOLDER / "specialties.toml"
    with _one_line():
        table = _read(path)
        target = _minutes(path, "target_minutes", table.get("target_minutes"))
        holidays = _holidays(path, table.get("holidays", []))
        week = _week(path, "[hours]", table.get("hours", {}), ((),) * DAYS_IN_WEEK)
        specialties = tuple(_specialty(path, row, WorkingHours(week, holidays, zone), target) for row in _rows(path, table, Table.specialty))
        if not specialties:
            raise ContentMistake(path, "no specialties", "add at least one [[item]] with an id and its labels")
        _check_unique(path, Table.specialty, [specialty.id for specialty in specialties])
        return specialties


def _specialty(path: Path, row: dict[str, Any], centre: WorkingHours, target: timedelta) -> Specialty:
    specialty_id = _id(path, Table.specialty, row)
    where = f"item {specialty_id}"
    labels = {language: _text(path, where, row, language, LABEL_LIMIT) for language in LANGUAGES}
    hours = WorkingHours(_week(path, f"[item.hours] of {specialty_id}", row.get("hours", {}), centre.week), centre.holidays, centre.zone)
    own_target = _minutes(path, f"{where}: target_minutes", row["target_minutes"]) if "target_minutes" in row else target
    return Specialty(specialty_id, labels, hours, own_target)


def _minutes(path: Path, where: str, value: Any) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ContentMistake(path, f"{where} = {value!r} is not a positive whole number of minutes", "write it like target_minutes = 240")
    return timedelta(minutes=value)


def _holidays(path: Path, values: Any) -> frozenset[date]:
    if not isinstance(values, list):
        raise ContentMistake(path, "holidays is not a list", 'write it like holidays = ["2027-01-01", "2027-01-07"]')
    return frozenset(_date(path, value) for value in values)


def _date(path: Path, value: Any) -> date:
    try:
        if isinstance(value, str) and _DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ContentMistake(path, f"holidays: {value!r} is not a date", 'write it as "YYYY-MM-DD", like "2027-01-01"')


def _week(path: Path, where: str, table: Any, base: tuple[tuple[Period, ...], ...]) -> tuple[tuple[Period, ...], ...]:
    """`base` with the days `table` names replaced by the periods written there."""
    if not isinstance(table, dict):
        raise ContentMistake(path, f"{where} is not a table", 'write it like [hours] with one line per day, mon = ["09:00-13:00", "14:00-18:00"]')
    week = list(base)
    for day, periods in table.items():
        if day not in WEEKDAYS:
            raise ContentMistake(path, f"{where}: {day!r} is not a weekday", f"name the days {', '.join(WEEKDAYS)}")
        week[WEEKDAYS.index(Weekday(day))] = _day(path, f"{where} {day}", periods)
    return tuple(week)


def _day(path: Path, where: str, values: Any) -> tuple[Period, ...]:
    if not isinstance(values, list):
        raise ContentMistake(path, f"{where} is not a list of periods", 'write it like ["09:00-13:00", "14:00-18:00"], or [] for a closed day')
    periods = tuple(sorted(_period(path, where, value) for value in values))
    try:
        check_day(periods)
    except ValueError as error:
        raise ContentMistake(path, f"{where}: {error}", "make each period end after it starts and before the next one starts") from None
    return periods


def _period(path: Path, where: str, value: Any) -> Period:
    match = _PERIOD.fullmatch(value) if isinstance(value, str) else None
    try:
        if match:
            start_hour, start_minute, end_hour, end_minute = map(int, match.groups())
            end = MIDNIGHT if (end_hour, end_minute) == (24, 0) else time(end_hour, end_minute)
            return time(start_hour, start_minute), end
    except ValueError:
        pass
    raise ContentMistake(path, f"{where}: {value!r} is not a period", 'write it as "HH:MM-HH:MM", like "09:00-13:00" ("18:00-24:00" runs to midnight)')


# The FAQ and the ready answers: one file per language, the same ids in each


def load_faq(directory: Path, specialties: Iterable[Choice]) -> dict[str, tuple[FaqEntry, ...]]:
    """language -> its FAQ entries."""
    known = {specialty.id for specialty in specialties}
    with _one_line():
        return _translated(directory / FOLDER / "faq", Table.faq, lambda path, row: _faq_entry(path, row, known))


def load_canned(directory: Path, specialties: Iterable[Choice]) -> dict[str, tuple[CannedAnswer, ...]]:
    """language -> the specialists' ready answers."""
    known = {specialty.id for specialty in specialties} | {ANY_SPECIALTY}
    with _one_line():
        return _translated(directory / FOLDER / "canned", Table.canned, lambda path, row: _canned(path, row, known))


def _translated(folder: Path, table: Table, parse: Callable[[Path, dict[str, Any]], Row]) -> dict[str, tuple[Row, ...]]:
    files = {language: folder / f"{language}.toml" for language in LANGUAGES}
    rows = {language: tuple(parse(path, row) for row in _rows(path, _read(path), table)) for language, path in files.items()}
    for language, path in files.items():
        _check_unique(path, table, [row.id for row in rows[language]])
    _check_same_ids(files, table, {language: {row.id: row.specialty for row in found} for language, found in rows.items()})
    return rows


def _faq_entry(path: Path, row: dict[str, Any], known: set[str]) -> FaqEntry:
    entry_id = _id(path, Table.faq, row)
    where = f"entry {entry_id}"
    keywords = row.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(word, str) for word in keywords):
        raise ContentMistake(path, f"{where}: keywords is not a list of words", 'write it like keywords = ["word", "another"]')
    question, answer = _text(path, where, row, "question"), _text(path, where, row, "answer", ANSWER_LIMIT)
    return FaqEntry(entry_id, _specialty_of(path, where, row, known), question, answer, tuple(keywords))


def _canned(path: Path, row: dict[str, Any], known: set[str]) -> CannedAnswer:
    answer_id = _id(path, Table.canned, row)
    where = f"answer {answer_id}"
    return CannedAnswer(
        answer_id, _specialty_of(path, where, row, known), _text(path, where, row, "title", LABEL_LIMIT), _text(path, where, row, "text", CANNED_TEXT_LIMIT)
    )


def _specialty_of(path: Path, where: str, row: dict[str, Any], known: set[str]) -> str:
    specialty = row.get("specialty")
    if specialty not in known:
        choices = ", ".join(f'"{name}"' for name in sorted(known))
        raise ContentMistake(path, f"{where}: specialty {specialty!r} is not in specialties.toml", f"write one of {choices}")
    return str(specialty)


def _check_same_ids(files: dict[str, Path], table: Table, ids: dict[str, dict[str, str]]) -> None:
    """An id most languages have is missing from the others; one most lack is extra where it is;
    an id is of the same specialty in every language."""
    for row_id in sorted(set().union(*ids.values())):
        having = [language for language in LANGUAGES if row_id in ids[language]]
        lacking = [language for language in LANGUAGES if row_id not in ids[language]]
        if lacking and len(having) >= len(lacking):
            raise ContentMistake(files[lacking[0]], f"{table} {row_id}: missing", f"translate it from {files[having[0]].name}, with the same id")
        if lacking:
            raise ContentMistake(files[having[0]], f"{table} {row_id}: not in {files[lacking[0]].name}", "add it there too with the same id, or remove it")
        specialties = [ids[language][row_id] for language in LANGUAGES]
        usual = max(specialties, key=specialties.count)
        for language, specialty in zip(LANGUAGES, specialties, strict=True):
            if specialty != usual:
                what = f"{table} {row_id}: specialty {specialty!r} differs from the other languages' {usual!r}"
                raise ContentMistake(files[language], what, "use the same one in every language")


# Reading the files


def _read(path: Path) -> dict[str, Any]:
    try:
        return read_toml(path)
    except OSError as error:
        raise ContentMistake(path, f"cannot be read ({error.strerror})", "restore it from the project's content/ folder") from None


def _rows(path: Path, table: dict[str, Any], name: Table) -> list[dict[str, Any]]:
    rows = table.get(name, [])
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ContentMistake(path, f"{name} is not a list of tables", f"write each one under its own [[{name}]] line")
    return rows


def _id(path: Path, table: Table, row: dict[str, Any]) -> str:
    value = row.get("id")
    if not isinstance(value, str) or not _ID.fullmatch(value):
        what = f"a [[{table}]] without an id" if value is None else f"[[{table}]] id {value!r} is not a plain id"
        raise ContentMistake(path, what, 'give it an id of small Latin letters, digits and "-", like id = "speech-first-words"')
    return value


def _text(path: Path, where: str, row: dict[str, Any], key: str, limit: int | None = None) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ContentMistake(path, f"{where}: no {key}", f'add {key} = "..."')
    value = value.strip()
    if limit is not None and len(value) > limit:
        raise ContentMistake(path, f"{where}: {key} has {len(value)} characters, more than {limit}", "shorten it")
    return value


def _check_unique(path: Path, table: Table, ids: list[str]) -> None:
    repeated = sorted({row_id for row_id in ids if ids.count(row_id) > 1})
    if repeated:
        raise ContentMistake(path, f"[[{table}]] id {repeated[0]!r} is used twice", "give each one its own id")
