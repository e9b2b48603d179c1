"""Validated generation requests: what transports hand to the generation service."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lafactoria.content.bodies import (
    MAX_CARDS,
    MAX_TARGET_MINUTES,
    MIN_CARDS,
    BodySpec,
    PodcastFormat,
)
from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.errors import InvalidInput
from lafactoria.text import PROSE_CONTROLS, clean_text

MAX_TOPIC_LENGTH = 200
MAX_REQUIREMENTS_LENGTH = 2000
MAX_IDEMPOTENCY_KEY_LENGTH = 128


@dataclass(frozen=True, slots=True)
class GenerateCommand:
    topic: str
    content_type: ContentType
    audience_level: AudienceLevel
    additional_requirements: str | None = None
    idempotency_key: str | None = None
    spec: BodySpec = dataclasses.field(default_factory=BodySpec)
    """The shape asked for: card count, podcast format and length."""
    revision: Revision | None = None
    """Set when the job rewrites an existing item instead of writing a new one."""

    @classmethod
    def create(
        cls,
        *,
        topic: str,
        content_type: ContentType,
        audience_level: AudienceLevel,
        additional_requirements: str | None = None,
        idempotency_key: str | None = None,
        field: str = "topic",
        card_count: int | None = None,
        podcast_format: PodcastFormat | None = None,
        target_minutes: int | None = None,
    ) -> GenerateCommand:
        """Validate raw input; raises ``InvalidInput`` naming the field (``field`` names the
        topic's, which differs in bulk requests)."""
        requirements = (
            clean_text(
                additional_requirements,
                field="additionalRequirements",
                max_length=MAX_REQUIREMENTS_LENGTH,
                allow=PROSE_CONTROLS,
            )
            if additional_requirements is not None and additional_requirements.strip()
            else None
        )
        key = (
            clean_text(
                idempotency_key, field="idempotencyKey", max_length=MAX_IDEMPOTENCY_KEY_LENGTH
            )
            if idempotency_key is not None
            else None
        )
        return cls(
            topic=clean_text(topic, field=field, max_length=MAX_TOPIC_LENGTH),
            content_type=content_type,
            audience_level=audience_level,
            additional_requirements=requirements,
            idempotency_key=key,
            spec=_requested_spec(content_type, card_count, podcast_format, target_minutes),
        )

    @classmethod
    def revise(
        cls,
        *,
        content_id: str,
        topic: str,
        content_type: ContentType,
        audience_level: AudienceLevel,
        body: dict[str, Any],
        instructions: str,
    ) -> GenerateCommand:
        """A job that rewrites the stored item ``content_id`` as ``instructions`` ask."""
        text = clean_text(
            instructions,
            field="instructions",
            max_length=MAX_REQUIREMENTS_LENGTH,
            allow=PROSE_CONTROLS,
        )
        # The revision may change the deck's size or the script's length, within the limits
        # any request has; the podcast keeps its format.
        spec = BodySpec(min_cards=MIN_CARDS, max_cards=MAX_CARDS)
        if content_type is ContentType.PODCAST:
            spec = BodySpec(
                podcast_format=PodcastFormat(body.get("format", PodcastFormat.CONVERSATION)),
                target_minutes=body.get("target_minutes"),
            )
        return cls(
            topic=topic,
            content_type=content_type,
            audience_level=audience_level,
            spec=spec,
            revision=Revision(content_id=content_id, instructions=text, body=body),
        )

    def options_json(self) -> dict[str, Any]:
        """What the job must remember beyond its columns, as stored in ``GenerationJob.options``."""
        options: dict[str, Any] = {"spec": self.spec.as_json()}
        if self.revision is not None:
            options["revision"] = {
                "content_id": self.revision.content_id,
                "instructions": self.revision.instructions,
                "body": self.revision.body,
            }
        return options


@dataclass(frozen=True, slots=True)
class Revision:
    """An existing item to rewrite: its body when the revision was asked for, and what the
    teacher wants changed. The body is copied, so deleting the item does not break the job."""

    content_id: str
    instructions: str
    body: dict[str, Any]


def read_options(options: Mapping[str, Any] | None) -> tuple[BodySpec, Revision | None]:
    """The spec and revision stored by :meth:`GenerateCommand.options_json` (defaults for jobs
    stored before options existed)."""
    if not options:
        return BodySpec(), None
    revision = options.get("revision")
    return BodySpec.from_json(options.get("spec")), (
        Revision(
            content_id=revision["content_id"],
            instructions=revision["instructions"],
            body=revision["body"],
        )
        if revision
        else None
    )


def _requested_spec(
    content_type: ContentType,
    card_count: int | None,
    podcast_format: PodcastFormat | None,
    target_minutes: int | None,
) -> BodySpec:
    if card_count is not None:
        if content_type is not ContentType.FLASHCARDS:
            raise InvalidInput("cardCount applies only to FLASHCARDS", field="cardCount")
        if not MIN_CARDS <= card_count <= MAX_CARDS:
            raise InvalidInput(
                f"cardCount must be between {MIN_CARDS} and {MAX_CARDS}", field="cardCount"
            )
    if podcast_format is not None and content_type is not ContentType.PODCAST:
        raise InvalidInput("podcastFormat applies only to PODCAST", field="podcastFormat")
    if target_minutes is not None:
        if content_type is not ContentType.PODCAST:
            raise InvalidInput("targetMinutes applies only to PODCAST", field="targetMinutes")
        if not 1 <= target_minutes <= MAX_TARGET_MINUTES:
            raise InvalidInput(
                f"targetMinutes must be between 1 and {MAX_TARGET_MINUTES}",
                field="targetMinutes",
            )
    return BodySpec.requested(
        card_count=card_count, podcast_format=podcast_format, target_minutes=target_minutes
    )
