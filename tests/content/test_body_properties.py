"""Property tests: every body the validators accept renders (and exports); broken shapes fail.

Bodies are generated from arbitrary Unicode text, Markdown metacharacters included, so these
tests also show that model output cannot change the structure of the Markdown it lands in.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from lafactoria.content.bodies import (
    MAX_CARDS,
    MAX_TARGET_MINUTES,
    Body,
    FlashcardDeck,
    PodcastScript,
    Quiz,
    StudyGuide,
    normalise,
    parse_body,
)
from lafactoria.content.enums import ContentType
from lafactoria.content.exports import formats as exports
from lafactoria.content.markdown import render_markdown
from lafactoria.content.models import Content
from lafactoria.providers.errors import OutputInvalid

PROPERTIES = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)

# Any character a model could send back, plus a heavy dose of Markdown syntax.
_CHARS = st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from(
    list("#*_-+>|`~=:[]()<>!\\.1 \n\t")
)
TEXT = st.text(_CHARS, min_size=1, max_size=30).filter(lambda text: bool(text.strip()))
WORD = st.text(_CHARS, min_size=1, max_size=10).filter(
    lambda word: bool(word) and not any(char.isspace() for char in word)
)
PROSE = st.lists(WORD, min_size=3, max_size=12).map(" ".join)


def _unique(elements: st.SearchStrategy[str], min_size: int, max_size: int) -> Any:
    return st.lists(elements, min_size=min_size, max_size=max_size, unique_by=normalise)


@st.composite
def study_guides(draw: st.DrawFn) -> dict[str, Any]:
    headings = draw(_unique(TEXT, 3, 6))
    terms = draw(_unique(TEXT, 1, 4))
    return {
        "title": draw(TEXT),
        "summary": draw(TEXT),
        "sections": [{"heading": h, "content": draw(PROSE)} for h in headings],
        "key_terms": [{"term": t, "definition": draw(TEXT)} for t in terms],
        "review_questions": draw(st.lists(TEXT, max_size=4)),
    }


@st.composite
def flashcard_decks(draw: st.DrawFn) -> dict[str, Any]:
    fronts = draw(_unique(TEXT, 1, MAX_CARDS))
    cards = []
    for front in fronts:
        back = draw(TEXT.filter(lambda text, front=front: normalise(text) != normalise(front)))
        cards.append({"front": front, "back": back})
    return {"title": draw(TEXT), "cards": cards}


@st.composite
def quizzes(draw: st.DrawFn) -> dict[str, Any]:
    questions = []
    for question in draw(_unique(TEXT, 1, 6)):
        choices = draw(_unique(TEXT, 3, 5))
        multiple = draw(st.booleans())
        count = draw(st.integers(2, len(choices) - 1)) if multiple else 1
        answers = draw(st.permutations(range(len(choices))))[:count]
        questions.append(
            {
                "question": question,
                "kind": "multiple" if multiple else "single",
                "choices": choices,
                "answer_indexes": list(answers),
                "explanation": draw(TEXT),
            }
        )
    return {"title": draw(TEXT), "questions": questions}


@st.composite
def podcasts(draw: st.DrawFn) -> dict[str, Any]:
    brief = draw(st.booleans())
    names = draw(_unique(TEXT, 1 if brief else 2, 1 if brief else 2))
    lines = draw(st.lists(TEXT, min_size=2, max_size=12))
    return {
        "title": draw(TEXT),
        "format": "brief" if brief else "conversation",
        "target_minutes": draw(st.integers(1, MAX_TARGET_MINUTES)),
        "speakers": [{"name": name, "role": draw(TEXT)} for name in names],
        "lines": [
            {"speaker": names[index % len(names)], "text": text} for index, text in enumerate(lines)
        ],
    }


BODIES = {
    ContentType.STUDY_GUIDE: study_guides(),
    ContentType.FLASHCARDS: flashcard_decks(),
    ContentType.QUIZ: quizzes(),
    ContentType.PODCAST: podcasts(),
}
any_body = st.sampled_from(list(ContentType)).flatmap(
    lambda content_type: st.tuples(st.just(content_type), BODIES[content_type])
)

_MARKDOWN = MarkdownIt("commonmark").enable("table")


def _blocks(markdown: str) -> list[Token]:
    return [token for token in _MARKDOWN.parse(markdown) if token.nesting == 1]


def _count(tokens: list[Token], kind: str, tag: str | None = None) -> int:
    return sum(1 for t in tokens if t.type == kind and (tag is None or t.tag == tag))


def _expected_structure(body: Body) -> dict[tuple[str, str | None], int]:
    """How many of each block a well-escaped rendering of ``body`` contains."""
    if isinstance(body, StudyGuide):
        review = 1 if body.review_questions else 0
        return {
            ("heading_open", "h1"): 1,
            ("heading_open", "h2"): len(body.sections) + 1 + review,
            ("bullet_list_open", None): 1,
            ("ordered_list_open", None): review,
            ("list_item_open", None): len(body.key_terms) + len(body.review_questions),
            ("table_open", None): 0,
            ("blockquote_open", None): 0,
        }
    if isinstance(body, FlashcardDeck):
        return {
            ("heading_open", None): 1,
            ("table_open", None): 1,
            ("tr_open", None): len(body.cards) + 1,
            ("list_item_open", None): 0,
            ("blockquote_open", None): 0,
        }
    if isinstance(body, Quiz):
        choices = sum(len(q.choices) for q in body.questions)
        return {
            ("heading_open", "h1"): 1,
            ("heading_open", "h2"): len(body.questions) + 1,
            ("bullet_list_open", None): len(body.questions),
            ("ordered_list_open", None): 1,
            ("list_item_open", None): choices + len(body.questions),
            ("table_open", None): 0,
            ("blockquote_open", None): 0,
        }
    assert isinstance(body, PodcastScript)
    return {
        ("heading_open", None): 1,
        ("paragraph_open", None): 2 + len(body.lines),
        ("list_item_open", None): 0,
        ("table_open", None): 0,
        ("blockquote_open", None): 0,
    }


@PROPERTIES
@given(any_body)
def test_every_accepted_body_renders_to_markdown_of_its_own_shape(
    case: tuple[ContentType, dict[str, Any]],
) -> None:
    content_type, data = case

    body = parse_body(content_type, data)
    markdown = render_markdown(body)

    assert markdown.endswith("\n")
    assert not markdown.endswith("\n\n")
    blocks = _blocks(markdown)
    found = {key: _count(blocks, *key) for key in _expected_structure(body)}
    assert found == _expected_structure(body), markdown
    # Stored and read back (JSON), the body is the same and renders the same.
    again = parse_body(content_type, body.model_dump_json())
    assert again == body
    assert render_markdown(again) == markdown


@PROPERTIES
@given(any_body)
def test_every_accepted_body_exports_in_every_format_its_type_offers(
    case: tuple[ContentType, dict[str, Any]],
) -> None:
    content_type, data = case
    body = parse_body(content_type, data)
    row = Content(
        id="c" * 32,
        user_id="u" * 32,
        title=body.title,
        topic="topic",
        content_type=content_type.value,
        audience_level="college",
        body=body.model_dump(mode="json"),
        markdown=render_markdown(body),
        provider="offline",
        model="offline-template-v1",
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )

    for exporter in exports.exporters_for(content_type):
        exported = exports.export(row, exporter.format)

        assert exported.data, exporter.format
        assert exported.file_name.endswith(exporter.suffix)


# --- malformed shapes: one change to a valid body, and it is refused -------------------------


@PROPERTIES
@given(quizzes(), st.data())
def test_a_single_answer_question_with_two_correct_choices_is_rejected(
    quiz: dict[str, Any], data: st.DataObject
) -> None:
    broken = copy.deepcopy(quiz)
    index = data.draw(st.integers(0, len(broken["questions"]) - 1))
    question = broken["questions"][index]
    question["kind"] = "single"
    question["answer_indexes"] = data.draw(st.permutations(range(len(question["choices"]))))[:2]

    with pytest.raises(OutputInvalid, match="exactly one correct choice, not 2"):
        parse_body(ContentType.QUIZ, broken)


@PROPERTIES
@given(flashcard_decks(), st.data())
def test_a_deck_with_a_repeated_front_is_rejected(
    deck: dict[str, Any], data: st.DataObject
) -> None:
    broken = copy.deepcopy(deck)
    card = data.draw(st.sampled_from(broken["cards"]))
    # The same front again, differing only in case and spacing; a full deck makes room.
    twin = {"front": f"  {card['front'].casefold()} ", "back": card["back"]}
    if len(broken["cards"]) == MAX_CARDS:
        broken["cards"].remove(next(c for c in broken["cards"] if c is not card))
    broken["cards"].insert(data.draw(st.integers(0, len(broken["cards"]))), twin)

    with pytest.raises(OutputInvalid, match="card fronts must be unique"):
        parse_body(ContentType.FLASHCARDS, broken)


@PROPERTIES
@given(study_guides(), st.data(), st.sampled_from(["", "   ", "\n\t ", "One"]))
def test_a_guide_with_an_empty_section_is_rejected(
    guide: dict[str, Any], data: st.DataObject, empty: str
) -> None:
    broken = copy.deepcopy(guide)
    index = data.draw(st.integers(0, len(broken["sections"]) - 1))
    broken["sections"][index]["content"] = empty

    with pytest.raises(OutputInvalid, match=rf"sections\[{index}\]\.content"):
        parse_body(ContentType.STUDY_GUIDE, broken)


@PROPERTIES
@given(podcasts().filter(lambda p: p["format"] == "conversation"), st.data())
def test_a_conversation_where_one_host_speaks_twice_in_a_row_is_rejected(
    script: dict[str, Any], data: st.DataObject
) -> None:
    broken = copy.deepcopy(script)
    index = data.draw(st.integers(0, len(broken["lines"]) - 1))
    broken["lines"].insert(index + 1, dict(broken["lines"][index]))

    with pytest.raises(OutputInvalid, match="speaks twice in a row"):
        parse_body(ContentType.PODCAST, broken)
