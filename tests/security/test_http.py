"""What HTTP lets through to GraphQL: JSON POSTs and query-only GETs of bounded size, batches
of bounded length, CORS for the configured origin only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import websockets

from tests.security.attacker import GENERATE, QUIZ, Account, count, send, sign_up, websocket
from tests.security.conftest import ALLOWED_ORIGIN
from tests.support.graphql import GRAPHQL_TRANSPORT_WS
from tests.support.server import RunningServer

MUTATION = (
    'mutation { generateContent(input: {topic: "Tides", contentType: QUIZ, '
    "audienceLevel: COLLEGE}) { job { id } } }"
)


@pytest.fixture(scope="module")
def account(production: RunningServer) -> Account:
    return asyncio.run(sign_up(production))


async def test_a_mutation_over_get_is_405_and_runs_nothing(
    production: RunningServer, account: Account
) -> None:
    plain = await send(production, "GET", params={"query": MUTATION}, token=account.token)
    named = await send(
        production,
        "GET",
        params={
            "query": f"query Q {{ viewer {{ id }} }} {MUTATION.replace('mutation', 'mutation M')}",
            "operationName": "M",
        },
        token=account.token,
    )

    for response in (plain, named):
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.json() == {
            "errors": [
                {
                    "message": "mutations are only accepted over POST; GET runs queries",
                    "extensions": {"code": "METHOD_NOT_ALLOWED"},
                }
            ]
        }
    assert count(production, "generation_jobs", account.user_id) == 0


async def test_a_query_over_get_runs(production: RunningServer, account: Account) -> None:
    response = await send(
        production, "GET", params={"query": "{ viewer { email } }"}, token=account.token
    )

    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": {"email": account.email}}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
async def test_a_post_that_is_not_json_is_415_and_runs_nothing(
    production: RunningServer, account: Account, content_type: str | None
) -> None:
    # What a cross-site form or fetch() without preflight can send.
    body = json.dumps({"query": MUTATION}).encode()
    headers = {"Content-Type": content_type} if content_type else {}

    response = await send(production, "POST", content=body, headers=headers, token=account.token)

    assert response.status_code == 415
    assert response.json() == {
        "errors": [
            {
                "message": "POST requests must send Content-Type: application/json",
                "extensions": {"code": "UNSUPPORTED_MEDIA_TYPE"},
            }
        ]
    }
    assert count(production, "generation_jobs", account.user_id) == 0


async def test_a_huge_body_is_413_whether_announced_or_streamed(
    production: RunningServer, account: Account
) -> None:
    padding = "x" * 70_000
    body = json.dumps({"query": MUTATION, "variables": {"padding": padding}}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    announced = await send(
        production,
        "POST",
        content=body,
        headers={"Content-Type": "application/json"},
        token=account.token,
    )
    streamed = await send(
        production,
        "POST",
        content=chunks(),
        headers={"Content-Type": "application/json"},
        token=account.token,
    )

    for response in (announced, streamed):
        assert response.status_code == 413
        assert response.json() == {
            "errors": [
                {
                    "message": "the request is larger than 65536 bytes",
                    "extensions": {
                        "code": "QUERY_TOO_COMPLEX",
                        "reason": "BODY_SIZE",
                        "limit": 65536,
                    },
                }
            ]
        }
    assert count(production, "generation_jobs", account.user_id) == 0


async def test_batches_are_bounded(production: RunningServer, account: Account) -> None:
    operation = {"query": GENERATE, "variables": {"input": {"topic": "Tides", **QUIZ}}}

    too_long = await send(production, "POST", json=[operation] * 11, token=account.token)
    two = await send(
        production, "POST", json=[{"query": "{ viewer { email } }"}] * 2, token=account.token
    )

    assert too_long.status_code == 400
    assert too_long.json() == {
        "errors": [
            {
                "message": "the batch has 11 operations; the limit is 10",
                "extensions": {
                    "code": "QUERY_TOO_COMPLEX",
                    "reason": "BATCH_SIZE",
                    "limit": 10,
                    "value": 11,
                },
            }
        ]
    }
    assert count(production, "generation_jobs", account.user_id) == 0
    assert [answer["data"] for answer in two.json()] == [{"viewer": {"email": account.email}}] * 2


async def test_an_oversized_websocket_message_closes_the_socket(production: RunningServer) -> None:
    async with websocket(production, GRAPHQL_TRANSPORT_WS) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {"pad": "x" * 70_000}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 10)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


async def test_a_preflight_from_another_origin_gets_no_allow_headers(
    production: RunningServer,
) -> None:
    response = await send(
        production,
        "OPTIONS",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )

    assert response.status_code == 400
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]
    assert response.headers["vary"] == "Origin"


async def test_the_configured_origin_is_allowed_and_answers_vary_by_origin(
    production: RunningServer, account: Account
) -> None:
    preflight = await send(
        production,
        "OPTIONS",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    allowed = await send(
        production,
        "POST",
        json={"query": "{ viewer { id } }"},
        token=account.token,
        headers={"Origin": ALLOWED_ORIGIN},
    )
    other = await send(
        production,
        "POST",
        json={"query": "{ viewer { id } }"},
        token=account.token,
        headers={"Origin": "https://evil.example"},
    )

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert set(preflight.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST"}
    assert "access-control-allow-credentials" not in preflight.headers
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "Origin" in allowed.headers["vary"]
    # A browser will not hand this answer to the other origin's script.
    assert "access-control-allow-origin" not in other.headers
    assert "Origin" in other.headers["vary"]


@pytest.mark.parametrize("operation_name", [5, ["A"], {"name": "A"}])
async def test_an_operation_name_that_is_not_a_string_is_a_coded_400(
    production: RunningServer, account: Account, operation_name: object
) -> None:
    response = await send(
        production,
        "POST",
        json={"query": MUTATION, "operationName": operation_name},
        token=account.token,
    )

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "operationName must be a string or null",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }
    assert count(production, "generation_jobs", account.user_id) == 0


async def test_several_operations_without_an_operation_name_run_none(
    production: RunningServer, account: Account
) -> None:
    document = (
        f"mutation First {MUTATION.removeprefix('mutation ')} query Second {{ viewer {{ id }} }}"
    )

    response = await send(production, "POST", json={"query": document}, token=account.token)

    body = response.json()
    assert body["data"] is None
    assert [(e["message"], e["extensions"]) for e in body["errors"]] == [
        (
            "the document has several operations: name the one to run in operationName",
            {"code": "BAD_REQUEST"},
        )
    ]
    assert body["extensions"]["cost"]["throttleStatus"] is None
    assert count(production, "generation_jobs", account.user_id) == 0
