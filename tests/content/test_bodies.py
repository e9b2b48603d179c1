from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError

from lafactoria.content.bodies import (
    BODY_MODELS,
    PodcastScript,
    Quiz,
    StudyGuide,
    body_json_schema,
    parse_body,
)
from lafactoria.content.enums import ContentType
from lafactoria.providers.errors import OutputInvalid


def make_study_guide(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Photosynthesis",
        "summary": "How plants turn light into sugar.",
        "sections": [
            {"heading": "Light", "content": "Leaves capture light."},
            {"heading": "Water", "content": "Roots bring water."},
            {"heading": "Sugar", "content": "Plants make glucose."},
        ],
        "key_terms": [{"term": "Chlorophyll", "definition": "The green pigment."}],
        "review_questions": ["What do plants need?"],
    }
    return data | overrides


def make_flashcards(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Capitals",
        "cards": [
            {"front": "Capital of France?", "back": "Paris"},
            {"front": "Capital of Peru?", "back": "Lima"},
        ],
    }
    return data | overrides


def make_question(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "question": "What is 2 + 2?",
        "choices": ["3", "4", "5"],
        "answer_index": 1,
        "explanation": "Two and two make four.",
    }
    return data | overrides


def make_quiz(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"title": "Arithmetic", "questions": [make_question()]}
    return data | overrides


def make_podcast(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Volcanoes",
        "speakers": [{"name": "Ana", "role": "host"}, {"name": "Sam", "role": "guest"}],
        "lines": [
            {"speaker": "Ana", "text": "Welcome to the show."},
            {"speaker": "Sam", "text": "Thanks for having me."},
        ],
    }
    return data | overrides


BUILDERS = {
    ContentType.STUDY_GUIDE: make_study_guide,
    ContentType.FLASHCARDS: make_flashcards,
    ContentType.QUIZ: make_quiz,
    ContentType.PODCAST: make_podcast,
}


def test_every_content_type_has_a_model() -> None:
    assert set(BODY_MODELS) == set(ContentType)


@pytest.mark.parametrize("content_type", list(ContentType))
def test_valid_body_is_accepted_and_round_trips(content_type: ContentType) -> None:
    data = BUILDERS[content_type]()

    body = parse_body(content_type, data)

    assert isinstance(body, BODY_MODELS[content_type])
    assert body.model_dump() == data
    assert parse_body(content_type, body.model_dump_json()) == body


def test_strings_are_stripped() -> None:
    data = make_study_guide(title="  Photosynthesis \n", review_questions=["  Why? "])

    guide = parse_body(ContentType.STUDY_GUIDE, data)

    assert isinstance(guide, StudyGuide)
    assert guide.title == "Photosynthesis"
    assert guide.review_questions == ["Why?"]


def test_review_questions_default_to_empty() -> None:
    data = make_study_guide()
    del data["review_questions"]

    guide = parse_body(ContentType.STUDY_GUIDE, data)

    assert isinstance(guide, StudyGuide)
    assert guide.review_questions == []


def test_bodies_are_frozen() -> None:
    guide = parse_body(ContentType.STUDY_GUIDE, make_study_guide())

    with pytest.raises(ValidationError):
        guide.title = "Changed"  # type: ignore[misc]  # the point: frozen models refuse it


REJECTED = [
    pytest.param(
        ContentType.STUDY_GUIDE,
        make_study_guide(sections=make_study_guide()["sections"][:2]),
        "sections",
        id="two-sections",
    ),
    pytest.param(
        ContentType.STUDY_GUIDE, make_study_guide(key_terms=[]), "key_terms", id="no-key-terms"
    ),
    pytest.param(ContentType.STUDY_GUIDE, make_study_guide(title=""), "title", id="empty-title"),
    pytest.param(
        ContentType.STUDY_GUIDE, make_study_guide(summary="   \n "), "summary", id="blank-summary"
    ),
    pytest.param(
        ContentType.STUDY_GUIDE,
        make_study_guide(review_questions=["Fine?", " "]),
        "review_questions[1]",
        id="blank-review-question",
    ),
    pytest.param(
        ContentType.STUDY_GUIDE,
        make_study_guide(colour="green"),
        "colour: Extra inputs are not permitted",
        id="extra-key",
    ),
    pytest.param(
        ContentType.STUDY_GUIDE,
        make_study_guide(
            sections=[*make_study_guide()["sections"], {"heading": "X", "content": "Y", "n": 1}]
        ),
        "sections[3].n",
        id="extra-nested-key",
    ),
    pytest.param(
        ContentType.FLASHCARDS,
        make_flashcards(
            cards=[
                {"front": "Capital of  France?", "back": "Paris"},
                {"front": "capital of france?", "back": "Paris"},
            ]
        ),
        "card fronts must be unique",
        id="duplicate-fronts",
    ),
    pytest.param(ContentType.FLASHCARDS, make_flashcards(cards=[]), "cards", id="no-cards"),
    pytest.param(
        ContentType.FLASHCARDS,
        make_flashcards(cards=[{"front": f"Q{i}", "back": "A"} for i in range(51)]),
        "cards",
        id="fifty-one-cards",
    ),
    pytest.param(
        ContentType.FLASHCARDS,
        make_flashcards(cards=[{"front": "Q", "back": ""}]),
        "cards[0].back",
        id="empty-back",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(answer_index=3)]),
        "answer_index 3 is out of range",
        id="answer-index-out-of-range",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(answer_index=-1)]),
        "questions[0].answer_index",
        id="negative-answer-index",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(choices=["4", "Four", " four "])]),
        "choices must be distinct",
        id="duplicate-choices",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(choices=["3", "4"], answer_index=0)]),
        "questions[0].choices",
        id="two-choices",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(choices=["1", "2", "3", "4", "5", "6"])]),
        "questions[0].choices",
        id="six-choices",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(), make_question(question="what is 2 + 2?")]),
        "appears more than once",
        id="duplicate-questions",
    ),
    pytest.param(ContentType.QUIZ, make_quiz(questions=[]), "questions", id="no-questions"),
    pytest.param(
        ContentType.PODCAST,
        make_podcast(lines=[*make_podcast()["lines"], {"speaker": "Bob", "text": "Hi."}]),
        "lines[2].speaker 'Bob' is not one of the speakers (Ana, Sam)",
        id="unknown-speaker",
    ),
    pytest.param(
        ContentType.PODCAST,
        make_podcast(speakers=[{"name": "Ana", "role": "host"}, {"name": "ana", "role": "x"}]),
        "speaker names must be unique",
        id="duplicate-speakers",
    ),
    pytest.param(
        ContentType.PODCAST,
        make_podcast(speakers=[{"name": f"S{i}", "role": "guest"} for i in range(5)]),
        "speakers",
        id="five-speakers",
    ),
    pytest.param(
        ContentType.PODCAST,
        make_podcast(lines=make_podcast()["lines"][:1]),
        "lines",
        id="one-line",
    ),
    pytest.param(ContentType.QUIZ, ["not", "an", "object"], "valid dictionary", id="not-object"),
]


