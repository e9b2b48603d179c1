"""The quality report: does a body read at its audience's level, and what should a teacher check.

Readability is measured over the prose a learner reads (summaries, section text, definitions,
card answers, questions and explanations, spoken lines), never over titles, headings, term
labels or answer choices, whose fragments would read as one-word sentences. The grade that is
judged is the mean of three grade-level formulas (Flesch-Kincaid, ARI, Coleman-Liau): one
counts syllables and two count letters, so a miscounted syllable or an unusual word moves it
less than any one formula. Under :data:`MIN_WORDS_TO_JUDGE` words no formula is reliable, so
the fit is ``NOT_JUDGED`` rather than a guess.

Audience bands overlap on purpose: a grade-9 text suits both middle and high school.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from lafactoria.content import readability
from lafactoria.content.bodies import (
    Body,
    FlashcardDeck,
    PodcastScript,
    QuestionKind,
    Quiz,
    StudyGuide,
    normalise,
)
from lafactoria.content.enums import AudienceLevel

MIN_WORDS_TO_JUDGE = 100
_SHORT_SECTION_WORDS = 20
# A podcast is on target while its spoken length is within this share of the target.
_DURATION_TOLERANCE = 0.4
# Below this many single-answer questions, a pattern in answer positions is chance.
_MIN_QUESTIONS_FOR_PATTERNS = 4


class AudienceFit(StrEnum):
    FIT = "fit"
    TOO_HARD = "too_hard"
    TOO_EASY = "too_easy"
    NOT_JUDGED = "not_judged"


class IssueSeverity(StrEnum):
    WARNING = "warning"
    """A teacher should look before using the item."""
    INFO = "info"
    """Worth knowing; nothing to fix."""


@dataclass(frozen=True, slots=True)
class GradeBand:
    low: float
    high: float | None
    """``None``: no upper limit."""

    def contains(self, grade: float) -> bool:
        return self.low <= grade and (self.high is None or grade <= self.high)

    def distance(self, grade: float) -> float:
        """How many grades ``grade`` lies outside the band (0 inside it)."""
        if grade < self.low:
            return self.low - grade
        if self.high is not None and grade > self.high:
            return grade - self.high
        return 0.0

    def describe(self) -> str:
        if self.high is None:
            return f"grade {self.low:g} and above"
        return f"grades {self.low:g} to {self.high:g}"


BANDS: dict[AudienceLevel, GradeBand] = {
    AudienceLevel.ELEMENTARY: GradeBand(1.0, 6.0),
    AudienceLevel.MIDDLE_SCHOOL: GradeBand(5.5, 9.5),
    AudienceLevel.HIGH_SCHOOL: GradeBand(8.0, 13.0),
    AudienceLevel.COLLEGE: GradeBand(11.5, None),
}

# What to tell a writer whose text missed the band, by the audience it missed.
_SIMPLER = {
    AudienceLevel.ELEMENTARY: "use short sentences of about 8 to 10 words and short everyday "
    "words; explain any harder word in simple terms",
    AudienceLevel.MIDDLE_SCHOOL: "shorten sentences to about 12 to 15 words and use simpler, "
    "more common words; define subject words briefly",
    AudienceLevel.HIGH_SCHOOL: "shorten the longest sentences to about 18 to 20 words and "
    "prefer common words where a technical one is not needed",
    AudienceLevel.COLLEGE: "split the longest sentences and cut needless jargon",
}
_HARDER = {
    AudienceLevel.ELEMENTARY: "join very short sentences and use a few more describing words",
    AudienceLevel.MIDDLE_SCHOOL: "use fuller sentences of about 14 words and introduce the "
    "subject's own words with short definitions",
    AudienceLevel.HIGH_SCHOOL: "use longer sentences that connect causes and effects, and the "
    "subject's precise vocabulary",
    AudienceLevel.COLLEGE: "write denser academic prose: longer sentences, the discipline's "
    "terminology, nuance and qualifications",
}


@dataclass(frozen=True, slots=True)
class Issue:
    code: str
    severity: IssueSeverity
    message: str
    field: str | None = None
    """Where in the body, e.g. ``sections[2]``; ``None`` for the whole item."""


@dataclass(frozen=True, slots=True)
class Readability:
    reading_grade: float
    """The grade that is judged: the mean of the three grade-level formulas."""
    flesch_kincaid_grade: float
    reading_ease: float
    automated_readability_index: float
    coleman_liau_index: float
    words: int
    sentences: int

    @classmethod
    def of(cls, texts: list[str]) -> Readability | None:
        stats = readability.TextStats.of(texts)
        if stats.words == 0:
            return None
        fk = readability.flesch_kincaid_grade(stats)
        ari = readability.automated_readability_index(stats)
        cli = readability.coleman_liau_index(stats)
        return cls(
            reading_grade=round((fk + ari + cli) / 3, 1),
            flesch_kincaid_grade=round(fk, 1),
            reading_ease=round(readability.flesch_reading_ease(stats), 1),
            automated_readability_index=round(ari, 1),
            coleman_liau_index=round(cli, 1),
            words=stats.words,
            sentences=stats.sentences,
        )


@dataclass(frozen=True, slots=True)
class QualityReport:
    audience_level: AudienceLevel
    audience_fit: AudienceFit
    readability: Readability | None
    issues: tuple[Issue, ...] = ()
    estimated_minutes: float | None = None
    """Podcasts: spoken length at about 150 words a minute."""
    regenerated: bool = False
    """The first answer missed the band and this one was written after feedback."""
    version: int = field(default=1)

    @property
    def band(self) -> GradeBand:
        return BANDS[self.audience_level]

    @property
    def needs_review(self) -> bool:
        return any(issue.severity is IssueSeverity.WARNING for issue in self.issues)

    @property
    def out_of_band(self) -> bool:
        return self.audience_fit in (AudienceFit.TOO_HARD, AudienceFit.TOO_EASY)

    def verdict(self) -> str:
        """One phrase for people: "too hard for middle school readers (grade 11.8)"."""
        grade = f" (grade {self.readability.reading_grade:g})" if self.readability else ""
        if self.out_of_band:
            return f"{_fit_phrase(self.audience_fit, self.audience_level)}{grade}"
        if self.audience_fit is AudienceFit.FIT:
            return f"fit for {self.audience_level.label} readers{grade}"
        return "too short to judge"

    def distance(self) -> float:
        """Grades outside the band (0 when fit or not judged): which of two answers is closer."""
        if not self.out_of_band or self.readability is None:
            return 0.0
        return self.band.distance(self.readability.reading_grade)

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "audience_level": self.audience_level.value,
            "audience_fit": self.audience_fit.value,
            "band": {"low": self.band.low, "high": self.band.high},
            "readability": None
            if self.readability is None
            else {
                "reading_grade": self.readability.reading_grade,
                "flesch_kincaid_grade": self.readability.flesch_kincaid_grade,
                "reading_ease": self.readability.reading_ease,
                "automated_readability_index": self.readability.automated_readability_index,
                "coleman_liau_index": self.readability.coleman_liau_index,
                "words": self.readability.words,
                "sentences": self.readability.sentences,
            },
            "estimated_minutes": self.estimated_minutes,
            "regenerated": self.regenerated,
            "needs_review": self.needs_review,
            "issues": [
                {
                    "code": issue.code,
                    "severity": issue.severity.value,
                    "message": issue.message,
                    "field": issue.field,
                }
                for issue in self.issues
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QualityReport:
        measured = data.get("readability")
        return cls(
            audience_level=AudienceLevel(data["audience_level"]),
            audience_fit=AudienceFit(data["audience_fit"]),
            readability=None if measured is None else Readability(**measured),
            issues=tuple(
                Issue(
                    code=issue["code"],
                    severity=IssueSeverity(issue["severity"]),
                    message=issue["message"],
                    field=issue.get("field"),
                )
                for issue in data.get("issues", [])
            ),
            estimated_minutes=data.get("estimated_minutes"),
            regenerated=bool(data.get("regenerated", False)),
            version=int(data.get("version", 1)),
        )


def assess(body: Body, audience_level: AudienceLevel) -> QualityReport:
    """Measure ``body`` against ``audience_level``'s band and run the checks for its type."""
    measured = Readability.of(prose_of(body))
    band = BANDS[audience_level]
    issues: list[Issue] = []
    if measured is None or measured.words < MIN_WORDS_TO_JUDGE:
        fit = AudienceFit.NOT_JUDGED
        words = measured.words if measured else 0
        issues.append(
            Issue(
                "TOO_SHORT_TO_JUDGE",
                IssueSeverity.INFO,
                f"Only {words} words of prose: readability is not judged under "
                f"{MIN_WORDS_TO_JUDGE}.",
            )
        )
    elif band.contains(measured.reading_grade):
        fit = AudienceFit.FIT
    else:
        fit = AudienceFit.TOO_HARD if measured.reading_grade > band.low else AudienceFit.TOO_EASY
        issues.append(
            Issue(
                fit.value.upper(),
                IssueSeverity.WARNING,
                f"Reads at grade {measured.reading_grade:g}: {_fit_phrase(fit, audience_level)} "
                f"({band.describe()}).",
            )
        )
    issues += _structural_issues(body)
    return QualityReport(
        audience_level=audience_level,
        audience_fit=fit,
        readability=measured,
        issues=tuple(issues),
        estimated_minutes=body.estimated_minutes if isinstance(body, PodcastScript) else None,
    )


