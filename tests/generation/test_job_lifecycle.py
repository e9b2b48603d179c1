"""A job's life over a real server: cancel, bulk, idempotency, back-pressure, concurrency."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.graphql import GENERATE, PROGRESS, GraphQLClient, register_user
from tests.support.providers import StallingProvider, slow_offline
from tests.support.server import RunningServer, make_settings, run_server

CANCEL = """
mutation C($id: ID!) {
  cancelGeneration(jobId: $id) {
    job { id status error { code message } content { id } }
    userErrors { field message code }
  }
}"""
BULK = """
mutation B($input: BulkGenerateContentInput!) {
  bulkGenerateContent(input: $input) {
    batchId
    jobs { id topic status batchId }
    userErrors { field message code }
  }
}"""
JOBS = """
query J($batch: ID, $status: JobStatus) {
  generationJobs(first: 100, batchId: $batch, status: $status) {
    totalCount edges { node { id status topic } }
  }
}"""
CONTENTS = "query { contents(first: 100) { totalCount } }"


def quiz(topic: str, **extra: Any) -> dict[str, Any]:
    return {
        "input": {"topic": topic, "contentType": "QUIZ", "audienceLevel": "HIGH_SCHOOL", **extra}
    }


async def generate(client: GraphQLClient, topic: str, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.data(GENERATE, quiz(topic, **extra)))["generateContent"]
    return payload


async def wait_for_status(client: GraphQLClient, job_id: str, status: str) -> None:
    query = "query J($id: ID!) { generationJob(id: $id) { status } }"
    for _ in range(200):
        job = (await client.data(query, {"id": job_id}))["generationJob"]
        if job["status"] == status:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"job never reached {status}")


@pytest.fixture
def one_worker_stalling(tmp_path: Path) -> Any:
    """One worker whose provider never finishes: the first job runs, the rest wait."""
    provider = StallingProvider()
    settings = make_settings(tmp_path, jobs={"concurrency": 1, "queue_size": 3})
    with run_server(settings, providers=[provider]) as server:
        yield server, provider


async def test_cancelling_a_running_job_stops_its_provider_stream(
    one_worker_stalling: tuple[RunningServer, StallingProvider],
) -> None:
    server, provider = one_worker_stalling
    client = await register_user(server)
    job = (await generate(client, "Running"))["job"]
    await wait_for_status(client, job["id"], "RUNNING")

    started = time.monotonic()
    cancelled = (await client.data(CANCEL, {"id": job["id"]}))["cancelGeneration"]
    elapsed = time.monotonic() - started
    events = [e["generationProgress"] for e in await client.collect(PROGRESS, {"jobId": job["id"]})]

    assert cancelled["userErrors"] == []
    assert cancelled["job"]["status"] == "CANCELLED"
    assert cancelled["job"]["error"]["code"] == "CANCELLED"
    assert cancelled["job"]["content"] is None
    assert provider.cancelled == 1
    assert elapsed < 2
    assert events[-1]["kind"] == "CANCELLED"
    assert (await client.data(CONTENTS))["contents"]["totalCount"] == 0


async def test_a_cancelled_queued_job_never_starts(
    one_worker_stalling: tuple[RunningServer, StallingProvider],
) -> None:
    server, _ = one_worker_stalling
    client = await register_user(server)
    running = (await generate(client, "Occupies the worker"))["job"]
    queued = (await generate(client, "Waits"))["job"]
    await wait_for_status(client, running["id"], "RUNNING")

    cancelled = (await client.data(CANCEL, {"id": queued["id"]}))["cancelGeneration"]
    await client.data(CANCEL, {"id": running["id"]})
    events = [
        e["generationProgress"] for e in await client.collect(PROGRESS, {"jobId": queued["id"]})
    ]

    assert cancelled["job"]["status"] == "CANCELLED"
    assert [e["kind"] for e in events] == ["QUEUED", "CANCELLED"]


async def test_cancelling_a_finished_job_reports_it_is_terminal(server: RunningServer) -> None:
    client = await register_user(server)
    job = (await generate(client, "Quick"))["job"]
    await client.collect(PROGRESS, {"jobId": job["id"]})

    answer = (await client.data(CANCEL, {"id": job["id"]}))["cancelGeneration"]

    assert answer == {
        "job": None,
        "userErrors": [
            {
                "field": "jobId",
                "message": "the job has already finished (succeeded)",
                "code": "CONFLICT",
            }
        ],
    }


async def test_a_full_queue_refuses_work_and_stores_nothing(
    one_worker_stalling: tuple[RunningServer, StallingProvider],
) -> None:
    server, _ = one_worker_stalling
    client = await register_user(server)
    first = (await generate(client, "Runs"))["job"]
    await wait_for_status(client, first["id"], "RUNNING")
    for n in range(3):
        assert (await generate(client, f"Waits {n}"))["userErrors"] == []

    refused = await generate(client, "One too many")
    bulk_refused = (
        await client.data(
            BULK,
            {"input": {"topics": ["a", "b"], "contentType": "QUIZ", "audienceLevel": "COLLEGE"}},
        )
    )["bulkGenerateContent"]
    jobs = (await client.data(JOBS))["generationJobs"]

    assert refused["job"] is None
    assert refused["userErrors"] == [
        {
            "field": None,
            "message": "the generation queue is full; try again shortly",
            "code": "LIMIT_EXCEEDED",
        }
    ]
    assert bulk_refused["userErrors"][0]["code"] == "LIMIT_EXCEEDED"
    assert jobs["totalCount"] == 4


async def test_bulk_creates_one_job_per_topic_in_a_batch(server: RunningServer) -> None:
    client = await register_user(server)
    topics = [f"Topic {n}" for n in range(10)]

    bulk = (
        await client.data(
            BULK,
            {
                "input": {
                    "topics": topics,
                    "contentType": "FLASHCARDS",
                    "audienceLevel": "ELEMENTARY",
                }
            },
        )
    )["bulkGenerateContent"]
    finals = await asyncio.gather(
        *(client.collect(PROGRESS, {"jobId": job["id"]}) for job in bulk["jobs"])
    )
    listed = (await client.data(JOBS, {"batch": bulk["batchId"]}))["generationJobs"]

    assert bulk["userErrors"] == []
    assert [job["topic"] for job in bulk["jobs"]] == topics
    assert {job["batchId"] for job in bulk["jobs"]} == {bulk["batchId"]}
    assert all(events[-1]["generationProgress"]["kind"] == "SUCCEEDED" for events in finals)
    assert listed["totalCount"] == 10
    assert {edge["node"]["status"] for edge in listed["edges"]} == {"SUCCEEDED"}


@pytest.mark.parametrize(
    ("topics", "field"),
    [([], "topics"), ([f"t{n}" for n in range(11)], "topics"), (["ok", " "], "topics.1")],
)
async def test_bulk_input_is_checked_and_nothing_is_stored(
    server: RunningServer, topics: list[str], field: str
) -> None:
    client = await register_user(server)

    bulk = (
        await client.data(
            BULK, {"input": {"topics": topics, "contentType": "QUIZ", "audienceLevel": "COLLEGE"}}
        )
    )["bulkGenerateContent"]

    assert bulk["jobs"] == []
    assert [(e["field"], e["code"]) for e in bulk["userErrors"]] == [(field, "INVALID_INPUT")]
    assert (await client.data(JOBS))["generationJobs"]["totalCount"] == 0


async def test_idempotency_key_under_concurrent_duplicates(server: RunningServer) -> None:
    client = await register_user(server)

    payloads = await asyncio.gather(
        *(generate(client, "Same request", idempotencyKey="order-42") for _ in range(20))
    )
    other_key = await generate(client, "Same request", idempotencyKey="order-43")
    jobs = (await client.data(JOBS))["generationJobs"]

    assert {p["job"]["id"] for p in payloads} == {payloads[0]["job"]["id"]}
    assert other_key["job"]["id"] != payloads[0]["job"]["id"]
    assert jobs["totalCount"] == 2


async def test_the_same_key_from_another_user_is_another_job(server: RunningServer) -> None:
    alice, bob = await register_user(server), await register_user(server)

    first = await generate(alice, "Shared key", idempotencyKey="k1")
    second = await generate(bob, "Shared key", idempotencyKey="k1")

    assert first["job"]["id"] != second["job"]["id"]


async def test_fifty_concurrent_jobs_on_sqlite(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, jobs={"concurrency": 8})
    with run_server(settings, providers=[slow_offline(0.001)]) as server:
        clients = [await register_user(server) for _ in range(5)]
        submitted = await asyncio.gather(
            *(generate(clients[n % 5], f"Concurrent {n}") for n in range(50))
        )
        streams = await asyncio.gather(
            *(
                clients[n % 5].collect(PROGRESS, {"jobId": payload["job"]["id"]})
                for n, payload in enumerate(submitted)
            )
        )
        totals = [(await c.data(CONTENTS))["contents"]["totalCount"] for c in clients]

    assert all(p["userErrors"] == [] for p in submitted)
    outcomes = [events[-1]["generationProgress"]["kind"] for events in streams]
    assert outcomes == ["SUCCEEDED"] * 50
    assert totals == [10] * 5
