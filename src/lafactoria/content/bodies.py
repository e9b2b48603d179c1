"""The typed body of each content type, and the one gate every provider's output passes.

The pydantic models hold every rule (counts, uniqueness, valid answer index). The JSON Schema
handed to providers is a reduced, strict-mode shaped copy of them: vendors' structured-output
modes accept only a small keyword subset, so the limits travel as descriptions and are enforced
here when the answer comes back.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from functools import cache
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from lafactoria.content.enums import ContentType
from lafactoria.providers.errors import OutputInvalid

NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""Text with surrounding whitespace removed that still has something left."""


def normalise(text: str) -> str:
    """Fold case and runs of whitespace so near-identical strings compare equal."""
    return " ".join(text.split()).casefold()


def _first_duplicate(values: Iterable[str]) -> str | None:
    seen: set[str] = set()
    for value in values:
        key = normalise(value)
        if key in seen:
            return value
        seen.add(key)
    return None


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Section(_Body):
    heading: NonEmptyStr = Field(description="Short section heading.")
    content: NonEmptyStr = Field(description="The section's explanatory prose.")


class KeyTerm(_Body):
    term: NonEmptyStr = Field(description="A word or phrase the learner should know.")
    definition: NonEmptyStr = Field(description="Its meaning, at the audience's level.")


class StudyGuide(_Body):
    title: NonEmptyStr = Field(description="Title of the study guide.")
    summary: NonEmptyStr = Field(description="A short overview of the whole guide.")
    sections: list[Section] = Field(min_length=3, description="At least 3 sections.")
    key_terms: list[KeyTerm] = Field(min_length=1, description="At least 1 key term.")
    review_questions: list[NonEmptyStr] = Field(
        default_factory=list, description="Questions a learner can use to check understanding."
    )


class Flashcard(_Body):
    front: NonEmptyStr = Field(description="The prompt side: a question or a term.")
    back: NonEmptyStr = Field(description="The answer side.")


class FlashcardDeck(_Body):
    title: NonEmptyStr = Field(description="Title of the deck.")
    cards: list[Flashcard] = Field(
        min_length=1, max_length=50, description="1 to 50 cards; every front is different."
    )

    @field_validator("cards")
    @classmethod
    def _fronts_unique(cls, cards: list[Flashcard]) -> list[Flashcard]:
        duplicate = _first_duplicate(card.front for card in cards)
        if duplicate is not None:
            raise ValueError(f"card fronts must be unique; {duplicate!r} appears more than once")
        return cards


class QuizQuestion(_Body):
    question: NonEmptyStr = Field(description="The question, without its choices.")
    choices: list[NonEmptyStr] = Field(
        min_length=3, max_length=5, description="3 to 5 distinct answer choices."
    )
    answer_index: int = Field(ge=0, description="Zero-based index of the one correct choice.")
    explanation: NonEmptyStr = Field(description="Why the correct choice is right.")

    @field_validator("choices")
    @classmethod
    def _choices_distinct(cls, choices: list[str]) -> list[str]:
        duplicate = _first_duplicate(choices)
        if duplicate is not None:
            raise ValueError(f"choices must be distinct; {duplicate!r} appears more than once")
        return choices

    @model_validator(mode="after")
    def _answer_in_range(self) -> QuizQuestion:
        if self.answer_index >= len(self.choices):
            raise ValueError(
                f"answer_index {self.answer_index} is out of range for {len(self.choices)} choices"
            )
        return self


class Quiz(_Body):
    title: NonEmptyStr = Field(description="Title of the quiz.")
    questions: list[QuizQuestion] = Field(
        min_length=1, max_length=30, description="1 to 30 questions, none repeated."
    )

    @field_validator("questions")
    @classmethod
    def _questions_unique(cls, questions: list[QuizQuestion]) -> list[QuizQuestion]:
        duplicate = _first_duplicate(q.question for q in questions)
        if duplicate is not None:
            raise ValueError(f"question {duplicate!r} appears more than once")
        return questions


class Speaker(_Body):
    name: NonEmptyStr = Field(description="The speaker's name as used in the lines.")
    role: NonEmptyStr = Field(description="For example host, co-host or guest expert.")


