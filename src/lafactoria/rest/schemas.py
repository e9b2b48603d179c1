"""Request and response bodies of the REST API, built from domain objects with ``from_model``.

Input limits (topic length, password policy, ...) are the services' to enforce; the models here
fix only the shape and types, so the rules live in one place for every transport.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from lafactoria.auth import models as auth_models
from lafactoria.auth.service import CreatedApiKey, LoginResult
from lafactoria.auth.tokens import API_KEY_PREFIX
from lafactoria.content import models as content_models
from lafactoria.content.bodies import (
    BODY_MODELS,
    MAX_CARDS,
    MAX_TARGET_MINUTES,
    MIN_CARDS,
    FlashcardDeck,
    PodcastFormat,
    PodcastScript,
    Quiz,
    StudyGuide,
)
from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.content.exports import formats
from lafactoria.content.exports.formats import ExportFormat
from lafactoria.db.types import utcnow
from lafactoria.generation import models as job_models
from lafactoria.generation.commands import (
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_REQUIREMENTS_LENGTH,
    MAX_TOPIC_LENGTH,
)
from lafactoria.generation.models import JobStatus
from lafactoria.generation.service import MAX_BATCH_SIZE
from lafactoria.pagination import Page
from lafactoria.rest.paths import export_path

# Numbers are taken strictly: JSON ``true`` is not a count of 1 day or 1 card.
StrictCount = Annotated[int, Field(strict=True)]

# -- auth ----------------------------------------------------------------------------------


class RegisterRequest(BaseModel):
    email: str = Field(
        description="Your email address; case and surrounding spaces ignored.",
        json_schema_extra={"format": "email", "maxLength": 320},
    )
    password: str = Field(
        description="At least the configured minimum length (10 by default).",
        json_schema_extra={"format": "password"},
    )


class UserOut(BaseModel):
    id: str = Field(description="The user's raw id (hex).")
    email: str
    created_at: datetime

    @classmethod
    def from_model(cls, user: auth_models.User) -> UserOut:
        return cls(id=user.id, email=user.email, created_at=user.created_at)


class TokenOut(BaseModel):
    """An OAuth2 token response (RFC 6749 §5.1) plus the user it is for."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  # the OAuth2 token type, no secret
    expires_in: int = Field(description="Seconds until the token expires.")
    expires_at: datetime
    user: UserOut

    @classmethod
    def from_result(cls, result: LoginResult) -> TokenOut:
        remaining = (result.access_token.expires_at - utcnow()).total_seconds()
        return cls(
            access_token=result.access_token.token,
            expires_in=max(0, int(remaining)),
            expires_at=result.access_token.expires_at,
            user=UserOut.from_model(result.user),
        )


class ApiKeyRequest(BaseModel):
    name: str = Field(
        description="What the key is for (1-100 characters).",
        json_schema_extra={"minLength": 1, "maxLength": 100},
    )
    expires_in_days: StrictCount | None = Field(
        default=None, description="Lifetime in days (1-3650); omitted: until revoked."
    )


class ApiKeyCreated(BaseModel):
    id: str
    name: str
    key: str = Field(description="The whole key. Shown only now: store it safely.")
    display_prefix: str = Field(description="The start of the key, to recognise it later.")
    created_at: datetime
    expires_at: datetime | None

    @classmethod
    def from_created(cls, created: CreatedApiKey) -> ApiKeyCreated:
        key = created.api_key
        return cls(
            id=key.id,
            name=key.name,
            key=created.secret,
            display_prefix=f"{API_KEY_PREFIX}{key.prefix}_",
            created_at=key.created_at,
            expires_at=key.expires_at,
        )


# -- generation ----------------------------------------------------------------------------


def _text(max_length: int, *, required: bool = True) -> dict[str, Any]:
    # The service enforces the limit (after trimming); the schema only documents it.
    return {"minLength": 1, "maxLength": max_length} if required else {"maxLength": max_length}


class GenerateRequest(BaseModel):
    topic: str = Field(
        description="What the content is about (1-200 characters).",
        json_schema_extra=_text(MAX_TOPIC_LENGTH),
    )
    content_type: ContentType
    audience_level: AudienceLevel
    additional_requirements: str | None = Field(
        default=None,
        description="Extra wishes, e.g. 'focus on photosynthesis' (up to 2000 characters; "
        "blank means none).",
        json_schema_extra=_text(MAX_REQUIREMENTS_LENGTH, required=False),
    )
    idempotency_key: str | None = Field(
        default=None,
        description="Repeat a request safely: the same key returns the same job.",
        json_schema_extra=_text(MAX_IDEMPOTENCY_KEY_LENGTH),
    )
    card_count: StrictCount | None = Field(
        default=None,
        description=f"Flashcards only: how many cards ({MIN_CARDS}-{MAX_CARDS}); omitted: "
        "as many as the topic needs.",
    )
    podcast_format: PodcastFormat | None = Field(
        default=None, description="Podcasts only: a two-host conversation or a one-voice brief."
    )
    target_minutes: StrictCount | None = Field(
        default=None, description=f"Podcasts only: length in minutes (1-{MAX_TARGET_MINUTES})."
    )


