"""Queries for generation jobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from lafactoria.generation.models import GenerationJob, JobStatus
from lafactoria.pagination import PageKey, after_key


async def get_job(session: AsyncSession, job_id: str) -> GenerationJob | None:
    return await session.get(GenerationJob, job_id)


async def get_user_job(session: AsyncSession, *, user_id: str, job_id: str) -> GenerationJob | None:
    result = await session.exec(
        select(GenerationJob).where(GenerationJob.id == job_id, GenerationJob.user_id == user_id)
    )
    return result.first()


async def get_user_jobs(
    session: AsyncSession, *, user_id: str, job_ids: list[str]
) -> list[GenerationJob]:
    result = await session.exec(
        select(GenerationJob).where(
            col(GenerationJob.id).in_(job_ids), GenerationJob.user_id == user_id
        )
    )
    return list(result.all())


async def get_job_by_idempotency_key(
    session: AsyncSession, *, user_id: str, key: str
) -> GenerationJob | None:
    result = await session.exec(
        select(GenerationJob).where(
            GenerationJob.user_id == user_id, GenerationJob.idempotency_key == key
        )
    )
    return result.first()


async def list_jobs(
    session: AsyncSession,
    *,
    user_id: str,
    status: JobStatus | None,
    batch_id: str | None,
    after: PageKey | None,
    limit: int,
) -> list[GenerationJob]:
    conditions = _list_conditions(user_id, status, batch_id)
    if after is not None:
        conditions.append(after_key(col(GenerationJob.created_at), col(GenerationJob.id), after))
    result = await session.exec(
        select(GenerationJob)
        .where(*conditions)
        .order_by(col(GenerationJob.created_at).desc(), col(GenerationJob.id).desc())
        .limit(limit)
    )
    return list(result.all())


async def count_jobs(
    session: AsyncSession, *, user_id: str, status: JobStatus | None, batch_id: str | None
) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(GenerationJob)
        .where(*_list_conditions(user_id, status, batch_id))
    )
    return int(result.one())


def _list_conditions(
    user_id: str, status: JobStatus | None, batch_id: str | None
) -> list[ColumnElement[bool]]:
    conditions = [col(GenerationJob.user_id) == user_id]
    if status is not None:
        conditions.append(col(GenerationJob.status) == status.value)
    if batch_id is not None:
        conditions.append(col(GenerationJob.batch_id) == batch_id)
    return conditions


async def delete_jobs(session: AsyncSession, *, job_ids: list[str]) -> None:
    await session.exec(delete(GenerationJob).where(col(GenerationJob.id).in_(job_ids)))


async def claim_job(session: AsyncSession, *, job_id: str, started_at: datetime) -> bool:
    """Move a queued job to running; ``False`` when it was no longer queued (cancelled)."""
    result = await session.exec(
        update(GenerationJob)
        .where(col(GenerationJob.id) == job_id, col(GenerationJob.status) == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING.value,
            started_at=started_at,
            run_count=col(GenerationJob.run_count) + 1,
        )
    )
    return bool(result.rowcount)


async def list_unfinished_jobs(session: AsyncSession) -> list[GenerationJob]:
    result = await session.exec(
        select(GenerationJob)
        .where(col(GenerationJob.status).in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        .order_by(col(GenerationJob.created_at))
    )
    return list(result.all())
