"""The consultations' content: the shipped files load, every entry exists in every language, labels
fit a button, and each mistake a centre can make in them is one config error line naming the file."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.config import LANGUAGES, PROJECT_ROOT, ConfigError
from bot.consultation_content import ANY_SPECIALTY, Specialty, load_canned, load_faq
from bot.content import Choice, Content, load_content
from tests.helpers import CONTENT

CONTENT_DIR = PROJECT_ROOT / "content"
SPECIALTIES = ("speech", "defectologist", "psychologist", "pe", "music", "labour", "social", "lawyer")
FAQ = load_faq(CONTENT_DIR, CONTENT.specialties)
CANNED = load_canned(CONTENT_DIR, CONTENT.specialties)


def test_the_specialties_load_from_their_new_place():
    assert [specialty.id for specialty in CONTENT.specialties] == list(SPECIALTIES)
    assert not (CONTENT_DIR / "specialties.toml").exists()
    assert all(isinstance(specialty, Specialty) and isinstance(specialty, Choice) for specialty in CONTENT.specialties)
    labour = CONTENT.specialty("labour")
    assert labour is not None and labour.label("ru") == "Инструктор по труду" and Content.find(CONTENT.specialties, "labour") is labour
    assert CONTENT.specialty("astrology") is None and CONTENT.specialty(None) is None


def test_each_specialty_has_its_hours_and_target():
    moscow = load_content(CONTENT_DIR, "Europe/Moscow")
    speech, psychologist, lawyer = (moscow.specialty(name) for name in ("speech", "psychologist", "lawyer"))
    assert speech.target == timedelta(minutes=240) and psychologist.target < speech.target
    tuesday_evening = datetime(2027, 3, 2, 16, 30, tzinfo=UTC)  # 19:30 in Moscow
    assert psychologist.hours.is_open(tuesday_evening) and not speech.hours.is_open(tuesday_evening)
    thursday_noon = datetime(2027, 3, 4, 8, 0, tzinfo=UTC)
    assert speech.hours.is_open(thursday_noon) and not lawyer.hours.is_open(thursday_noon)  # the lawyer comes Monday, Wednesday, Friday
    assert speech.hours.week[2] == ((time(9), time(13)), (time(14), time(18)))
    new_year = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday of the New Year holidays
    assert not any(specialty.hours.is_open(new_year) for specialty in moscow.specialties)
    assert date(2027, 11, 4) in speech.hours.holidays
    friday_evening = datetime(2027, 3, 5, 14, 0, tzinfo=UTC)  # 17:00: one working hour left, then the weekend and the 8 March holiday
    assert speech.hours.add(friday_evening, speech.target) == datetime(2027, 3, 9, 9, 0, tzinfo=UTC)


def test_labels_and_titles_fit_a_vk_button():
    labels = [specialty.label(language) for specialty in CONTENT.specialties for language in LANGUAGES]
    labels += [answer.title for answers in CANNED.values() for answer in answers]
    assert [label for label in labels if len(label) > 40] == []


@pytest.mark.parametrize("rows", [FAQ, CANNED], ids=["faq", "canned"])
def test_every_id_exists_in_every_language_with_the_same_specialty(rows):
    by_language = {language: {row.id: row.specialty for row in rows[language]} for language in LANGUAGES}
    assert set(by_language) == set(LANGUAGES)
    assert by_language["ru"] == by_language["ro"] == by_language["en"]


def test_every_specialty_has_faq_entries_and_ready_answers():
    for language in LANGUAGES:
        for specialty in SPECIALTIES:
            assert 3 <= sum(entry.specialty == specialty for entry in FAQ[language]) <= 4, (language, specialty)
            assert 1 <= sum(answer.specialty == specialty for answer in CANNED[language]) <= 2, (language, specialty)
        assert sum(answer.specialty == ANY_SPECIALTY for answer in CANNED[language]) >= 6


def test_texts_are_plain_and_short_enough():
    markup = re.compile(r"<[a-z/]|\*\*|__|\[[^\]]*\]\(")
    for language in LANGUAGES:
        for entry in FAQ[language]:
            assert len(entry.answer) <= 1500 and not markup.search(entry.answer), entry.id
        for answer in CANNED[language]:
            assert len(answer.text) <= 1000 and not markup.search(answer.text), answer.id


def test_the_faq_is_matched_from_the_content():
    assert CONTENT.faq.match("сын не говорит в 3 года", "speech", "ru")[0].id == "speech-first-words"


def test_a_specialists_ready_answers_are_their_own_then_the_general_ones():
    answers = CONTENT.canned_for("speech", "ru")
    specialties = [answer.specialty for answer in answers]
    assert specialties == ["speech"] * specialties.count("speech") + [ANY_SPECIALTY] * specialties.count(ANY_SPECIALTY)
    assert specialties.count("speech") == 2 and "psychologist" not in specialties
    assert answers[0].text.startswith("Запишите")
    assert [answer.specialty for answer in CONTENT.canned_for(ANY_SPECIALTY, "en")] == [ANY_SPECIALTY] * 7
    assert CONTENT.canned_for("speech", "de") == ()


# A mistake in a centre's edit: one line naming the file and what is wrong, the fix after the dash


def broken(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = shutil.copytree(CONTENT_DIR, tmp_path / "content")
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def without_entry(text: str, table: str, entry_id: str) -> tuple[str, str]:
    """(old, new) that remove one [[table]] block from a file's text."""
    block = re.search(rf'\[\[{table}\]\]\nid = "{entry_id}"\n.*?(?=\[\[{table}\]\]|\Z)', text, re.DOTALL)
    assert block is not None
    return block[0], ""


