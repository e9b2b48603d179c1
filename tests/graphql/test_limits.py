"""The cost model as clients read it in ``extensions.cost``: requested before, actual after."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.graphql import GENERATE, GraphQLClient, register_user
from tests.support.server import RunningServer

QUIZ = {"contentType": "QUIZ", "audienceLevel": "COLLEGE"}


@pytest.fixture(scope="module")
def client(server: RunningServer) -> GraphQLClient:
    """A user with two quizzes."""

    async def prepare() -> GraphQLClient:
        client = await register_user(server)
        for topic in ("Tides", "Waves"):
            job = (await client.data(GENERATE, {"input": {"topic": topic, **QUIZ}}))[
                "generateContent"
            ]["job"]
            async with asyncio.timeout(20):
                while True:
                    if await status(client, job["id"]) == "SUCCEEDED":
                        break
                    await asyncio.sleep(0.05)
        return client

    return asyncio.run(prepare())


async def status(client: GraphQLClient, job_id: str) -> str:
    data = await client.data(
        "query($id: ID!) { generationJob(id: $id) { status } }", {"id": job_id}
    )
    found: str = data["generationJob"]["status"]
    return found


async def cost(
    client: GraphQLClient, query: str, variables: dict[str, Any] | None = None
) -> tuple[int, int]:
    body = await client.post_raw({"query": query, "variables": variables})
    assert "errors" not in body, body
    reported: dict[str, int] = body["extensions"]["cost"]
    return reported["requestedQueryCost"], reported["actualQueryCost"]


@pytest.mark.parametrize(
    ("query", "requested", "actual"),
    [
        ("{ viewer { id email } }", 1, 1),
        ("{ __typename viewer { id } }", 1, 1),
        # A connection: 2, plus its lists times `first` (20 when not given); a plain list
        # (questions, sections) counts as one item, whatever it holds.
        ("{ contents { totalCount } }", 2, 2),
        ("{ contents { edges { node { id } } } }", 2 + 20 * 2, 2 + 2 * 2),
        (
            "{ contents(first: 10) { pageInfo { hasNextPage } edges { cursor node { id } } } }",
            2 + 1 + 10 * 2,
            2 + 1 + 2 * 2,
        ),
        (
            "{ contents(first: 5) { edges { node { body { ... on Quiz { questions { question } } "
            "... on StudyGuide { sections { heading } } } } } } }",
            2 + 5 * (1 + 1 + 1 + 1 + 1),
            2 + 2 * (1 + 1 + 1 + 1),
        ),
        (
            "query { contents(first: 3) { edges { node { ...Item } } } } "
            "fragment Item on Content { id body { __typename } }",
            2 + 3 * 3,
            2 + 2 * 3,
        ),
    ],
)
async def test_query_costs(client: GraphQLClient, query: str, requested: int, actual: int) -> None:
    assert await cost(client, query) == (requested, actual)


async def test_mutation_costs(server: RunningServer) -> None:
    client = await register_user(server)  # its own: these mutations add content
    key = await cost(
        client, 'mutation { createApiKey(input: {name: "x"}) { apiKey { id } secret } }'
    )
    one_job = await cost(
        client, GENERATE, {"input": {"topic": "Tides", "idempotencyKey": "cost-1", **QUIZ}}
    )
    three_jobs = await cost(
        client,
        "mutation($t: [String!]!) { bulkGenerateContent(input: {topics: $t, contentType: QUIZ, "
        "audienceLevel: COLLEGE}) { jobs { id } } }",
        {"t": ["A", "B", "C"]},
    )

    assert key == (10 + 1, 10 + 1)
    # job 1 + userErrors 1 on top of the generation's 50.
    assert one_job == (50 + 2, 50 + 1)
    assert three_jobs == (3 * 50 + 1, 3 * 50 + 1)