@pytest.mark.parametrize(("content_type", "data", "expected"), REJECTED)
def test_malformed_body_is_rejected_with_the_first_problem(
    content_type: ContentType, data: Any, expected: str
) -> None:
    with pytest.raises(OutputInvalid) as caught:
        parse_body(content_type, data)

    assert expected in caught.value.message
    assert caught.value.message.startswith(f"invalid {content_type.value.replace('_', ' ')}: ")
    assert caught.value.code == "OUTPUT_INVALID"


def test_invalid_json_text_is_rejected() -> None:
    with pytest.raises(OutputInvalid, match="Invalid JSON"):
        parse_body(ContentType.QUIZ, '{"title": "x", "questions": [')


def test_message_counts_further_problems() -> None:
    with pytest.raises(OutputInvalid) as caught:
        parse_body(ContentType.QUIZ, {"title": "", "questions": []})

    assert caught.value.message == (
        "invalid quiz: title: String should have at least 1 character (and 1 more)"
    )


def test_estimated_minutes_counts_spoken_words_at_150_a_minute() -> None:
    lines = [
        {"speaker": "Ana", "text": " ".join(["word"] * 100)},
        {"speaker": "Sam", "text": " ".join(["word"] * 125)},
    ]
    script = parse_body(ContentType.PODCAST, make_podcast(lines=lines))

    assert isinstance(script, PodcastScript)
    assert script.estimated_minutes == 1.5
    assert "estimated_minutes" not in script.model_dump()


def test_quiz_answer_index_points_at_the_choice() -> None:
    quiz = parse_body(ContentType.QUIZ, make_quiz())

    assert isinstance(quiz, Quiz)
    question = quiz.questions[0]
    assert question.choices[question.answer_index] == "4"


STRICT_KEYWORDS = {"type", "properties", "required", "additionalProperties", "items", "description"}


def _walk_objects(node: dict[str, Any], path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    assert set(node) <= STRICT_KEYWORDS | {"enum"}, f"{path} uses {set(node) - STRICT_KEYWORDS}"
    if node.get("type") == "object":
        found.append((path, node))
        for name, prop in node["properties"].items():
            found += _walk_objects(prop, f"{path}.{name}")
    if node.get("type") == "array":
        found += _walk_objects(node["items"], f"{path}[]")
    return found


@pytest.mark.parametrize("content_type", list(ContentType))
def test_schema_is_strict_mode_shaped(content_type: ContentType) -> None:
    schema = body_json_schema(content_type)

    objects = _walk_objects(schema)

    assert objects[0][0] == "$"
    assert "$ref" not in json.dumps(schema)
    for path, node in objects:
        assert node["additionalProperties"] is False, path
        assert node["required"] == list(node["properties"]), path


@pytest.mark.parametrize("content_type", list(ContentType))
def test_schema_lists_exactly_the_model_fields(content_type: ContentType) -> None:
    schema = body_json_schema(content_type)

    assert list(schema["properties"]) == list(BODY_MODELS[content_type].model_fields)


def test_schema_is_a_fresh_copy_each_time() -> None:
    schema = body_json_schema(ContentType.QUIZ)
    pristine = copy.deepcopy(schema)

    schema["properties"].clear()

    assert body_json_schema(ContentType.QUIZ) == pristine


def test_schema_describes_the_limits_it_cannot_express() -> None:
    question = body_json_schema(ContentType.QUIZ)["properties"]["questions"]["items"]

    assert "3 to 5" in question["properties"]["choices"]["description"]
    assert "Zero-based" in question["properties"]["answer_index"]["description"]
    assert question["properties"]["answer_index"]["type"] == "integer"
