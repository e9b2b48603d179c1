"""Readability formulas, computed here with no data files and no network.

The classic grade-level formulas need three counts over a text: words, sentences and either
syllables (Flesch-Kincaid, Flesch reading ease) or letters (Automated Readability Index,
Coleman-Liau). Syllables come from :func:`count_syllables`, a rule-based English counter:
libraries such as ``textstat`` fetch a pronouncing dictionary on first use, which an offline
server cannot do, and the formulas were calibrated on rough counts in the first place.

Every field of a body is its own run of sentences: a flashcard back or a quiz explanation with
no closing full stop still ends a sentence, as it does for a reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# A word: letters or digits in any script, with inner apostrophes or hyphens ("don't",
# "well-known"). Numbers with a decimal point or comma ("3.5", "1,000") stay one word.
_WORD = re.compile(r"[^\W_]+(?:(?:['\u2019\-]|[.,](?=\d))[^\W_]+)*")
# A sentence ends at . ! ? (then perhaps a closing quote or bracket) before a space or the
# end, or at the CJK full stop, exclamation and question marks, which need no space after.
_SENTENCE_END = re.compile(
    r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s|$)|[\u3002\uff01\uff1f]+[\u201d\u300d)]*"
)
_VOWEL_GROUP = re.compile(r"[aeiouy]+")
# Vowel pairs spoken as two syllables (vi-de-o, stu-dy-ing, ac-tu-al, go-ing, qui-et), except
# where English runs them together (na-tion, spe-cial, re-li-gion, mil-lion, lan-guage).
_HIATUS = re.compile(
    r"""
      (?<![tcsxgln])io              # ratio, biology, curious, champion
    | (?<=[tcsxg])io(?![nu])        # pa-ti-o; not na-tion, pre-cious, re-gion
    | (?<=[ln])io(?!n)              # not mil-lion, on-ion
    | (?<![tcsx])ia                 # giant, media, trivial; not special, potential, Asia
    | (?<![qg])ua                   # actual, usual, situation; not quality, language
    | (?<![qg])ue(?=[nl])           # fluent, cruel, influence; not queen
    | (?<![qg])ui(?=[nd])           # ruin, fluid; not guide, quit
    | (?<![qg])uo                   # continuous, duo
    | eo(?!u)                       # video, geography, theory; not gorgeous
    | iu | yi | ii                  # medium, studying, skiing
    | [aeiou]ing                    # going, seeing, doing
    | ie(?=t)                       # diet, quiet, society, variety
    """,
    re.VERBOSE,
)
# A silent e stays silent before these suffixes: like-ly, care-ful, move-ment.
_SILENT_E_BEFORE_SUFFIX = re.compile(r"(?<=[^aeiouy])e(?=(?:ly|ful|ment|ments|ness|less)$)")
_ACCENTED_VOWELS = "àáâãäåæèéêëìíîïòóôõöøùúûüýÿœ"
_OTHER_SCRIPT_VOWELS = re.compile(r"[аеёиоуыэюяαεηιουωάέήίόύώ" + _ACCENTED_VOWELS + r"aeiouy]+")

# Words the rules below get wrong that are common in teaching text.
_EXCEPTIONS = {
    "area": 3,
    "being": 2,
    "business": 2,
    "create": 2,
    "created": 3,
    "creates": 2,
    "creation": 3,
    "creative": 3,
    "every": 3,
    "everyone": 4,
    "everything": 4,
    "idea": 3,
    "ideas": 3,
    "genius": 2,
    "people": 2,
    "poem": 2,
    "poet": 2,
    "react": 2,
    "reaction": 3,
    "reality": 4,
    "quiet": 2,
    "science": 2,
    "sciences": 3,
    "scientific": 4,
    "scientist": 3,
    "scientists": 3,
    "someone": 2,
    "sometimes": 2,
    "something": 2,
    "whole": 1,
    "wednesday": 2,
}


def words_in(text: str) -> list[str]:
    """The words of ``text``, in order."""
    return _WORD.findall(text)


def count_syllables(word: str) -> int:
    """Syllables in an English word by spelling rules (about nine words in ten exactly).

    Words in other scripts count their vowel groups, or one syllable when the script has no
    vowel letters (Chinese, Japanese); digits count one syllable per number.
    """
    lowered = word.lower().replace("\u2019", "'")
    if "-" in lowered:
        return sum(count_syllables(part) for part in lowered.split("-") if part)
    letters = re.sub(r"[^a-z]", "", lowered)
    if letters != re.sub(r"[^\w]|\d|_", "", lowered):
        # Not plain ASCII letters: accents or another script.
        return max(1, len(_OTHER_SCRIPT_VOWELS.findall(lowered)))
    if not letters:
        return 1
    if letters in _EXCEPTIONS:
        return _EXCEPTIONS[letters]
    if len(letters) <= 3:
        return 1
    stem = _SILENT_E_BEFORE_SUFFIX.sub("", _strip_silent_ending(letters))
    count = len(_VOWEL_GROUP.findall(stem)) + len(_HIATUS.findall(stem))
    if stem.endswith("ism"):
        count += 1  # "or-ga-nis-m" sounds the m as a syllable
    return max(1, count)


def _strip_silent_ending(word: str) -> str:
    # make, times, baked: the final e is silent. It is spoken in table(s) (consonant + le),
    # boxes, wishes, changes, places (sibilant + es), wanted, needed (t/d + ed).
    if word.endswith("e") and not word.endswith(("ee", "ye", "ie")):
        if re.search(r"[^aeiouy]le$", word):
            return word
        if re.search(r"[aeiouy][^aeiouy]?e$", word) or re.search(r"[^aeiouy]{2}e$", word):
            return word[:-1]
        return word
    if word.endswith("es") and len(word) > 4:
        if re.search(r"(?:[sxzcg]|ch|sh|[^aeiouy]l)es$", word):
            return word
        if re.search(r"[^aeiouy]es$", word):
            return word[:-2]
    if word.endswith("ed") and len(word) > 4 and re.search(r"[^aeiouytd]ed$", word):
        return word[:-2]
    return word


def count_sentences(text: str) -> int:
    """Sentences in one field: at least one when it has any words."""
    if not words_in(text):
        return 0
    pieces = _SENTENCE_END.split(text)
    return max(1, sum(1 for piece in pieces if words_in(piece)))


@dataclass(frozen=True, slots=True)
class TextStats:
    """The counts every formula is built from."""

    words: int
    sentences: int
    syllables: int
    letters: int
    """Letters and digits in words (what ARI and Coleman-Liau call characters)."""

    @classmethod
    def of(cls, texts: Iterable[str]) -> TextStats:
        """Counts over several fields, each ending at least one sentence."""
        words = sentences = syllables = letters = 0
        for text in texts:
            found = words_in(text)
            words += len(found)
            sentences += count_sentences(text)
            syllables += sum(count_syllables(word) for word in found)
            letters += sum(sum(ch.isalnum() for ch in word) for word in found)
        return cls(words=words, sentences=sentences, syllables=syllables, letters=letters)

    @property
    def words_per_sentence(self) -> float:
        return self.words / self.sentences

    @property
    def syllables_per_word(self) -> float:
        return self.syllables / self.words

    @property
    def letters_per_word(self) -> float:
        return self.letters / self.words


def flesch_kincaid_grade(stats: TextStats) -> float:
    """Flesch-Kincaid grade level: 0.39·words/sentence + 11.8·syllables/word - 15.59."""
    _require_words(stats)
    return 0.39 * stats.words_per_sentence + 11.8 * stats.syllables_per_word - 15.59


def flesch_reading_ease(stats: TextStats) -> float:
    """Flesch reading ease (higher is easier): 206.835 - 1.015·w/s - 84.6·syllables/word."""
    _require_words(stats)
    return 206.835 - 1.015 * stats.words_per_sentence - 84.6 * stats.syllables_per_word


def automated_readability_index(stats: TextStats) -> float:
    """ARI: 4.71·letters/word + 0.5·words/sentence - 21.43."""
    _require_words(stats)
    return 4.71 * stats.letters_per_word + 0.5 * stats.words_per_sentence - 21.43


def coleman_liau_index(stats: TextStats) -> float:
    """Coleman-Liau: 0.0588·L - 0.296·S - 15.8, L letters and S sentences per 100 words."""
    _require_words(stats)
    letters_per_100 = 100 * stats.letters / stats.words
    sentences_per_100 = 100 * stats.sentences / stats.words
    return 0.0588 * letters_per_100 - 0.296 * sentences_per_100 - 15.8


def _require_words(stats: TextStats) -> None:
    if stats.words == 0:
        raise ValueError("readability needs at least one word")
