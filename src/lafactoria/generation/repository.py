"""Queries for generation jobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from lafactoria.generation.models import GenerationJob, JobStatus
from lafactoria.pagination import PageKey, after_key


async def get_job(session: AsyncSession, job_id: str) -> GenerationJob | None:
    return await session.get(GenerationJob, job_id)


async def get_job_for_update(session: AsyncSession, job_id: str) -> GenerationJob | None:
    """The job, locked until the transaction ends (PostgreSQL), so two processes finishing
    or recovering it cannot both act on what they read."""
    return await session.get(GenerationJob, job_id, with_for_update=True)


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


async def claim_job(
    session: AsyncSession,
    *,
    job_id: str,
    worker_id: str,
    started_at: datetime,
    lease_expires_at: datetime,
) -> bool:
    """Move a queued job to running under ``worker_id``'s lease; ``False`` when it was no
    longer queued (cancelled, or another delivery of it claimed it first)."""
    result = await session.exec(
        update(GenerationJob)
        .where(col(GenerationJob.id) == job_id, col(GenerationJob.status) == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING.value,
            started_at=started_at,
            worker_id=worker_id,
            lease_expires_at=lease_expires_at,
            run_count=col(GenerationJob.run_count) + 1,
        )
    )
    return bool(result.rowcount)


async def renew_lease(
    session: AsyncSession, *, job_id: str, worker_id: str, lease_expires_at: datetime
) -> bool | None:
    """Extend ``worker_id``'s lease on a running job. Returns whether a cancel was requested,
    or ``None`` when the worker no longer holds the job (its lease ran out and the job was
    re-queued, or it finished)."""
    held = _held_by(job_id, worker_id)
    result = await session.exec(
        update(GenerationJob).where(*held).values(lease_expires_at=lease_expires_at)
    )
    if not result.rowcount:
        return None
    requested = await session.exec(select(GenerationJob.cancel_requested).where(*held))
    return bool(requested.one())


async def release_job(session: AsyncSession, *, job_id: str, worker_id: str) -> bool:
    """Put a running job back in the queue state; ``False`` unless ``worker_id`` held it."""
    result = await session.exec(
        update(GenerationJob)
        .where(*_held_by(job_id, worker_id))
        .values(
            status=JobStatus.QUEUED.value,
            worker_id=None,
            lease_expires_at=None,
            started_at=None,
        )
    )
    return bool(result.rowcount)


async def raise_last_sequence(session: AsyncSession, *, job_id: str, sequence: int) -> None:
    """Record that the job's event log reached ``sequence``; a lower number changes nothing."""
    await session.exec(
        update(GenerationJob)
        .where(col(GenerationJob.id) == job_id, col(GenerationJob.last_sequence) < sequence)
        .values(last_sequence=sequence)
    )


async def request_cancel(session: AsyncSession, *, job_id: str) -> bool:
    """Flag a running job for cancellation; ``False`` when it is not running."""
    result = await session.exec(
        update(GenerationJob)
        .where(col(GenerationJob.id) == job_id, col(GenerationJob.status) == JobStatus.RUNNING)
        .values(cancel_requested=True)
    )
    return bool(result.rowcount)


def _held_by(job_id: str, worker_id: str) -> list[ColumnElement[bool]]:
    return [
        col(GenerationJob.id) == job_id,
        col(GenerationJob.status) == JobStatus.RUNNING,
        col(GenerationJob.worker_id) == worker_id,
    ]


async def list_expired_leases(session: AsyncSession, *, now: datetime) -> list[GenerationJob]:
    """Running jobs whose worker stopped renewing its lease: it died or lost the database.
    A running job without a lease was claimed before leases existed: nobody renews it."""
    lease = col(GenerationJob.lease_expires_at)
    result = await session.exec(
        select(GenerationJob).where(
            col(GenerationJob.status) == JobStatus.RUNNING, or_(lease < now, lease.is_(None))
        )
    )
    return list(result.all())


async def list_queued_jobs(
    session: AsyncSession, *, created_before: datetime
) -> list[GenerationJob]:
    result = await session.exec(
        select(GenerationJob).where(
            col(GenerationJob.status) == JobStatus.QUEUED,
            col(GenerationJob.created_at) < created_before,
        )
    )
    return list(result.all())


async def count_queued_jobs(session: AsyncSession) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(GenerationJob)
        .where(col(GenerationJob.status) == JobStatus.QUEUED)
    )
    return int(result.one())


async def list_unfinished_jobs(session: AsyncSession) -> list[GenerationJob]:
    result = await session.exec(
        select(GenerationJob)
        .where(col(GenerationJob.status).in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        .order_by(col(GenerationJob.created_at))
    )
    return list(result.all())
