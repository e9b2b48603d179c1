"""The ``Content`` type and its connection."""

from __future__ import annotations

from datetime import datetime

import strawberry

from lafactoria.content import models
from lafactoria.content.bodies import parse_body
from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.graphql.ids import encode_cursor, encode_id
from lafactoria.graphql.types.bodies import ContentBody, body_from_model
from lafactoria.graphql.types.common import Connection, Edge, Node, PageInfo
from lafactoria.pagination import Page, PageKey


@strawberry.type(description="Tokens a provider read and wrote for one answer.")
class TokenUsage:
    input_tokens: int
    output_tokens: int


@strawberry.type(description="A generated study guide, flashcard deck, quiz or podcast script.")
class Content(Node):
    id: strawberry.ID
    title: str
    topic: str
    content_type: ContentType
    audience_level: AudienceLevel
    markdown: str = strawberry.field(description="The content rendered as Markdown.")
    provider: str = strawberry.field(description="The provider that wrote it (offline: none).")
    model: str
    usage: TokenUsage
    created_at: datetime
    _row: strawberry.Private[models.Content]

    @strawberry.field(description="The content as a typed structure.")
    def body(self) -> ContentBody:
        return body_from_model(parse_body(self.content_type, self._row.body))

    @classmethod
    def from_model(cls, row: models.Content) -> Content:
        return cls(
            id=strawberry.ID(encode_id("Content", row.id)),
            title=row.title,
            topic=row.topic,
            content_type=ContentType(row.content_type),
            audience_level=AudienceLevel(row.audience_level),
            markdown=row.markdown,
            provider=row.provider,
            model=row.model,
            usage=TokenUsage(input_tokens=row.input_tokens, output_tokens=row.output_tokens),
            created_at=row.created_at,
            _row=row,
        )


def content_connection(page: Page[models.Content]) -> Connection[Content]:
    edges = [
        Edge(cursor=encode_cursor(PageKey(row.created_at, row.id)), node=Content.from_model(row))
        for row in page.items
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total_count,
    )