class ScriptLine(_Body):
    speaker: NonEmptyStr = Field(description="Exactly the name of one of the speakers.")
    text: NonEmptyStr = Field(description="What the speaker says.")


WORDS_PER_MINUTE = 150


class PodcastScript(_Body):
    title: NonEmptyStr = Field(description="Title of the episode.")
    speakers: list[Speaker] = Field(
        min_length=1, max_length=4, description="1 to 4 speakers with different names."
    )
    lines: list[ScriptLine] = Field(min_length=2, description="At least 2 lines, in order.")

    @field_validator("speakers")
    @classmethod
    def _names_unique(cls, speakers: list[Speaker]) -> list[Speaker]:
        duplicate = _first_duplicate(s.name for s in speakers)
        if duplicate is not None:
            raise ValueError(f"speaker names must be unique; {duplicate!r} appears more than once")
        return speakers

    @model_validator(mode="after")
    def _lines_by_known_speakers(self) -> PodcastScript:
        names = [s.name for s in self.speakers]
        for index, line in enumerate(self.lines):
            if line.speaker not in names:
                raise ValueError(
                    f"lines[{index}].speaker {line.speaker!r} is not one of the speakers "
                    f"({', '.join(names)})"
                )
        return self

    # A plain property, not a computed field, so ``model_dump()`` round-trips through
    # ``parse_body`` despite ``extra="forbid"``.
    @property
    def estimated_minutes(self) -> float:
        """Speaking time at 150 words a minute, to one decimal."""
        words = sum(len(line.text.split()) for line in self.lines)
        return round(words / WORDS_PER_MINUTE, 1)


Body = StudyGuide | FlashcardDeck | Quiz | PodcastScript

BODY_MODELS: dict[ContentType, type[Body]] = {
    ContentType.STUDY_GUIDE: StudyGuide,
    ContentType.FLASHCARDS: FlashcardDeck,
    ContentType.QUIZ: Quiz,
    ContentType.PODCAST: PodcastScript,
}


def parse_body(content_type: ContentType, data: dict[str, Any] | str) -> Body:
    """Validate a provider's answer (a decoded object or JSON text) as ``content_type``'s body.

    Raises ``OutputInvalid`` naming the first problem found.
    """
    model = BODY_MODELS[content_type]
    try:
        if isinstance(data, str):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as exc:
        raise OutputInvalid(_describe(content_type, exc.errors())) from exc


def _describe(content_type: ContentType, errors: list[ErrorDetails]) -> str:
    first = errors[0]
    message = first["msg"].removeprefix("Value error, ")
    location = _format_location(first["loc"])
    where = f"{location}: " if location else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"invalid {content_type.value.replace('_', ' ')}: {where}{message}{more}"


def _format_location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


# The keywords both OpenAI strict structured outputs and Anthropic tool schemas accept.
_KEPT_KEYWORDS = frozenset({"type", "description", "enum", "items"})


def body_json_schema(content_type: ContentType) -> dict[str, Any]:
    """A strict-mode JSON Schema for ``content_type``'s body, with every ``$ref`` inlined.

    Every object lists all its properties as required and forbids others; counts and
    uniqueness appear only in descriptions and are enforced by :func:`parse_body`.
    """
    return copy.deepcopy(_cached_schema(content_type))


@cache
def _cached_schema(content_type: ContentType) -> dict[str, Any]:
    raw = BODY_MODELS[content_type].model_json_schema()
    return _strict(raw, raw.get("$defs", {}))


def _strict(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        # Field descriptions sit next to the ``$ref``; keep them over the model's own.
        target = dict(defs[node["$ref"].rsplit("/", 1)[-1]])
        if "description" in node:
            target["description"] = node["description"]
        return _strict(target, defs)
    out: dict[str, Any] = {k: v for k, v in node.items() if k in _KEPT_KEYWORDS}
    if "items" in node:
        out["items"] = _strict(node["items"], defs)
    if node.get("type") == "object":
        properties = {name: _strict(prop, defs) for name, prop in node["properties"].items()}
        out["properties"] = properties
        out["required"] = list(properties)
        out["additionalProperties"] = False
    return out
