"""Scale-out as it is deployed: two ``lafactoria serve`` and two ``lafactoria worker`` processes
on one PostgreSQL database and one Redis.

Jobs are created through one API process and watched through the other; a worker is killed
mid-job; a user over the generation limit on one process is limited on the other. The
subscribers' streams are checked event by event: every sequence from 1 to the terminal one,
each exactly once, in order, and the same stream from either API process.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.graphql.ids import decode_id
from tests.support.databases import asyncpg_dsn, fresh_database
from tests.support.emulator import Behaviour, Emulator, offline_answer, run_emulator
from tests.support.graphql import GENERATE, PROGRESS, GraphQLClient, register_user
from tests.support.redis import RedisForTests, isolated_redis
from tests.support.server import RunningServer, free_port, make_settings, process_environment

# One event loop for the module: the deployment is started once and shared by its tests.
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.asyncio(loop_scope="module")]

SECRET = "test-secret-key-that-is-long-enough-0123456789"
LEASE_SECONDS = 1.0
GENERATIONS_PER_MINUTE = 12
QUIZ = {"contentType": "QUIZ", "audienceLevel": "HIGH_SCHOOL"}
BULK = """
mutation Bulk($input: BulkGenerateContentInput!) {
  bulkGenerateContent(input: $input) { jobs { id } userErrors { code } }
}"""
CONTENT = "query C($id: ID!) { content(id: $id) { id title contentType } }"
JOB = "query J($id: ID!) { generationJob(id: $id) { status } }"


@dataclass
class Deployment:
    database_url: str
    redis: RedisForTests
    emulator: Emulator
    logs: Path
    apis: list[RunningServer] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        env = process_environment()
        env.update(
            LAFACTORIA_ENV="test",
            LAFACTORIA_DATA_DIR=str(self.logs),
            LAFACTORIA_DATABASE_URL=self.database_url,
            LAFACTORIA_SECRET_KEY=SECRET,
            LAFACTORIA_REDIS_URL=self.redis.url,
            LAFACTORIA_REDIS_PREFIX=self.redis.prefix,
            LAFACTORIA_PROVIDERS="emulated",
            LAFACTORIA_COMPATIBLE_PROVIDERS=json.dumps(
                [{"name": "emulated", "base_url": self.emulator.openai_base_url, "model": "m"}]
            ),
            LAFACTORIA_JOBS__LEASE_SECONDS=str(LEASE_SECONDS),
            LAFACTORIA_JOBS__SHUTDOWN_GRACE_SECONDS="0",
            LAFACTORIA_LIMITS__GENERATIONS_PER_MINUTE=str(GENERATIONS_PER_MINUTE),
            LAFACTORIA_LIMITS__QUERY_COST_BUDGET="1000000",
            LAFACTORIA_LOG_LEVEL="warning",
        )
        return env

    def start(self, *command: str, **extra_env: str) -> subprocess.Popen[bytes]:
        name = f"{command[0]}-{len(self.processes)}"
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "lafactoria", *command],
                env={**self.environment(), **extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def start_api(self) -> RunningServer:
        port = free_port()
        process = self.start("serve", LAFACTORIA_PORT=str(port))
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, self.log_of(process)
            assert time.monotonic() < deadline, "an API process did not become ready"
            time.sleep(0.1)
        server = RunningServer(app=None, settings=make_settings(self.logs), port=port)  # type: ignore[arg-type]
        self.apis.append(server)
        return server

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = self.start("worker", "--concurrency", "4")
        self.workers.append(worker)
        return worker

    def log_of(self, process: subprocess.Popen[bytes]) -> str:
        index = self.processes.index(process)
        logs = sorted(self.logs.glob(f"*-{index}.log"))
        return logs[0].read_text(errors="replace")[-4000:] if logs else ""

    async def worker_running(self, job_id: str) -> subprocess.Popen[bytes]:
        """The worker process holding the job's lease (its pid is part of the worker id)."""
        connection = await asyncpg.connect(asyncpg_dsn(self.database_url))
        try:
            worker_id = await connection.fetchval(
                "SELECT worker_id FROM generation_jobs WHERE id = $1", raw_id(job_id)
            )
        finally:
            await connection.close()
        pid = int(worker_id.split("-")[-2])
        return next(worker for worker in self.workers if worker.pid == pid)

    async def runs(self, job_id: str) -> int:
        connection = await asyncpg.connect(asyncpg_dsn(self.database_url))
        try:
            count: int = await connection.fetchval(
                "SELECT run_count FROM generation_jobs WHERE id = $1", raw_id(job_id)
            )
        finally:
            await connection.close()
        return count


def raw_id(global_id: str) -> str:
    return decode_id(global_id, "GenerationJob")


@contextmanager
def stopped_at_exit(deployment: Deployment) -> Iterator[Deployment]:
    try:
        yield deployment
    finally:
        for process in deployment.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in deployment.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