def feedback(report: QualityReport) -> str:
    """What to tell the writer of an out-of-band answer; empty when it is in band."""
    if not report.out_of_band or report.readability is None:
        return ""
    level = report.audience_level
    advice = (_SIMPLER if report.audience_fit is AudienceFit.TOO_HARD else _HARDER)[level]
    measured = report.readability
    return (
        f"Your previous answer was {_fit_phrase(report.audience_fit, level)}: it reads at "
        f"about grade {measured.reading_grade:g} (about {measured.words / measured.sentences:.0f} "
        f"words a sentence), and these readers need {report.band.describe()}. "
        f"Write it again for them: {advice}. Keep the same structure, facts and JSON format."
    )


def after_retry(first: QualityReport, retry: QualityReport | None) -> tuple[bool, QualityReport]:
    """Which answer to keep after ``first`` missed the band and was asked for once more.

    Returns ``(True, report)`` to keep the retry, ``(False, report)`` to keep the first answer
    (the retry failed, or read further from the band). Either way the report says that a
    retry happened and is still flagged when the kept answer is out of band.
    """
    grade = first.readability.reading_grade if first.readability else 0.0
    told = f"The first answer read at grade {grade:g}, {_fit_words(first)}"
    if retry is not None and retry.distance() <= first.distance():
        note = f"{told}; it was written again once with that feedback."
        return True, _noted(retry, note)
    if retry is None:
        note = f"{told}; asking for it again with feedback failed, so it is kept as it was."
    else:
        retry_grade = retry.readability.reading_grade if retry.readability else 0.0
        note = (
            f"{told}; written again with feedback it read at grade {retry_grade:g}, further "
            "from the band, so the first answer is kept."
        )
    return False, _noted(first, note)


