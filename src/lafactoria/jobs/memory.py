"""The embedded default: a bounded in-process queue drained by a fixed pool of tasks."""

from __future__ import annotations

import asyncio

import structlog

from lafactoria.errors import LimitExceeded
from lafactoria.jobs.base import JobHandler

log = structlog.get_logger(__name__)


class InProcessJobQueue:
    def __init__(self, *, concurrency: int, max_size: int) -> None:
        self._concurrency = concurrency
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=max_size)
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

    def enqueue(self, job_id: str) -> None:
        try:
            self._queue.put_nowait(job_id)
        except asyncio.QueueFull:
            raise LimitExceeded("the generation queue is full; try again shortly") from None

    def cancel(self, job_id: str) -> bool:
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
                self._queue.task_done()
