"""graphql-transport-ws hygiene: close codes, limits, keep-alive, cleanup and expiry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from lafactoria.graphql.ids import decode_id
from tests.support.graphql import (
    GENERATE,
    GRAPHQL_TRANSPORT_WS,
    GRAPHQL_WS,
    PROGRESS,
    register_user,
)
from tests.support.providers import StallingProvider
from tests.support.server import RunningServer, make_settings, run_server


@asynccontextmanager
async def connect(server: RunningServer) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(server.ws_url, subprotocols=[GRAPHQL_TRANSPORT_WS]) as socket:
        yield socket


async def init(socket: ClientConnection, credential: str | None) -> None:
    payload = {"Authorization": f"Bearer {credential}"} if credential else {}
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"


def subscribe(operation_id: str, job_id: str) -> str:
    return json.dumps(
        {
            "id": operation_id,
            "type": "subscribe",
            "payload": {"query": PROGRESS, "variables": {"jobId": job_id}},
        }
    )


async def close_code(socket: ClientConnection) -> int:
    async def drain() -> None:
        while True:
            await socket.recv()

    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(drain(), timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def next_message(
    socket: ClientConnection, kind: str, *, with_errors: bool = False
) -> dict[str, Any]:
    async def find() -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(await socket.recv())
            if message["type"] == kind and (
                not with_errors or message.get("payload", {}).get("errors")
            ):
                return message

    return await asyncio.wait_for(find(), timeout=10)


async def start_job(server: RunningServer, credential_holder: Any) -> str:
    data = await credential_holder.data(
        GENERATE,
        {"input": {"topic": "Ohm's law", "contentType": "QUIZ", "audienceLevel": "COLLEGE"}},
    )
    job_id: str = data["generateContent"]["job"]["id"]
    return job_id


@pytest.fixture
def stalling_server(tmp_path: Path) -> Any:
    settings = make_settings(
        tmp_path,
        graphql={
            "connection_init_timeout_seconds": 0.5,
            "max_subscriptions_per_connection": 2,
            "keep_alive_seconds": 0.2,
            "credential_check_seconds": 0.2,
        },
    )
    with run_server(settings, providers=[StallingProvider()]) as server:
        yield server


async def test_no_connection_init_closes_4408(stalling_server: RunningServer) -> None:
    async with connect(stalling_server) as socket:
        assert await close_code(socket) == 4408


async def test_no_connection_init_closes_4408_on_graphql_ws_too(
    stalling_server: RunningServer,
) -> None:
    async with connect_legacy(stalling_server) as socket:
        assert await close_code(socket) == 4408


async def test_second_connection_init_closes_4429(stalling_server: RunningServer) -> None:
    client = await register_user(stalling_server)
    async with connect(stalling_server) as socket:
        await init(socket, client.credential)
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert await close_code(socket) == 4429


async def test_duplicate_operation_id_closes_4409(stalling_server: RunningServer) -> None:
    client = await register_user(stalling_server)
    job_id = await start_job(stalling_server, client)
    async with connect(stalling_server) as socket:
        await init(socket, client.credential)
        await socket.send(subscribe("1", job_id))
        await next_message(socket, "next")
        await socket.send(subscribe("1", job_id))
        assert await close_code(socket) == 4409


async def test_subscribing_without_credentials_closes_4401(stalling_server: RunningServer) -> None:
    client = await register_user(stalling_server)
    job_id = await start_job(stalling_server, client)
    async with connect(stalling_server) as socket:
        await init(socket, None)
        await socket.send(subscribe("1", job_id))
        assert await close_code(socket) == 4401


async def test_subscriptions_per_connection_are_capped(stalling_server: RunningServer) -> None:
    client = await register_user(stalling_server)
    job_id = await start_job(stalling_server, client)
    async with connect(stalling_server) as socket:
        await init(socket, client.credential)
        for operation_id in ("1", "2", "3"):
            await socket.send(subscribe(operation_id, job_id))
        refused = await next_message(socket, "error")

    assert refused["id"] == "3"
    assert refused["payload"][0]["message"] == "Subscription limit reached"


async def test_idle_connections_get_keep_alive_pings(stalling_server: RunningServer) -> None:
    client = await register_user(stalling_server)
    async with connect(stalling_server) as socket:
        await init(socket, client.credential)
        ping = await next_message(socket, "ping")

    assert ping == {"type": "ping"}


async def test_disconnecting_cleans_up_while_the_job_goes_on(
    stalling_server: RunningServer,
) -> None:
    client = await register_user(stalling_server)
    job_id = await start_job(stalling_server, client)
    events = stalling_server.app.state.events
    async with connect(stalling_server) as socket:
        await init(socket, client.credential)
        await socket.send(subscribe("1", job_id))
        await next_message(socket, "next")
        assert events.follower_count(_raw(job_id)) == 1

    for _ in range(100):
        if events.follower_count(_raw(job_id)) == 0:
            break
        await asyncio.sleep(0.05)
    job = await client.data(
        "query J($id: ID!) { generationJob(id: $id) { status } }", {"id": job_id}
    )

    assert events.follower_count(_raw(job_id)) == 0
    assert job["generationJob"]["status"] == "RUNNING"


async def test_revoked_api_key_ends_the_stream_unauthenticated(
    stalling_server: RunningServer,
) -> None:
    owner = await register_user(stalling_server)
    created = await owner.data(
        'mutation { createApiKey(input: {name: "live"}) { apiKey { id } secret } }'
    )
    key = created["createApiKey"]
    job_id = await start_job(stalling_server, owner)
    async with connect(stalling_server) as socket:
        await init(socket, key["secret"])
        await socket.send(subscribe("1", job_id))
        await next_message(socket, "next")
        await owner.data(
            "mutation R($id: ID!) { revokeApiKey(id: $id) { apiKey { id } } }",
            {"id": key["apiKey"]["id"]},
        )
        ended = await next_message(socket, "next", with_errors=True)
        completed = await next_message(socket, "complete")

    assert [e["extensions"]["code"] for e in ended["payload"]["errors"]] == ["UNAUTHENTICATED"]
    assert completed["id"] == "1"


def _raw(global_id: str) -> str:
    return decode_id(global_id, "GenerationJob")


@pytest.mark.parametrize(
    "message",
    [
        "null",
        "[1, 2]",
        '"subscribe"',
        '{"type": 7}',
        '{"id": "1", "type": "subscribe", "payload": null}',
        '{"id": "1", "type": "subscribe", "payload": {"query": 5}}',
        '{"id": 1, "type": "subscribe", "payload": {"query": "{ viewer { id } }"}}',
        '{"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { id } }", '
        '"operationName": 5}}',
        '{"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { id } }", '
        '"variables": [1]}}',
    ],
    ids=[
        "null",
        "list",
        "string",
        "non-string-type",
        "null-payload",
        "non-string-query",
        "non-string-id",
        "non-string-operation-name",
        "list-variables",
    ],
)
async def test_a_message_of_the_wrong_shape_closes_4400(
    server: RunningServer, message: str
) -> None:
    client = await register_user(server)
    async with connect(server) as socket:
        await init(socket, client.credential)
        await socket.send(message)

        assert await close_code(socket) == 4400


@asynccontextmanager
async def connect_legacy(server: RunningServer) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(server.ws_url, subprotocols=[GRAPHQL_WS]) as socket:
        yield socket


@pytest.mark.parametrize(
    "message",
    ["null", "[1, 2]", '{"id": "1", "type": "start", "payload": null}'],
    ids=["null", "list", "null-payload"],
)
async def test_graphql_ws_answers_a_message_of_the_wrong_shape_with_a_protocol_error(
    server: RunningServer, message: str
) -> None:
    async with connect_legacy(server) as socket:
        await socket.send(message)

        reply = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        assert reply["type"] == "connection_error"
        assert await close_code(socket) == 1002


async def test_graphql_ws_refuses_a_second_connection_init(server: RunningServer) -> None:
    client = await register_user(server)
    init_message = json.dumps(
        {"type": "connection_init", "payload": {"Authorization": f"Bearer {client.credential}"}}
    )
    async with connect_legacy(server) as socket:
        await socket.send(init_message)
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(init_message)

        assert await close_code(socket) == 4429
