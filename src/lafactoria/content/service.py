"""Reading and deleting a user's content. Generation creates content (see generation.service)."""

from __future__ import annotations

from lafactoria.content import repository
from lafactoria.content.models import Content, ContentFilter
from lafactoria.db.engine import Database
from lafactoria.errors import InvalidInput, NotFound
from lafactoria.pagination import Page, PageKey


class ContentService:
    def __init__(self, *, db: Database) -> None:
        self._db = db

    async def list_contents(
        self,
        *,
        user_id: str,
        filters: ContentFilter,
        after: PageKey | None,
        first: int,
        count: bool = True,
    ) -> Page[Content]:
        """One page of the user's content, newest first; ``count`` also counts the whole list
        (one more statement, so callers that show no total leave it out)."""
        async with self._db.read() as session:
            rows = await repository.list_contents(
                session, user_id=user_id, filters=filters, after=after, limit=first + 1
            )
            total = (
                await repository.count_contents(session, user_id=user_id, filters=filters)
                if count
                else None
            )
        return Page(items=rows[:first], has_next_page=len(rows) > first, total_count=total)

    async def list_contents_at(
        self, *, user_id: str, filters: ContentFilter, offset: int, limit: int
    ) -> Page[Content]:
        """``limit`` items of the user's content from position ``offset``, newest first.

        For page-numbered clients (the REST API); cursors (``list_contents``) stay stable
        when items are added between requests, offsets do not.
        """
        if offset < 0 or limit < 1:
            raise InvalidInput("offset must be 0 or more and limit 1 or more", field="offset")
        async with self._db.read() as session:
            total = await repository.count_contents(session, user_id=user_id, filters=filters)
            # Past the end there is nothing to fetch, and an offset beyond the database's
            # integer range would not even bind.
            rows = (
                await repository.list_contents_at(
                    session, user_id=user_id, filters=filters, offset=offset, limit=limit
                )
                if offset < total
                else []
            )
        return Page(items=rows, has_next_page=offset + len(rows) < total, total_count=total)

    async def get(self, *, user_id: str, content_id: str) -> Content:
        async with self._db.read() as session:
            content = await repository.get_content(session, user_id=user_id, content_id=content_id)
        if content is None:
            raise NotFound("no such content", field="id")
        return content

    async def get_many(self, *, user_id: str, content_ids: list[str]) -> dict[str, Content]:
        """The user's items among ``content_ids``, by id (for DataLoaders)."""
        async with self._db.read() as session:
            rows = await repository.get_contents(session, user_id=user_id, content_ids=content_ids)
        return {row.id: row for row in rows}

    async def delete(self, *, user_id: str, content_id: str) -> None:
        async with self._db.write() as session:
            deleted = await repository.delete_content(
                session, user_id=user_id, content_id=content_id
            )
        if not deleted:
            raise NotFound("no such content", field="id")
