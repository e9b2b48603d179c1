"""Everything a La Factoria process runs on, built from ``Settings`` and torn down in order.

The API server's lifespan and the ``lafactoria worker`` process share this composition, so a
worker runs jobs with exactly the database, provider chain, event log and rate limits the API
uses. Each port's adapter is chosen here from the settings (see docs/architecture.md): the
embedded default keeps everything in this process, ``LAFACTORIA_REDIS_URL`` scales out.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import structlog
from pwdlib import PasswordHash

from lafactoria.auth.service import AuthService
from lafactoria.auth.tokens import TokenCodec
from lafactoria.content.service import ContentService
from lafactoria.db import migrate
from lafactoria.db.engine import Database, create_engine
from lafactoria.events.memory import MemoryEventLog
from lafactoria.events.models import EventLog
from lafactoria.events.redis import RedisEventLog
from lafactoria.generation import repository as generation_repository
from lafactoria.generation.service import GenerationService
from lafactoria.jobs.base import JobQueue
from lafactoria.jobs.memory import InProcessJobQueue
from lafactoria.jobs.redis import RedisJobQueue
from lafactoria.observability.metrics import Metrics
from lafactoria.providers.base import Provider
from lafactoria.providers.failover import FailoverChain
from lafactoria.providers.registry import build_providers
from lafactoria.ratelimit import RateLimits, open_rate_limits
from lafactoria.services import Services
from lafactoria.settings import Settings, unknown_variables

log = structlog.get_logger(__name__)


class Role(StrEnum):
    """What a process does with generation jobs."""

    SERVER = "server"
    """Accepts requests; on the embedded default it also runs the jobs itself."""
    WORKER = "worker"
    """Runs jobs taken from the shared queue (scale-out only)."""

    def runs_jobs(self, settings: Settings) -> bool:
        return self is Role.WORKER or settings.redis_url is None


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
    misspelt = unknown_variables()
    if misspelt:
        log.warning("unknown_settings", variables=misspelt, message="no setting has these names")
    db = await open_database(settings)
    chain = FailoverChain(
        list(providers) if providers is not None else build_providers(settings),
        job_deadline_seconds=settings.timeouts.job_seconds,
        policy=settings.failover,
        metrics=metrics,
    )
    events = open_event_log(settings)
    worker_id = new_worker_id()
    queue = open_job_queue(settings, role, db=db, worker_id=worker_id)
    limits = open_rate_limits(
        settings.limits,
        storage_uri=settings.rate_limit_storage_uri,
        key_prefix=f"{settings.redis_prefix}:limits",
    )
    generation = GenerationService(
        db=db,
        events=events,
        queue=queue,
        chain=chain,
        max_output_tokens=settings.max_output_tokens,
        metrics=metrics,
        worker_id=worker_id,
        lease_seconds=settings.jobs.lease_seconds,
        limits=limits,
    )
    services = Services(
        settings=settings,
        auth=build_auth_service(settings, db, limits=limits),
        content=ContentService(db=db),
        generation=generation,
        limits=limits,
    )
    sweeper: asyncio.Task[None] | None = None
    try:
        if role.runs_jobs(settings):
            await queue.start(generation.run)
        # Alone, this process knows every unfinished job was left by a dead one; with
        # workers elsewhere, only an expired lease says so.
        recovered = await generation.recover_interrupted() if settings.redis_url is None else 0
        sweeper = asyncio.create_task(
            keep_sweeping(generation, settings.jobs.lease_seconds / 3), name="job-sweeper"
        )
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
        if sweeper is not None:
            sweeper.cancel()
            await asyncio.wait([sweeper])
        await queue.stop()
        await chain.aclose()
        await limits.aclose()
        await events.aclose()
        await db.dispose()


async def open_database(settings: Settings) -> Database:
    """Connect to the configured database once its schema is at the head revision: migrated
    there when ``auto_migrate`` is on, otherwise ``SchemaMismatch`` says what to run."""
    url = settings.resolved_database_url
    if settings.auto_migrate:
        await migrate.upgrade(url)
    else:
        await migrate.check(url)
    return Database(create_engine(url))


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


def open_job_queue(settings: Settings, role: Role, *, db: Database, worker_id: str) -> JobQueue:
    """How accepted jobs reach a worker: this process, or ``lafactoria worker`` processes
    through Redis (an API server then only enqueues)."""
    if settings.redis_url is None:
        return InProcessJobQueue(
            concurrency=settings.jobs.concurrency,
            max_size=settings.jobs.queue_size,
            shutdown_grace_seconds=settings.jobs.shutdown_grace_seconds,
        )

    async def queued_jobs() -> int:
        async with db.read() as session:
            return await generation_repository.count_queued_jobs(session)

    return RedisJobQueue(
        url=settings.redis_url.get_secret_value(),
        prefix=settings.redis_prefix,
        consumer=worker_id if role is Role.WORKER else f"{worker_id}-producer",
        concurrency=settings.jobs.concurrency,
        max_size=settings.jobs.queue_size,
        backlog=queued_jobs,
        claim_timeout_seconds=settings.jobs.lease_seconds,
        shutdown_grace_seconds=settings.jobs.shutdown_grace_seconds,
    )


def new_worker_id() -> str:
    """Unique per process and readable in the job table: host, pid and a random part."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"


async def keep_sweeping(generation: GenerationService, interval: float) -> None:
    """Run ``GenerationService.sweep`` every ``interval`` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            await generation.sweep()
        except Exception:
            # A database or Redis outage: the next round tries again.
            log.warning("job_sweep_failed", exc_info=True)


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