async def script(emulator: Emulator, *, chunks_per_second: float | None) -> None:
    text = await offline_answer(ContentType.QUIZ, AudienceLevel.HIGH_SCHOOL)
    emulator.script(
        "m",
        Behaviour(text=text, chunk_size=len(text) // 30 + 1, tokens_per_second=chunks_per_second),
    )


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with fresh_database("postgres") as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def deployment(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Deployment]:
    logs = tmp_path_factory.mktemp("scale-out")
    async with isolated_redis() as redis, run_emulator() as emulator:
        await script(emulator, chunks_per_second=100)
        with stopped_at_exit(Deployment(database_url, redis, emulator, logs)) as running:
            running.start_api()
            running.start_api()
            running.start_worker()
            running.start_worker()
            yield running


def check_stream(events: list[dict[str, Any]]) -> None:
    """Gapless from 1, one terminal event and it is the last, progress never going back."""
    sequences = [e["sequence"] for e in events]
    assert sequences == list(range(1, len(events) + 1)), sequences
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "QUEUED"
    terminal = [k for k in kinds if k in ("SUCCEEDED", "FAILED", "CANCELLED")]
    assert terminal == [kinds[-1]], kinds
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress)


async def test_jobs_made_on_one_api_process_stream_whole_from_the_other(
    deployment: Deployment,
) -> None:
    first, second = deployment.apis
    on_first = await register_user(first)
    on_second = GraphQLClient(second, on_first.credential)

    # Subscribers connect as the jobs are created, so most events reach them live.
    single = [
        (await on_first.data(GENERATE, {"input": {"topic": f"Process {n}", **QUIZ}}))[
            "generateContent"
        ]["job"]["id"]
        for n in range(2)
    ]
    bulk = (
        await on_first.data(BULK, {"input": {"topics": [f"Batch {n}" for n in range(6)], **QUIZ}})
    )["bulkGenerateContent"]
    assert bulk["userErrors"] == []
    job_ids = single + [job["id"] for job in bulk["jobs"]]
    there, here = await asyncio.gather(
        asyncio.gather(*(on_second.collect(PROGRESS, {"jobId": j}) for j in job_ids)),
        asyncio.gather(*(on_first.collect(PROGRESS, {"jobId": j}) for j in job_ids)),
    )

    streams = [[item["generationProgress"] for item in stream] for stream in there]
    for stream in streams:
        check_stream(stream)
        assert stream[-1]["kind"] == "SUCCEEDED", stream[-1]
    assert there == here, "both API processes hand out the same stream"
    for stream in streams:
        content_id = stream[-1]["content"]["id"]
        from_first = await on_first.data(CONTENT, {"id": content_id})
        from_second = await on_second.data(CONTENT, {"id": content_id})
        assert from_first == from_second
        assert from_first["content"]["contentType"] == "QUIZ"
    assert [await deployment.runs(j) for j in job_ids] == [1] * len(job_ids)
    print(
        f"\nscale-out: {len(job_ids)} jobs, {sum(map(len, streams))} events per subscriber "
        "set, duplicates 0, lost 0"
    )


async def test_a_job_whose_worker_is_killed_still_ends_and_its_subscriber_sees_it(
    deployment: Deployment,
) -> None:
    await script(deployment.emulator, chunks_per_second=8)
    first, second = deployment.apis
    on_first = await register_user(first)
    on_second = GraphQLClient(second, on_first.credential)
    job_id = (await on_first.data(GENERATE, {"input": {"topic": "Survivor", **QUIZ}}))[
        "generateContent"
    ]["job"]["id"]
    watching = asyncio.create_task(on_second.collect(PROGRESS, {"jobId": job_id}))
    for _ in range(400):
        if (await on_first.data(JOB, {"id": job_id}))["generationJob"]["status"] == "RUNNING":
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # let it stream some text first

    doomed = await deployment.worker_running(job_id)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    deployment.workers.remove(doomed)
    try:
        events = [item["generationProgress"] for item in await asyncio.wait_for(watching, 60)]
    finally:
        deployment.start_worker()  # back to two for the tests that follow
        await script(deployment.emulator, chunks_per_second=100)

    check_stream(events)
    assert events[-1]["kind"] == "SUCCEEDED"
    requeued = [e for e in events if e["kind"] == "QUEUED"][1:]
    assert requeued, "the re-run is announced"
    assert all(e["discardText"] for e in requeued), "the dead run's text is withdrawn"
    starts = [e["discardText"] for e in events if e["kind"] == "STARTED"]
    assert starts == [False, True], "the re-run says so itself too"
    assert await deployment.runs(job_id) == 2


async def test_a_user_over_the_limit_on_one_api_process_is_limited_on_the_other(
    deployment: Deployment,
) -> None:
    first, second = deployment.apis
    on_first = await register_user(first)
    on_second = GraphQLClient(second, on_first.credential)
    clients = [on_first, on_second]

    for n in range(GENERATIONS_PER_MINUTE):
        payload = (await clients[n % 2].data(GENERATE, {"input": {"topic": f"Quota {n}", **QUIZ}}))[
            "generateContent"
        ]
        assert payload["userErrors"] == []
    refused = [
        await client.execute(GENERATE, {"input": {"topic": "One too many", **QUIZ}})
        for client in clients
    ]

    assert [result.codes for result in refused] == [["RATE_LIMITED"], ["RATE_LIMITED"]]
