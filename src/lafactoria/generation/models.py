"""The generation job table and its status vocabulary."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from lafactoria.db.types import UTCDateTime, new_id, utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class GenerationJob(SQLModel, table=True):
    __tablename__ = "generation_jobs"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE", max_length=32)
    status: str = Field(sa_type=String(16), index=True, default=JobStatus.QUEUED.value)
    content_type: str = Field(sa_type=String(32))
    audience_level: str = Field(sa_type=String(32))
    topic: str = Field(max_length=500)
    additional_requirements: str | None = Field(default=None, sa_type=Text)
    idempotency_key: str | None = Field(default=None, max_length=128)
    # Jobs created together by one bulk request share this id.
    batch_id: str | None = Field(default=None, index=True, max_length=32)
    # The requested shape (card count, podcast format and length) and, for a revision, the
    # item being rewritten: ``generation.commands.GenerateCommand.options_json``.
    options: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    content_id: str | None = Field(
        default=None, foreign_key="contents.id", ondelete="SET NULL", max_length=32
    )
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, sa_type=Text)
    # One entry per provider attempt: provider, model, outcome, error code, latency, tokens.
    attempts: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    # The last event sequence written, so a late subscriber after a restart still gets the
    # terminal event under its real number.
    last_sequence: int = 0
    # How many times a worker has started the job; bounds re-runs after crashes.
    run_count: int = 0
    # The worker process running the job and how long its claim holds unless renewed: a job
    # whose lease ran out belongs to a dead worker and is re-queued by any live one.
    worker_id: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set when a user cancels a running job, so the cancel holds even if the message that
    # tells its worker is lost or the worker dies first.
    cancel_requested: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
