"""A provider that needs no network or key: templated content, streamed like a real model.

It lets the whole pipeline run (and be demonstrated) with no LLM configured. It reads what to
write from the request alone: ``schema_name`` is the content type and the prompt's data tags
give the topic, audience level and requested shape (card count, podcast format and length;
``providers.prompt_data.read_prompt_data``). The text is generic study material about the
topic, written separately for each audience level (``offline_templates``) so that it reads
inside the level's band, and the same input always gives the same output. A rewrite (a
revision, or a retry after quality feedback) picks other wordings rather than editing: a
template cannot follow instructions. The model name marks stored content as templated.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

from lafactoria.content.bodies import (
    WORDS_PER_MINUTE,
    Body,
    BodySpec,
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
from lafactoria.content.enums import ContentType
from lafactoria.providers.base import Completion, GenerationRequest, StreamChunk, TextDelta, Usage
from lafactoria.providers.errors import OutputTruncated, ProviderRejected
from lafactoria.providers.offline_templates import HOST_NAMES, LEVELS, LevelText
from lafactoria.providers.prompt_data import PromptData, read_prompt_data

_T = TypeVar("_T")


class OfflineProvider:
    """Templated answers for every content type, streamed in small chunks."""

    def __init__(self, chunk_delay: float = 0.0, *, chunk_size: int = 40) -> None:
        self._chunk_delay = chunk_delay
        self._chunk_size = chunk_size

    @property
    def name(self) -> str:
        return "offline"

    @property
    def model(self) -> str:
        return "offline-template-v1"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamChunk]:
        """Stream the JSON of a templated body, then one ``Completion``."""
        try:
            content_type = ContentType(request.schema_name)
            data = read_prompt_data(request.prompt)
        except ValueError as exc:
            raise ProviderRejected(f"the offline provider cannot read this request: {exc}") from exc
        topic = " ".join(data.topic.split())
        if not topic:
            raise ProviderRejected("the offline provider needs a topic")
        # A follow-up turn (feedback on an earlier answer) asks for another wording.
        variant = f"followup:{len(request.revisions)}" if request.revisions else ""
        text = compose(content_type, data, topic, variant=variant).model_dump_json()

        words = list(re.finditer(r"\S+", text))
        cut = len(text) if len(words) <= request.max_tokens else words[request.max_tokens].start()
        for start in range(0, cut, self._chunk_size):
            # Sleeping (even for 0 s) yields to the loop, so cancellation and other jobs
            # are served between chunks as they would be with a real network stream.
            await asyncio.sleep(self._chunk_delay)
            yield TextDelta(text[start : min(start + self._chunk_size, cut)])
        if cut < len(text):
            raise OutputTruncated(f"the answer is longer than max_tokens={request.max_tokens}")
        usage = Usage(
            input_tokens=len(request.system.split()) + len(request.prompt.split()),
            output_tokens=len(words),
        )
        yield Completion(text=text, model=self.model, stop_reason="end_turn", usage=usage)

    async def aclose(self) -> None:
        """Nothing to release."""


def compose(content_type: ContentType, data: PromptData, topic: str, *, variant: str = "") -> Body:
    """The templated body for ``content_type`` about ``topic``, worded for the audience.

    A rewrite (``data.current_content``) or a ``variant`` seeds the choices differently, so it
    comes out in other wordings and orders.
    """
    rewrite = "" if data.current_content is None else f"rewrite:{data.revision_instructions}"
    picker = _Picker(content_type.value, topic, data.audience_level.value, rewrite, variant)
    text = LEVELS[data.audience_level]
    spec = data.spec or BodySpec()
    if content_type is ContentType.STUDY_GUIDE:
        return _study_guide(topic, text, picker, data.additional_requirements)
    if content_type is ContentType.FLASHCARDS:
        return _flashcards(topic, text, picker, spec)
    if content_type is ContentType.QUIZ:
        return _quiz(topic, text, picker)
    return _podcast(topic, text, picker, spec)


class _Picker:
    """Deterministic choices keyed by the request, stable across processes (unlike ``hash``)."""

    def __init__(self, *parts: str) -> None:
        self._seed = "\x1f".join(parts)

    def _number(self, salt: str) -> int:
        digest = hashlib.sha256(f"{self._seed}\x1e{salt}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    def pick(self, options: Sequence[_T], salt: str) -> _T:
        return options[self._number(salt) % len(options)]

    def shuffled(self, items: Sequence[_T], salt: str) -> list[_T]:
        order = sorted(range(len(items)), key=lambda i: self._number(f"{salt}:{i}"))
        return [items[i] for i in order]


def _fill(template: str, topic: str, **names: str) -> str:
    # Only the template is parsed for fields, so braces in a user's topic are harmless.
    return template.format(topic=topic, Topic=topic[:1].upper() + topic[1:], **names)


def _study_guide(
    topic: str, text: LevelText, picker: _Picker, requirements: str | None
) -> StudyGuide:
    passages = text.passages
    # Always open with the definition and close with why it matters; the middle varies.
    middle = picker.shuffled(range(1, len(passages) - 1), "sections")[: text.sections - 2]
    sections = [
        Section(
            heading=_fill(passages[index].heading, topic),
            content=_fill(f"{passages[index].body} {passages[index].extra}", topic),
        )
        for index in [0, *sorted(middle), len(passages) - 1]
    ]
    terms = picker.shuffled(text.key_terms, "terms")[: text.key_term_count]
    summary = _fill(picker.pick(text.summaries, "summary"), topic)
    if requirements is not None and requirements.strip():
        summary = f"{summary} Requested focus: {' '.join(requirements.split())}"
    return StudyGuide(
        title=_fill(picker.pick(text.guide_titles, "title"), topic),
        summary=summary,
        sections=sections,
        key_terms=[KeyTerm(term=term, definition=definition) for term, definition in terms],
        review_questions=[
            _fill(passage.question, topic) for passage in passages[: text.review_questions]
        ],
    )


# A deck this size suits most topics when the request leaves the count open.
_USUAL_DECK_SIZE = 15


def _flashcards(topic: str, text: LevelText, picker: _Picker, spec: BodySpec) -> FlashcardDeck:
    # The topic's parts come first, in order, so even a small deck covers it and reads at a
    # steady level; the follow-ups, words and study tips after them are shuffled so decks for
    # different topics differ.
    first, *parts = [(p.question, p.short) for p in text.passages]
    others = [(p.follow_up, p.extra) for p in text.passages]
    others += list(text.key_terms) + list(text.extra_cards)
    cards = [first, *parts, *picker.shuffled(others, "more cards")]
    count = min(max(_USUAL_DECK_SIZE, spec.min_cards), spec.max_cards, len(cards))
    chosen = cards[:count]
    return FlashcardDeck(
        title=_fill(picker.pick(text.deck_titles, "title"), topic),
        cards=[Flashcard(front=_fill(f, topic), back=_fill(b, topic)) for f, b in chosen],
    )


def _quiz(topic: str, text: LevelText, picker: _Picker) -> Quiz:
    questions = []
    for number, item in enumerate(text.questions):
        # Shuffle per question so the correct answer is not always in the same place.
        choices = picker.shuffled([*item.correct, *item.wrong], f"choices:{number}")
        questions.append(
            QuizQuestion(
                question=_fill(item.question, topic),
                kind=QuestionKind.SINGLE if len(item.correct) == 1 else QuestionKind.MULTIPLE,
                choices=[_fill(choice, topic) for choice in choices],
                answer_indexes=sorted(choices.index(correct) for correct in item.correct),
                explanation=_fill(item.explanation, topic),
            )
        )
    return Quiz(title=_fill(picker.pick(text.quiz_titles, "title"), topic), questions=questions)


def _podcast(topic: str, text: LevelText, picker: _Picker, spec: BodySpec) -> PodcastScript:
    host, other = picker.pick(HOST_NAMES, "hosts")
    brief = spec.podcast_format is PodcastFormat.BRIEF
    if brief:
        speakers = [Speaker(name=host, role=text.narrator_role)]
        opening, closing = [text.brief_welcome], [text.brief_goodbye]
    else:
        speakers = [Speaker(name=host, role=text.roles[0]), Speaker(name=other, role=text.roles[1])]
        opening, closing = list(text.welcome), list(text.goodbye)
    # Question-and-answer blocks in the order they are heard: each part of the topic, its
    # follow-up, then the key words. They are chosen in order of substance (every part first,
    # then follow-ups, then words) until the script is long enough for the target.
    blocks: list[tuple[int, list[str]]] = []
    for index, passage in enumerate(text.passages):
        blocks.append((index, _exchange(passage.question, passage.body, brief)))
        blocks.append(
            (len(text.passages) + index, _exchange(passage.follow_up, passage.extra, brief))
        )
    for index, (term, definition) in enumerate(text.key_terms):
        question = f"What does {term.lower()} mean?" if not brief else f"A key term: {term}."
        blocks.append((2 * len(text.passages) + index, _exchange(question, definition, brief)))
    budget = spec.minutes * WORDS_PER_MINUTE - _words(opening + closing, topic)
    chosen: set[int] = set()
    spent = 0
    for priority, lines in sorted(blocks):
        if spent >= budget:
            break
        chosen.add(priority)
        spent += _words(lines, topic)
    middle = [line for priority, lines in blocks if priority in chosen for line in lines]
    script = opening + middle + closing
    return PodcastScript(
        title=_fill(picker.pick(text.podcast_titles, "title"), topic),
        format=spec.podcast_format,
        target_minutes=spec.minutes,
        speakers=speakers,
        lines=[
            ScriptLine(
                speaker=speakers[index % len(speakers)].name,
                text=_fill(line, topic, a=host, b=other),
            )
            for index, line in enumerate(script)
        ],
    )


def _exchange(question: str, answer: str, brief: bool) -> list[str]:
    # One voice asks itself the question; two hosts take a line each, so they alternate.
    return [f"{question} {answer}"] if brief else [question, answer]


def _words(lines: list[str], topic: str) -> int:
    return sum(len(_fill(line, topic, a="A", b="B").split()) for line in lines)
