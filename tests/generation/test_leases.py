"""Leases and recovery in the generation service: one run per job however often it is
delivered, and the sweep that finishes what dead workers left RUNNING."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.content.models import Content
from lafactoria.db.engine import Database
from lafactoria.db.types import utcnow
from lafactoria.events.memory import MemoryEventLog
from lafactoria.generation.commands import GenerateCommand
from lafactoria.generation.models import GenerationJob, JobStatus
from lafactoria.generation.service import MAX_RUNS, GenerationService
from lafactoria.jobs.memory import InProcessJobQueue
from lafactoria.providers.failover import FailoverChain
from lafactoria.providers.offline import OfflineProvider
from lafactoria.runtime import build_auth_service, open_database
from tests.support.server import make_settings


@dataclass
class Setup:
    db: Database
    events: MemoryEventLog
    queue: InProcessJobQueue
    service: GenerationService
    user_id: str


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    settings = make_settings(tmp_path)
    db = await open_database(settings)
    events = MemoryEventLog(retention_seconds=60)
    # Never started: the tests deliver jobs by calling ``run`` themselves.
    queue = InProcessJobQueue(concurrency=1, max_size=10)
    chain = FailoverChain([OfflineProvider()], job_deadline_seconds=60)
    service = GenerationService(
        db=db, events=events, queue=queue, chain=chain, max_output_tokens=8192
    )
    user = await build_auth_service(settings, db).register(
        email="lease@example.com", password="correct horse battery"
    )
    yield Setup(db, events, queue, service, user.id)
    await chain.aclose()
    await db.dispose()


async def submit(setup: Setup) -> str:
    command = GenerateCommand(
        topic="Leases", content_type=ContentType.QUIZ, audience_level=AudienceLevel.HIGH_SCHOOL
    )
    return (await setup.service.submit(user_id=setup.user_id, command=command)).job.id


async def left_running(setup: Setup, job_id: str, *, runs: int, cancel: bool = False) -> None:
    """As a worker that died mid-run leaves it: RUNNING under a lease that ran out."""
    async with setup.db.write() as session:
        job = await session.get(GenerationJob, job_id)
        assert job is not None
        job.status = JobStatus.RUNNING.value
        job.worker_id = "dead-worker"
        job.lease_expires_at = utcnow() - timedelta(seconds=1)
        job.run_count = runs
        job.cancel_requested = cancel
        session.add(job)


async def stored(setup: Setup, job_id: str) -> GenerationJob:
    async with setup.db.read() as session:
        job = await session.get(GenerationJob, job_id)
        assert job is not None
        return job


async def test_a_job_delivered_twice_runs_once(setup: Setup) -> None:
    job_id = await submit(setup)

    await setup.service.run(job_id)
    await setup.service.run(job_id)

    job = await stored(setup, job_id)
    async with setup.db.read() as session:
        contents = (await session.exec(select(Content))).all()
    assert (job.status, job.run_count, len(contents)) == (JobStatus.SUCCEEDED, 1, 1)
    assert job.worker_id == setup.service.worker_id


async def test_the_sweep_requeues_a_job_whose_worker_died(setup: Setup) -> None:
    job_id = await submit(setup)
    await setup.queue._queue.get()  # the first message went with the dead worker
    await left_running(setup, job_id, runs=1)

    await setup.service.sweep()

    job = await stored(setup, job_id)
    assert (job.status, job.worker_id, job.lease_expires_at) == (JobStatus.QUEUED, None, None)
    assert await setup.queue._queue.get() == job_id
    stream = await setup.events.subscribe(job_id, after_sequence=1)
    assert stream is not None
    requeued = await anext(stream)
    assert (requeued.data.status, requeued.data.discard_text) == (JobStatus.QUEUED, True)
    # A process that must number on from the database (its log was lost) starts above it.
    assert (await stored(setup, job_id)).last_sequence == requeued.sequence


@pytest.mark.parametrize(
    ("runs", "cancel", "status", "code"),
    [
        (MAX_RUNS, False, JobStatus.FAILED, "INTERRUPTED"),
        (1, True, JobStatus.CANCELLED, "CANCELLED"),
    ],
)
async def test_the_sweep_finishes_what_must_not_run_again(
    setup: Setup, runs: int, cancel: bool, status: JobStatus, code: str
) -> None:
    job_id = await submit(setup)
    await left_running(setup, job_id, runs=runs, cancel=cancel)

    await setup.service.sweep()

    job = await stored(setup, job_id)
    assert (job.status, job.error_code) == (status, code)


async def test_a_live_lease_is_left_alone(setup: Setup) -> None:
    job_id = await submit(setup)
    await left_running(setup, job_id, runs=1)
    async with setup.db.write() as session:
        job = await session.get(GenerationJob, job_id)
        assert job is not None
        job.lease_expires_at = utcnow() + timedelta(seconds=30)
        session.add(job)

    await setup.service.sweep()

    assert (await stored(setup, job_id)).status == JobStatus.RUNNING


async def test_the_sweep_resends_a_queued_job_whose_message_was_lost(setup: Setup) -> None:
    job_id = await submit(setup)
    await setup.queue._queue.get()  # lost, as when Redis restarts without persistence
    async with setup.db.write() as session:
        job = await session.get(GenerationJob, job_id)
        assert job is not None
        job.created_at = utcnow() - timedelta(minutes=5)
        session.add(job)

    await setup.service.sweep()

    assert await setup.queue._queue.get() == job_id
    assert len(setup.queue._queue) == 0


class _PausingEventLog(MemoryEventLog):
    """Holds a worker right after it claims ``job_id``: its first ``open`` of the job's log
    waits forever, the moment a racing cancel used to be lost in."""

    def __init__(self) -> None:
        super().__init__(retention_seconds=60)
        self.job_id: str | None = None
        self.paused = asyncio.Event()

    async def open(self, job_id: str, *, start_sequence: int) -> None:
        if job_id == self.job_id and start_sequence > 0 and not self.paused.is_set():
            self.paused.set()
            await asyncio.Event().wait()
        await super().open(job_id, start_sequence=start_sequence)


async def test_a_cancel_that_lands_just_after_the_claim_ends_the_job(setup: Setup) -> None:
    events = _PausingEventLog()
    queue = InProcessJobQueue(concurrency=1, max_size=10)
    chain = FailoverChain([OfflineProvider()], job_deadline_seconds=60)
    service = GenerationService(
        db=setup.db, events=events, queue=queue, chain=chain, max_output_tokens=8192
    )
    await queue.start(service.run)
    try:
        command = GenerateCommand(
            topic="Race", content_type=ContentType.QUIZ, audience_level=AudienceLevel.COLLEGE
        )
        events.job_id = (await service.submit(user_id=setup.user_id, command=command)).job.id
        await asyncio.wait_for(events.paused.wait(), timeout=5)

        cancelled = await asyncio.wait_for(
            service.cancel(user_id=setup.user_id, job_id=events.job_id), timeout=5
        )
    finally:
        await queue.stop()
        await chain.aclose()

    assert cancelled.status == JobStatus.CANCELLED
    assert cancelled.content_id is None


async def test_a_restart_requeues_every_accepted_job_even_into_a_full_queue(
    setup: Setup,
) -> None:
    queue = InProcessJobQueue(concurrency=1, max_size=1)
    chain = FailoverChain([OfflineProvider()], job_deadline_seconds=60)
    service = GenerationService(
        db=setup.db, events=setup.events, queue=queue, chain=chain, max_output_tokens=8192
    )
    # Accepted by the process that died: one waiting, one running. The restarted process's
    # queue holds one job, fewer than it must take back.
    waiting = await submit(setup)
    running = await submit(setup)
    await left_running(setup, running, runs=1)

    await service.recover_interrupted()
    await chain.aclose()

    assert (await stored(setup, running)).status == JobStatus.QUEUED
    assert (await stored(setup, waiting)).status == JobStatus.QUEUED
    assert {await queue._queue.get(), await queue._queue.get()} == {waiting, running}
