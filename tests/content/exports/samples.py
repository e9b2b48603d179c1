"""Bodies full of the characters each export format must escape."""

from __future__ import annotations

from lafactoria.content.bodies import (
    Flashcard,
    FlashcardDeck,
    KeyTerm,
    PodcastScript,
    QuestionKind,
    Quiz,
    QuizQuestion,
    ScriptLine,
    Section,
    Speaker,
    StudyGuide,
)

# TSV: tab, line break, double quote. GIFT: ~ = # { } : and backslash. XML/HTML: < > & " '.
# Anki deck names: "::". Everywhere: emoji and non-Latin scripts.
TRICKY = [
    "Tab\there and a\nsecond line",
    "He said \"hello\" and 'bye'",
    "GIFT specials ~ = # { } : and a back\\slash",
    "Markup <b>bold</b> & <script>alert(1)</script>",
    "Emoji 🧬🔬 and 日本語 and Ελληνικά",
    "[html]<i>not a format marker</i>",
    "// not a comment, and ]]> is no CDATA end",
    "Percent %50% is not a GIFT weight",
    "Entity &amp; stays literal &lt;",
    "Arrows -> and => are not matching pairs",
]


def tricky_deck() -> FlashcardDeck:
    return FlashcardDeck(
        title='Cells :: the "basics" 🧬 {#1}',
        cards=[Flashcard(front=text, back=f"Answer {n}: {text}") for n, text in enumerate(TRICKY)],
    )


def tricky_quiz() -> Quiz:
    questions = [
        QuizQuestion(
            question=f"Q{n}: which is {text}?",
            choices=[f"Right — {text}", f"Wrong = {n} ~ {{a}}", f"Also wrong: #{n}"],
            answer_indexes=[n % 3],
            explanation=f"Because {text}",
        )
        for n, text in enumerate(TRICKY)
    ]
    questions += [
        QuizQuestion(
            question=f"Select all that apply ({count} right): {{cells}} & <organelles>",
            kind=QuestionKind.MULTIPLE,
            choices=["Nucleus 🧬", "Mitochondria = power", "Ribosome ~ factory", "Wall: #1", "x"],
            answer_indexes=list(range(1, count + 1)),
            explanation="Eukaryotic cells have all of these \\ but not the last.",
        )
        for count in (2, 3, 4)
    ]
    return Quiz(title='Quiz: <cells> & "more" 🔬', questions=questions)


def tricky_study_guide() -> StudyGuide:
    return StudyGuide(
        title="# Not a heading: <cells> & 🧬",
        summary=TRICKY[0],
        sections=[Section(heading=f"Part {n}", content=text) for n, text in enumerate(TRICKY[:3])],
        key_terms=[KeyTerm(term="**bold?**", definition=TRICKY[3])],
        review_questions=[TRICKY[4]],
    )


def tricky_podcast() -> PodcastScript:
    return PodcastScript(
        title='Episode 1: <Cells> & "you" 🎧',
        speakers=[Speaker(name="Ada", role="host"), Speaker(name="Dr. Ōno", role="guest")],
        lines=[
            ScriptLine(speaker="Ada" if n % 2 == 0 else "Dr. Ōno", text=text)
            for n, text in enumerate(TRICKY)
        ],
    )
