"""``lafactoria worker``: run generation jobs from the Redis queue (scale-out).

A worker opens the same runtime as the API server (database, provider chain, event log, rate
limits) in the worker role. SIGTERM or SIGINT stops it gracefully: it takes no more work, lets
running jobs finish within ``jobs.shutdown_grace_seconds``, hands the rest back to the queue
for another worker, and exits 0.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import structlog
import typer

from lafactoria.cli.common import EXIT_USAGE, fail, load_settings
from lafactoria.cli.database import prepare_schema
from lafactoria.logging import configure_logging
from lafactoria.runtime import Role, open_runtime
from lafactoria.settings import Settings

log = structlog.get_logger(__name__)


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="Jobs run at once (LAFACTORIA_JOBS__CONCURRENCY)."),
    ] = None,
) -> None:
    """Run generation jobs from the Redis queue (needs LAFACTORIA_REDIS_URL)."""
    settings = load_settings()
    if settings.redis_url is None:
        fail(
            "lafactoria worker needs LAFACTORIA_REDIS_URL; without Redis, "
            "`lafactoria serve` runs the jobs itself",
            code=EXIT_USAGE,
        )
    if concurrency is not None:
        jobs = settings.jobs.model_copy(update={"concurrency": concurrency})
        settings = settings.model_copy(update={"jobs": jobs})
    configure_logging(settings.log_level)
    settings = prepare_schema(settings)
    asyncio.run(run_worker(settings))


async def run_worker(settings: Settings) -> None:
    """Run jobs until SIGTERM or SIGINT, then shut down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with open_runtime(settings, role=Role.WORKER) as runtime:
        log.info(
            "worker_started",
            worker_id=runtime.services.generation.worker_id,
            concurrency=settings.jobs.concurrency,
            providers=runtime.chain.names,
        )
        await stop.wait()
        log.info("worker_stopping", grace_seconds=settings.jobs.shutdown_grace_seconds)
    log.info("worker_stopped")
