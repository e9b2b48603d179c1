"""``/content``: generate, list, read, delete and download the caller's content."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.content.exports import formats
from lafactoria.content.exports.formats import ExportFormat
from lafactoria.content.models import ContentFilter
from lafactoria.generation.commands import GenerateCommand
from lafactoria.rest.dependencies import CurrentPrincipal, ServicesDep
from lafactoria.rest.errors import ApiRoute, error_responses
from lafactoria.rest.paths import API_PREFIX
from lafactoria.rest.schemas import (
    BulkAccepted,
    BulkGenerateRequest,
    ContentOut,
    ContentPage,
    GenerateRequest,
    JobOut,
)

router = APIRouter(prefix="/content", tags=["content"], route_class=ApiRoute)

MAX_PAGE_SIZE = 100


def _task_link(field: str) -> dict[str, Any]:
    # An OpenAPI link: tells clients (and schema-driven test tools) where the id leads.
    return {
        "GetTask": {
            "operationId": "get_task",
            "parameters": {"task_id": f"$response.body#/{field}"},
            "description": "Follow the job(s) until they finish.",
        }
    }


@router.post(
    "/generate",
    status_code=202,
    responses={202: {"links": _task_link("id")}, **error_responses(400, 413, 401, 422, 429, 503)},
    summary="Generate content",
)
async def generate(
    body: GenerateRequest, response: Response, principal: CurrentPrincipal, services: ServicesDep
) -> JobOut:
    """Queue one generation job and return it at once (202); follow it at ``/tasks/{id}``."""
    command = GenerateCommand.create(
        topic=body.topic,
        content_type=body.content_type,
        audience_level=body.audience_level,
        additional_requirements=body.additional_requirements,
        idempotency_key=body.idempotency_key,
        card_count=body.card_count,
        podcast_format=body.podcast_format,
        target_minutes=body.target_minutes,
    )
    submitted = await services.generation.submit(user_id=principal.user.id, command=command)
    job = submitted.job
    response.headers["Location"] = f"{API_PREFIX}/tasks/{job.id}"
    return JobOut.from_model(job)


@router.post(
    "/bulk-generate",
    status_code=202,
    responses={
        202: {"links": _task_link("task_id")},
        **error_responses(400, 413, 401, 422, 429, 503),
    },
    summary="Generate content for several topics",
)
async def bulk_generate(
    body: BulkGenerateRequest,
    response: Response,
    principal: CurrentPrincipal,
    services: ServicesDep,
) -> BulkAccepted:
    """One job per topic (1 to 10), same type and level; all are queued or none.

    The task id is the batch id: ``GET /tasks/{task_id}`` reports every job of the batch.
    """
    commands = [
        GenerateCommand.create(
            topic=topic,
            content_type=body.content_type,
            audience_level=body.audience_level,
            additional_requirements=body.additional_requirements,
            field=f"topics.{index}",
        )
        for index, topic in enumerate(body.topics)
    ]
    batch_id, jobs = await services.generation.submit_batch(
        user_id=principal.user.id, commands=commands
    )
    response.headers["Location"] = f"{API_PREFIX}/tasks/{batch_id}"
    return BulkAccepted(task_id=batch_id, jobs=[JobOut.from_model(job) for job in jobs])


@router.get("/", responses=error_responses(401, 422), summary="List your content")
async def list_content(
    principal: CurrentPrincipal,
    services: ServicesDep,
    page: Annotated[int, Query(ge=1, description="Page number, from 1.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items a page.")] = 20,
    content_type: ContentType | None = None,
    audience_level: AudienceLevel | None = None,
) -> ContentPage:
    """Your content, newest first, a page at a time."""
    result = await services.content.list_contents_at(
        user_id=principal.user.id,
        filters=ContentFilter(
            content_type=content_type.value if content_type else None,
            audience_level=audience_level.value if audience_level else None,
        ),
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return ContentPage.from_page(result, number=page, size=page_size)


@router.get("/{content_id}", responses=error_responses(401, 404, 422), summary="Read content")
async def get_content(
    content_id: str, principal: CurrentPrincipal, services: ServicesDep
) -> ContentOut:
    row = await services.content.get(user_id=principal.user.id, content_id=content_id)
    return ContentOut.from_model(row)


@router.delete(
    "/{content_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 404, 422),
    summary="Delete content",
)
async def delete_content(
    content_id: str, principal: CurrentPrincipal, services: ServicesDep
) -> None:
    await services.content.delete(user_id=principal.user.id, content_id=content_id)


def _export_media_types() -> dict[str, Any]:
    media_types = {
        exporter.media_type.split(";")[0]
        for offered in formats.EXPORTERS.values()
        for exporter in offered
    }
    return {
        media_type: {
            "schema": {"type": "object"}
            if media_type == "application/json"
            else {"type": "string", "format": "binary"}
        }
        for media_type in sorted(media_types)
    }


@router.get(
    "/{content_id}/export/{format}",
    response_class=Response,
    responses={
        200: {"description": "The file, as an attachment.", "content": _export_media_types()},
        **error_responses(401, 404, 422),
    },
    summary="Download an export",
)
async def export_content(
    content_id: str,
    format: ExportFormat,
    principal: CurrentPrincipal,
    services: ServicesDep,
) -> Response:
    """The content as a file: flashcards as ``apkg`` or ``tsv``, quizzes as ``gift`` or
    ``qti``, and any type as ``markdown`` or ``json``. A format the type does not offer is
    404 (``field: format``)."""
    row = await services.content.get(user_id=principal.user.id, content_id=content_id)
    exported = formats.export(row, format)
    return Response(
        exported.data,
        media_type=exported.media_type,
        headers={
            "Content-Disposition": content_disposition(exported.file_name),
            "X-Content-Type-Options": "nosniff",
        },
    )


def content_disposition(file_name: str) -> str:
    """``attachment`` with the exact UTF-8 name in ``filename*`` (RFC 6266) and an ASCII
    ``filename`` for clients that predate it."""
    stem, dot, suffix = file_name.partition(".")
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = re.sub(r"[^A-Za-z0-9]+", "-", folded).strip("-") or "content"
    return (
        f'attachment; filename="{ascii_stem}{dot}{suffix}"; '
        f"filename*=UTF-8''{quote(file_name, safe='')}"
    )