SPECIALTIES_FILE = "consultations/specialties.toml"
LONG = "x" * 41


def faq_file(language: str) -> str:
    return f"consultations/faq/{language}.toml"


def canned_file(language: str) -> str:
    return f"consultations/canned/{language}.toml"


def read(file: str) -> str:
    return (CONTENT_DIR / file).read_text(encoding="utf-8")


CASES = [
    # the specialties: hours, holidays, labels, targets
    (SPECIALTIES_FILE, 'mon = ["09:00-13:00"', 'mon = ["9-13"', "[hours] mon: '9-13' is not a period"),
    (SPECIALTIES_FILE, 'tue = ["09:00-13:00", "14:00-18:00"]', 'tue = ["09:00-13:00", "25:00-26:00"]', "[hours] tue: '25:00-26:00' is not a period"),
    (SPECIALTIES_FILE, 'wed = ["09:00-13:00", "14:00-18:00"]', 'wed = ["09:00-13:00", "12:00-18:00"]', "[hours] wed: 12:00-18:00 overlaps"),
    (SPECIALTIES_FILE, 'thu = ["09:00-13:00", "14:00-18:00"]', 'thu = ["18:00-14:00"]', "[hours] thu: 18:00-14:00 ends before it starts"),
    (SPECIALTIES_FILE, "sat = []", "saturday = []", "[hours]: 'saturday' is not a weekday"),
    (SPECIALTIES_FILE, '"14:00-18:00", "18:00-20:00"]', '"14:00-19:00", "18:00-20:00"]', "[item.hours] of psychologist tue: 18:00-20:00 overlaps"),
    (SPECIALTIES_FILE, '"2027-02-23"', '"2027-02-30"', "holidays: '2027-02-30' is not a date"),
    (SPECIALTIES_FILE, '"2027-02-23"', '"23.02.2027"', "holidays: '23.02.2027' is not a date"),
    (SPECIALTIES_FILE, 'ro = "Logoped"\n', "", "item speech: no ro"),
    (SPECIALTIES_FILE, 'en = "Psychologist"', f'en = "{LONG}"', "item psychologist: en has 41 characters, more than 40"),
    (SPECIALTIES_FILE, "target_minutes = 240", "target_minutes = 0", "target_minutes = 0 is not a positive whole number"),
    (SPECIALTIES_FILE, "target_minutes = 180", 'target_minutes = "3 hours"', "item psychologist: target_minutes = '3 hours' is not a positive whole number"),
    (SPECIALTIES_FILE, 'id = "music"', 'id = "speech"', "[[item]] id 'speech' is used twice"),
    (SPECIALTIES_FILE, 'id = "music"', 'id = "Music therapy"', "[[item]] id 'Music therapy' is not a plain id"),
    (SPECIALTIES_FILE, "\n[hours]\n", "\n[hours\n", "is not valid TOML"),
    # the FAQ and the ready answers
    (faq_file("ru"), 'specialty = "speech"', 'specialty = "speach"', "entry speech-first-words: specialty 'speach' is not in specialties.toml"),
    (canned_file("en"), 'specialty = "lawyer"', 'specialty = "notary"', "answer lawyer-documents: specialty 'notary' is not in specialties.toml"),
    (faq_file("ro"), *without_entry(read(faq_file("ro")), "entry", "speech-aac"), "entry speech-aac: missing — translate it from"),
    (canned_file("ru"), *without_entry(read(canned_file("ru")), "answer", "closing"), "answer closing: missing — translate it from"),
    (faq_file("en"), 'id = "pe-sports"', 'id = "pe-sport"', "entry pe-sport: not in"),
    (faq_file("en"), 'id = "pe-sports"\nspecialty = "pe"', 'id = "pe-sports"\nspecialty = "social"', "entry pe-sports: specialty 'social' differs"),
    (faq_file("ru"), 'id = "speech-sounds"', 'id = "speech-first-words"', "[[entry]] id 'speech-first-words' is used twice"),
    (faq_file("en"), 'keywords = ["talk", ', 'keywords = "talk"\nignored = [', "entry speech-first-words: keywords is not a list of words"),
    (faq_file("en"), 'answer = """Most children', f'answer = """{"x" * 1500}', "entry speech-first-words: answer has"),
    (faq_file("ro"), 'question = "Copilul meu are 2–3 ani', 'title = "Copilul meu are 2–3 ani', "entry speech-first-words: no question"),
    (canned_file("ro"), 'title = "Cer detalii"', f'title = "{LONG}"', "answer more-details: title has 41 characters, more than 40"),
]


@pytest.mark.parametrize(("file", "old", "new", "named"), CASES)
def test_a_content_mistake_is_one_line_naming_the_file(tmp_path, file, old, new, named):
    with pytest.raises(ConfigError) as raised:
        load_content(broken(tmp_path, file, old, new))
    message = str(raised.value)
    assert message.startswith("config error: CONTENT_DIR: ") and "\n" not in message
    assert re.search(rf"{re.escape(str(file))}:\d+: ", message) and named in message, message
    assert " — " in message  # the fix follows the dash


def test_a_missing_file_is_named(tmp_path):
    folder = shutil.copytree(CONTENT_DIR, tmp_path / "content")
    (folder / canned_file("ro")).unlink()
    with pytest.raises(ConfigError, match=r"^config error: CONTENT_DIR: .*consultations/canned/ro\.toml:1: cannot be read .* — "):
        load_content(folder)
