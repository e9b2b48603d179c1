"""``lafactoria worker`` as real processes: an API server that only enqueues, workers that run
the jobs through Redis, sharing one SQLite file. Workers are killed, stopped and cancelled
mid-job; every job still ends in the state it should.

Job state is read over GraphQL (``generationJob``): until job events live in Redis, a worker's
events do not reach the API process's subscribers.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lafactoria.cli import cli
from lafactoria.content.enums import AudienceLevel, ContentType
from tests.support.emulator import Behaviour, Emulator, offline_answer, run_emulator
from tests.support.graphql import GENERATE, GraphQLClient, register_user
from tests.support.redis import RedisForTests, isolated_redis
from tests.support.server import RunningServer, make_settings, process_environment, run_server

SECRET = "test-secret-key-that-is-long-enough-0123456789"
LEASE_SECONDS = 1.0
JOB = "query J($id: ID!) { generationJob(id: $id) { status error { code } content { id } } }"
CANCEL = """
mutation C($id: ID!) {
  cancelGeneration(jobId: $id) { job { status error { code } content { id } } userErrors { code } }
}"""
CONTENTS = "query { contents(first: 100) { totalCount } }"
# Streamed chunks per answer, and their pace: a slow job runs for about four seconds.
CHUNKS = 20
SLOW_CHUNKS_PER_SECOND = 5.0


async def script(emulator: Emulator, *, slow: bool) -> None:
    text = await offline_answer(ContentType.STUDY_GUIDE, AudienceLevel.COLLEGE)
    emulator.script(
        "m",
        Behaviour(
            text=text,
            chunk_size=len(text) // CHUNKS + 1,
            tokens_per_second=SLOW_CHUNKS_PER_SECOND if slow else None,
        ),
    )


def test_worker_needs_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAFACTORIA_REDIS_URL", raising=False)

    result = CliRunner().invoke(cli, ["worker"])

    assert result.exit_code == 2
    assert "LAFACTORIA_REDIS_URL" in result.output


@dataclass
class Cluster:
    server: RunningServer
    redis: RedisForTests
    data_dir: Path
    emulator: Emulator
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self, *, grace_seconds: float = 30.0) -> subprocess.Popen[bytes]:
        env = process_environment()
        env.update(
            LAFACTORIA_ENV="test",
            LAFACTORIA_DATA_DIR=str(self.data_dir),
            LAFACTORIA_SECRET_KEY=SECRET,
            LAFACTORIA_REDIS_URL=self.redis.url,
            LAFACTORIA_REDIS_PREFIX=self.redis.prefix,
            LAFACTORIA_PROVIDERS="emulated",
            LAFACTORIA_COMPATIBLE_PROVIDERS=json.dumps(
                [{"name": "emulated", "base_url": self.emulator.openai_base_url, "model": "m"}]
            ),
            LAFACTORIA_JOBS__LEASE_SECONDS=str(LEASE_SECONDS),
            LAFACTORIA_JOBS__SHUTDOWN_GRACE_SECONDS=str(grace_seconds),
            LAFACTORIA_LOG_LEVEL="warning",
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "lafactoria", "worker", "--concurrency", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.workers.append(worker)
        return worker

    def worker_running(self, topic: str) -> subprocess.Popen[bytes]:
        """The worker process holding the job's lease (its pid is part of the worker id)."""
        (worker_id,) = self._job_row("worker_id", topic)
        pid = int(worker_id.split("-")[-2])
        return next(worker for worker in self.workers if worker.pid == pid)

    def runs(self, topic: str) -> int:
        (count,) = self._job_row("run_count", topic)
        return int(count)

    def _job_row(self, column: str, topic: str) -> tuple[Any, ...]:
        # Read-only, straight from the shared file: GraphQL does not show who runs a job.
        with sqlite3.connect(self.data_dir / "lafactoria.db") as db:
            row: tuple[Any, ...] = db.execute(
                f"SELECT {column} FROM generation_jobs WHERE topic = ?",  # noqa: S608 -- fixed names
                (topic,),
            ).fetchone()
        return row


