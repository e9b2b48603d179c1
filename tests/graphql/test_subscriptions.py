"""generationProgress behaves the same on every transport, and never loses an event."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError

from tests.support.graphql import (
    GENERATE,
    GRAPHQL_TRANSPORT_WS,
    GRAPHQL_WS,
    PROGRESS,
    GraphQLClient,
    http_subscribe,
    register_user,
)
from tests.support.server import RunningServer

TRANSPORTS = [GRAPHQL_TRANSPORT_WS, GRAPHQL_WS, "sse", "multipart"]
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


async def subscribe(
    client: GraphQLClient, transport: str, job_id: str, after: int = 0
) -> list[dict[str, Any]]:
    variables = {"jobId": job_id, "after": after}
    if transport in ("sse", "multipart"):
        items = await http_subscribe(client, PROGRESS, variables, transport=transport)
    else:
        items = await client.collect(PROGRESS, variables, subprotocol=transport)
    return [item["generationProgress"] for item in items]


async def start(client: GraphQLClient, topic: str = "Glaciers") -> str:
    data = await client.data(
        GENERATE,
        {"input": {"topic": topic, "contentType": "STUDY_GUIDE", "audienceLevel": "HIGH_SCHOOL"}},
    )
    job_id: str = data["generateContent"]["job"]["id"]
    return job_id


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_every_transport_delivers_the_same_stream(
    server: RunningServer, transport: str
) -> None:
    client = await register_user(server)
    job_id = await start(client)

    live = await subscribe(client, transport, job_id)
    replayed = await subscribe(client, GRAPHQL_TRANSPORT_WS, job_id)

    assert live == replayed
    assert [e["sequence"] for e in live] == list(range(1, len(live) + 1))
    assert live[-1]["kind"] == "SUCCEEDED"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_every_transport_resumes_after_a_sequence(
    server: RunningServer, transport: str
) -> None:
    client = await register_user(server)
    job_id = await start(client)
    everything = await subscribe(client, GRAPHQL_TRANSPORT_WS, job_id)

    rest = await subscribe(client, transport, job_id, after=len(everything) - 2)

    assert rest == everything[-2:]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_every_transport_hides_other_users_jobs(
    server: RunningServer, transport: str
) -> None:
    owner, intruder = await register_user(server), await register_user(server)
    job_id = await start(owner)

    with pytest.raises(TransportQueryError) as raised:
        await subscribe(intruder, transport, job_id)

    assert raised.value.errors is not None
    assert [e["extensions"]["code"] for e in raised.value.errors] == ["NOT_FOUND"]


async def test_late_subscribers_racing_completion_each_get_one_terminal_event(
    server: RunningServer,
) -> None:
    client = await register_user(server)
    rng = random.Random(20261203)
    durations: list[float] = []
    failures: list[str] = []

    async def one_run(n: int) -> None:
        job_id = await start(client, f"Race {n}")
        await asyncio.sleep(rng.uniform(0, 0.05))
        started = time.monotonic()
        events = await subscribe(client, GRAPHQL_TRANSPORT_WS, job_id)
        durations.append(time.monotonic() - started)
        terminals = [e for e in events if e["kind"] in TERMINAL]
        sequences = [e["sequence"] for e in events]
        if len(terminals) != 1 or sequences != list(range(1, len(events) + 1)):
            failures.append(f"run {n}: {[(e['sequence'], e['kind']) for e in events]}")

    for wave in range(10):
        await asyncio.gather(*(one_run(wave * 20 + n) for n in range(20)))

    assert failures == []
    assert len(durations) == 200
    assert max(durations) < 2.0


async def test_a_subscription_posted_without_a_streaming_accept_header_is_refused(
    server: RunningServer,
) -> None:
    client = await register_user(server)
    job_id = await start(client)

    answer = await client.post_raw({"query": PROGRESS, "variables": {"jobId": job_id}})

    assert answer["data"] is None
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["BAD_REQUEST"]
    assert "text/event-stream" in answer["errors"][0]["message"]
