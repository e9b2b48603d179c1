"""A scale-out deployment on this machine: ``lafactoria serve`` and ``lafactoria worker``
processes on a throwaway PostgreSQL database and an isolated Redis key prefix, as
docs/deployment.md describes it, started for one benchmark run and removed afterwards."""

from __future__ import annotations

import secrets
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench import jobs, processes


@asynccontextmanager
async def throwaway_database(server_url: str) -> AsyncIterator[str]:
    """A new empty database on the server ``server_url`` names, dropped afterwards ``WITH
    (FORCE)``, as ``tests.support.databases.fresh_database`` makes them for tests."""
    name = f"lafactoria_bench_{secrets.token_hex(6)}"
    await _administer(server_url, f'CREATE DATABASE "{name}"')
    try:
        url = make_url(server_url).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        await _administer(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _administer(server_url: str, statement: str) -> None:
    url = make_url(server_url).set(drivername="postgresql+asyncpg")
    # CREATE/DROP DATABASE cannot run inside a transaction.
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@asynccontextmanager
async def isolated_prefix(redis_url: str) -> AsyncIterator[str]:
    """A Redis key prefix of this run's own; its keys are deleted afterwards (the way
    ``tests.support.redis`` isolates tests on a shared Redis)."""
    prefix = f"lafactoria-bench-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        client = Redis.from_url(redis_url)
        try:
            keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


async def jobs_per_worker(database_url: str, round_name: str) -> list[int]:
    """How many of a round's jobs each worker ran, busiest first: the proof that the work
    really spread."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            counts = await connection.execute(
                text(
                    "SELECT count(*) FROM generation_jobs WHERE topic LIKE :topics "
                    "GROUP BY worker_id ORDER BY count(*) DESC"
                ),
                {"topics": f"Tides {jobs.marker(round_name, 0)[:-4]}%"},
            )
            return [int(count) for (count,) in counts]
    finally:
        await engine.dispose()


@dataclass
class Deployment:
    """The processes of one topology; ``pids`` lets the harness read their CPU time."""

    apis: list[jobs.Api] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def check_workers(self) -> None:
        """Raise if a worker has exited (it logs why in its file under ``logs``)."""
        for worker in self.workers:
            if worker.poll() is not None:
                raise RuntimeError(f"worker {worker.pid} exited with {worker.returncode}")


@contextmanager
def run_deployment(
    *,
    api_count: int,
    worker_count: int,
    worker_concurrency: int,
    environment: Mapping[str, str],
    logs: Path,
) -> Iterator[Deployment]:
    """Start ``api_count`` API and ``worker_count`` worker processes; stop them all on exit.

    The first API process starts alone, so that it migrates the new database before the
    others look at it; workers log to files under ``logs``.
    """
    logs.mkdir(parents=True, exist_ok=True)
    deployment = Deployment()
    with ExitStack() as stack:
        for _ in range(api_count):
            port = processes.free_port()
            command = [sys.executable, "-m", "lafactoria", "serve", "--port", str(port)]
            server = stack.enter_context(
                processes.run_process(
                    command, port=port, env=dict(environment), ready_path="/ready"
                )
            )
            deployment.apis.append(jobs.Api(server.base_url))
            deployment.pids.append(server.pid)
        for number in range(worker_count):
            worker = stack.enter_context(
                _run_worker(environment, worker_concurrency, logs / f"worker-{number}.log")
            )
            deployment.pids.append(worker.pid)
            deployment.workers.append(worker)
        yield deployment


@contextmanager
def _run_worker(
    environment: Mapping[str, str], concurrency: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "lafactoria", "worker", "--concurrency", str(concurrency)]
    with log.open("wb") as output:
        worker = subprocess.Popen(  # noqa: S603 - a fixed command line built by this package
            command, env=dict(environment), stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
