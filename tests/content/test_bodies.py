from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError

from lafactoria.content.bodies import (
    BODY_MODELS,
    BodySpec,
    FlashcardDeck,
    PodcastFormat,
    PodcastScript,
    QuestionKind,
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
        "kind": "single",
        "choices": ["3", "4", "5"],
        "answer_indexes": [1],
        "explanation": "Two and two make four.",
    }
    return data | overrides


def make_quiz(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"title": "Arithmetic", "questions": [make_question()]}
    return data | overrides


def make_podcast(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Volcanoes",
        "format": "conversation",
        "target_minutes": 3,
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
    pytest.param(
        ContentType.STUDY_GUIDE,
        make_study_guide(
            sections=[*make_study_guide()["sections"][:2], {"heading": "Empty", "content": " "}]
        ),
        "sections[2].content",
        id="empty-section",
    ),
    pytest.param(
        ContentType.STUDY_GUIDE,
        make_study_guide(
            sections=[*make_study_guide()["sections"][:2], {"heading": "Thin", "content": "TBD"}]
        ),
        "a section needs at least 3 words of prose",
        id="one-word-section",
    ),
    pytest.param(
        ContentType.STUDY_GUIDE,
        make_study_guide(
            sections=[
                *make_study_guide()["sections"][:2],
                {"heading": "light ", "content": "Again about light."},
            ]
        ),
        "section headings must be unique",
        id="duplicate-headings",
    ),
    pytest.param(
        ContentType.STUDY_GUIDE,
        make_study_guide(
            key_terms=[
                {"term": "Chlorophyll", "definition": "A pigment."},
                {"term": "chlorophyll", "definition": "Again."},
            ]
        ),
        "key terms must be unique",
        id="duplicate-terms",
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
            sections=[
                *make_study_guide()["sections"],
                {"heading": "X", "content": "Some real prose.", "n": 1},
            ]
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
        make_flashcards(cards=[{"front": f"Q{i}", "back": "A"} for i in range(31)]),
        "cards",
        id="thirty-one-cards",
    ),
    pytest.param(
        ContentType.FLASHCARDS,
        make_flashcards(cards=[{"front": "Paris", "back": " paris "}]),
        "must answer its front, not repeat it",
        id="back-repeats-front",
    ),
    pytest.param(
        ContentType.FLASHCARDS,
        make_flashcards(cards=[{"front": "Q", "back": ""}]),
        "cards[0].back",
        id="empty-back",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(answer_indexes=[3])]),
        "answer index 3 is out of range for 3 choices",
        id="answer-index-out-of-range",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(answer_indexes=[-1])]),
        "answer index -1 is out of range",
        id="negative-answer-index",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(answer_indexes=[0, 1])]),
        "a single-answer question has exactly one correct choice, not 2",
        id="two-correct-answers-in-a-single-question",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(answer_indexes=[])]),
        "questions[0].answer_indexes",
        id="no-correct-answer",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(kind="multiple", answer_indexes=[1])]),
        "needs at least two correct choices and one wrong one",
        id="multiple-with-one-answer",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(kind="multiple", answer_indexes=[0, 1, 2])]),
        "needs at least two correct choices and one wrong one",
        id="multiple-with-every-choice-correct",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(kind="multiple", answer_indexes=[1, 1])]),
        "lists a choice more than once",
        id="repeated-answer-index",
    ),
    pytest.param(
        ContentType.QUIZ,
        make_quiz(questions=[make_question(kind="several")]),
        "questions[0].kind",
        id="unknown-kind",
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
        make_podcast(speakers=[{"name": f"S{i}", "role": "guest"} for i in range(3)]),
        "speakers",
        id="three-speakers",
    ),
    pytest.param(
        ContentType.PODCAST,
        make_podcast(speakers=[{"name": "Ana", "role": "host"}]),
        "a conversation has 2 speakers, not 1",
        id="conversation-with-one-speaker",
    ),
    pytest.param(
        ContentType.PODCAST,
        make_podcast(format="brief"),
        "a brief has 1 speaker, not 2",
        id="brief-with-two-speakers",
    ),
    pytest.param(
        ContentType.PODCAST,
        make_podcast(
            lines=[
                {"speaker": "Ana", "text": "Welcome."},
                {"speaker": "Ana", "text": "Still me."},
            ]
        ),
        "lines[1]: Ana speaks twice in a row",
        id="hosts-do-not-alternate",
    ),
    pytest.param(
        ContentType.PODCAST, make_podcast(target_minutes=0), "target_minutes", id="zero-minutes"
    ),
    pytest.param(
        ContentType.PODCAST, make_podcast(target_minutes=11), "target_minutes", id="too-long"
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


def test_legacy_single_answer_index_is_read_as_a_single_answer() -> None:
    legacy = make_question()
    del legacy["answer_indexes"], legacy["kind"]

    quiz = parse_body(ContentType.QUIZ, make_quiz(questions=[legacy | {"answer_index": 2}]))

    assert isinstance(quiz, Quiz)
    assert quiz.questions[0].answer_indexes == [2]
    assert quiz.questions[0].kind is QuestionKind.SINGLE


def test_multiple_answer_question_is_accepted_when_declared() -> None:
    question = make_question(kind="multiple", choices=["2", "4", "3 + 1", "5"])
    question["answer_indexes"] = [2, 1]

    quiz = parse_body(ContentType.QUIZ, make_quiz(questions=[question]))

    assert isinstance(quiz, Quiz)
    assert quiz.questions[0].correct_choices == ["4", "3 + 1"]


def test_brief_podcast_has_one_speaker_who_may_speak_every_line() -> None:
    data = make_podcast(
        format="brief",
        speakers=[{"name": "Ana", "role": "narrator"}],
        lines=[{"speaker": "Ana", "text": "One."}, {"speaker": "Ana", "text": "Two."}],
    )

    script = parse_body(ContentType.PODCAST, data)

    assert isinstance(script, PodcastScript)
    assert script.format is PodcastFormat.BRIEF


@pytest.mark.parametrize(
    ("spec", "cards", "problem"),
    [
        (BodySpec(), 9, "the deck has 9 cards; 10 to 30 were asked for"),
        (BodySpec(), 10, None),
        (BodySpec(), 30, None),
        (BodySpec.requested(card_count=12), 12, None),
        (BodySpec.requested(card_count=12), 11, "the deck has 11 cards; 12 were asked for"),
    ],
)
def test_spec_holds_a_deck_to_the_requested_count(
    spec: BodySpec, cards: int, problem: str | None
) -> None:
    data = make_flashcards(cards=[{"front": f"Q{i}", "back": f"A{i}"} for i in range(cards)])

    if problem is None:
        assert len(_cards(parse_body(ContentType.FLASHCARDS, data, spec))) == cards
    else:
        with pytest.raises(OutputInvalid, match=problem):
            parse_body(ContentType.FLASHCARDS, data, spec)
    # Read back without a spec (a stored item), any count up to the maximum is fine.
    assert len(_cards(parse_body(ContentType.FLASHCARDS, data))) == cards


def _cards(body: object) -> list[object]:
    assert isinstance(body, FlashcardDeck)
    return list(body.cards)


def test_spec_sets_the_podcast_format_and_length_whatever_the_answer_says() -> None:
    data = make_podcast(
        format="conversation",
        target_minutes=9,
        speakers=[{"name": "Ana", "role": "narrator"}],
        lines=[{"speaker": "Ana", "text": "One."}, {"speaker": "Ana", "text": "Two."}],
    )
    spec = BodySpec.requested(podcast_format=PodcastFormat.BRIEF, target_minutes=4)

    script = parse_body(ContentType.PODCAST, json.dumps(data), spec)

    assert isinstance(script, PodcastScript)
    assert (script.format, script.target_minutes) == (PodcastFormat.BRIEF, 4)
    with pytest.raises(OutputInvalid, match="a conversation has 2 speakers"):
        parse_body(ContentType.PODCAST, data, BodySpec())


def test_spec_round_trips_through_json() -> None:
    spec = BodySpec.requested(card_count=7, podcast_format=PodcastFormat.BRIEF, target_minutes=5)

    assert BodySpec.from_json(json.loads(json.dumps(spec.as_json()))) == spec
    assert BodySpec.from_json(None) == BodySpec()


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
    assert question.correct_choices == ["4"]


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
    assert "Zero-based" in question["properties"]["answer_indexes"]["description"]
    assert question["properties"]["answer_indexes"]["items"]["type"] == "integer"
    assert question["properties"]["kind"]["enum"] == ["single", "multiple"]
    podcast = body_json_schema(ContentType.PODCAST)["properties"]
    assert podcast["format"]["enum"] == ["conversation", "brief"]
    assert "alternate" in podcast["lines"]["description"]
