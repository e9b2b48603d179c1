"""Validated generation requests: what transports hand to the generation service."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.errors import InvalidInput

MAX_TOPIC_LENGTH = 200
MAX_REQUIREMENTS_LENGTH = 2000
MAX_IDEMPOTENCY_KEY_LENGTH = 128
_ALLOWED_CONTROLS_IN_PROSE = frozenset("\n\t")


@dataclass(frozen=True, slots=True)
class GenerateCommand:
    topic: str
    content_type: ContentType
    audience_level: AudienceLevel
    additional_requirements: str | None = None
    idempotency_key: str | None = None

    @classmethod
    def create(
        cls,
        *,
        topic: str,
        content_type: ContentType,
        audience_level: AudienceLevel,
        additional_requirements: str | None = None,
        idempotency_key: str | None = None,
    ) -> GenerateCommand:
        """Validate raw input; raises ``InvalidInput`` naming the field."""
        requirements = (
            clean_text(
                additional_requirements,
                field="additionalRequirements",
                max_length=MAX_REQUIREMENTS_LENGTH,
                allow=_ALLOWED_CONTROLS_IN_PROSE,
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
            topic=clean_text(topic, field="topic", max_length=MAX_TOPIC_LENGTH),
            content_type=content_type,
            audience_level=audience_level,
            additional_requirements=requirements,
            idempotency_key=key,
        )


def clean_text(
    value: str, *, field: str, max_length: int, allow: frozenset[str] = frozenset()
) -> str:
    """Trim and check free text: no control characters or lone surrogates; length in
    characters, so emoji and non-Latin scripts count as what a reader sees them as."""
    text = value.strip()
    if not text:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            raise InvalidInput(f"{field} contains invalid Unicode", field=field)
        if category == "Cc" and char not in allow:
            raise InvalidInput(f"{field} must not contain control characters", field=field)
    return text
