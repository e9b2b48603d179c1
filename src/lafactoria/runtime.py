"""Everything a La Factoria process runs on, built from ``Settings`` and torn down in order.

The API server's lifespan and the ``lafactoria worker`` process share this composition, so a
worker runs jobs with exactly the database, provider chain, event log and rate limits the API
uses. Each port's adapter is chosen here from the settings (see docs/architecture.md): the
embedded default keeps everything in this process, ``LAFACTORIA_REDIS_URL`` scales out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from pwdlib import PasswordHash

from lafactoria import tables
from lafactoria.auth.service import AuthService
from lafactoria.auth.tokens import TokenCodec
from lafactoria.content.service import ContentService
from lafactoria.db.engine import Database, create_engine, create_schema
from lafactoria.events.memory import MemoryEventLog
from lafactoria.events.models import EventLog
from lafactoria.events.redis import RedisEventLog
from lafactoria.generation.service import GenerationService
from lafactoria.jobs.base import JobQueue
from lafactoria.jobs.memory import InProcessJobQueue
from lafactoria.observability.metrics import Metrics
from lafactoria.providers.base import Provider
from lafactoria.providers.failover import FailoverChain
from lafactoria.providers.registry import build_providers
from lafactoria.ratelimit import RateLimits, open_rate_limits
from lafactoria.services import Services
from lafactoria.settings import Settings


class Role(StrEnum):
    """What a process does with generation jobs."""

    SERVER = "server"
    """Accepts requests; on the embedded default it also runs the jobs itself."""
    WORKER = "worker"
    """Runs jobs taken from the shared queue (scale-out only)."""


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    db: Database
    events: EventLog
    queue: JobQueue
    chain: FailoverChain
    services: Services
    recovered_jobs: int


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    role: Role = Role.SERVER,
    providers: Sequence[Provider] | None = None,
    metrics: Metrics | None = None,
) -> AsyncIterator[Runtime]:
    """Open every port, start running jobs, recover what a dead process left; close on exit.

    ``providers`` replaces the configured chain (tests, benchmarks).
    """
    metrics = metrics or Metrics()
    db = await open_database(settings)
    chain = FailoverChain(
        list(providers) if providers is not None else build_providers(settings),
        job_deadline_seconds=settings.timeouts.job_seconds,
        policy=settings.failover,
        metrics=metrics,
    )
    events = open_event_log(settings)
    queue = open_job_queue(settings)
    generation = GenerationService(
        db=db,
        events=events,
        queue=queue,
        chain=chain,
        max_output_tokens=settings.max_output_tokens,
        metrics=metrics,
    )
    limits = open_rate_limits(
        settings.limits,
        storage_uri=settings.rate_limit_storage_uri,
        key_prefix=f"{settings.redis_prefix}limits",
    )
    services = Services(
        settings=settings,
        auth=build_auth_service(settings, db, limits=limits),
        content=ContentService(db=db),
        generation=generation,
        limits=limits,
    )
    try:
        await queue.start(generation.run)
        recovered = await generation.recover_interrupted()
        yield Runtime(
            settings=settings,
            db=db,
            events=events,
            queue=queue,
            chain=chain,
            services=services,
            recovered_jobs=recovered,
        )
    finally:
        await queue.stop()
        await chain.aclose()
        await limits.aclose()
        await events.aclose()
        await db.dispose()


async def open_database(settings: Settings) -> Database:
    """Connect to the configured database and create missing tables."""
    db = Database(create_engine(settings.resolved_database_url))
    await create_schema(db.engine, tables.metadata)
    return db


def open_event_log(settings: Settings) -> EventLog:
    """Where job events are kept and fanned out to subscribers."""
    retention = settings.jobs.event_retention_seconds
    if settings.redis_url is not None:
        return RedisEventLog.from_url(
            settings.redis_url.get_secret_value(),
            retention_seconds=retention,
            prefix=settings.redis_prefix,
        )
    return MemoryEventLog(retention_seconds=retention)


def open_job_queue(settings: Settings) -> JobQueue:
    """How accepted jobs reach a worker."""
    return InProcessJobQueue(
        concurrency=settings.jobs.concurrency, max_size=settings.jobs.queue_size
    )


def build_auth_service(
    settings: Settings, db: Database, *, limits: RateLimits | None = None
) -> AuthService:
    """The auth service as configured: shared by the server and the ``lafactoria`` CLI (which
    has no login limits: its user runs it on the server)."""
    return AuthService(
        db=db,
        tokens=TokenCodec(
            secret=settings.signing_secret(),
            issuer=settings.auth.jwt_issuer,
            audience=settings.auth.jwt_audience,
            lifetime=timedelta(minutes=settings.auth.access_token_minutes),
        ),
        hasher=PasswordHash.recommended(),
        min_password_length=settings.auth.min_password_length,
        limits=limits,
    )
