"""Keyset pagination shared by every listing: newest first, stable under inserts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, or_

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageKey:
    """Position of a row in newest-first order; ties on time broken by id."""

    created_at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_next_page: bool
    total_count: int | None
    """Items in the whole list; ``None`` when the caller did not ask for it to be counted."""


def after_key(created_at: Any, id_: Any, key: PageKey) -> ColumnElement[bool]:
    """Rows strictly after ``key`` in (created_at desc, id desc) order."""
    return or_(created_at < key.created_at, and_(created_at == key.created_at, id_ < key.id))
