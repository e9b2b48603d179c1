"""The job queue Protocol shared by the in-process and distributed adapters.

A queue only carries job ids to workers; the database says what state a job is in. So a
queue may deliver a job twice (a redelivered message, a re-enqueue after a suspected loss):
the worker's conditional claim (QUEUED → RUNNING) lets exactly one delivery run it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine, Sequence
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
        """Begin running enqueued job ids through ``handler`` in this process."""
        ...

    async def stop(self) -> None:
        """Stop taking work, give running jobs the shutdown grace period, then cancel the
        rest (their handler hands them back) and release connections."""
        ...

    async def enqueue(self, jobs: Sequence[QueuedJob]) -> None:
        """Accept all of new ``jobs`` or none: ``LimitExceeded`` when they do not all fit."""
        ...

    async def requeue(self, jobs: Sequence[QueuedJob]) -> None:
        """Put back jobs that were already accepted (handed back, interrupted, or whose
        message was lost); they are counted already, so no back-pressure applies."""
        ...

    async def missing(self, job_ids: Collection[str]) -> set[str]:
        """Which of these QUEUED jobs no longer have a message on its way to a worker."""
        ...

    async def cancel(self, job_id: str) -> bool:
        """Stop the job wherever it runs; ``True`` when this process was running it."""
        ...