def _noted(report: QualityReport, note: str) -> QualityReport:
    issue = Issue("REGENERATED", IssueSeverity.INFO, note)
    return replace(report, regenerated=True, issues=(*report.issues, issue))


def prose_of(body: Body) -> list[str]:
    """The fields of ``body`` a learner reads as running text, each a run of sentences."""
    if isinstance(body, StudyGuide):
        return [
            body.summary,
            *(section.content for section in body.sections),
            *(term.definition for term in body.key_terms),
            *body.review_questions,
        ]
    if isinstance(body, FlashcardDeck):
        # A front that is a question is prose; a bare term ("Photosynthesis") is a label.
        texts: list[str] = []
        for card in body.cards:
            if card.front.rstrip().endswith("?"):
                texts.append(card.front)
            texts.append(card.back)
        return texts
    if isinstance(body, Quiz):
        return [text for q in body.questions for text in (q.question, q.explanation)]
    return [line.text for line in body.lines]


def _fit_phrase(fit: AudienceFit, level: AudienceLevel) -> str:
    words = {AudienceFit.TOO_HARD: "too hard", AudienceFit.TOO_EASY: "too easy"}
    return f"{words.get(fit, 'not judged')} for {level.label} readers"


def _fit_words(report: QualityReport) -> str:
    return _fit_phrase(report.audience_fit, report.audience_level)


