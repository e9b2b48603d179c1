"""Root query fields: translate arguments, call a service, map the result."""

from __future__ import annotations

import strawberry

from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.content.models import ContentFilter, clean_search
from lafactoria.content.quality import AudienceFit
from lafactoria.errors import InvalidInput
from lafactoria.generation.models import JobStatus
from lafactoria.graphql.context import Context
from lafactoria.graphql.ids import decode_any_id, decode_cursor, decode_id
from lafactoria.graphql.types.auth import ApiKey, User
from lafactoria.graphql.types.common import Connection, Node, selects_field
from lafactoria.graphql.types.content import Content, content_connection
from lafactoria.graphql.types.jobs import GenerationJob, job_connection
from lafactoria.pagination import PageKey

Info = strawberry.Info[Context, None]


@strawberry.input(description="Narrows a content listing; every field is optional.")
class ContentFilterInput:
    content_type: ContentType | None = None
    audience_level: AudienceLevel | None = None
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive text to find in the title or topic."
    )
    audience_fit: AudienceFit | None = strawberry.field(
        default=None,
        description="Items whose quality report has this verdict, e.g. TOO_HARD to find "
        "items to revise.",
    )
    needs_review: bool | None = strawberry.field(
        default=None, description="Items whose quality report has (true) or lacks a WARNING."
    )


def _page_args(info: Info, first: int, after: str | None) -> PageKey | None:
    limit = info.context.services.settings.graphql.max_page_size
    if not 1 <= first <= limit:
        raise InvalidInput(f"first must be between 1 and {limit}", field="first")
    return decode_cursor(after) if after is not None else None


@strawberry.type
class Query:
    @strawberry.field(description="The authenticated user.")
    async def viewer(self, info: Info) -> User:
        principal = await info.context.require_principal()
        return User.from_model(principal.user)

    @strawberry.field(description="The viewer's content, newest first.")
    async def contents(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: ContentFilterInput | None = None,
    ) -> Connection[Content]:
        key = _page_args(info, first, after)
        search = clean_search(filter.search, field="filter.search") if filter else None
        filters = ContentFilter(
            content_type=filter.content_type.value if filter and filter.content_type else None,
            audience_level=filter.audience_level.value
            if filter and filter.audience_level
            else None,
            search=search,
            audience_fit=filter.audience_fit.value if filter and filter.audience_fit else None,
            needs_review=filter.needs_review if filter else None,
        )
        page = await info.context.services.content.list_contents(
            user_id=await info.context.user_id(),
            filters=filters,
            after=key,
            first=first,
            count=selects_field(info, "totalCount"),
        )
        return content_connection(page)

    @strawberry.field(description="One of the viewer's content items; null when not found.")
    async def content(self, info: Info, id: strawberry.ID) -> Content | None:
        content_id = decode_id(id, "Content")
        row = await info.context.content_loader.load(content_id)
        return Content.from_model(row) if row else None

    @strawberry.field(description="One of the viewer's generation jobs; null when not found.")
    async def generation_job(self, info: Info, id: strawberry.ID) -> GenerationJob | None:
        job_id = decode_id(id, "GenerationJob")
        job = await info.context.job_loader.load(job_id)
        return GenerationJob.from_model(job) if job else None

    @strawberry.field(description="The viewer's generation jobs, newest first.")
    async def generation_jobs(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        status: JobStatus | None = None,
        batch_id: strawberry.ID | None = None,
    ) -> Connection[GenerationJob]:
        key = _page_args(info, first, after)
        page = await info.context.services.generation.list_jobs(
            user_id=await info.context.user_id(),
            status=status,
            batch_id=decode_id(batch_id, "GenerationBatch", field="batchId") if batch_id else None,
            after=key,
            first=first,
            count=selects_field(info, "totalCount"),
        )
        return job_connection(page)

    @strawberry.field(description="The viewer's API keys, newest first.")
    async def api_keys(self, info: Info) -> list[ApiKey]:
        keys = await info.context.services.auth.list_api_keys(user_id=await info.context.user_id())
        return [ApiKey.from_model(key) for key in keys]

    @strawberry.field(description="Any object by its global ID; null when not found.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, raw_id = decode_any_id(id)
        user_id = await info.context.user_id()
        if type_name == "Content":
            row = await info.context.content_loader.load(raw_id)
            return Content.from_model(row) if row else None
        if type_name == "GenerationJob":
            job = await info.context.job_loader.load(raw_id)
            return GenerationJob.from_model(job) if job else None
        if type_name == "ApiKey":
            keys = await info.context.services.auth.list_api_keys(user_id=user_id)
            return next((ApiKey.from_model(k) for k in keys if k.id == raw_id), None)
        if type_name == "User":
            principal = await info.context.require_principal()
            return User.from_model(principal.user) if principal.user.id == raw_id else None
        raise InvalidInput("id is not a valid ID", field="id")
