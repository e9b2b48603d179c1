"""WebSockets authenticate from the connection_init payload."""

from __future__ import annotations

import json

import pytest
import websockets
from gql.transport.exceptions import TransportQueryError

from tests.support.graphql import (
    GENERATE,
    GRAPHQL_TRANSPORT_WS,
    GRAPHQL_WS,
    PROGRESS,
    GraphQLClient,
    register_user,
)
from tests.support.server import RunningServer


async def queued_job(client: GraphQLClient) -> str:
    data = await client.data(
        GENERATE,
        {"input": {"topic": "Tides", "contentType": "QUIZ", "audienceLevel": "COLLEGE"}},
    )
    job_id: str = data["generateContent"]["job"]["id"]
    return job_id


async def test_bad_credentials_in_connection_init_close_the_socket(
    server: RunningServer,
) -> None:
    owner = await register_user(server)
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {owner.credential}x"}}

    async with websockets.connect(server.ws_url, subprotocols=[GRAPHQL_TRANSPORT_WS]) as socket:
        await socket.send(json.dumps(init))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_bad_credentials_on_legacy_protocol_get_a_connection_error(
    server: RunningServer,
) -> None:
    owner = await register_user(server)
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {owner.credential}x"}}

    async with websockets.connect(server.ws_url, subprotocols=[GRAPHQL_WS]) as socket:
        await socket.send(json.dumps(init))
        reply = json.loads(await socket.recv())
        with pytest.raises(websockets.ConnectionClosed):
            await socket.recv()

    assert reply["type"] == "connection_error"


async def test_subscribing_without_credentials_on_legacy_protocol_is_unauthenticated(
    server: RunningServer,
) -> None:
    owner = await register_user(server)
    job_id = await queued_job(owner)

    with pytest.raises(TransportQueryError) as raised:
        await GraphQLClient(server).collect(PROGRESS, {"jobId": job_id}, subprotocol=GRAPHQL_WS)

    assert raised.value.errors is not None
    assert [e["extensions"]["code"] for e in raised.value.errors] == ["UNAUTHENTICATED"]
