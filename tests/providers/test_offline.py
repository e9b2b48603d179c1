from __future__ import annotations

import dataclasses
import itertools
import json
import re
from typing import Any

import pytest

from lafactoria.content.bodies import (
    Body,
    FlashcardDeck,
    PodcastScript,
    Quiz,
    StudyGuide,
    parse_body,
)
from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.content.markdown import render_markdown
from lafactoria.generation.prompts import build_prompt
from lafactoria.providers.base import (
    Completion,
    GenerationRequest,
    Provider,
    StreamChunk,
    TextDelta,
)
from lafactoria.providers.errors import OutputTruncated, ProviderRejected
from lafactoria.providers.offline import OfflineProvider


def make_request(
    content_type: ContentType = ContentType.QUIZ,
    level: AudienceLevel = AudienceLevel.MIDDLE_SCHOOL,
    topic: str = "Volcanoes",
    requirements: str | None = None,
    max_tokens: int = 4096,
) -> GenerationRequest:
    return build_prompt(
        content_type=content_type,
        audience_level=level,
        topic=topic,
        additional_requirements=requirements,
        max_tokens=max_tokens,
    )


async def collect(
    request: GenerationRequest, provider: OfflineProvider | None = None
) -> list[StreamChunk]:
    provider = provider or OfflineProvider()
    return [chunk async for chunk in provider.stream(request)]


def split(chunks: list[StreamChunk]) -> tuple[str, Completion]:
    *deltas, completion = chunks
    assert all(isinstance(delta, TextDelta) for delta in deltas)
    assert isinstance(completion, Completion)
    return "".join(delta.text for delta in deltas if isinstance(delta, TextDelta)), completion


def prose(body: Body) -> str:
    """The body's sentences, without the Markdown headings and list markers around them."""
    lines = render_markdown(body).splitlines()
    return " ".join(line.lstrip("#-*|0123456789. ") for line in lines if line.strip())


def mean_sentence_words(text: str) -> float:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    return sum(len(s.split()) for s in sentences) / len(sentences)


CASES = list(itertools.product(ContentType, AudienceLevel))


def test_identity() -> None:
    provider: Provider = OfflineProvider()  # mypy checks the Protocol is met

    assert provider.name == "offline"
    assert provider.model == "offline-template-v1"


@pytest.mark.parametrize(("content_type", "level"), CASES)
async def test_stream_is_a_valid_body_about_the_topic(
    content_type: ContentType, level: AudienceLevel
) -> None:
    chunks = await collect(make_request(content_type, level, topic="plate tectonics"))

    text, completion = split(chunks)
    assert completion.text == text
    assert completion.model == "offline-template-v1"
    assert completion.stop_reason == "end_turn"
    assert completion.usage.output_tokens == len(text.split())
    assert completion.usage.input_tokens > 0
    assert all(len(chunk.text) <= 40 for chunk in chunks[:-1] if isinstance(chunk, TextDelta))
    assert len(chunks) > 3
    body = parse_body(content_type, json.loads(text))
    assert "plate tectonics" in text
    assert "Plate tectonics" in body.title


@pytest.mark.parametrize(("content_type", "level"), CASES)
async def test_output_is_deterministic(content_type: ContentType, level: AudienceLevel) -> None:
    request = make_request(content_type, level)

    assert await collect(request) == await collect(request)


async def test_different_topics_give_different_output() -> None:
    first, _ = split(await collect(make_request(topic="Volcanoes")))
    second, _ = split(await collect(make_request(topic="Glaciers")))

    assert first.replace("Volcanoes", "X") != second.replace("Glaciers", "X")


@pytest.mark.parametrize("content_type", list(ContentType))
async def test_elementary_sentences_are_shorter_than_college(content_type: ContentType) -> None:
    def body_for(level: AudienceLevel) -> str:
        return prose(parse_body(content_type, split(chunks[level])[0]))

    chunks = {
        level: await collect(make_request(content_type, level))
        for level in (AudienceLevel.ELEMENTARY, AudienceLevel.COLLEGE)
    }

    elementary = mean_sentence_words(body_for(AudienceLevel.ELEMENTARY))
    college = mean_sentence_words(body_for(AudienceLevel.COLLEGE))
    assert elementary < college


async def generate(content_type: ContentType, **overrides: Any) -> Body:
    text, _ = split(await collect(make_request(content_type, **overrides)))
    return parse_body(content_type, text)


@pytest.mark.parametrize("level", list(AudienceLevel))
async def test_shapes_match_the_brief(level: AudienceLevel) -> None:
    guide = await generate(ContentType.STUDY_GUIDE, level=level)
    deck = await generate(ContentType.FLASHCARDS, level=level)
    quiz = await generate(ContentType.QUIZ, level=level)
    podcast = await generate(ContentType.PODCAST, level=level)

    assert isinstance(guide, StudyGuide)
    assert 3 <= len(guide.sections) <= 5
    assert guide.review_questions
    assert isinstance(deck, FlashcardDeck)
    assert len(deck.cards) == 10
    assert isinstance(quiz, Quiz)
    assert len(quiz.questions) == 5
    assert all(len(q.choices) == 4 for q in quiz.questions)
    assert len({q.answer_index for q in quiz.questions}) > 1  # the answer moves around
    assert isinstance(podcast, PodcastScript)
    assert len(podcast.speakers) == 2
    assert 12 <= len(podcast.lines) <= 16
    assert podcast.estimated_minutes > 0


async def test_unicode_and_brace_topics() -> None:
    for topic in ("光合作用 🌱", "sets {a, b} and {}"):
        for content_type in ContentType:
            text, _ = split(await collect(make_request(content_type, topic=topic)))
            parse_body(content_type, text)
            assert topic in text


async def test_requirements_show_in_the_study_guide() -> None:
    text, _ = split(
        await collect(make_request(ContentType.STUDY_GUIDE, requirements="Focus on Iceland"))
    )

    assert "Requested focus: Focus on Iceland" in text


async def test_chunk_delay_still_streams_everything() -> None:
    request = make_request(ContentType.FLASHCARDS)

    slow = await collect(request, OfflineProvider(chunk_delay=0.0001))

    assert slow == await collect(request)


async def test_answer_over_max_tokens_is_truncated_not_completed() -> None:
    received: list[StreamChunk] = []

    async def consume() -> None:
        async for chunk in OfflineProvider().stream(make_request(max_tokens=20)):
            received.append(chunk)

    with pytest.raises(OutputTruncated, match="max_tokens=20"):
        await consume()

    assert received
    assert all(isinstance(chunk, TextDelta) for chunk in received)
    assert len("".join(c.text for c in received if isinstance(c, TextDelta)).split()) <= 20


async def test_unknown_schema_is_rejected() -> None:
    request = dataclasses.replace(make_request(), schema_name="essay")

    with pytest.raises(ProviderRejected, match="cannot read"):
        await collect(request)


async def test_prompt_without_data_is_rejected() -> None:
    request = dataclasses.replace(make_request(), prompt="Write a quiz about volcanoes.")

    with pytest.raises(ProviderRejected, match="cannot read"):
        await collect(request)


async def test_blank_topic_is_rejected() -> None:
    with pytest.raises(ProviderRejected, match="needs a topic"):
        await collect(make_request(topic="  \n"))


async def test_aclose_is_harmless() -> None:
    provider = OfflineProvider()

    await provider.aclose()
    await provider.aclose()
