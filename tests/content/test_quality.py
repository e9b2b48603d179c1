from __future__ import annotations

import json
from typing import Any

import pytest

from lafactoria.content.bodies import (
    Flashcard,
    FlashcardDeck,
    KeyTerm,
    PodcastFormat,
    PodcastScript,
    QuestionKind,
    Quiz,
    QuizQuestion,
    ScriptLine,
    Section,
    Speaker,
    StudyGuide,
)
from lafactoria.content.enums import AudienceLevel
from lafactoria.content.quality import (
    BANDS,
    MIN_WORDS_TO_JUDGE,
    AudienceFit,
    IssueSeverity,
    QualityReport,
    after_retry,
    assess,
    feedback,
    prose_of,
)

PLAIN = (
    "Volcanoes are openings in the ground. Hot melted rock comes out of them. This rock is "
    "called lava. Some volcanoes erupt often, and others sleep for many years. Scientists "
    "watch them closely to keep people safe."
)
MIDDLING = (
    "Volcanoes form where melted rock, called magma, rises through cracks in the crust of the "
    "Earth. When pressure builds up underneath, the volcano can erupt and pour out lava, ash "
    "and gas."
)
DENSE = (
    "Volcanic eruptions result from the decompression melting of mantle material, whose "
    "buoyant ascent through lithospheric fractures generates magmatic reservoirs characterised "
    "by considerable compositional heterogeneity."
)
TINY = "The sun is hot. It is big. We see it."


def script(*texts: str, target_minutes: int = 1) -> PodcastScript:
    """A conversation whose prose is exactly ``texts``, one line each."""
    return PodcastScript(
        title="A title full of extraordinarily sesquipedalian terminology",
        format=PodcastFormat.CONVERSATION,
        target_minutes=target_minutes,
        speakers=[Speaker(name="Ana", role="host"), Speaker(name="Sam", role="co-host")],
        lines=[
            ScriptLine(speaker=("Ana", "Sam")[index % 2], text=text)
            for index, text in enumerate(texts)
        ],
    )


def codes(report: QualityReport) -> list[str]:
    return [issue.code for issue in report.issues]


def test_bands_overlap_as_designed() -> None:
    assert (BANDS[AudienceLevel.ELEMENTARY].low, BANDS[AudienceLevel.ELEMENTARY].high) == (1, 6)
    assert (BANDS[AudienceLevel.MIDDLE_SCHOOL].low, BANDS[AudienceLevel.MIDDLE_SCHOOL].high) == (
        5.5,
        9.5,
    )
    assert (BANDS[AudienceLevel.HIGH_SCHOOL].low, BANDS[AudienceLevel.HIGH_SCHOOL].high) == (8, 13)
    assert (BANDS[AudienceLevel.COLLEGE].low, BANDS[AudienceLevel.COLLEGE].high) == (11.5, None)
    # A grade-9 text suits middle and high school alike.
    assert BANDS[AudienceLevel.MIDDLE_SCHOOL].contains(9)
    assert BANDS[AudienceLevel.HIGH_SCHOOL].contains(9)
    assert BANDS[AudienceLevel.COLLEGE].contains(30)


@pytest.mark.parametrize(
    ("texts", "level", "fit"),
    [
        ([PLAIN] * 4, AudienceLevel.ELEMENTARY, AudienceFit.FIT),
        ([PLAIN] * 4, AudienceLevel.COLLEGE, AudienceFit.TOO_EASY),
        ([MIDDLING] * 4, AudienceLevel.MIDDLE_SCHOOL, AudienceFit.FIT),
        ([MIDDLING] * 4, AudienceLevel.HIGH_SCHOOL, AudienceFit.FIT),
        ([DENSE] * 5, AudienceLevel.ELEMENTARY, AudienceFit.TOO_HARD),
        ([DENSE] * 5, AudienceLevel.MIDDLE_SCHOOL, AudienceFit.TOO_HARD),
        ([DENSE] * 5, AudienceLevel.HIGH_SCHOOL, AudienceFit.TOO_HARD),
        ([DENSE] * 5, AudienceLevel.COLLEGE, AudienceFit.FIT),
        ([TINY] * 12, AudienceLevel.ELEMENTARY, AudienceFit.TOO_EASY),
    ],
)
def test_audience_fit_compares_the_grade_with_the_band(
    texts: list[str], level: AudienceLevel, fit: AudienceFit
) -> None:
    report = assess(script(*texts), level)

    assert report.audience_fit is fit
    assert report.readability is not None
    assert report.readability.words >= MIN_WORDS_TO_JUDGE
    assert report.needs_review is (fit is not AudienceFit.FIT)


