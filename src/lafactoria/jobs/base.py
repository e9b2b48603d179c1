"""The job queue Protocol shared by the in-process and distributed adapters."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

JobHandler = Callable[[str], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class QueuedJob:
    job_id: str
    owner: str
    """Whose job it is: the queue takes turns between owners so one cannot starve others."""


class JobQueue(Protocol):
    async def start(self, handler: JobHandler) -> None:
        """Begin running enqueued job ids through ``handler``."""
        ...

    async def stop(self) -> None:
        """Stop taking work and cancel what is running."""
        ...

    async def enqueue(self, jobs: Sequence[QueuedJob]) -> None:
        """Accept all of ``jobs`` or none: ``LimitExceeded`` when they do not all fit."""
        ...

    async def cancel(self, job_id: str) -> bool:
        """Stop the job wherever it runs; ``True`` when this process was running it."""
        ...
