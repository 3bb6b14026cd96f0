"""Texts, consent versions, choice lists and the consultations' content (bot.consultation_content) from CONTENT_DIR, loaded and checked once at start."""

from __future__ import annotations

import hashlib
import html
import string
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_decimal

from bot.chat_content import ThemedChat, load_chats
from bot.choices import Choice, District, load_choices, load_districts
from bot.config import LANGUAGES, ConfigError
from bot.consultation_content import ANY_SPECIALTY, CannedAnswer, Specialty, load_canned, load_faq, load_specialties
from bot.content_problems import ContentMistake, key_line, read_toml
from bot.course_content import Course, load_courses
from bot.services.faq import FaqIndex
from bot.survey_content import Survey, load_surveys

PLURALS = "plural"  # the locale section of counted phrases, e.g. minutes = { one = "{n} minute", other = "{n} minutes" }
IDENTIFIERS = frozenset({"id"})  # whole numbers that name a thing, not count it: "#12345", never "#12,345"


@dataclass(frozen=True)
class ConsentText:
    version: str
    language: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


class Texts:
    """The texts of one language, for readers in one time zone: texts("menu.title", roles=...).

    Values are HTML-escaped. A whole number is written the language's way (ru 3 000, ro 3.000,
    en 3,000), an identifier ({id}) as its digits. "{count:minutes}" in a text writes the number in
    the form of the phrase plural.minutes that CLDR's plural rules choose for it in this language
    (ro: 1 minut, 2 minute, 20 de minute), so a text with two counts words each of them right."""

    def __init__(self, language: str, strings: dict[str, str], plurals: dict[str, dict[str, str]] | None = None, zone: tzinfo = UTC) -> None:
        self.language = language
        self.zone = zone
        self._strings = strings
        self._plurals = plurals or {}
        self._locale = Locale.parse(language)

    def __call__(self, key: str, **values: Any) -> str:
        return self._strings[key].format(**{name: self._shown(name, value) for name, value in values.items()})

    def keys(self) -> frozenset[str]:
        """Every key of the locale: the texts and the plural phrases (plural.minutes)."""
        return frozenset(self._strings) | {f"{PLURALS}.{name}" for name in self._plurals}

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self._locale)

    def counted(self, count: int, phrase: str) -> str:
        """The count with its plural phrase: counted(20, "minutes") is "20 de minute" in Romanian."""
        form = self._plurals[phrase][self._locale.plural_form(count)]
        return form.format(n=self.number(count))

    def date_time(self, moment: datetime) -> str:
        """A moment as the reader reads it: in their zone and language (ro: 11 decembrie 2026, 15:05)."""
        local = self._local(moment)
        pattern = str(get_datetime_format("medium", locale=self._locale)).replace("'", "")  # "{1}, {0}": the date, then the time
        return pattern.format(format_time(local, "short", locale=self._locale), format_date(local, "long", locale=self._locale))

    def date(self, moment: datetime) -> str:
        """The day of a moment in the reader's zone and language (11 decembrie 2026)."""
        return format_date(self._local(moment), "long", locale=self._locale)

    def time(self, moment: datetime) -> str:
        """The time of day of a moment in the reader's zone and language (18:00)."""
        return format_time(self._local(moment), "short", locale=self._locale)

    def in_zone(self, zone: tzinfo) -> Texts:
        """The same texts for a reader in another zone (a family's own, once they can choose it)."""
        return Texts(self.language, self._strings, self._plurals, zone)

    def _local(self, moment: datetime) -> datetime:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the database keeps UTC
        return aware.astimezone(self.zone)

    def _shown(self, name: str, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and name not in IDENTIFIERS:
            return _Count(value, self)
        return html.escape(str(value), quote=False)


@dataclass(frozen=True)
class _Count:
    """A whole number in a text: {count} writes it, {count:minutes} writes it with its plural phrase."""

    value: int
    texts: Texts

    def __format__(self, phrase: str) -> str:
        return self.texts.counted(self.value, phrase) if phrase else self.texts.number(self.value)



class HasId(Protocol):
    @property
    def id(self) -> str: ...


Identified = TypeVar("Identified", bound=HasId)


@dataclass(frozen=True)
class Content:
    texts: dict[str, Texts]
    consent: dict[str, dict[str, ConsentText]]
    districts: tuple[District, ...]
    age_groups: tuple[Choice, ...]
    specialties: tuple[Specialty, ...]
    faq: FaqIndex
    canned: dict[str, tuple[CannedAnswer, ...]]  # language -> the specialists' ready answers
    courses: tuple[Course, ...] = ()
    chats: tuple[ThemedChat, ...] = ()
    surveys: tuple[Survey, ...] = ()

    @property
    def consent_version(self) -> str:
        return max(self.consent, key=lambda version: int(version.lstrip("v")))

    @property
    def rural_districts(self) -> frozenset[str]:
        """The ids of the rural districts; a person's district outside them ("other", none) is not known to be rural."""
        return frozenset(district.id for district in self.districts if district.rural)

    def consent_text(self, language: str) -> ConsentText:
        return self.consent[self.consent_version][language]

    def specialty(self, specialty_id: str | None) -> Specialty | None:
        return next((specialty for specialty in self.specialties if specialty.id == specialty_id), None)

    def canned_for(self, specialty: str, language: str) -> tuple[CannedAnswer, ...]:
        """The ready answers a specialist of `specialty` can send: their specialty's own first, then the general ones."""
        answers = self.canned.get(language, ())
        own = tuple(answer for answer in answers if answer.specialty == specialty != ANY_SPECIALTY)
        return own + tuple(answer for answer in answers if answer.specialty == ANY_SPECIALTY)

    def survey(self, survey_id: str | None) -> Survey | None:
        return self.find(self.surveys, survey_id)

    @staticmethod
    def find(choices: Iterable[Identified], choice_id: str | None) -> Identified | None:
        """The item of a list of content (choices, specialties, courses, chats) with this id."""
        return next((choice for choice in choices if choice.id == choice_id), None)


def load_content(directory: Path, timezone: str = "UTC") -> Content:
    """The content of `directory`, its dates shown in `timezone` (the centre's); every problem in it
    is one line of the ConfigError (python -m bot content check lists the same)."""
    if not directory.is_dir():
        raise ConfigError(f"{CONTENT_ERROR}cannot load content from {directory}: there is no such folder — point CONTENT_DIR at the project's content/ folder")
    parts = _Parts(directory)
    zone = parts.take(lambda: ZoneInfo(timezone))
    locales = parts.take(lambda: {language: _locale_file(directory / "locales" / f"{language}.toml") for language in LANGUAGES})
    if locales is not None:
        parts.take(lambda: check_locales(locales))
    consent = parts.take(lambda: _consent_versions(directory / "consent"))
    districts = parts.take(lambda: load_districts(directory / "districts.toml"))
    age_groups = parts.take(lambda: load_choices(directory / "age_groups.toml"))
    specialties = parts.take(lambda: load_specialties(directory, zone)) if zone is not None else None
    faq = canned = None
    courses: tuple[Course, ...] = ()
    if specialties is not None:
        faq = parts.take(lambda: FaqIndex.build(load_faq(directory, specialties)))
        canned = parts.take(lambda: load_canned(directory, specialties))
        if age_groups is not None:
            courses, problems = load_courses(directory, frozenset(specialty.id for specialty in specialties), frozenset(group.id for group in age_groups))
            parts.problems += map(str, problems)
    chats: tuple[ThemedChat, ...] = ()
    if age_groups is not None:
        found = parts.take(lambda: load_chats(directory, frozenset(group.id for group in age_groups)))
        if found is not None:
            chats, problems = found
            parts.problems += map(str, problems)
    surveys: tuple[Survey, ...] = ()
    found_surveys = parts.take(lambda: load_surveys(directory))
    if found_surveys is not None:
        surveys, problems = found_surveys
        parts.problems += map(str, problems)
    if parts.problems:
        raise ConfigError(problems_message(parts.problems))
    assert zone is not None and locales is not None and consent is not None and districts is not None and age_groups is not None
    assert specialties is not None and faq is not None and canned is not None
    return Content(
        texts={language: Texts(language, file.strings, file.plurals, zone) for language, file in locales.items()},
        consent=consent,
        districts=districts,
        age_groups=age_groups,
        specialties=specialties,
        faq=faq,
        canned=canned,
        courses=courses,
        chats=chats,
        surveys=surveys,
    )


T = TypeVar("T")


class _Parts:
    """Loads the content a part at a time, so a mistake in one part does not hide another's."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[str] = []

    def take(self, load: Callable[[], T]) -> T | None:
        try:
            return load()
        except ConfigError as error:
            self.problems += str(error).removeprefix(CONTENT_ERROR).splitlines()
        except (LocaleMistake, ContentMistake) as error:
            self.problems.append(str(error))
        except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError) as error:
            self.problems.append(f"cannot load content from {self.directory}: {error} — point CONTENT_DIR at the project's content/ folder")
        return None


CONTENT_ERROR = "config error: CONTENT_DIR: "


def check_content(directory: Path, timezone: str) -> int:
    """`python -m bot content check`: 0 and a summary if the content is valid, else 1 and its problems, one a line."""
    try:
        content = load_content(directory, timezone)
    except ConfigError as error:
        lines = str(error).removeprefix(CONTENT_ERROR).splitlines()
        print("\n".join(lines if len(lines) > 1 else [_heading(1), *lines]))
        return 1
    lessons = [lesson for course in content.courses for language in course.lessons.values() for lesson in language]
    unreviewed = sum(not lesson.reviewed for lesson in lessons)
    waiting = sum(not chat.connected for chat in content.chats)
    print(
        f"{directory}: valid — {len(content.courses)} courses, {len(lessons)} lesson files ({unreviewed} not yet reviewed by the centre's specialists);"
        f" {len(content.chats)} parent chats ({waiting} without a chat_id yet: parents do not see them);"
        f" {len(content.surveys)} surveys"
    )
    return 0


def problems_message(problems: list[str]) -> str:
    """The content's problems as the bot refuses to start with them: one line, or one a line under a heading."""
    if len(problems) == 1:
        return CONTENT_ERROR + problems[0]
    return "\n".join([CONTENT_ERROR + _heading(len(problems)), *problems])


def _heading(count: int) -> str:
    return f"{count} problem{'' if count == 1 else 's'} in the content (python -m bot content check lists them):"


# Checking the locales: a mistake is one line naming the file and the key, the fix after the dash.


class LocaleMistake(ValueError):
    """Raised as "<file>: <key>: what — fix", told as "<file>:<line>: <key>: what — fix"."""

    def __init__(self, message: str) -> None:
        path, key, rest = [*message.split(": ", 2), "", ""][:3]
        super().__init__(f"{path}:{key_line(Path(path), key)}: {key}: {rest}" if rest else message)


@dataclass(frozen=True)
class LocaleFile:
    path: Path
    language: str
    strings: dict[str, str]
    plurals: dict[str, dict[str, str]]

    @property
    def keys(self) -> set[str]:
        return set(self.strings) | {f"{PLURALS}.{name}" for name in self.plurals}


def _locale_file(path: Path) -> LocaleFile:
    table = read_toml(path)
    plurals = table.pop(PLURALS, {})
    if not isinstance(plurals, dict):
        raise LocaleMistake(f"{path}: {PLURALS}: is not a section — write [{PLURALS}] with one table of forms per phrase")
    return LocaleFile(path, path.stem, _flatten(table), plurals)


def plural_categories(language: str) -> frozenset[str]:
    """The CLDR plural categories a language's counted phrase needs, "other" included (Babel leaves it implicit)."""
    return Locale.parse(language).plural_form.tags | {"other"}


def check_locales(locales: dict[str, LocaleFile]) -> None:
    """Each plural phrase has the language's forms, each {count:phrase} names one, and every
    language has the same keys with the same placeholders."""
    files = list(locales.values())
    for file in files:
        _check_plurals(file)
        for key, template in file.strings.items():
            for name, phrase in _fields(file, key, template):
                if phrase and phrase not in file.plurals:
                    raise LocaleMistake(
                        f"{file.path}: {key}: {{{name}:{phrase}}} names no phrase {PLURALS}.{phrase} — add it to [{PLURALS}], or write {{{name}}}"
                    )
    _check_same_keys(files)
    _check_same_placeholders(files)


def _check_plurals(file: LocaleFile) -> None:
    needed = plural_categories(file.language)
    for name, forms in file.plurals.items():
        key = f"{PLURALS}.{name}"
        if not isinstance(forms, dict) or not all(isinstance(form, str) for form in forms.values()):
            raise LocaleMistake(f'{file.path}: {key}: is not a table of forms — write it like {name} = {{ one = "{{n}} ...", other = "{{n}} ..." }}')
        if set(forms) != needed:
            raise LocaleMistake(
                f"{file.path}: {key}: has the forms {', '.join(sorted(forms))} — "
                f"{file.language} needs exactly {', '.join(sorted(needed))} (CLDR plural categories)"
            )
        for category, form in forms.items():
            if any(field != ("n", "") for field in _fields(file, f"{key}.{category}", form)):
                raise LocaleMistake(f"{file.path}: {key}.{category}: a plural form has one placeholder, {{n}} (the number) — remove the others")


def _check_same_keys(files: list[LocaleFile]) -> None:
    """A key most languages have is missing from the others; one most lack is extra where it is."""
    for key in sorted(set().union(*(file.keys for file in files))):
        having = [file for file in files if key in file.keys]
        lacking = [file for file in files if key not in file.keys]
        if lacking and len(having) >= len(lacking):
            raise LocaleMistake(f"{lacking[0].path}: {key}: missing — translate it from {having[0].path.name}")
        if lacking:
            raise LocaleMistake(f"{having[0].path}: {key}: not in {lacking[0].path.name} — add it there too, or remove it")


def _check_same_placeholders(files: list[LocaleFile]) -> None:
    """The language whose placeholders differ from the most common ones is named."""
    for key in sorted(files[0].strings):
        names = [_names(file, key, file.strings[key]) for file in files]
        usual = max(names, key=names.count)
        for file, found in zip(files, names, strict=True):
            if found != usual:
                raise LocaleMistake(
                    f"{file.path}: {key}: placeholders {{{', '.join(sorted(found))}}} differ from the other languages' "
                    f"{{{', '.join(sorted(usual))}}} — use the same names in every language"
                )


def _names(file: LocaleFile, key: str, template: str) -> set[str]:
    return {name for name, _ in _fields(file, key, template)}


def _fields(file: LocaleFile, key: str, template: str) -> list[tuple[str, str]]:
    """(placeholder, plural phrase or "") of each {placeholder} in a template."""
    try:
        fields = [(name, spec or "") for _, name, spec, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as error:
        raise LocaleMistake(f"{file.path}: {key}: {error} — write a brace that is not a placeholder twice, {{{{ or }}}}") from None
    if any(not name.isidentifier() for name, _ in fields):
        raise LocaleMistake(f"{file.path}: {key}: a placeholder without a plain name — name each one, like {{count}}")
    return fields


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def _consent_versions(directory: Path) -> dict[str, dict[str, ConsentText]]:
    versions = {
        folder.name: {language: ConsentText(folder.name, language, (folder / f"{language}.txt").read_text(encoding="utf-8").strip()) for language in LANGUAGES}
        for folder in directory.iterdir()
        if folder.is_dir() and folder.name.startswith("v")
    }
    if not versions:
        raise ValueError(f"no consent versions (v1, v2, ...) in {directory}")
    return versions
