"""The job progress event and the log Protocol that stores and streams it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from lafactoria.db.types import utcnow


class EventKind(StrEnum):
    QUEUED = "queued"
    STARTED = "started"
    ATTEMPT = "attempt"
    TEXT = "text"
    DISCARD = "discard"
    VALIDATING = "validating"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (EventKind.SUCCEEDED, EventKind.FAILED, EventKind.CANCELLED)


@dataclass(frozen=True, slots=True)
class EventData:
    """What a publisher says; the log adds the job, the sequence and the time."""

    kind: EventKind
    status: str
    progress: float
    message: str = ""
    provider: str | None = None
    model: str | None = None
    attempt: int | None = None
    text_delta: str | None = None
    discard_text: bool = False
    content_id: str | None = None
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class JobEvent:
    job_id: str
    sequence: int
    data: EventData
    at: datetime = field(default_factory=utcnow)

    @property
    def is_terminal(self) -> bool:
        return self.data.kind.is_terminal


class EventLog(Protocol):
    """An ordered, gapless log per job with replay and live streaming."""

    async def publish(self, job_id: str, data: EventData) -> JobEvent:
        """Append an event. Sequences start after ``start_sequence`` of ``open``; progress
        is clamped so it never decreases."""
        ...

    async def open(self, job_id: str, *, start_sequence: int) -> None:
        """Make sure a log exists for the job, numbering on from ``start_sequence``."""
        ...

    def follower_count(self, job_id: str) -> int:
        """Subscribers following the job's log in this process right now."""
        ...

    async def forget(self, job_id: str) -> None:
        """Drop a job's log at once (its job was never accepted)."""
        ...

    async def last_sequence(self, job_id: str) -> int | None:
        """The sequence of the newest event, or ``None`` when no log is held for the job."""
        ...

    async def subscribe(
        self, job_id: str, *, after_sequence: int
    ) -> AsyncIterator[JobEvent] | None:
        """Events after ``after_sequence``, then live ones, ending after the terminal event;
        ``None`` when no log is held for the job."""
        ...

    async def aclose(self) -> None:
        """Release connections and background tasks; the log is not used afterwards."""
        ...
