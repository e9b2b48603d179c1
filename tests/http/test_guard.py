"""The /graphql gate on its own, in front of an app that echoes what reaches it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from lafactoria.http.guard import GraphQLGuard
from lafactoria.settings import GraphQLSettings


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    guard = GraphQLGuard(
        echo, settings=GraphQLSettings(max_body_bytes=2048, max_batch_operations=3), path="/graphql"
    )
    transport = httpx.ASGITransport(app=guard)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_an_accepted_body_reaches_the_app_unchanged(http: httpx.AsyncClient) -> None:
    body = json.dumps({"query": "{ viewer { id } }", "variables": {"x": "é🧪" * 100}}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    whole = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    streamed = await http.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json; charset=utf-8"}
    )

    assert (whole.status_code, whole.content) == (200, body)
    assert (streamed.status_code, streamed.content) == (200, body)


async def test_a_long_query_string_is_414(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "{ viewer { id } }" + " " * 3000})

    assert response.status_code == 414
    assert response.json()["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "reason": "BODY_SIZE",
        "limit": 2048,
    }


async def test_a_batch_at_the_limit_passes_and_one_more_does_not(http: httpx.AsyncClient) -> None:
    operation = {"query": "{ viewer { id } }"}

    three = await http.post("/graphql", json=[operation] * 3)
    four = await http.post("/graphql", json=[operation] * 4)

    assert three.status_code == 200
    assert four.status_code == 400
    assert four.json()["errors"][0]["extensions"]["value"] == 4


async def test_other_paths_pass_untouched(http: httpx.AsyncClient) -> None:
    elsewhere = await http.post("/api/v1/auth/login", content=b"username=a&password=b")
    put = await http.put("/api/v1/content/1", content=b"{bad")

    assert (elsewhere.status_code, elsewhere.content) == (200, b"username=a&password=b")
    assert (put.status_code, put.content) == (200, b"{bad")


async def test_other_methods_are_405_before_the_app(http: httpx.AsyncClient) -> None:
    put = await http.put("/graphql", content=b"anything")

    assert put.status_code == 405
    assert put.headers["allow"] == "GET, POST"
    assert put.json()["errors"][0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}


@pytest.mark.parametrize(
    "body",
    [b"{bad", b"null", b'"query"', b'{"query": ["{ viewer { id } }"]}', b'[{"variables": 1}]'],
)
async def test_a_body_that_is_not_a_graphql_request_never_reaches_the_app(
    http: httpx.AsyncClient, body: bytes
) -> None:
    response = await http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


async def test_null_members_are_allowed(http: httpx.AsyncClient) -> None:
    body = {"query": "{ viewer { id } }", "variables": None, "operationName": None}

    response = await http.post("/graphql", json=body)

    assert (response.status_code, response.json()) == (200, body)
