"""The generation pipeline: accept a request as a job, run it, report every step.

A job's life: ``submit`` stores it QUEUED and enqueues it; a worker calls ``run``, which claims
it (RUNNING), streams an answer through the provider chain, validates it into the typed body
for its content type, and stores the content together with the job's outcome in one
transaction. Every step is published to the job's event log, which ``progress`` replays and
follows for subscribers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import IntegrityError

from lafactoria.content.bodies import Body, parse_body
from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.content.markdown import render_markdown
from lafactoria.content.models import Content
from lafactoria.db.engine import Database
from lafactoria.db.types import utcnow
from lafactoria.errors import Conflict, LimitExceeded, NotFound
from lafactoria.events.models import EventData, EventKind, EventLog, JobEvent
from lafactoria.generation import repository
from lafactoria.generation.commands import GenerateCommand
from lafactoria.generation.models import GenerationJob, JobStatus
from lafactoria.generation.parsing import extract_json
from lafactoria.generation.prompts import build_prompt
from lafactoria.jobs.base import JobQueue
from lafactoria.pagination import Page, PageKey
from lafactoria.providers.base import Completion
from lafactoria.providers.failover import AttemptRecord, FailoverChain, GenerationFailed

log = structlog.get_logger(__name__)

# A job interrupted this many times (process killed mid-run) is failed instead of re-run, so a
# job that crashes its worker cannot crash every restart.
MAX_RUNS = 3
# Text is published in batches: at most one text event per interval unless a batch grows past
# the size, so a fast stream does not flood subscribers with one event per token.
_TEXT_FLUSH_SECONDS = 0.05
_TEXT_FLUSH_CHARS = 512
# Rough answer sizes, used only to turn streamed characters into a progress estimate.
_EXPECTED_CHARS = {
    ContentType.STUDY_GUIDE: 6000,
    ContentType.FLASHCARDS: 2500,
    ContentType.QUIZ: 4000,
    ContentType.PODCAST: 5000,
}


class GenerationService:
    def __init__(
        self,
        *,
        db: Database,
        events: EventLog,
        queue: JobQueue,
        chain: FailoverChain,
        max_output_tokens: int,
    ) -> None:
        self._db = db
        self._events = events
        self._queue = queue
        self._chain = chain
        self._max_output_tokens = max_output_tokens

    # -- accepting work -------------------------------------------------------------------

    async def submit(self, *, user_id: str, command: GenerateCommand) -> GenerationJob:
        """Store a QUEUED job and enqueue it; the same idempotency key returns the same job."""
        job = GenerationJob(
            user_id=user_id,
            topic=command.topic,
            content_type=command.content_type.value,
            audience_level=command.audience_level.value,
            additional_requirements=command.additional_requirements,
            idempotency_key=command.idempotency_key,
            last_sequence=1,
        )
        try:
            async with self._db.write() as session:
                if command.idempotency_key:
                    existing = await repository.get_job_by_idempotency_key(
                        session, user_id=user_id, key=command.idempotency_key
                    )
                    if existing is not None:
                        return existing
                session.add(job)
        except IntegrityError:
            # A concurrent request with the same key committed first; return its job.
            async with self._db.read() as session:
                existing = await repository.get_job_by_idempotency_key(
                    session, user_id=user_id, key=command.idempotency_key or ""
                )
            if existing is None:
                raise
            return existing

        await self._events.open(job.id, start_sequence=0)
        await self._events.publish(
            job.id, EventData(EventKind.QUEUED, JobStatus.QUEUED, 0.0, "queued")
        )
        try:
            self._queue.enqueue(job.id)
        except LimitExceeded:
            async with self._db.write() as session:
                await session.delete(job)
            raise
        log.info("job_queued", job_id=job.id, user_id=user_id, content_type=job.content_type)
        return job

    async def cancel(self, *, user_id: str, job_id: str) -> GenerationJob:
        """Cancel a queued or running job; a finished job is reported as a conflict."""
        job = await self.get_job(user_id=user_id, job_id=job_id)
        if JobStatus(job.status).is_terminal:
            raise Conflict(f"the job has already finished ({job.status})", field="jobId")
        while not self._queue.cancel(job_id):
            # Not running here, so it should still be queued: finish it directly and the
            # worker's claim then fails, so the job never starts. If a worker claimed it in
            # the meantime, loop and cancel the running task instead.
            finished = await self._finish(
                job_id,
                JobStatus.CANCELLED,
                error_code="CANCELLED",
                message="cancelled by the user",
                expected_status=JobStatus.QUEUED,
            )
            if (
                finished
                or JobStatus(
                    (await self.get_job(user_id=user_id, job_id=job_id)).status
                ).is_terminal
            ):
                break
            await asyncio.sleep(0)
        return await self._wait_terminal(user_id=user_id, job_id=job_id)

    # -- reading --------------------------------------------------------------------------

    async def get_job(self, *, user_id: str, job_id: str) -> GenerationJob:
        async with self._db.read() as session:
            job = await repository.get_user_job(session, user_id=user_id, job_id=job_id)
        if job is None:
            raise NotFound("no such generation job", field="id")
        return job

    async def get_jobs(self, *, user_id: str, job_ids: list[str]) -> dict[str, GenerationJob]:
        async with self._db.read() as session:
            jobs = await repository.get_user_jobs(session, user_id=user_id, job_ids=job_ids)
        return {job.id: job for job in jobs}

    async def list_jobs(
        self, *, user_id: str, status: JobStatus | None, after: PageKey | None, first: int
    ) -> Page[GenerationJob]:
        async with self._db.read() as session:
            rows = await repository.list_jobs(
                session, user_id=user_id, status=status, after=after, limit=first + 1
            )
            total = await repository.count_jobs(session, user_id=user_id, status=status)
        return Page(items=rows[:first], has_next_page=len(rows) > first, total_count=total)

    async def progress(
        self, *, user_id: str, job_id: str, after_sequence: int = 0
    ) -> AsyncIterator[JobEvent]:
        """The job's events after ``after_sequence``: replay, then live, through the terminal.

        Ownership is checked before anything streams, so someone else's job fails exactly
        like a missing one.
        """
        job = await self.get_job(user_id=user_id, job_id=job_id)
        stream = self._events.subscribe(job_id, after_sequence=after_sequence)
        if stream is not None:
            return stream
        if JobStatus(job.status).is_terminal:
            # The log was evicted (retention) or lost in a restart: the stored outcome is
            # still the whole truth, so hand out the terminal event under its real number.
            return _single(_terminal_event(job), after_sequence)
        await self._events.open(job_id, start_sequence=job.last_sequence)
        stream = self._events.subscribe(job_id, after_sequence=after_sequence)
        assert stream is not None
        return stream

    # -- running --------------------------------------------------------------------------

    async def run(self, job_id: str) -> None:
        """Worker entry point: run one job to a terminal state."""
        async with self._db.write() as session:
            claimed = await repository.claim_job(session, job_id=job_id, started_at=utcnow())
            job = await repository.get_job(session, job_id)
        if not claimed or job is None:
            return
        await self._events.open(job_id, start_sequence=job.last_sequence)
        structlog.contextvars.bind_contextvars(job_id=job_id, user_id=job.user_id)
        started = time.monotonic()
        try:
            await self._generate(job)
        except asyncio.CancelledError:
            await asyncio.shield(
                self._finish(
                    job_id,
                    JobStatus.CANCELLED,
                    error_code="CANCELLED",
                    message="cancelled by the user",
                )
            )
            raise
        except Exception:
            log.exception("job_crashed")
            await self._finish(
                job_id,
                JobStatus.FAILED,
                error_code="INTERNAL_ERROR",
                message="the job failed unexpectedly",
            )
        finally:
            log.info("job_finished", duration_ms=int((time.monotonic() - started) * 1000))
            structlog.contextvars.unbind_contextvars("job_id", "user_id")

    async def recover_interrupted(self) -> int:
        """Re-queue jobs a dead process left QUEUED or RUNNING; fail those run too often."""
        async with self._db.write() as session:
            jobs = await repository.list_unfinished_jobs(session)
            for job in jobs:
                if job.status == JobStatus.RUNNING and job.run_count < MAX_RUNS:
                    job.status = JobStatus.QUEUED.value
                    job.started_at = None
                    session.add(job)
        for job in jobs:
            if job.status == JobStatus.RUNNING:
                await self._finish(
                    job.id,
                    JobStatus.FAILED,
                    error_code="INTERRUPTED",
                    message="the job was interrupted too many times",
                )
                continue
            await self._events.open(job.id, start_sequence=job.last_sequence)
            await self._events.publish(
                job.id,
                EventData(EventKind.QUEUED, JobStatus.QUEUED, 0.0, "re-queued after a restart"),
            )
            try:
                self._queue.enqueue(job.id)
            except LimitExceeded:
                await self._finish(
                    job.id,
                    JobStatus.FAILED,
                    error_code="INTERRUPTED",
                    message="the job was interrupted by a restart",
                )
        return len(jobs)

    async def _generate(self, job: GenerationJob) -> None:
        content_type = ContentType(job.content_type)
        await self._events.publish(
            job.id, EventData(EventKind.STARTED, JobStatus.RUNNING, 0.05, "started")
        )
        request = build_prompt(
            content_type=content_type,
            audience_level=AudienceLevel(job.audience_level),
            topic=job.topic,
            additional_requirements=job.additional_requirements,
            max_tokens=self._max_output_tokens,
        )
        listener = _EventPublisher(self._events, job.id, _EXPECTED_CHARS[content_type])
        try:
            result = await self._chain.generate(
                request, accept=_body_parser(content_type), listener=listener
            )
        except GenerationFailed as failure:
            await listener.flush()
            await self._finish(
                job.id,
                JobStatus.FAILED,
                error_code=failure.code,
                message=failure.message,
                attempts=failure.attempts,
            )
            return
        await listener.flush()
        content = _content_from(job, result.value, result.completion, result.provider)
        await self._finish(
            job.id,
            JobStatus.SUCCEEDED,
            message="done",
            attempts=result.attempts,
            content=content,
        )

    async def _finish(
        self,
        job_id: str,
        status: JobStatus,
        *,
        message: str,
        error_code: str | None = None,
        attempts: list[AttemptRecord] | None = None,
        content: Content | None = None,
        expected_status: JobStatus | None = None,
    ) -> bool:
        """Write the terminal state (and the content) in one transaction, then announce it.

        Returns ``False`` without writing when the job is already terminal or not in
        ``expected_status``.
        """
        async with self._db.write() as session:
            job = await repository.get_job(session, job_id)
            if job is None or JobStatus(job.status).is_terminal:
                return False
            if expected_status is not None and job.status != expected_status:
                return False
            await self._events.open(job_id, start_sequence=job.last_sequence)
            sequence = (self._events.last_sequence(job_id) or job.last_sequence) + 1
            if content is not None:
                session.add(content)
                await session.flush()
                job.content_id = content.id
            job.status = status.value
            job.error_code = error_code
            job.error_message = message if error_code else None
            job.finished_at = utcnow()
            job.last_sequence = sequence
            if attempts is not None:
                job.attempts = [attempt.as_dict() for attempt in attempts]
            session.add(job)
        await self._events.publish(job_id, _terminal_data(job))
        return True

    async def _wait_terminal(self, *, user_id: str, job_id: str) -> GenerationJob:
        stream = await self.progress(user_id=user_id, job_id=job_id)
        async for _event in stream:
            pass
        return await self.get_job(user_id=user_id, job_id=job_id)


def _body_parser(content_type: ContentType) -> Callable[[Completion], Body]:
    def parse(completion: Completion) -> Body:
        return parse_body(content_type, extract_json(completion.text))

    return parse


def _content_from(job: GenerationJob, body: Body, completion: Completion, provider: str) -> Content:
    return Content(
        user_id=job.user_id,
        title=body.title,
        topic=job.topic,
        content_type=job.content_type,
        audience_level=job.audience_level,
        body=body.model_dump(mode="json"),
        markdown=render_markdown(body),
        provider=provider,
        model=completion.model,
        input_tokens=completion.usage.input_tokens,
        output_tokens=completion.usage.output_tokens,
    )


_TERMINAL_KIND = {
    JobStatus.SUCCEEDED: EventKind.SUCCEEDED,
    JobStatus.FAILED: EventKind.FAILED,
    JobStatus.CANCELLED: EventKind.CANCELLED,
}


def _terminal_data(job: GenerationJob) -> EventData:
    status = JobStatus(job.status)
    return EventData(
        kind=_TERMINAL_KIND[status],
        status=status,
        progress=1.0,
        message=job.error_message or "done",
        content_id=job.content_id,
        error_code=job.error_code,
    )


def _terminal_event(job: GenerationJob) -> JobEvent:
    return JobEvent(
        job_id=job.id,
        sequence=job.last_sequence,
        data=_terminal_data(job),
        at=job.finished_at or utcnow(),
    )


async def _single(event: JobEvent, after_sequence: int) -> AsyncIterator[JobEvent]:
    if event.sequence > after_sequence:
        yield event


@dataclass
class _EventPublisher:
    """Turns the chain's callbacks into job events, batching text deltas."""

    events: EventLog
    job_id: str
    expected_chars: int
    _buffer: str = ""
    _streamed_chars: int = 0
    _last_flush: float = 0.0
    _provider: str | None = None
    _attempt: int | None = None

    async def attempt_started(self, *, provider: str, model: str, number: int) -> None:
        self._provider, self._attempt = provider, number
        await self._publish(EventKind.ATTEMPT, 0.1, f"asking {provider} ({model})", model=model)

    async def text(self, delta: str) -> None:
        self._buffer += delta
        now = time.monotonic()
        if len(self._buffer) >= _TEXT_FLUSH_CHARS or now - self._last_flush >= _TEXT_FLUSH_SECONDS:
            await self.flush()

    async def discard(self, *, reason: str) -> None:
        self._buffer = ""
        self._streamed_chars = 0
        await self._publish(EventKind.DISCARD, 0.1, reason, discard_text=True)

    async def validating(self, *, provider: str) -> None:
        await self.flush()
        await self._publish(EventKind.VALIDATING, 0.9, f"validating the answer from {provider}")

    async def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not self._buffer:
            return
        delta, self._buffer = self._buffer, ""
        self._streamed_chars += len(delta)
        share = min(1.0, self._streamed_chars / self.expected_chars)
        await self._publish(EventKind.TEXT, 0.1 + 0.75 * share, "", text_delta=delta)

    async def _publish(
        self,
        kind: EventKind,
        progress: float,
        message: str,
        *,
        model: str | None = None,
        text_delta: str | None = None,
        discard_text: bool = False,
    ) -> None:
        await self.events.publish(
            self.job_id,
            EventData(
                kind=kind,
                status=JobStatus.RUNNING,
                progress=progress,
                message=message,
                provider=self._provider,
                model=model,
                attempt=self._attempt,
                text_delta=text_delta,
                discard_text=discard_text,
            ),
        )
