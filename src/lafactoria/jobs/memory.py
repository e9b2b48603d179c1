"""The embedded default: a bounded, fair in-process queue drained by a fixed pool of tasks."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence

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

    def __len__(self) -> int:
        return self._size

    def put_all(self, jobs: Sequence[QueuedJob]) -> None:
        if self._size + len(jobs) > self.max_size:
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
        await self._available.acquire()
        owner = self._turns.popleft()
        lane = self._lanes[owner]
        job_id = lane.popleft()
        if lane:
            self._turns.append(owner)
        else:
            del self._lanes[owner]
        self._size -= 1
        return job_id


class InProcessJobQueue:
    def __init__(self, *, concurrency: int, max_size: int) -> None:
        self._concurrency = concurrency
        self._queue = FairQueue(max_size)
        self._workers: list[asyncio.Task[None]] = []
        self._running: dict[str, asyncio.Task[None]] = {}

    async def start(self, handler: JobHandler) -> None:
        self._workers = [
            asyncio.create_task(self._work(handler), name=f"job-worker-{n}")
            for n in range(self._concurrency)
        ]

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._workers, *self._running.values(), return_exceptions=True)
        self._workers = []

    async def enqueue(self, jobs: Sequence[QueuedJob]) -> None:
        self._queue.put_all(jobs)

    async def cancel(self, job_id: str) -> bool:
        task = self._running.get(job_id)
        if task is None:
            return False
        task.cancel()
        return True

    async def _work(self, handler: JobHandler) -> None:
        while True:
            job_id = await self._queue.get()
            # Each job runs in its own task so cancelling one job leaves the worker alive.
            task = asyncio.create_task(handler(job_id), name=f"job-{job_id}")
            self._running[job_id] = task
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.done():  # the worker itself is being stopped
                    task.cancel()
                    raise
            except Exception:
                log.exception("job_handler_crashed", job_id=job_id)
            finally:
                self._running.pop(job_id, None)
