"""The stored content item. Its body is the validated JSON of a ``content.bodies`` model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlmodel import Field, SQLModel

from lafactoria.db.types import UTCDateTime, new_id, utcnow
from lafactoria.text import clean_text

MAX_SEARCH_LENGTH = 200


class Content(SQLModel, table=True):
    __tablename__ = "contents"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE", max_length=32)
    title: str = Field(max_length=500)
    topic: str = Field(max_length=500)
    content_type: str = Field(sa_type=String(32), index=True)
    audience_level: str = Field(sa_type=String(32), index=True)
    body: dict[str, Any] = Field(sa_type=JSON)
    markdown: str = Field(sa_type=Text)
    provider: str = Field(max_length=64)
    model: str = Field(max_length=128)
    input_tokens: int = 0
    output_tokens: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # ``content.quality.QualityReport.as_json()``; null for items stored before quality
    # checks existed.
    quality: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # The item this one revises (regenerateContent); the original is kept alongside. Not a
    # foreign key: the original may be deleted while its revision is being written, and the
    # revision must still be stored (``revisionOf`` then reads as null).
    revision_of_id: str | None = Field(default=None, max_length=32)


@dataclass(frozen=True, slots=True)
class ContentFilter:
    """Narrows a listing of one user's content; ``None`` means any."""

    content_type: str | None = None
    audience_level: str | None = None
    search: str | None = None
    audience_fit: str | None = None
    """A ``content.quality.AudienceFit`` value: items whose quality report says so."""
    needs_review: bool | None = None
    """Items whose quality report has (``True``) or lacks (``False``) a warning."""


def clean_search(text: str | None, *, field: str = "search") -> str | None:
    """A listing's search text, checked like any input; blank means no search."""
    if text is None or not text.strip():
        return None
    return clean_text(text, field=field, max_length=MAX_SEARCH_LENGTH)
