"""The embedded default: a bounded, fair in-process queue drained by a fixed pool of tasks."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Collection, Sequence

import structlog

from lafactoria.errors import LimitExceeded
from lafactoria.jobs.base import JobHandler, QueuedJob

log = structlog.get_logger(__name__)


class FairQueue:
    """FIFO per owner, round robin across owners: a user who submits a batch of ten does not
    make everyone else wait behind all ten."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._lanes: dict[str, deque[str]] = {}
        self._turns: deque[str] = deque()
        self._size = 0
        self._available = asyncio.Semaphore(0)
        # Cancelled while waiting: their places are free at once, ``get`` skips them later.
        self._dropped: set[str] = set()

    def __len__(self) -> int:
        return self._size

    def __contains__(self, job_id: object) -> bool:
        if job_id in self._dropped:
            return False
        return any(job_id in lane for lane in self._lanes.values())

    def drop(self, job_id: str) -> bool:
        """Free a waiting job's place now; ``False`` when it is not waiting here."""
        if job_id not in self:
            return False
        self._dropped.add(job_id)
        self._size -= 1
        return True

    def put_all(self, jobs: Sequence[QueuedJob], *, bounded: bool = True) -> None:
        if bounded and self._size + len(jobs) > self.max_size:
            raise LimitExceeded("the generation queue is full; try again shortly")
        for job in jobs:
            lane = self._lanes.get(job.owner)
            if lane is None:
                lane = self._lanes[job.owner] = deque()
                self._turns.append(job.owner)
            lane.append(job.job_id)
            self._size += 1
            self._available.release()

    async def get(self) -> str:
        while True:
            await self._available.acquire()
            owner = self._turns.popleft()
            lane = self._lanes[owner]
            job_id = lane.popleft()
            if lane:
                self._turns.append(owner)
            else:
                del self._lanes[owner]
            if job_id in self._dropped:
                self._dropped.discard(job_id)
                continue
            self._size -= 1
            return job_id


class InProcessJobQueue:
    def __init__(
        self, *, concurrency: int, max_size: int, shutdown_grace_seconds: float = 0.0
    ) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._grace = shutdown_grace_seconds
        self._queue = FairQueue(max_size)
        self._dispatcher: asyncio.Task[None] | None = None
        self._running: dict[str, asyncio.Task[None]] = {}

    async def start(self, handler: JobHandler) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch(handler), name="job-dispatcher")

    async def stop(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
            self._dispatcher = None
        if self._running and self._grace > 0:
            await asyncio.wait(list(self._running.values()), timeout=self._grace)
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def enqueue(self, jobs: Sequence[QueuedJob]) -> None:
        self._queue.put_all(jobs)

    async def requeue(self, jobs: Sequence[QueuedJob]) -> None:
        self._queue.put_all(jobs, bounded=False)

    async def missing(self, job_ids: Collection[str]) -> set[str]:
        return {job_id for job_id in job_ids if job_id not in self._queue}

    async def cancel(self, job_id: str) -> bool:
        task = self._running.get(job_id)
        if task is None:
            # Cancelled before it started: its place in the queue is free for other work.
            self._queue.drop(job_id)
            return False
        task.cancel()
        return True

    async def _dispatch(self, handler: JobHandler) -> None:
        while True:
            # A free slot first, then a job: a job taken off the queue starts at once.
            await self._slots.acquire()
            try:
                job_id = await self._queue.get()
            except asyncio.CancelledError:
                self._slots.release()
                raise
            # Each job runs in its own task so cancelling one job leaves the others alone.
            task = asyncio.create_task(self._run(handler, job_id), name=f"job-{job_id}")
            self._running.setdefault(job_id, task)

    async def _run(self, handler: JobHandler, job_id: str) -> None:
        try:
            await handler(job_id)
        except Exception:
            log.exception("job_handler_crashed", job_id=job_id)
        finally:
            # A duplicate delivery of a running job must not unregister the real run.
            if self._running.get(job_id) is asyncio.current_task():
                del self._running[job_id]
            self._slots.release()
