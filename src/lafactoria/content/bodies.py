"""The typed body of each content type, and the one gate every provider's output passes.

The pydantic models hold every rule (counts, uniqueness, one correct answer unless a question
declares several, alternating podcast hosts); a :class:`BodySpec` adds what one request asked
for (how many cards, which podcast format and length). The JSON Schema
handed to providers is a reduced, strict-mode shaped copy of them: vendors' structured-output
modes accept only a small keyword subset, so the limits travel as descriptions and are enforced
here when the answer comes back.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
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


# --- what a request can ask for beyond the content type ------------------------------------

MIN_CARDS = 5
MAX_CARDS = 30
DEFAULT_CARD_RANGE = (10, 30)
"""Cards accepted when the request names no count."""
MAX_TARGET_MINUTES = 10
WORDS_PER_MINUTE = 150


class PodcastFormat(StrEnum):
    CONVERSATION = "conversation"
    """Two hosts talking, taking turns."""
    BRIEF = "brief"
    """One speaker explaining the topic."""

    @property
    def default_minutes(self) -> int:
        return 3 if self is PodcastFormat.CONVERSATION else 2

    @property
    def speaker_count(self) -> int:
        return 2 if self is PodcastFormat.CONVERSATION else 1


@dataclass(frozen=True, slots=True)
class BodySpec:
    """The shape one request asked for; :func:`parse_body` holds an answer to it.

    Stored bodies are read back without a spec: these rules bind a provider's answer to its
    request, while the models' own rules hold for every body.
    """

    min_cards: int = DEFAULT_CARD_RANGE[0]
    max_cards: int = DEFAULT_CARD_RANGE[1]
    podcast_format: PodcastFormat = PodcastFormat.CONVERSATION
    target_minutes: int | None = None
    """``None``: the format's default."""

    @classmethod
    def requested(
        cls,
        *,
        card_count: int | None = None,
        podcast_format: PodcastFormat | None = None,
        target_minutes: int | None = None,
    ) -> BodySpec:
        cards = (card_count, card_count) if card_count is not None else DEFAULT_CARD_RANGE
        return cls(
            min_cards=cards[0],
            max_cards=cards[1],
            podcast_format=podcast_format or PodcastFormat.CONVERSATION,
            target_minutes=target_minutes,
        )

    @property
    def minutes(self) -> int:
        return self.target_minutes or self.podcast_format.default_minutes

    def as_json(self) -> dict[str, Any]:
        return {
            "min_cards": self.min_cards,
            "max_cards": self.max_cards,
            "podcast_format": self.podcast_format.value,
            "target_minutes": self.target_minutes,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> BodySpec:
        if not data:
            return cls()
        return cls(
            min_cards=int(data.get("min_cards", DEFAULT_CARD_RANGE[0])),
            max_cards=int(data.get("max_cards", DEFAULT_CARD_RANGE[1])),
            podcast_format=PodcastFormat(data.get("podcast_format", PodcastFormat.CONVERSATION)),
            target_minutes=data.get("target_minutes"),
        )


def _spec(info: ValidationInfo) -> BodySpec | None:
    context = info.context
    spec = context.get("spec") if isinstance(context, dict) else None
    return spec if isinstance(spec, BodySpec) else None


# --- study guide ---------------------------------------------------------------------------


class Section(_Body):
    heading: NonEmptyStr = Field(description="Short section heading.")
    content: NonEmptyStr = Field(
        description="The section's explanatory prose: whole sentences, at least a few words."
    )

    @field_validator("content")
    @classmethod
    def _is_prose(cls, content: str) -> str:
        if len(content.split()) < _MIN_SECTION_WORDS:
            raise ValueError(f"a section needs at least {_MIN_SECTION_WORDS} words of prose")
        return content


_MIN_SECTION_WORDS = 3


class KeyTerm(_Body):
    term: NonEmptyStr = Field(description="A word or phrase the learner should know.")
    definition: NonEmptyStr = Field(description="Its meaning, at the audience's level.")


class StudyGuide(_Body):
    title: NonEmptyStr = Field(description="Title of the study guide.")
    summary: NonEmptyStr = Field(description="A short overview of the whole guide.")
    sections: list[Section] = Field(
        min_length=3, max_length=12, description="3 to 12 sections with different headings."
    )
    key_terms: list[KeyTerm] = Field(
        min_length=1, max_length=20, description="1 to 20 key terms, none repeated."
    )
    review_questions: list[NonEmptyStr] = Field(
        default_factory=list,
        max_length=20,
        description="Questions a learner can use to check understanding (may be empty).",
    )

    @field_validator("sections")
    @classmethod
    def _headings_unique(cls, sections: list[Section]) -> list[Section]:
        duplicate = _first_duplicate(section.heading for section in sections)
        if duplicate is not None:
            raise ValueError(f"section headings must be unique; {duplicate!r} appears twice")
        return sections

    @field_validator("key_terms")
    @classmethod
    def _terms_unique(cls, terms: list[KeyTerm]) -> list[KeyTerm]:
        duplicate = _first_duplicate(term.term for term in terms)
        if duplicate is not None:
            raise ValueError(f"key terms must be unique; {duplicate!r} appears more than once")
        return terms


# --- flashcards ----------------------------------------------------------------------------


class Flashcard(_Body):
    front: NonEmptyStr = Field(description="The prompt side: a question or a term.")
    back: NonEmptyStr = Field(description="The answer to the front, not a restatement of it.")

    @model_validator(mode="after")
    def _back_answers(self) -> Flashcard:
        if normalise(self.back) == normalise(self.front):
            raise ValueError("a card's back must answer its front, not repeat it")
        return self


class FlashcardDeck(_Body):
    title: NonEmptyStr = Field(description="Title of the deck.")
    cards: list[Flashcard] = Field(
        min_length=1,
        max_length=MAX_CARDS,
        description=f"The requested number of cards (at most {MAX_CARDS}); every front is "
        "different.",
    )

    @field_validator("cards")
    @classmethod
    def _fronts_unique(cls, cards: list[Flashcard], info: ValidationInfo) -> list[Flashcard]:
        duplicate = _first_duplicate(card.front for card in cards)
        if duplicate is not None:
            raise ValueError(f"card fronts must be unique; {duplicate!r} appears more than once")
        spec = _spec(info)
        if spec is not None and not spec.min_cards <= len(cards) <= spec.max_cards:
            wanted = (
                f"{spec.min_cards}"
                if spec.min_cards == spec.max_cards
                else f"{spec.min_cards} to {spec.max_cards}"
            )
            raise ValueError(f"the deck has {len(cards)} cards; {wanted} were asked for")
        return cards


# --- quiz ----------------------------------------------------------------------------------


class QuestionKind(StrEnum):
    SINGLE = "single"
    """Exactly one choice is correct."""
    MULTIPLE = "multiple"
    """Select all that apply: at least two choices are correct, and at least one is not."""


class QuizQuestion(_Body):
    question: NonEmptyStr = Field(description="The question, without its choices.")
    kind: QuestionKind = Field(
        default=QuestionKind.SINGLE,
        description='"single": exactly one correct choice (the usual kind). "multiple": a '
        '"select all that apply" question with two or more correct choices.',
    )
    choices: list[NonEmptyStr] = Field(
        min_length=3, max_length=5, description="3 to 5 distinct answer choices."
    )
    answer_indexes: list[int] = Field(
        min_length=1,
        description="Zero-based positions of the correct choices: exactly one for a single "
        "question, two or more (but not all) for a multiple one.",
    )
    explanation: NonEmptyStr = Field(description="Why the correct choice is right.")

    @model_validator(mode="before")
    @classmethod
    def _accept_legacy_answer_index(cls, data: Any) -> Any:
        # Bodies stored before multi-answer questions existed carry one ``answer_index``.
        if isinstance(data, dict) and "answer_index" in data and "answer_indexes" not in data:
            rest = {key: value for key, value in data.items() if key != "answer_index"}
            data = rest | {"answer_indexes": [data["answer_index"]]}
        return data

    @field_validator("choices")
    @classmethod
    def _choices_distinct(cls, choices: list[str]) -> list[str]:
        duplicate = _first_duplicate(choices)
        if duplicate is not None:
            raise ValueError(f"choices must be distinct; {duplicate!r} appears more than once")
        return choices

    @model_validator(mode="after")
    def _answers_fit_the_kind(self) -> QuizQuestion:
        answers = self.answer_indexes
        for index in answers:
            if not 0 <= index < len(self.choices):
                raise ValueError(
                    f"answer index {index} is out of range for {len(self.choices)} choices"
                )
        if len(set(answers)) != len(answers):
            raise ValueError("answer_indexes lists a choice more than once")
        if self.kind is QuestionKind.SINGLE and len(answers) != 1:
            raise ValueError(
                f"a single-answer question has exactly one correct choice, not {len(answers)}; "
                'declare kind "multiple" for a select-all-that-apply question'
            )
        if self.kind is QuestionKind.MULTIPLE and not 2 <= len(answers) < len(self.choices):
            raise ValueError(
                "a multiple-answer question needs at least two correct choices and one wrong one"
            )
        return self

    @property
    def answer_index(self) -> int:
        """The correct choice of a single-answer question (the first one of a multiple)."""
        return self.answer_indexes[0]

    @property
    def correct_choices(self) -> list[str]:
        return [self.choices[index] for index in sorted(self.answer_indexes)]


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


# --- podcast -------------------------------------------------------------------------------


class Speaker(_Body):
    name: NonEmptyStr = Field(description="The speaker's name as used in the lines.")
    role: NonEmptyStr = Field(description="For example host, co-host or narrator.")


class ScriptLine(_Body):
    speaker: NonEmptyStr = Field(description="Exactly the name of one of the speakers.")
    text: NonEmptyStr = Field(description="What the speaker says.")


class PodcastScript(_Body):
    title: NonEmptyStr = Field(description="Title of the episode.")
    format: PodcastFormat = Field(
        default=PodcastFormat.CONVERSATION,
        description='"conversation": two hosts taking turns. "brief": one speaker alone.',
    )
    target_minutes: int = Field(
        default=PodcastFormat.CONVERSATION.default_minutes,
        ge=1,
        le=MAX_TARGET_MINUTES,
        description=f"The length asked for, in minutes (1 to {MAX_TARGET_MINUTES}), at about "
        f"{WORDS_PER_MINUTE} spoken words a minute.",
    )
    speakers: list[Speaker] = Field(
        min_length=1,
        max_length=2,
        description="Two speakers for a conversation, one for a brief; names differ.",
    )
    lines: list[ScriptLine] = Field(
        min_length=2,
        description="At least 2 lines, in order; in a conversation the speakers alternate.",
    )

    @model_validator(mode="before")
    @classmethod
    def _requested_shape(cls, data: Any, info: ValidationInfo) -> Any:
        # The format and length are the request's, not the model's to choose: take them from
        # the spec so an answer is judged against what was asked.
        spec = _spec(info)
        if spec is not None and isinstance(data, dict):
            data = data | {
                "format": spec.podcast_format.value,
                "target_minutes": spec.minutes,
            }
        return data

    @field_validator("speakers")
    @classmethod
    def _names_unique(cls, speakers: list[Speaker]) -> list[Speaker]:
        duplicate = _first_duplicate(s.name for s in speakers)
        if duplicate is not None:
            raise ValueError(f"speaker names must be unique; {duplicate!r} appears more than once")
        return speakers

    @model_validator(mode="after")
    def _lines_follow_the_format(self) -> PodcastScript:
        wanted = self.format.speaker_count
        if len(self.speakers) != wanted:
            raise ValueError(
                f"a {self.format.value} has {wanted} speaker{'s' if wanted > 1 else ''}, "
                f"not {len(self.speakers)}"
            )
        names = [s.name for s in self.speakers]
        previous: str | None = None
        for index, line in enumerate(self.lines):
            if line.speaker not in names:
                raise ValueError(
                    f"lines[{index}].speaker {line.speaker!r} is not one of the speakers "
                    f"({', '.join(names)})"
                )
            if wanted > 1 and line.speaker == previous:
                raise ValueError(
                    f"lines[{index}]: {line.speaker} speaks twice in a row; the hosts alternate"
                )
            previous = line.speaker
        return self

    # A plain property, not a computed field, so ``model_dump()`` round-trips through
    # ``parse_body`` despite ``extra="forbid"``.
    @property
    def word_count(self) -> int:
        return sum(len(line.text.split()) for line in self.lines)

    @property
    def estimated_minutes(self) -> float:
        """Speaking time at 150 words a minute, to one decimal."""
        return round(self.word_count / WORDS_PER_MINUTE, 1)


Body = StudyGuide | FlashcardDeck | Quiz | PodcastScript

BODY_MODELS: dict[ContentType, type[Body]] = {
    ContentType.STUDY_GUIDE: StudyGuide,
    ContentType.FLASHCARDS: FlashcardDeck,
    ContentType.QUIZ: Quiz,
    ContentType.PODCAST: PodcastScript,
}


def parse_body(
    content_type: ContentType, data: dict[str, Any] | str, spec: BodySpec | None = None
) -> Body:
    """Validate a provider's answer (a decoded object or JSON text) as ``content_type``'s body.

    With ``spec``, the answer must also be what the request asked for (card count, podcast
    format and length). Raises ``OutputInvalid`` naming the first problem found.
    """
    model = BODY_MODELS[content_type]
    context = {"spec": spec} if spec is not None else None
    try:
        if isinstance(data, str):
            return model.model_validate_json(data, context=context)
        return model.model_validate(data, context=context)
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