def _structural_issues(body: Body) -> list[Issue]:
    if isinstance(body, StudyGuide):
        return _study_guide_issues(body)
    if isinstance(body, FlashcardDeck):
        return _flashcard_issues(body)
    if isinstance(body, Quiz):
        return _quiz_issues(body)
    return _podcast_issues(body)


def _study_guide_issues(guide: StudyGuide) -> list[Issue]:
    issues = [
        Issue(
            "SHORT_SECTION",
            IssueSeverity.WARNING,
            f"Section {section.heading!r} has only {len(section.content.split())} words.",
            f"sections[{index}]",
        )
        for index, section in enumerate(guide.sections)
        if len(section.content.split()) < _SHORT_SECTION_WORDS
    ]
    if not guide.review_questions:
        issues.append(
            Issue("NO_REVIEW_QUESTIONS", IssueSeverity.INFO, "The guide has no review questions.")
        )
    return issues


def _flashcard_issues(deck: FlashcardDeck) -> list[Issue]:
    seen: dict[str, int] = {}
    issues: list[Issue] = []
    for index, card in enumerate(deck.cards):
        key = normalise(card.back)
        if key in seen:
            issues.append(
                Issue(
                    "DUPLICATE_BACKS",
                    IssueSeverity.WARNING,
                    f"Cards {seen[key] + 1} and {index + 1} have the same answer, so a learner "
                    "cannot tell their fronts apart by it.",
                    f"cards[{index}]",
                )
            )
        else:
            seen[key] = index
    return issues


def _quiz_issues(quiz: Quiz) -> list[Issue]:
    single = [q for q in quiz.questions if q.kind is QuestionKind.SINGLE]
    if len(single) < _MIN_QUESTIONS_FOR_PATTERNS:
        return []
    issues: list[Issue] = []
    positions = {q.answer_index for q in single}
    if len(positions) == 1:
        letter = chr(ord("A") + positions.pop())
        issues.append(
            Issue(
                "ANSWER_POSITION_PATTERN",
                IssueSeverity.WARNING,
                f"Every correct answer is choice {letter}: a learner can guess without reading.",
            )
        )
    if all(_longest_is_correct(q.choices, q.answer_index) for q in single):
        issues.append(
            Issue(
                "LONGEST_CHOICE_IS_ANSWER",
                IssueSeverity.WARNING,
                "The correct choice is always the longest one: a learner can guess without "
                "reading.",
            )
        )
    return issues


def _longest_is_correct(choices: list[str], answer: int) -> bool:
    length = len(choices[answer])
    return all(len(choice) < length for i, choice in enumerate(choices) if i != answer)


def _podcast_issues(script: PodcastScript) -> list[Issue]:
    target = script.target_minutes
    estimated = script.estimated_minutes
    if abs(estimated - target) <= _DURATION_TOLERANCE * target:
        return []
    return [
        Issue(
            "DURATION_OFF_TARGET",
            IssueSeverity.WARNING,
            f"About {estimated:g} minutes when spoken ({script.word_count} words at 150 a "
            f"minute), against a target of {target} minutes.",
        )
    ]
