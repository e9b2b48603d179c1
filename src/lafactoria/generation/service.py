"""The generation pipeline: accept a request as a job, run it, report every step.

A job's life: ``submit`` stores it QUEUED and enqueues it; a worker calls ``run``, which claims
it (RUNNING), streams an answer through the provider chain, validates it into the typed body
for its content type, and stores the content together with the job's outcome in one
transaction. Every step is published to the job's event log, which ``progress`` replays and
follows for subscribers.

The database is the truth about a job, wherever it runs. A claim holds a lease that the
running worker renews; ``sweep`` (every process runs it periodically) re-queues or fails jobs
whose lease ran out because their worker died, and re-enqueues queued jobs whose queue message
was lost. Cancelling is recorded on the job, so the worker learns of it even if the queue's
message to it goes astray.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError

from lafactoria.content import quality
from lafactoria.content import repository as content_repository
from lafactoria.content.bodies import Body, BodySpec, parse_body
from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.content.markdown import render_markdown
from lafactoria.content.models import Content
from lafactoria.db.engine import Database
from lafactoria.db.types import new_id, utcnow
from lafactoria.errors import Conflict, InvalidInput, LimitExceeded, NotFound, Unavailable
from lafactoria.events.models import EventData, EventKind, EventLog, JobEvent
from lafactoria.generation import repository
from lafactoria.generation.commands import GenerateCommand, Revision, read_options
from lafactoria.generation.models import GenerationJob, JobStatus
from lafactoria.generation.parsing import extract_json
from lafactoria.generation.prompts import Draft, build_prompt
from lafactoria.jobs.base import JobQueue, QueuedJob
from lafactoria.observability.metrics import Metrics
from lafactoria.pagination import Page, PageKey
from lafactoria.providers.base import Completion, GenerationRequest
from lafactoria.providers.base import Revision as Followup
from lafactoria.providers.failover import (
    AttemptListener,
    AttemptRecord,
    ChainResult,
    FailoverChain,
    GenerationFailed,
)
from lafactoria.ratelimit import Allowance, RateLimits

log = structlog.get_logger(__name__)

# Sequences a run may publish before it stores a higher ceiling (see _reserve_sequences).
_SEQUENCE_BLOCK = 64
# A job interrupted this many times (process killed mid-run) is failed instead of re-run, so a
# job that crashes its worker cannot crash every restart.
MAX_RUNS = 3
MAX_BATCH_SIZE = 10
# How often a cancel request checks whether the job's worker has stopped it.
_CANCEL_POLL_SECONDS = 0.05
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


@dataclass(frozen=True, slots=True)
class Submitted:
    """What :meth:`GenerationService.submit` did: the job, and whether this call made it."""

    job: GenerationJob
    created: bool
    """False when an earlier request with the same idempotency key made the job."""


class GenerationService:
    def __init__(
        self,
        *,
        db: Database,
        events: EventLog,
        queue: JobQueue,
        chain: FailoverChain,
        max_output_tokens: int,
        metrics: Metrics | None = None,
        worker_id: str | None = None,
        lease_seconds: float = 30.0,
        limits: RateLimits | None = None,
    ) -> None:
        self._db = db
        self._limits = limits
        self._events = events
        self._queue = queue
        self._chain = chain
        self._max_output_tokens = max_output_tokens
        self._metrics = metrics or Metrics()
        self.worker_id = worker_id or new_id()
        """Whose lease this process's runs hold: unique per process."""
        self._lease = timedelta(seconds=lease_seconds)

    # -- accepting work -------------------------------------------------------------------

    async def submit(self, *, user_id: str, command: GenerateCommand) -> Submitted:
        """Store a QUEUED job and enqueue it; the same idempotency key returns the same job.

        Only a job this call creates counts against the user's generation quotas (whichever
        credential or transport they use); ``created`` says which it was.
        """
        async with self._admitted(user_id, 1) as allowance:
            submitted = await self._submit(user_id, command)
            if submitted.created:
                allowance.use(1)
        return submitted

    async def _submit(self, user_id: str, command: GenerateCommand) -> Submitted:
        if command.idempotency_key:
            existing = await self._find_by_key(user_id, command.idempotency_key)
            if existing is not None:
                return Submitted(job=existing, created=False)
        try:
            jobs = await self._accept(user_id, [command], batch_id=None)
        except IntegrityError:
            # A concurrent request with the same key committed first: that job is the answer.
            existing = await self._find_by_key(user_id, command.idempotency_key or "")
            if existing is None:
                raise
            return Submitted(job=existing, created=False)
        return Submitted(job=jobs[0], created=True)

    async def submit_batch(
        self, *, user_id: str, commands: Sequence[GenerateCommand]
    ) -> tuple[str, list[GenerationJob]]:
        """One job per command, grouped by a new batch id; all are accepted or none, and
        every one counts against the user's quotas."""
        if not 1 <= len(commands) <= MAX_BATCH_SIZE:
            raise InvalidInput(f"give 1 to {MAX_BATCH_SIZE} topics", field="topics")
        batch_id = new_id()
        async with self._admitted(user_id, len(commands)) as allowance:
            jobs = await self._accept(user_id, commands, batch_id=batch_id)
            allowance.use(len(jobs))
        return batch_id, jobs

    def _admitted(self, user_id: str, count: int) -> AbstractAsyncContextManager[Allowance]:
        """Room for ``count`` new jobs under the user's quotas (``RateLimited`` if none)."""
        if self._limits is None:
            return nullcontext(Allowance())
        return self._limits.generations(user_id=user_id, count=count)

    async def _find_by_key(self, user_id: str, key: str) -> GenerationJob | None:
        async with self._db.read() as session:
            return await repository.get_job_by_idempotency_key(session, user_id=user_id, key=key)

    async def _accept(
        self, user_id: str, commands: Sequence[GenerateCommand], *, batch_id: str | None
    ) -> list[GenerationJob]:
        jobs = [
            GenerationJob(
                user_id=user_id,
                topic=command.topic,
                content_type=command.content_type.value,
                audience_level=command.audience_level.value,
                additional_requirements=command.additional_requirements,
                idempotency_key=command.idempotency_key,
                batch_id=batch_id,
                options=command.options_json(),
                last_sequence=1,
            )
            for command in commands
        ]
        async with self._db.write() as session:
            session.add_all(jobs)
        try:
            # QUEUED is published before the job can reach a worker, so it is always
            # sequence 1.
            for job in jobs:
                await self._events.open(job.id, start_sequence=0)
                await self._events.publish(
                    job.id, EventData(EventKind.QUEUED, JobStatus.QUEUED, 0.0, "queued")
                )
            await self._queue.enqueue([QueuedJob(job_id=job.id, owner=user_id) for job in jobs])
        except (LimitExceeded, Unavailable):
            # Not accepted after all (queue full, event log down): no job is left behind
            # that nothing runs or reports, and the request can simply be repeated.
            async with self._db.write() as session:
                await repository.delete_jobs(session, job_ids=[job.id for job in jobs])
            for job in jobs:
                with contextlib.suppress(Unavailable):
                    await self._events.forget(job.id)
            raise
        for job in jobs:
            log.info("job_queued", job_id=job.id, user_id=user_id, batch_id=batch_id)
        return jobs

    async def cancel(self, *, user_id: str, job_id: str) -> GenerationJob:
        """Cancel a queued or running job; a finished job is reported as a conflict.

        A queued job is finished here, so no worker's claim succeeds and it never starts. A
        running job may run in another process: the request is recorded on the job, where
        its worker's lease renewal reads it, and the queue tells the worker at once.
        """
        while True:
            job = await self.get_job(user_id=user_id, job_id=job_id)
            if JobStatus(job.status).is_terminal:
                raise Conflict(f"the job has already finished ({job.status})", field="jobId")
            if await self._cancel_queued(job_id) or await self._cancel_running(job_id):
                return await self._wait_terminal(user_id=user_id, job_id=job_id)
            # It moved between QUEUED and RUNNING (claimed, or handed back) meanwhile.

    async def _cancel_queued(self, job_id: str) -> bool:
        cancelled = await self._finish(
            job_id,
            JobStatus.CANCELLED,
            error_code="CANCELLED",
            message="cancelled by the user",
            expected_status=JobStatus.QUEUED,
        )
        if cancelled:
            await self._queue.cancel(job_id)  # frees its place in a bounded queue
        return cancelled

    async def _cancel_running(self, job_id: str) -> bool:
        async with self._db.write() as session:
            requested = await repository.request_cancel(session, job_id=job_id)
        if requested:
            await self._queue.cancel(job_id)
        return requested

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
        self,
        *,
        user_id: str,
        status: JobStatus | None,
        batch_id: str | None = None,
        after: PageKey | None,
        first: int,
        count: bool = True,
    ) -> Page[GenerationJob]:
        """One page of the user's jobs, newest first; ``count`` also counts the whole list."""
        async with self._db.read() as session:
            rows = await repository.list_jobs(
                session,
                user_id=user_id,
                status=status,
                batch_id=batch_id,
                after=after,
                limit=first + 1,
            )
            total = (
                await repository.count_jobs(
                    session, user_id=user_id, status=status, batch_id=batch_id
                )
                if count
                else None
            )
        return Page(items=rows[:first], has_next_page=len(rows) > first, total_count=total)

    async def progress(
        self, *, user_id: str, job_id: str, after_sequence: int = 0
    ) -> AsyncIterator[JobEvent]:
        """The job's events after ``after_sequence``: replay, then live, through the terminal.

        Ownership is checked before anything streams, so someone else's job fails exactly
        like a missing one.
        """
        job = await self.get_job(user_id=user_id, job_id=job_id)
        stream = await self._events.subscribe(job_id, after_sequence=after_sequence)
        if stream is not None and JobStatus(job.status).is_terminal:
            last = await self._events.last_sequence(job_id)
            if last is not None and last < job.last_sequence:
                # The terminal event never reached the log (it was down when the job
                # finished): what the log holds, then the stored outcome.
                return _then_outcome(stream, job, last=last, after_sequence=after_sequence)
        if stream is not None:
            return stream
        if JobStatus(job.status).is_terminal:
            # The log was evicted (retention) or lost in a restart: the stored outcome is
            # still the whole truth, so hand out the terminal event under its real number.
            return _single(_terminal_event(job), after_sequence)
        await self._events.open(job_id, start_sequence=job.last_sequence)
        stream = await self._events.subscribe(job_id, after_sequence=after_sequence)
        assert stream is not None
        return stream

    # -- running --------------------------------------------------------------------------

    async def run(self, job_id: str) -> None:
        """Worker entry point: run one job to a terminal state, holding its lease meanwhile.

        When the job's task is cancelled, the job ends CANCELLED if the user asked for it;
        otherwise this process is shutting down and the job is handed back to the queue.
        """
        now = utcnow()
        async with self._db.write() as session:
            claimed = await repository.claim_job(
                session,
                job_id=job_id,
                worker_id=self.worker_id,
                started_at=now,
                lease_expires_at=now + self._lease,
            )
            job = await repository.get_job(session, job_id)
        if not claimed or job is None:
            return
        structlog.contextvars.bind_contextvars(job_id=job_id, user_id=job.user_id)
        started = time.monotonic()
        # Everything after the claim is inside the try: a cancel that lands on any await
        # from here on must still end the job, or it stays RUNNING until its lease runs out.
        try:
            await self._events.open(job_id, start_sequence=job.last_sequence)
            if job.cancel_requested:  # cancelled while it was being handed back
                await self._finish_cancelled(job_id)
                return
            async with self._leased(job_id):
                await self._generate(job)
        except asyncio.CancelledError:
            await asyncio.shield(self._stopped(job_id))
            raise
        except Exception:
            log.exception("job_crashed")
            await self._finish(
                job_id,
                JobStatus.FAILED,
                error_code="INTERNAL_ERROR",
                message="the job failed unexpectedly",
                worker_id=self.worker_id,
            )
        finally:
            log.info("job_finished", duration_ms=int((time.monotonic() - started) * 1000))
            structlog.contextvars.unbind_contextvars("job_id", "user_id")

    @asynccontextmanager
    async def _leased(self, job_id: str) -> AsyncIterator[None]:
        keeper = asyncio.create_task(self._keep_lease(job_id), name=f"lease-{job_id}")
        try:
            yield
        finally:
            keeper.cancel()
            await asyncio.wait([keeper])

    async def _keep_lease(self, job_id: str) -> None:
        """Renew the lease every third of its length; stop the job when a cancel was
        requested (the fallback if the queue's message was missed) or the lease was lost."""
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            try:
                async with self._db.write() as session:
                    cancel_requested = await repository.renew_lease(
                        session,
                        job_id=job_id,
                        worker_id=self.worker_id,
                        lease_expires_at=utcnow() + self._lease,
                    )
            except Exception:
                # The next renewal may succeed; if none does, the lease runs out and another
                # process takes the job over, which the next successful call here notices.
                log.warning("lease_renewal_failed", exc_info=True)
                continue
            if cancel_requested is None or cancel_requested:
                log.info("job_stopping", lease_lost=cancel_requested is None)
                await self._queue.cancel(job_id)
                return

    async def _stopped(self, job_id: str) -> None:
        """The job's task was cancelled: by the user, a lost lease, or a shutdown."""
        async with self._db.read() as session:
            job = await repository.get_job(session, job_id)
        if job is None or job.status != JobStatus.RUNNING or job.worker_id != self.worker_id:
            return  # Finished, or taken over by another worker after the lease ran out.
        if job.cancel_requested:
            await self._finish_cancelled(job_id)
        else:
            await self._hand_back(job, message="handed back by a worker shutting down")

    async def _finish_cancelled(self, job_id: str) -> None:
        await self._finish(
            job_id,
            JobStatus.CANCELLED,
            error_code="CANCELLED",
            message="cancelled by the user",
            worker_id=self.worker_id,
        )

    async def _hand_back(self, job: GenerationJob, *, message: str) -> bool:
        """QUEUED again and back in the queue, if ``job``'s worker still holds it."""
        assert job.worker_id is not None
        async with self._db.write() as session:
            released = await repository.release_job(session, job_id=job.id, worker_id=job.worker_id)
        if not released:
            return False
        await self._events.open(job.id, start_sequence=job.last_sequence)
        # Text the interrupted run streamed is void: the next run starts from nothing.
        requeued = await self._events.publish(
            job.id,
            EventData(EventKind.QUEUED, JobStatus.QUEUED, 0.0, message, discard_text=True),
        )
        await self._note_sequence(job.id, requeued.sequence)
        try:
            await self._queue.requeue([QueuedJob(job_id=job.id, owner=job.user_id)])
        except Unavailable:
            log.warning("requeue_failed", job_id=job.id)  # a later sweep re-sends it
        return True

    async def _reserve_sequences(self, job_id: str, *, above: int) -> int:
        """Store a sequence ``_SEQUENCE_BLOCK`` above ``above`` before a run numbers up to it.

        The event log of a running job may be lost with its process (the embedded default)
        or with Redis; numbering then goes on from the stored value, which is above every
        number any client saw, so a client resuming with ``afterSequence`` never has a number
        reused under it. One write per block keeps this off the streaming path.
        """
        ceiling = above + _SEQUENCE_BLOCK
        await self._note_sequence(job_id, ceiling)
        return ceiling

    async def _note_sequence(self, job_id: str, sequence: int) -> None:
        """Keep the stored sequence up with a re-queued job's log, so a process that numbers
        its events from the database (after the log was lost) never reuses a number."""
        async with self._db.write() as session:
            await repository.raise_last_sequence(session, job_id=job_id, sequence=sequence)

    async def sweep(self) -> None:
        """Recover what dead workers left: a job whose lease ran out is re-queued (or failed
        after ``MAX_RUNS``), and a queued job whose queue message was lost is sent again."""
        now = utcnow()
        async with self._db.read() as session:
            expired = await repository.list_expired_leases(session, now=now)
            # A job accepted a moment ago may not have reached the queue yet.
            queued = await repository.list_queued_jobs(session, created_before=now - self._lease)
        for job in expired:
            await self._recover_expired(job)
        owners = {job.id: job.user_id for job in queued}
        missing = await self._queue.missing(owners)
        if missing:
            log.warning("queue_messages_lost", job_ids=sorted(missing))
            await self._queue.requeue(
                [QueuedJob(job_id=job_id, owner=owners[job_id]) for job_id in sorted(missing)]
            )

    async def _recover_expired(self, job: GenerationJob) -> None:
        log.warning("job_lease_expired", job_id=job.id, worker_id=job.worker_id)
        if job.cancel_requested or job.run_count >= MAX_RUNS:
            cancelled = job.cancel_requested
            await self._finish(
                job.id,
                JobStatus.CANCELLED if cancelled else JobStatus.FAILED,
                error_code="CANCELLED" if cancelled else "INTERRUPTED",
                message="cancelled by the user"
                if cancelled
                else "the job was interrupted too many times",
                worker_id=job.worker_id,
            )
            return
        await self._hand_back(job, message="re-queued: its worker stopped answering")

    async def recover_interrupted(self) -> int:
        """Re-queue jobs a dead process left QUEUED or RUNNING; fail those run too often.

        Only for the embedded default, at start-up, when this process is the only one: with
        workers elsewhere, a RUNNING job may be alive, and ``sweep`` judges it by its lease.
        """
        async with self._db.write() as session:
            jobs = await repository.list_unfinished_jobs(session)
            for job in jobs:
                if job.status == JobStatus.RUNNING and job.run_count < MAX_RUNS:
                    job.status = JobStatus.QUEUED.value
                    job.started_at = None
                    job.worker_id = job.lease_expires_at = None
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
            requeued = await self._events.publish(
                job.id,
                # Text a crashed run streamed is void: the re-run starts from nothing.
                EventData(
                    EventKind.QUEUED,
                    JobStatus.QUEUED,
                    0.0,
                    "re-queued after a restart",
                    discard_text=True,
                ),
            )
            await self._note_sequence(job.id, requeued.sequence)
            # Accepted before the restart, so it keeps its place even in a full queue.
            await self._queue.requeue([QueuedJob(job_id=job.id, owner=job.user_id)])
        return len(jobs)

    async def _generate(self, job: GenerationJob) -> None:
        content_type = ContentType(job.content_type)
        reserved = await self._reserve_sequences(
            job.id, above=await self._events.last_sequence(job.id) or job.last_sequence
        )
        # A re-run (its worker died, or it was handed back) tells clients to drop whatever an
        # earlier run streamed, even if the QUEUED event saying so could not be published.
        rerun = job.run_count > 1
        await self._events.publish(
            job.id,
            EventData(
                EventKind.STARTED,
                JobStatus.RUNNING,
                0.05,
                "started again" if rerun else "started",
                discard_text=rerun,
            ),
        )
        spec, revision = read_options(job.options)
        request = _request_for(job, spec, revision, self._max_output_tokens)
        listener = _EventPublisher(
            self._events,
            job.id,
            _EXPECTED_CHARS[content_type],
            reserve=functools.partial(self._reserve_sequences, job.id),
            reserved=reserved,
        )
        accept = _body_parser(content_type, spec)
        try:
            result = await self._chain.generate(request, accept=accept, listener=listener)
            result, report = await _fit_to_audience(
                self._chain, AudienceLevel(job.audience_level), request, result, accept, listener
            )
        except GenerationFailed as failure:
            await listener.flush()
            await self._finish(
                job.id,
                JobStatus.FAILED,
                error_code=failure.code,
                message=failure.message,
                attempts=failure.attempts,
                worker_id=self.worker_id,
            )
            return
        await listener.flush()
        content = _content_from(job, result, report, revision)
        await self._finish(
            job.id,
            JobStatus.SUCCEEDED,
            message="done",
            attempts=result.attempts,
            content=content,
            worker_id=self.worker_id,
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
        worker_id: str | None = None,
    ) -> bool:
        """Write the terminal state (and the content) in one transaction, then announce it.

        Returns ``False`` without writing when the job is already terminal, not in
        ``expected_status``, or (given ``worker_id``) not running under that worker's lease:
        a worker that lost its lease must not overwrite the run that took over.
        """
        async with self._db.write() as session:
            job = await repository.get_job_for_update(session, job_id)
            if job is None or JobStatus(job.status).is_terminal:
                return False
            if expected_status is not None and job.status != expected_status:
                return False
            if worker_id is not None and (
                job.status != JobStatus.RUNNING or job.worker_id != worker_id
            ):
                return False
            await self._events.open(job_id, start_sequence=job.last_sequence)
            sequence = (await self._events.last_sequence(job_id) or job.last_sequence) + 1
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
        try:
            await self._events.publish(job_id, _terminal_data(job))
        except Unavailable:
            # The stored state is the truth and is written: ``progress`` hands the terminal
            # event out from it, so the job is not failed (or left unfinished) for this.
            log.warning("terminal_event_not_published", job_id=job_id, status=status.value)
        self._metrics.job_finished(status.value)
        return True

    async def _wait_terminal(self, *, user_id: str, job_id: str) -> GenerationJob:
        # The stored state, not the event log: the job may run in another process.
        job = await self.get_job(user_id=user_id, job_id=job_id)
        while not JobStatus(job.status).is_terminal:
            await asyncio.sleep(_CANCEL_POLL_SECONDS)
            job = await self.get_job(user_id=user_id, job_id=job_id)
        return job

    # -- revising -------------------------------------------------------------------------

    async def submit_revision(
        self, *, user_id: str, content_id: str, instructions: str
    ) -> GenerationJob:
        """Queue a job that rewrites one of the user's items as ``instructions`` ask.

        The job stores its result as a new item (``revision_of_id`` points back); the
        original is never changed or removed, so it stays usable if the revision fails.
        """
        async with self._db.read() as session:
            original = await content_repository.get_content(
                session, user_id=user_id, content_id=content_id
            )
        if original is None:
            raise NotFound("no such content", field="id")
        command = GenerateCommand.revise(
            content_id=original.id,
            topic=original.topic,
            content_type=ContentType(original.content_type),
            audience_level=AudienceLevel(original.audience_level),
            body=original.body,
            instructions=instructions,
        )
        return (await self.submit(user_id=user_id, command=command)).job


