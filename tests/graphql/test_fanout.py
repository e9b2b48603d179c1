"""A job's subscribers share the rendering of each event (graphql.fanout); what each of them
receives is still exactly what its own operation asks for."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.graphql import (
    GENERATE,
    GRAPHQL_TRANSPORT_WS,
    GRAPHQL_WS,
    PROGRESS,
    GraphQLClient,
    register_user,
)
from tests.support.server import RunningServer

SEQUENCE_AND_KIND = """
subscription Few($jobId: ID!) { generationProgress(jobId: $jobId) { sequence kind } }"""
ALIASED = """
subscription Aliased($jobId: ID!) {
  generationProgress(jobId: $jobId) { n: sequence what: kind content { title } }
}"""


async def _start(client: GraphQLClient) -> str:
    data = await client.data(
        GENERATE,
        {"input": {"topic": "Tides", "contentType": "QUIZ", "audienceLevel": "HIGH_SCHOOL"}},
    )
    job_id: str = data["generateContent"]["job"]["id"]
    return job_id


async def _events(
    client: GraphQLClient, document: str, variables: dict[str, Any], subprotocol: str
) -> list[dict[str, Any]]:
    items = await client.collect(document, variables, subprotocol=subprotocol)
    return [item["generationProgress"] for item in items]


async def test_subscribers_of_one_job_each_get_their_own_selection(
    server: RunningServer,
) -> None:
    client = await register_user(server)
    job_id = await _start(client)

    full, same, few, aliased, resumed, legacy = await asyncio.gather(
        _events(client, PROGRESS, {"jobId": job_id}, GRAPHQL_TRANSPORT_WS),
        _events(client, PROGRESS, {"jobId": job_id}, GRAPHQL_TRANSPORT_WS),
        _events(client, SEQUENCE_AND_KIND, {"jobId": job_id}, GRAPHQL_TRANSPORT_WS),
        _events(client, ALIASED, {"jobId": job_id}, GRAPHQL_TRANSPORT_WS),
        _events(client, PROGRESS, {"jobId": job_id, "after": 2}, GRAPHQL_TRANSPORT_WS),
        _events(client, PROGRESS, {"jobId": job_id}, GRAPHQL_WS),
    )

    assert full[-1]["kind"] == "SUCCEEDED"
    assert full[-1]["content"]["title"]
    assert same == full
    assert legacy == full
    assert few == [{"sequence": e["sequence"], "kind": e["kind"]} for e in full]
    assert aliased == [
        {
            "n": e["sequence"],
            "what": e["kind"],
            "content": e["content"] and {"title": e["content"]["title"]},
        }
        for e in full
    ]
    assert resumed == full[2:]