def test_judged_grade_is_the_mean_of_the_three_grade_formulas() -> None:
    measured = assess(script(*[MIDDLING] * 4), AudienceLevel.HIGH_SCHOOL).readability

    assert measured is not None
    mean = (
        measured.flesch_kincaid_grade
        + measured.automated_readability_index
        + measured.coleman_liau_index
    ) / 3
    assert measured.reading_grade == pytest.approx(mean, abs=0.1)
    assert 60 < measured.reading_ease < 90


def test_out_of_band_verdict_is_a_warning_naming_grade_and_band() -> None:
    report = assess(script(*[DENSE] * 5), AudienceLevel.MIDDLE_SCHOOL)

    (issue,) = [i for i in report.issues if i.code == "TOO_HARD"]
    assert issue.severity is IssueSeverity.WARNING
    assert report.readability is not None
    assert issue.message == (
        f"Reads at grade {report.readability.reading_grade:g}: too hard for middle school "
        "readers (grades 5.5 to 9.5)."
    )


def test_under_a_hundred_words_is_not_judged() -> None:
    report = assess(script(DENSE, DENSE), AudienceLevel.ELEMENTARY)

    assert report.audience_fit is AudienceFit.NOT_JUDGED
    (issue,) = [i for i in report.issues if i.code == "TOO_SHORT_TO_JUDGE"]
    assert issue.severity is IssueSeverity.INFO
    assert issue.message == "Only 48 words of prose: readability is not judged under 100."
    # Still measured, so a teacher can see the figures.
    assert report.readability is not None
    assert report.readability.words == 48


def test_titles_headings_labels_and_choices_are_not_prose() -> None:
    guide = StudyGuide(
        title="Incomprehensibilities",
        summary="A summary.",
        sections=[
            Section(heading=f"Heading {n} of intercontinental", content=f"Body {n} is here.")
            for n in range(3)
        ],
        key_terms=[KeyTerm(term="Antidisestablishmentarianism", definition="A long word.")],
        review_questions=["Why?"],
    )
    quiz = Quiz(
        title="Quiz",
        questions=[
            QuizQuestion(
                question="Which?",
                choices=["Extraordinarily", "Unquestionably", "Indubitably"],
                answer_indexes=[0],
                explanation="Because.",
            )
        ],
    )
    deck = FlashcardDeck(
        title="Deck",
        cards=[
            Flashcard(front="Photosynthesis", back="Plants make food."),
            Flashcard(front="What is it?", back="Light."),
        ],
    )

    assert prose_of(guide) == [
        "A summary.",
        "Body 0 is here.",
        "Body 1 is here.",
        "Body 2 is here.",
        "A long word.",
        "Why?",
    ]
    assert prose_of(quiz) == ["Which?", "Because."]
    assert prose_of(deck) == ["Plants make food.", "What is it?", "Light."]


def make_question(answer: int, choices: list[str] | None = None) -> QuizQuestion:
    return QuizQuestion(
        question=f"Question number {answer} {choices}?",
        choices=choices or ["Alpha", "Bravo", "Charlie", "Delta"],
        answer_indexes=[answer],
        explanation="Because it is.",
    )


def test_quiz_with_every_answer_in_one_place_is_flagged() -> None:
    same = Quiz(title="Q", questions=[make_question(1, [f"a{i}", "b", "c"]) for i in range(4)])
    moved = Quiz(title="Q", questions=[make_question(i % 3, [f"a{i}", "b", "c"]) for i in range(4)])

    assert "ANSWER_POSITION_PATTERN" in codes(assess(same, AudienceLevel.HIGH_SCHOOL))
    assert "ANSWER_POSITION_PATTERN" not in codes(assess(moved, AudienceLevel.HIGH_SCHOOL))


def test_quiz_whose_answer_is_always_the_longest_choice_is_flagged() -> None:
    def question(number: int, answer: int) -> QuizQuestion:
        choices = ["No", "Not this", "Also wrong"]
        choices[answer] = "The long and careful correct answer"
        return QuizQuestion(
            question=f"Question {number}?",
            choices=choices,
            answer_indexes=[answer],
            explanation="Because.",
        )

    always = Quiz(title="Q", questions=[question(n, n % 3) for n in range(4)])
    mostly = Quiz(title="Q", questions=[*always.questions[:3], make_question(0)])

    assert "LONGEST_CHOICE_IS_ANSWER" in codes(assess(always, AudienceLevel.HIGH_SCHOOL))
    assert "LONGEST_CHOICE_IS_ANSWER" not in codes(assess(mostly, AudienceLevel.HIGH_SCHOOL))


def test_multiple_answer_questions_are_left_out_of_position_checks() -> None:
    questions = [
        QuizQuestion(
            question=f"Pick all {i}?",
            kind=QuestionKind.MULTIPLE,
            choices=["a", "b", "c"],
            answer_indexes=[0, 1],
            explanation="E.",
        )
        for i in range(5)
    ]

    assert codes(assess(Quiz(title="Q", questions=questions), AudienceLevel.COLLEGE)) == [
        "TOO_SHORT_TO_JUDGE"
    ]


