"""Which FAQ entries a parent's free text is about, whatever the word forms: "my son doesn't talk"
finds the entry that asks "my child still does not talk", and the same in Russian and Romanian.

Words are lower-cased, stop words (stop_words.toml beside this file) dropped and the rest stemmed
with Snowball (Russian, Romanian, English). An entry scores the IDF weights of the text's stems it
has, a stem of its question or keywords counting more than one only in its answer. The entries'
stems are computed once at load and a word's stems are cached, so a match costs microseconds."""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import snowballstemmer

from bot.consultation_content import FaqEntry

QUESTION_WEIGHT = 1.0  # a stem of the entry's question or keywords
ANSWER_WEIGHT = 0.3  # a stem found only in its answer
MIN_SCORE = 1.5  # about one question word that few entries share; a word every entry has weighs ln 2
MAX_WORDS = 120  # the distinct words of a long message that are looked at: the topic is in the first ones
SHORTEST_WORD = 2

_WORD = re.compile(r"[^\W\d_]+")
_STEMMERS = {"ru": "russian", "ro": "romanian", "en": "english"}
# Russian yo is written as ie by most; Romanian s and t with a cedilla are the comma letters typed on old keyboards
_SPELLING = str.maketrans({"\u0451": "\u0435", "ş": "ș", "ţ": "ț"})
_UNACCENTED = str.maketrans({"ă": "a", "â": "a", "î": "i", "ș": "s", "ț": "t"})  # Romanian typed without diacritics


def _stop_words(path: Path) -> dict[str, frozenset[str]]:
    with path.open("rb") as file:
        lists = {language: words.split() for language, words in tomllib.load(file).items()}
    return {language: frozenset(words) | frozenset(word.translate(_UNACCENTED) for word in words) for language, words in lists.items()}


_STOPS = _stop_words(Path(__file__).with_name("stop_words.toml"))
_STEMMER_OF = {language: snowballstemmer.stemmer(algorithm) for language, algorithm in _STEMMERS.items()}


@lru_cache(maxsize=50_000)
def word_stems(language: str, word: str) -> frozenset[str]:
    """The stems of a lower-cased word: with and without Romanian diacritics, since a parent may type either."""
    stemmer = _STEMMER_OF[language]
    stem, plain = stemmer.stemWord(word), word.translate(_UNACCENTED)
    return frozenset({stem.translate(_UNACCENTED), stem if plain == word else stemmer.stemWord(plain)})


def stems(text: str, language: str, limit: int | None = None) -> list[frozenset[str]]:
    """The stems of each distinct word of `text` that is not a stop word, in order."""
    stops = _STOPS.get(language, frozenset())
    words = dict.fromkeys(word for word in _WORD.findall(text.lower().translate(_SPELLING)) if len(word) >= SHORTEST_WORD and word not in stops)
    return [word_stems(language, word) for word in list(words)[:limit]]


def _flat(found: Iterable[frozenset[str]]) -> set[str]:
    return set().union(*found)


@dataclass(frozen=True)
class _Indexed:
    entry: FaqEntry
    weights: dict[str, float]  # stem -> what it adds to the score


class FaqIndex:
    def __init__(self, entries: dict[str, tuple[FaqEntry, ...]], indexed: dict[tuple[str, str], list[_Indexed]]) -> None:
        self._entries = {(language, entry.id): entry for language, rows in entries.items() for entry in rows}
        self._indexed = indexed  # (language, specialty) -> its entries

    @classmethod
    def build(cls, entries: dict[str, tuple[FaqEntry, ...]]) -> FaqIndex:
        indexed: dict[tuple[str, str], list[_Indexed]] = {}
        for language, rows in entries.items():
            for item in _indexed(language, rows):
                indexed.setdefault((language, item.entry.specialty), []).append(item)
        return cls(entries, indexed)

    def match(self, text: str, specialty: str, language: str, limit: int = 3) -> list[FaqEntry]:
        """The entries of `specialty` that `text` is most about, best first; none when nothing is near enough."""
        candidates = self._indexed.get((language, specialty))
        if not candidates or language not in _STEMMERS:
            return []
        words = set(stems(text, language, MAX_WORDS))
        scored = [(_score(item.weights, words), order, item.entry) for order, item in enumerate(candidates)]
        best = sorted((-score, order, entry) for score, order, entry in scored if score >= MIN_SCORE)
        return [entry for _, _, entry in best[:limit]]

    def entry(self, language: str, entry_id: str) -> FaqEntry | None:
        return self._entries.get((language, entry_id))


def _indexed(language: str, rows: tuple[FaqEntry, ...]) -> list[_Indexed]:
    titles = [_flat(stems(" ".join((entry.question, *entry.keywords)), language)) for entry in rows]
    bodies = [_flat(stems(entry.answer, language)) for entry in rows]
    documents = Counter(stem for title, body in zip(titles, bodies, strict=True) for stem in title | body)
    idf = {stem: math.log(1 + len(rows) / count) for stem, count in documents.items()}
    return [
        _Indexed(entry, {stem: idf[stem] * (QUESTION_WEIGHT if stem in title else ANSWER_WEIGHT) for stem in title | body})
        for entry, title, body in zip(rows, titles, bodies, strict=True)
    ]


def _score(weights: dict[str, float], words: set[frozenset[str]]) -> float:
    """Each word counts once, by the heaviest of its stems the entry has."""
    return sum(max((weights.get(stem, 0.0) for stem in word), default=0.0) for word in words)