def _body_parser(content_type: ContentType, spec: BodySpec) -> Callable[[Completion], Body]:
    def parse(completion: Completion) -> Body:
        return parse_body(content_type, extract_json(completion.text), spec)

    return parse


def _content_from(
    job: GenerationJob,
    result: ChainResult[Body],
    report: quality.QualityReport,
    revision: Revision | None,
) -> Content:
    body, completion = result.value, result.completion
    return Content(
        user_id=job.user_id,
        title=body.title,
        topic=job.topic,
        content_type=job.content_type,
        audience_level=job.audience_level,
        body=body.model_dump(mode="json"),
        markdown=render_markdown(body),
        provider=result.provider,
        model=completion.model,
        input_tokens=completion.usage.input_tokens,
        output_tokens=completion.usage.output_tokens,
        quality=report.as_json(),
        revision_of_id=revision.content_id if revision is not None else None,
    )


# What an ATTEMPT event says, by the chain's reason for the call.
_ATTEMPT_MESSAGES = {
    "answer": "asking {provider} ({model})",
    "retry": "asking {provider} ({model}) again",
    "repair": "asking {provider} ({model}) to correct its answer",
    "larger_budget": "asking {provider} ({model}) again with a larger token budget",
}

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


async def _then_outcome(
    stream: AsyncIterator[JobEvent], job: GenerationJob, *, last: int, after_sequence: int
) -> AsyncIterator[JobEvent]:
    """The log's events up to ``last`` (no more will come), then the job's stored outcome."""
    try:
        if after_sequence < last:
            async for event in stream:
                yield event
                if event.sequence >= last:
                    break
    finally:
        # Every EventLog hands out an async generator; the Protocol promises only iteration.
        await stream.aclose()  # type: ignore[attr-defined]
    async for event in _single(_terminal_event(job), after_sequence):
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
    # Text events published since the last discard: only those need withdrawing.
    _shown: bool = False
    reserve: Callable[..., Awaitable[int]] | None = None
    """Stores a higher sequence ceiling (``above=`` the newest number); see
    ``GenerationService._reserve_sequences``."""
    reserved: int = 0

    async def attempt_started(
        self, *, provider: str, model: str, number: int, purpose: str = "answer"
    ) -> None:
        self._provider, self._attempt = provider, number
        message = _ATTEMPT_MESSAGES.get(purpose, "asking {provider} ({model})")
        await self._publish(
            EventKind.ATTEMPT, 0.1, message.format(provider=provider, model=model), model=model
        )

    async def text(self, delta: str) -> None:
        self._buffer += delta
        now = time.monotonic()
        if len(self._buffer) >= _TEXT_FLUSH_CHARS or now - self._last_flush >= _TEXT_FLUSH_SECONDS:
            await self.flush()

    async def discard(self, *, reason: str) -> None:
        self._buffer = ""
        self._streamed_chars = 0
        if not self._shown:
            return  # The failed attempt's text never left the buffer: nothing to withdraw.
        self._shown = False
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
        self._shown = True
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
        event = await self.events.publish(
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
        if self.reserve is not None and event.sequence >= self.reserved:
            self.reserved = await self.reserve(above=event.sequence)


# -- quality: the request for a job, and one retry when the answer misses its audience --------


def _request_for(
    job: GenerationJob, spec: BodySpec, revision: Revision | None, max_tokens: int
) -> GenerationRequest:
    return build_prompt(
        content_type=ContentType(job.content_type),
        audience_level=AudienceLevel(job.audience_level),
        topic=job.topic,
        additional_requirements=job.additional_requirements,
        max_tokens=max_tokens,
        spec=spec,
        draft=Draft(body=revision.body, instructions=revision.instructions)
        if revision is not None
        else None,
    )


# Marks the attempts of the retry in the job's trace.
_AUDIENCE_RETRY = "audience_retry"


async def _fit_to_audience(
    chain: FailoverChain,
    level: AudienceLevel,
    request: GenerationRequest,
    first: ChainResult[Body],
    accept: Callable[[Completion], Body],
    listener: AttemptListener,
) -> tuple[ChainResult[Body], quality.QualityReport]:
    """Measure the answer; when it misses the level's band, ask once more with feedback.

    The feedback goes to the provider as a follow-up turn after its own answer. Whichever
    answer is kept, its report says what happened and stays flagged if it is out of band;
    a failed retry keeps the first (valid) answer rather than failing the job.
    """
    report = quality.assess(first.value, level)
    if not report.out_of_band:
        return first, report
    feedback = quality.feedback(report)
    log.info("answer_out_of_band", audience_fit=report.audience_fit.value, feedback=feedback)
    # The streamed answer is being replaced: clients drop the text they were shown.
    await listener.discard(reason=f"the answer is {report.verdict()}: writing it again once")
    retry_request = dataclasses.replace(
        request,
        revisions=(*request.revisions, Followup(answer=first.completion.text, feedback=feedback)),
    )
    retried: ChainResult[Body] | None
    try:
        retried = await chain.generate(retry_request, accept=accept, listener=listener)
        retry_attempts = retried.attempts
    except GenerationFailed as failure:
        retried, retry_attempts = None, failure.attempts
    attempts = [
        *first.attempts,
        *(dataclasses.replace(a, purpose=_AUDIENCE_RETRY) for a in retry_attempts),
    ]
    retry_report = quality.assess(retried.value, level) if retried is not None else None
    keep_retry, kept_report = quality.after_retry(report, retry_report)
    kept = retried if keep_retry and retried is not None else first
    return dataclasses.replace(kept, attempts=attempts), kept_report