@contextmanager
def stopped_at_exit(cluster: Cluster) -> Iterator[Cluster]:
    try:
        yield cluster
    finally:
        for worker in cluster.workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait(timeout=20)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with isolated_redis() as redis, run_emulator() as emulator:
        settings = make_settings(
            tmp_path,
            secret_key=SECRET,
            redis_url=redis.url,
            redis_prefix=redis.prefix,
            jobs={"lease_seconds": LEASE_SECONDS},
        )
        with (
            run_server(settings) as server,
            stopped_at_exit(Cluster(server, redis, tmp_path, emulator)) as running,
        ):
            yield running


async def submit(client: GraphQLClient, topic: str) -> str:
    variables = {
        "input": {"topic": topic, "contentType": "STUDY_GUIDE", "audienceLevel": "COLLEGE"}
    }
    payload = (await client.data(GENERATE, variables))["generateContent"]
    assert payload["userErrors"] == []
    job_id: str = payload["job"]["id"]
    return job_id


async def status_of(client: GraphQLClient, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] = (await client.data(JOB, {"id": job_id}))["generationJob"]
    return job


async def wait_for(client: GraphQLClient, job_id: str, *statuses: str) -> dict[str, Any]:
    for _ in range(600):
        job = await status_of(client, job_id)
        if job["status"] in statuses:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job never reached {statuses}: {job}")


@pytest.mark.redis
async def test_jobs_submitted_to_the_api_run_on_the_workers(cluster: Cluster) -> None:
    await script(cluster.emulator, slow=False)
    cluster.start_worker()
    cluster.start_worker()
    client = await register_user(cluster.server)

    topics = [f"Scale {n}" for n in range(4)]
    job_ids = [await submit(client, topic) for topic in topics]
    finished = [await wait_for(client, job_id, "SUCCEEDED", "FAILED") for job_id in job_ids]

    assert [job["status"] for job in finished] == ["SUCCEEDED"] * 4, finished
    assert [cluster.runs(topic) for topic in topics] == [1, 1, 1, 1]


@pytest.mark.redis
async def test_a_killed_workers_job_is_finished_by_another(cluster: Cluster) -> None:
    await script(cluster.emulator, slow=True)
    cluster.start_worker()
    cluster.start_worker()
    client = await register_user(cluster.server)
    job_id = await submit(client, "Survives a crash")
    await wait_for(client, job_id, "RUNNING")

    doomed = cluster.worker_running("Survives a crash")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)

    assert (await wait_for(client, job_id, "SUCCEEDED", "FAILED"))["status"] == "SUCCEEDED"
    assert cluster.runs("Survives a crash") == 2


@pytest.mark.redis
async def test_a_cancel_on_the_api_stops_the_job_on_its_worker(cluster: Cluster) -> None:
    await script(cluster.emulator, slow=True)
    cluster.start_worker()
    client = await register_user(cluster.server)
    job_id = await submit(client, "Cancelled remotely")
    await wait_for(client, job_id, "RUNNING")

    started = asyncio.get_running_loop().time()
    payload = (await client.data(CANCEL, {"id": job_id}))["cancelGeneration"]
    elapsed = asyncio.get_running_loop().time() - started

    assert payload == {
        "job": {"status": "CANCELLED", "error": {"code": "CANCELLED"}, "content": None},
        "userErrors": [],
    }
    # Well within the slow answer and the lease: the broadcast stopped it.
    assert elapsed < LEASE_SECONDS
    assert (await client.data(CONTENTS))["contents"]["totalCount"] == 0


@pytest.mark.redis
async def test_a_stopped_worker_hands_its_job_to_another(cluster: Cluster) -> None:
    await script(cluster.emulator, slow=True)
    cluster.start_worker(grace_seconds=0.2)
    client = await register_user(cluster.server)
    job_id = await submit(client, "Handed back")
    await wait_for(client, job_id, "RUNNING")

    leaving = cluster.worker_running("Handed back")
    leaving.send_signal(signal.SIGTERM)
    assert leaving.wait(timeout=20) == 0
    assert (await status_of(client, job_id))["status"] == "QUEUED"
    cluster.start_worker()

    assert (await wait_for(client, job_id, "SUCCEEDED", "FAILED"))["status"] == "SUCCEEDED"
    assert cluster.runs("Handed back") == 2