class BulkGenerateRequest(BaseModel):
    topics: list[Annotated[str, Field(json_schema_extra=_text(MAX_TOPIC_LENGTH))]] = Field(
        min_length=1, max_length=MAX_BATCH_SIZE, description="1 to 10 topics: one job each."
    )
    content_type: ContentType
    audience_level: AudienceLevel
    additional_requirements: str | None = Field(
        default=None,
        description="Applied to every topic.",
        json_schema_extra=_text(MAX_REQUIREMENTS_LENGTH, required=False),
    )


class JobError(BaseModel):
    code: str = Field(description="PROVIDER_UNAVAILABLE, OUTPUT_INVALID, CANCELLED, ...")
    message: str


class JobOut(BaseModel):
    id: str = Field(description="The job's raw id (hex); also its task id.")
    status: JobStatus
    topic: str
    content_type: ContentType
    audience_level: AudienceLevel
    additional_requirements: str | None
    batch_id: str | None = Field(description="Set when the job came from bulk-generate.")
    content_id: str | None = Field(description="The content produced, once succeeded.")
    error: JobError | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_model(cls, job: job_models.GenerationJob) -> JobOut:
        return cls(
            id=job.id,
            status=JobStatus(job.status),
            topic=job.topic,
            content_type=ContentType(job.content_type),
            audience_level=AudienceLevel(job.audience_level),
            additional_requirements=job.additional_requirements,
            batch_id=job.batch_id,
            content_id=job.content_id,
            error=JobError(code=job.error_code, message=job.error_message or "")
            if job.error_code
            else None,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class BulkAccepted(BaseModel):
    task_id: str = Field(description="The batch id: GET /api/v1/tasks/{task_id} follows all.")
    jobs: list[JobOut]


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PARTIALLY_SUCCEEDED = "partially_succeeded"


class TaskOut(BaseModel):
    """A job (task id = job id) or a bulk batch (task id = batch id) and where it stands."""

    task_id: str
    kind: Literal["job", "batch"]
    status: TaskStatus = Field(
        description="A batch whose jobs agree has their status; otherwise running while any "
        "job is unfinished, then succeeded, failed or partially_succeeded."
    )
    total: int
    finished: int
    succeeded: int
    content_ids: list[str] = Field(description="The content made so far, in job order.")
    jobs: list[JobOut]

    @classmethod
    def from_jobs(
        cls, task_id: str, kind: Literal["job", "batch"], jobs: list[job_models.GenerationJob]
    ) -> TaskOut:
        statuses = [JobStatus(job.status) for job in jobs]
        return cls(
            task_id=task_id,
            kind=kind,
            status=_task_status(statuses),
            total=len(jobs),
            finished=sum(status.is_terminal for status in statuses),
            succeeded=statuses.count(JobStatus.SUCCEEDED),
            content_ids=[job.content_id for job in jobs if job.content_id],
            jobs=[JobOut.from_model(job) for job in jobs],
        )


def _task_status(statuses: list[JobStatus]) -> TaskStatus:
    if len(set(statuses)) == 1:
        return TaskStatus(statuses[0].value)
    if not all(status.is_terminal for status in statuses):
        return TaskStatus.RUNNING
    if JobStatus.SUCCEEDED not in statuses:
        return TaskStatus.FAILED
    return TaskStatus.PARTIALLY_SUCCEEDED


# -- content -------------------------------------------------------------------------------


class ExportLink(BaseModel):
    format: ExportFormat
    label: str
    media_type: str
    file_name: str
    url: str = Field(description="Path of the authenticated download (GET with a bearer).")


class TokenUsage(BaseModel):
    input_tokens: int
    output_tokens: int


class ContentOut(BaseModel):
    id: str = Field(description="The content's raw id (hex).")
    title: str
    topic: str
    content_type: ContentType
    audience_level: AudienceLevel
    body: StudyGuide | FlashcardDeck | Quiz | PodcastScript = Field(
        description="The typed structure for content_type."
    )
    markdown: str
    provider: str
    model: str
    usage: TokenUsage
    created_at: datetime
    exports: list[ExportLink]

    @classmethod
    def from_model(cls, row: content_models.Content) -> ContentOut:
        content_type = ContentType(row.content_type)
        return cls(
            id=row.id,
            title=row.title,
            topic=row.topic,
            content_type=content_type,
            audience_level=AudienceLevel(row.audience_level),
            body=BODY_MODELS[content_type].model_validate(row.body),
            markdown=row.markdown,
            provider=row.provider,
            model=row.model,
            usage=TokenUsage(input_tokens=row.input_tokens, output_tokens=row.output_tokens),
            created_at=row.created_at,
            exports=export_links(row),
        )


def export_links(row: content_models.Content) -> list[ExportLink]:
    return [
        ExportLink(
            format=exporter.format,
            label=exporter.label,
            media_type=exporter.media_type,
            file_name=formats.file_name(row.title, exporter),
            url=export_path(row.id, exporter.format),
        )
        for exporter in formats.exporters_for(row.content_type)
    ]


class ContentPage(BaseModel):
    items: list[ContentOut]
    page: int
    page_size: int
    total: int = Field(description="Items matching the filter, on every page.")
    pages: int
    has_next: bool

    @classmethod
    def from_page(
        cls, page: Page[content_models.Content], *, number: int, size: int
    ) -> ContentPage:
        total = page.total_count
        if total is None:
            raise ValueError("a numbered page needs the total it was counted with")
        return cls(
            items=[ContentOut.from_model(row) for row in page.items],
            page=number,
            page_size=size,
            total=total,
            pages=math.ceil(total / size),
            has_next=page.has_next_page,
        )
