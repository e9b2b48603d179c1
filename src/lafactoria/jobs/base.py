"""The job queue Protocol shared by the in-process and distributed adapters."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

JobHandler = Callable[[str], Coroutine[Any, Any, None]]


class JobQueue(Protocol):
    async def start(self, handler: JobHandler) -> None:
        """Begin running enqueued job ids through ``handler``."""
        ...

    async def stop(self) -> None:
        """Stop taking work and cancel what is running."""
        ...

    def enqueue(self, job_id: str) -> None:
        """Accept a job id or raise ``LimitExceeded`` when the queue is full."""
        ...

    def cancel(self, job_id: str) -> bool:
        """Stop a job running in this process; ``True`` when one was running."""
        ...
