"""Queries for content items, always scoped to their owner."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from lafactoria.content.models import Content, ContentFilter
from lafactoria.pagination import PageKey, after_key


def _conditions(user_id: str, filters: ContentFilter) -> list[ColumnElement[bool]]:
    conditions = [col(Content.user_id) == user_id]
    if filters.content_type:
        conditions.append(col(Content.content_type) == filters.content_type)
    if filters.audience_level:
        conditions.append(col(Content.audience_level) == filters.audience_level)
    if filters.audience_fit:
        # A JSON path: JSON_EXTRACT on SQLite, ->> on PostgreSQL.
        conditions.append(col(Content.quality)["audience_fit"].as_string() == filters.audience_fit)
    if filters.needs_review is not None:
        conditions.append(
            col(Content.quality)["needs_review"].as_boolean().is_(filters.needs_review)
        )
    if filters.search:
        # Escaped so a user's "%" or "_" matches itself rather than acting as a wildcard.
        pattern = (
            "%" + filters.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        conditions.append(
            col(Content.title).ilike(pattern, escape="\\")
            | col(Content.topic).ilike(pattern, escape="\\")
        )
    return conditions


async def list_contents(
    session: AsyncSession,
    *,
    user_id: str,
    filters: ContentFilter,
    after: PageKey | None,
    limit: int,
) -> list[Content]:
    conditions = _conditions(user_id, filters)
    if after is not None:
        conditions.append(after_key(col(Content.created_at), col(Content.id), after))
    result = await session.exec(
        select(Content)
        .where(*conditions)
        .order_by(col(Content.created_at).desc(), col(Content.id).desc())
        .limit(limit)
    )
    return list(result.all())


async def count_contents(session: AsyncSession, *, user_id: str, filters: ContentFilter) -> int:
    result = await session.exec(
        select(func.count()).select_from(Content).where(*_conditions(user_id, filters))
    )
    return int(result.one())


async def get_content(session: AsyncSession, *, user_id: str, content_id: str) -> Content | None:
    result = await session.exec(
        select(Content).where(Content.id == content_id, Content.user_id == user_id)
    )
    return result.first()


async def get_contents(
    session: AsyncSession, *, user_id: str, content_ids: list[str]
) -> list[Content]:
    result = await session.exec(
        select(Content).where(col(Content.id).in_(content_ids), Content.user_id == user_id)
    )
    return list(result.all())


async def delete_content(session: AsyncSession, *, user_id: str, content_id: str) -> bool:
    result = await session.exec(
        delete(Content).where(col(Content.id) == content_id, col(Content.user_id) == user_id)
    )
    return bool(result.rowcount)


async def list_contents_at(
    session: AsyncSession, *, user_id: str, filters: ContentFilter, offset: int, limit: int
) -> list[Content]:
    """Rows by position in newest-first order, for page-numbered listings."""
    result = await session.exec(
        select(Content)
        .where(*_conditions(user_id, filters))
        .order_by(col(Content.created_at).desc(), col(Content.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(result.all())
