from __future__ import annotations

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
from lafactoria.content.markdown import render_markdown


def make_guide(**overrides: object) -> StudyGuide:
    fields: dict[str, object] = {
        "title": "Photosynthesis",
        "summary": "How plants turn light into sugar.",
        "sections": [
            Section(heading="Light", content="Leaves capture light."),
            Section(heading="Water", content="Roots bring water.\n\nIt travels up the stem."),
            Section(heading="Sugar", content="Plants make glucose."),
        ],
        "key_terms": [KeyTerm(term="Chlorophyll", definition="The green pigment.")],
        "review_questions": ["What do plants need?", "Where does the sugar go?"],
    }
    return StudyGuide.model_validate(fields | overrides)


def make_quiz() -> Quiz:
    return Quiz(
        title="Arithmetic",
        questions=[
            QuizQuestion(
                question="What is 2 + 2?",
                choices=["3", "4", "5"],
                answer_indexes=[1],
                explanation="Two and two make four.",
            ),
            QuizQuestion(
                question="What is 3 x 3?",
                choices=["6", "8", "9", "12"],
                answer_indexes=[2],
                explanation="Three threes are nine.",
            ),
        ],
    )


def make_podcast(text: str = "Welcome to the show.") -> PodcastScript:
    return PodcastScript(
        title="Volcanoes",
        speakers=[Speaker(name="Ana", role="host"), Speaker(name="Sam", role="guest")],
        lines=[ScriptLine(speaker="Ana", text=text), ScriptLine(speaker="Sam", text="Thanks!")],
    )


def test_study_guide() -> None:
    assert render_markdown(make_guide()) == (
        "# Photosynthesis\n"
        "\n"
        "How plants turn light into sugar.\n"
        "\n"
        "## Light\n"
        "\n"
        "Leaves capture light.\n"
        "\n"
        "## Water\n"
        "\n"
        "Roots bring water.\n"
        "\n"
        "It travels up the stem.\n"
        "\n"
        "## Sugar\n"
        "\n"
        "Plants make glucose.\n"
        "\n"
        "## Key terms\n"
        "\n"
        "- **Chlorophyll**: The green pigment.\n"
        "\n"
        "## Review questions\n"
        "\n"
        "1. What do plants need?\n"
        "2. Where does the sugar go?\n"
    )


def test_study_guide_without_review_questions_has_no_empty_heading() -> None:
    markdown = render_markdown(make_guide(review_questions=[]))

    assert "Review questions" not in markdown
    assert markdown.endswith("- **Chlorophyll**: The green pigment.\n")


def test_flashcards_render_as_a_table() -> None:
    deck = FlashcardDeck(
        title="Capitals",
        cards=[
            Flashcard(front="Capital of France?", back="Paris"),
            Flashcard(front="Either | or?", back="Line one\nline two"),
        ],
    )

    assert render_markdown(deck) == (
        "# Capitals\n"
        "\n"
        "| # | Front | Back |\n"
        "| --: | --- | --- |\n"
        "| 1 | Capital of France? | Paris |\n"
        "| 2 | Either \\| or? | Line one line two |\n"
    )


def test_multiple_answer_question_says_so_and_keys_every_answer() -> None:
    quiz = Quiz(
        title="Primes",
        questions=[
            QuizQuestion(
                question="Which are prime?",
                kind=QuestionKind.MULTIPLE,
                choices=["2", "4", "5", "9"],
                answer_indexes=[2, 0],
                explanation="2 and 5 have no divisors but 1 and themselves.",
            )
        ],
    )

    assert render_markdown(quiz) == (
        "# Primes\n"
        "\n"
        "## 1. Which are prime?\n"
        "\n"
        "*Select all that apply.*\n"
        "\n"
        "- **A.** 2\n"
        "- **B.** 4\n"
        "- **C.** 5\n"
        "- **D.** 9\n"
        "\n"
        "## Answer key\n"
        "\n"
        "1. **A. 2, C. 5** — 2 and 5 have no divisors but 1 and themselves.\n"
    )


def test_quiz_has_lettered_choices_and_an_answer_key_at_the_end() -> None:
    assert render_markdown(make_quiz()) == (
        "# Arithmetic\n"
        "\n"
        "## 1. What is 2 + 2?\n"
        "\n"
        "- **A.** 3\n"
        "- **B.** 4\n"
        "- **C.** 5\n"
        "\n"
        "## 2. What is 3 x 3?\n"
        "\n"
        "- **A.** 6\n"
        "- **B.** 8\n"
        "- **C.** 9\n"
        "- **D.** 12\n"
        "\n"
        "## Answer key\n"
        "\n"
        "1. **B. 4** — Two and two make four.\n"
        "2. **C. 9** — Three threes are nine.\n"
    )


def test_podcast_labels_speakers_and_gives_the_duration() -> None:
    assert render_markdown(make_podcast()) == (
        "# Volcanoes\n"
        "\n"
        "*Conversation · target 3 min · estimated 0.0 min at 150 words a minute*\n"
        "\n"
        "**Speakers:** Ana (host), Sam (guest)\n"
        "\n"
        "**Ana:** Welcome to the show.\n"
        "\n"
        "**Sam:** Thanks!\n"
    )


def test_podcast_duration_uses_the_estimate() -> None:
    markdown = render_markdown(make_podcast(" ".join(["word"] * 450)))

    assert "estimated 3.0 min at 150 words a minute*" in markdown


HOSTILE = "# Not a heading\n- not a list\n> not a quote\n```\n    not code\n1. not an item\n---"


def test_text_cannot_open_structure_of_its_own() -> None:
    guide = make_guide(
        title="## Sneaky #",
        summary=HOSTILE,
        sections=[
            Section(heading="A\n# B", content=HOSTILE),
            Section(heading="C", content="<div>raw html</div> and more"),
            Section(heading="D", content="===\nthen some words"),
        ],
        key_terms=[KeyTerm(term="**bold** end", definition="# def")],
        review_questions=["# question", "2) second"],
    )

    markdown = render_markdown(guide)

    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert headings == [
        "# \\## Sneaky \\#",
        "## A # B",
        "## C",
        "## D",
        "## Key terms",
        "## Review questions",
    ]
    assert "\\# Not a heading\n\\- not a list\n\\> not a quote\n\\```\nnot code\n" in markdown
    assert "1\\. not an item\n\\---" in markdown
    assert "\\<div>raw html</div> and more" in markdown
    assert "\n\\===\nthen some words\n" in markdown
    assert "- **\\*\\*bold\\*\\* end**: \\# def" in markdown
    assert "1. \\# question\n2. 2\\) second" in markdown


def test_inline_text_is_not_escaped_needlessly() -> None:
    guide = make_guide(summary="C# costs 3.50 and is *great*; -5 degrees < 0 #tag")

    assert "\nC# costs 3.50 and is *great*; -5 degrees < 0 #tag\n" in render_markdown(guide)


def test_speaker_name_cannot_close_the_bold_label() -> None:
    script = PodcastScript(
        title="T",
        format=PodcastFormat.BRIEF,
        target_minutes=1,
        speakers=[Speaker(name="A*", role="narrator")],
        lines=[ScriptLine(speaker="A*", text="One."), ScriptLine(speaker="A*", text="Two.")],
    )

    markdown = render_markdown(script)

    assert "**A\\*:** One." in markdown
    assert "*Brief · target 1 min · estimated 0.0 min at 150 words a minute*" in markdown
    assert "**Speaker:** A* (narrator)" in markdown
