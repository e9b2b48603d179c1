"""The ``Content`` type and its connection."""

from __future__ import annotations

from datetime import datetime

import strawberry

from lafactoria.content import models
from lafactoria.content.bodies import parse_body
from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.content.exports import formats as export_formats
from lafactoria.content.exports.formats import ExportFormat
from lafactoria.graphql.context import Context
from lafactoria.graphql.ids import encode_cursor, encode_id
from lafactoria.graphql.types.bodies import ContentBody, body_from_model
from lafactoria.graphql.types.common import Connection, Edge, Node, PageInfo
from lafactoria.graphql.types.quality import QualityReport
from lafactoria.pagination import Page, PageKey
from lafactoria.rest.paths import export_path


@strawberry.type(description="Tokens a provider read and wrote for one answer.")
class TokenUsage:
    input_tokens: int
    output_tokens: int


# Registers the domain enum with Strawberry (in place), so fields can be annotated with it.
strawberry.enum(
    ExportFormat, name="ExportFormat", description="A file format content can be downloaded in."
)


@strawberry.type(description="One file this content can be downloaded as.")
class ContentExport:
    format: ExportFormat
    label: str = strawberry.field(description="For people, e.g. 'Anki package'.")
    media_type: str = strawberry.field(description="The download's Content-Type.")
    file_name: str
    url: str = strawberry.field(
        description="Path of the download on this server: GET it with the same "
        "Authorization: Bearer header as GraphQL requests."
    )


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

    @strawberry.field(
        description="Readability against the audience and structural checks, run when the "
        "item was generated; null for items made before quality checks existed."
    )
    def quality(self) -> QualityReport | None:
        return QualityReport.from_json(self._row.quality) if self._row.quality else None

    @strawberry.field(
        description="The item this one revises (regenerateContent); null for a first draft or "
        "when that item was deleted. The original is kept alongside its revisions."
    )
    async def revision_of(self, info: strawberry.Info[Context, None]) -> Content | None:
        if self._row.revision_of_id is None:
            return None
        row = await info.context.content_loader.load(self._row.revision_of_id)
        return Content.from_model(row) if row else None

    @strawberry.field(
        description="The files this content can be downloaded as (Anki, GIFT, QTI, ...)."
    )
    def exports(self) -> list[ContentExport]:
        return [
            ContentExport(
                format=exporter.format,
                label=exporter.label,
                media_type=exporter.media_type,
                file_name=export_formats.file_name(self._row.title, exporter),
                url=export_path(self._row.id, exporter.format),
            )
            for exporter in export_formats.exporters_for(self._row.content_type)
        ]

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
        counted=page.total_count,
    )