def test_duplicate_card_answers_are_flagged() -> None:
    deck = FlashcardDeck(
        title="D",
        cards=[
            Flashcard(front="Capital of France?", back="Paris"),
            Flashcard(front="City of light?", back=" paris"),
        ],
    )

    issues = [
        i for i in assess(deck, AudienceLevel.ELEMENTARY).issues if i.code != "TOO_SHORT_TO_JUDGE"
    ]

    assert [(i.code, i.field) for i in issues] == [("DUPLICATE_BACKS", "cards[1]")]


def test_short_sections_and_missing_review_questions_are_reported() -> None:
    guide = StudyGuide(
        title="T",
        summary="S.",
        sections=[
            Section(heading="One", content="Too short to teach anything."),
            Section(heading="Two", content=" ".join(["word"] * 25)),
            Section(heading="Three", content=" ".join(["word"] * 25)),
        ],
        key_terms=[KeyTerm(term="Word", definition="A word.")],
    )

    issues = {i.code: i for i in assess(guide, AudienceLevel.HIGH_SCHOOL).issues}

    assert issues["SHORT_SECTION"].field == "sections[0]"
    assert issues["SHORT_SECTION"].severity is IssueSeverity.WARNING
    assert issues["NO_REVIEW_QUESTIONS"].severity is IssueSeverity.INFO


@pytest.mark.parametrize(("minutes", "flagged"), [(1, False), (2, False), (3, True), (5, True)])
def test_podcast_far_from_its_target_length_is_flagged(minutes: int, flagged: bool) -> None:
    # 180 spoken words: 1.2 minutes, within 40% of 1 or 2 minutes.
    report = assess(
        script(*[" ".join(["word"] * 30)] * 6, target_minutes=minutes), AudienceLevel.HIGH_SCHOOL
    )

    assert report.estimated_minutes == 1.2
    assert ("DURATION_OFF_TARGET" in codes(report)) is flagged


def test_feedback_tells_the_writer_what_missed_and_how_to_fix_it() -> None:
    report = assess(script(*[DENSE] * 5), AudienceLevel.MIDDLE_SCHOOL)
    easy = assess(script(*[PLAIN] * 4), AudienceLevel.COLLEGE)

    told = feedback(report)

    assert report.readability is not None
    assert told.startswith(
        "Your previous answer was too hard for middle school readers: it reads at about grade "
        f"{report.readability.reading_grade:g}"
    )
    assert "these readers need grades 5.5 to 9.5" in told
    assert "shorten sentences" in told
    assert "Keep the same structure, facts and JSON format." in told
    assert "too easy for college readers" in feedback(easy)
    assert "grade 11.5 and above" in feedback(easy)
    assert feedback(assess(script(*[PLAIN] * 4), AudienceLevel.ELEMENTARY)) == ""


def test_after_retry_keeps_the_retry_when_it_is_at_least_as_close() -> None:
    first = assess(script(*[DENSE] * 5), AudienceLevel.MIDDLE_SCHOOL)
    retry = assess(script(*[MIDDLING] * 4), AudienceLevel.MIDDLE_SCHOOL)

    keep_retry, report = after_retry(first, retry)

    assert keep_retry
    assert report.audience_fit is AudienceFit.FIT
    assert report.regenerated
    assert not report.needs_review
    (note,) = [i for i in report.issues if i.code == "REGENERATED"]
    assert note.severity is IssueSeverity.INFO
    assert "too hard for middle school readers; it was written again once" in note.message


def test_after_retry_keeps_the_first_when_the_retry_is_further_off_or_failed() -> None:
    first = assess(script(*[MIDDLING] * 4), AudienceLevel.COLLEGE)
    worse = assess(script(*[TINY] * 12), AudienceLevel.COLLEGE)

    keep_retry, report = after_retry(first, worse)
    assert not keep_retry
    assert report.audience_fit is AudienceFit.TOO_EASY  # still flagged, never passed as fit
    assert report.regenerated
    assert report.needs_review
    assert "further from the band, so the first answer is kept" in report.issues[-1].message

    keep_retry, report = after_retry(first, None)
    assert not keep_retry
    assert "asking for it again with feedback failed" in report.issues[-1].message


def test_report_round_trips_through_json() -> None:
    first = assess(script(*[DENSE] * 5), AudienceLevel.ELEMENTARY)
    _, report = after_retry(first, assess(script(*[PLAIN] * 4), AudienceLevel.ELEMENTARY))

    stored: dict[str, Any] = json.loads(json.dumps(report.as_json()))

    assert QualityReport.from_json(stored) == report
    assert stored["audience_fit"] == "fit"
    assert stored["band"] == {"low": 1.0, "high": 6.0}
    assert stored["needs_review"] is False
    assert stored["regenerated"] is True
