"""Generation jobs and their progress events."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from typing import Any

import strawberry

from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.events.models import EventKind, JobEvent
from lafactoria.generation import models
from lafactoria.generation.models import JobStatus
from lafactoria.graphql.context import Context
from lafactoria.graphql.ids import encode_cursor, encode_id
from lafactoria.graphql.types.common import Connection, Edge, Node, PageInfo
from lafactoria.graphql.types.content import Content
from lafactoria.pagination import Page, PageKey


@strawberry.type(description="Why a job failed or was cancelled.")
class JobError:
    code: str = strawberry.field(
        description="PROVIDER_UNAVAILABLE, PROVIDER_TIMEOUT, PROVIDER_REJECTED, OUTPUT_INVALID, "
        "OUTPUT_TRUNCATED, CANCELLED, INTERRUPTED or INTERNAL_ERROR."
    )
    message: str


@strawberry.type(description="One call to one provider while running a job.")
class ProviderAttempt:
    provider: str
    model: str
    outcome: str = strawberry.field(
        description="succeeded, failed, or skipped (the provider's circuit was open)."
    )
    error_code: str | None = strawberry.field(
        description="The job error code this failure maps to, e.g. PROVIDER_UNAVAILABLE."
    )
    error_class: str | None = strawberry.field(
        description="What went wrong, finer than the code: unavailable, timeout, rate_limited, "
        "truncated, invalid_output, rejected, context_too_long, misconfigured or circuit_open."
    )
    purpose: str = strawberry.field(
        description="Why the call was made: answer, retry, repair (invalid output sent back) "
        "or larger_budget (after a truncated answer)."
    )
    latency_ms: int
    input_tokens: int
    output_tokens: int


@strawberry.type(description="A request to generate content, and where it stands.")
class GenerationJob(Node):
    id: strawberry.ID
    status: JobStatus
    topic: str
    content_type: ContentType
    audience_level: AudienceLevel
    additional_requirements: str | None
    batch_id: strawberry.ID | None = strawberry.field(
        description="Set when the job was created by bulkGenerateContent."
    )
    error: JobError | None
    attempts: list[ProviderAttempt]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    _content_id: strawberry.Private[str | None]

    @strawberry.field(description="The content produced, once the job has succeeded.")
    async def content(self, info: strawberry.Info[Context, None]) -> Content | None:
        if self._content_id is None:
            return None
        row = await info.context.content_loader.load(self._content_id)
        return Content.from_model(row) if row else None

    @classmethod
    def from_model(cls, job: models.GenerationJob) -> GenerationJob:
        return cls(
            id=strawberry.ID(encode_id("GenerationJob", job.id)),
            status=JobStatus(job.status),
            topic=job.topic,
            content_type=ContentType(job.content_type),
            audience_level=AudienceLevel(job.audience_level),
            additional_requirements=job.additional_requirements,
            batch_id=strawberry.ID(encode_id("GenerationBatch", job.batch_id))
            if job.batch_id
            else None,
            error=JobError(code=job.error_code, message=job.error_message or "")
            if job.error_code
            else None,
            attempts=[
                ProviderAttempt(
                    provider=a["provider"],
                    model=a["model"],
                    outcome=a["outcome"],
                    error_code=a.get("error_code"),
                    error_class=a.get("error_class"),
                    purpose=a.get("purpose", "answer"),
                    latency_ms=a["latency_ms"],
                    input_tokens=a.get("input_tokens", 0),
                    output_tokens=a.get("output_tokens", 0),
                )
                for a in job.attempts
            ],
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            _content_id=job.content_id,
        )


def job_connection(page: Page[models.GenerationJob]) -> Connection[GenerationJob]:
    edges = [
        Edge(
            cursor=encode_cursor(PageKey(job.created_at, job.id)),
            node=GenerationJob.from_model(job),
        )
        for job in page.items
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


@strawberry.type(description="One step of a generation job, in order.")
class GenerationEvent:
    job_id: strawberry.ID
    sequence: int = strawberry.field(description="Gapless per job, from 1.")
    kind: EventKind
    status: JobStatus
    progress: float = strawberry.field(description="0 to 1; never decreases.")
    message: str
    provider: str | None
    model: str | None
    attempt: int | None
    text_delta: str | None = strawberry.field(description="Answer text as it streams.")
    discard_text: bool = strawberry.field(
        description="True when text streamed so far came from a failed attempt: drop it."
    )
    error: JobError | None
    at: datetime
    _content_id: strawberry.Private[str | None]
    shared_results: strawberry.Private[dict[Hashable, Any] | None] = None
    """Set when the event is shared by a job's subscribers: its renderings, per operation
    (see ``graphql.fanout``)."""

    @strawberry.field(description="The content, on the SUCCEEDED event.")
    async def content(self, info: strawberry.Info[Context, None]) -> Content | None:
        if self._content_id is None:
            return None
        rows = await info.context.services.content.get_many(
            user_id=await info.context.user_id(), content_ids=[self._content_id]
        )
        row = rows.get(self._content_id)
        return Content.from_model(row) if row else None

    @classmethod
    def from_event(cls, event: JobEvent) -> GenerationEvent:
        data = event.data
        return cls(
            job_id=strawberry.ID(encode_id("GenerationJob", event.job_id)),
            sequence=event.sequence,
            kind=data.kind,
            status=JobStatus(data.status),
            progress=round(data.progress, 4),
            message=data.message,
            provider=data.provider,
            model=data.model,
            attempt=data.attempt,
            text_delta=data.text_delta,
            discard_text=data.discard_text,
            error=JobError(code=data.error_code, message=data.message) if data.error_code else None,
            at=event.at,
            _content_id=data.content_id,
        )
