"""A parent's free text finds the FAQ entries of the chosen specialty whatever the word forms, in
Russian, Romanian and English; unrelated text finds nothing."""

from __future__ import annotations

import time

import pytest

from bot.consultation_content import FaqEntry
from bot.services.faq import FaqIndex
from tests.helpers import CONTENT

FAQ = CONTENT.faq


def ids(text: str, specialty: str, language: str, limit: int = 3) -> list[str]:
    return [entry.id for entry in FAQ.match(text, specialty, language, limit)]


def test_a_russian_parent_finds_the_first_words_entry_whatever_the_word_forms():
    found = FAQ.match("сын не говорит в 3 года", "speech", "ru")
    assert found[0].id == "speech-first-words"
    assert "говорит" in found[0].question and "речи" in found[0].question  # the question says "не говорит", "развитию речи"


@pytest.mark.parametrize(
    ("text", "specialty", "expected"),
    [
        ("Дочка плохо выговаривает букву Р", "speech", "speech-sounds"),
        ("Сын стал заикаться", "speech", "speech-stuttering"),
        ("Помогут ли карточки PECS неговорящему ребёнку?", "speech", "speech-aac"),
        ("ребёнок плохо засыпает и просыпается по ночам", "psychologist", "psychologist-sleep"),
        ("каждый день истерики, кричит и кусается", "psychologist", "psychologist-meltdowns"),
        ("Я устала, нет сил ни на что", "psychologist", "psychologist-parent-exhaustion"),
        ("как оформить инвалидность ребенку", "lawyer", "lawyer-disability-status"),
        ("Что такое ИПРА и зачем она нужна?", "lawyer", "lawyer-ipra"),
        ("какие выплаты положены семье", "lawyer", "lawyer-rights-and-payments"),
        ("где получить инвалидную коляску", "social", "social-equipment"),
        ("не может удержать карандаш", "labour", "labour-fine-motor"),
    ],
)
def test_russian_word_forms(text, specialty, expected):
    assert ids(text, specialty, "ru")[0] == expected


@pytest.mark.parametrize(
    ("text", "specialty", "expected"),
    [
        ("Copilul meu nu vorbește încă la 3 ani", "speech", "speech-first-words"),
        ("copilul meu nu vorbeste inca la 3 ani", "speech", "speech-first-words"),  # typed without diacritics
        ("fiul meu nu doarme noaptea", "psychologist", "psychologist-sleep"),
        ("Cum contestăm decizia privind dizabilitatea?", "lawyer", "lawyer-disability-status"),
        ("ce plati primim pentru copil", "lawyer", "lawyer-rights-and-payments"),
        ("Are crize de furie în fiecare seară", "psychologist", "psychologist-meltdowns"),
    ],
)
def test_romanian_word_forms(text, specialty, expected):
    assert ids(text, specialty, "ro")[0] == expected


@pytest.mark.parametrize(
    ("text", "specialty", "expected"),
    [
        ("My son is 3 and doesn't talk yet", "speech", "speech-first-words"),
        ("she stutters when she is excited", "speech", "speech-stuttering"),
        ("How do we appeal the disability decision?", "lawyer", "lawyer-disability-status"),
        ("He wakes up every night and won't fall asleep again", "psychologist", "psychologist-sleep"),
        ("Which sports can he do? We thought of swimming", "pe", "pe-sports"),
    ],
)
def test_english_word_forms(text, specialty, expected):
    assert ids(text, specialty, "en")[0] == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Какая погода будет завтра в Москве?", "ru"),
        ("Здравствуйте! У меня вопрос про моего ребёнка", "ru"),  # only stop words
        ("Ce vreme va fi la Chișinău săptămâna viitoare?", "ro"),
        ("What will the weather be like in Moscow tomorrow?", "en"),
        ("", "en"),
        ("12345 !!!", "ru"),
    ],
)
def test_unrelated_text_finds_nothing(text, language):
    assert all(FAQ.match(text, specialty.id, language) == [] for specialty in CONTENT.specialties)


def test_only_the_chosen_specialtys_entries():
    assert "speech-first-words" not in ids("сын не говорит в 3 года", "psychologist", "ru")
    assert all(entry.specialty == "psychologist" for entry in FAQ.match("плохо спит, истерики, устала", "psychologist", "ru"))
    assert FAQ.match("сын не говорит", "astrology", "ru") == []
    assert FAQ.match("сын не говорит", "speech", "de") == []


def sleep_entry(number: int, question: str) -> FaqEntry:
    return FaqEntry(f"sleep-{number}", "psychologist", question, "Keep a calm bedtime routine.")


SLEEP = (
    sleep_entry(1, "Sleep at night"),
    sleep_entry(2, "Sleep in the day"),
    sleep_entry(3, "Sleep and waking at night, early waking"),
    sleep_entry(4, "Sleep on holidays"),
    sleep_entry(5, "Sleep in a new place"),
    FaqEntry("toilet", "psychologist", "Toilet training", "Be patient."),
    FaqEntry("food", "psychologist", "Picky eating", "Offer new food next to familiar."),
    *(FaqEntry(f"speech-{n}", "speech", f"Speech topic {n}", "Talk and wait.") for n in range(20)),  # so that "sleep" is a rare word
)


def test_at_most_limit_entries_best_first():
    index = FaqIndex.build({"en": SLEEP})
    found = index.match("my child has problems with sleep and early waking at night", "psychologist", "en")
    assert len(found) == 3 and found[0].id == "sleep-3"
    assert len(index.match("sleep", "psychologist", "en", limit=2)) == 2
    assert {entry.id for entry in index.match("sleep", "psychologist", "en", limit=10)} == {f"sleep-{n}" for n in range(1, 6)}


def test_an_entry_by_its_id():
    entry = FAQ.entry("ru", "speech-first-words")
    assert entry is not None and entry.specialty == "speech" and "говорит" in entry.question
    assert FAQ.entry("ro", "speech-first-words").question != entry.question
    assert FAQ.entry("ru", "no-such-entry") is None


def test_a_match_takes_well_under_a_millisecond():
    texts = ["сын не говорит в 3 года", "ребёнок плохо засыпает", "какие выплаты положены"]
    for text in texts:
        FAQ.match(text, "speech", "ru")  # a word's stems are cached after its first message
    started = time.perf_counter()
    for _ in range(300):
        for text in texts:
            FAQ.match(text, "psychologist", "ru")
    assert (time.perf_counter() - started) / 900 < 0.001


def test_a_long_message_is_still_fast():
    text = " ".join(f"слово{n} говорит" for n in range(2000))  # letters only count: "слово" repeated, with digits split off
    started = time.perf_counter()
    FAQ.match("Мой сын " + text, "speech", "ru")
    assert time.perf_counter() - started < 0.05
