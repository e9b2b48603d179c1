"""An outsider's toolkit: raw HTTP, raw WebSockets and SSE, forged tokens, and a look at the
database (read-only, as an auditor would) to prove that an attack stored or changed nothing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import websockets
from websockets.asyncio.client import ClientConnection

from lafactoria.graphql.ids import decode_id
from tests.support.graphql import GRAPHQL_TRANSPORT_WS, LOGIN, REGISTER
from tests.support.server import RunningServer

PASSWORD = "correct horse battery"
GENERATE = """
mutation Generate($input: GenerateContentInput!) {
  generateContent(input: $input) { job { id status } userErrors { field message code } }
}"""
PROGRESS = """
subscription Progress($jobId: ID!) {
  generationProgress(jobId: $jobId) {
    sequence kind status message provider model error { code message }
  }
}"""
QUIZ = {"contentType": "QUIZ", "audienceLevel": "COLLEGE"}


@dataclass
class Account:
    email: str
    token: str
    user_id: str


async def post(
    server: RunningServer,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST one operation; returns the decoded JSON body (any status)."""
    response = await send(
        server, "POST", json={"query": query, "variables": variables}, token=token, headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


async def send(
    server: RunningServer,
    method: str,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    all_headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        return await http.request(method, "/graphql", headers=all_headers, **kwargs)


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or []]


async def sign_up(server: RunningServer, *, email: str | None = None) -> Account:
    email = email or f"user-{uuid.uuid4().hex[:12]}@example.org"
    registered = await post(server, REGISTER, {"input": {"email": email, "password": PASSWORD}})
    assert registered["data"]["register"]["userErrors"] == [], registered
    login = await post(server, LOGIN, {"input": {"email": email, "password": PASSWORD}})
    token = login["data"]["login"]["accessToken"]
    user_id = decode_id(login["data"]["login"]["user"]["id"], "User")
    return Account(email=email, token=token, user_id=user_id)


async def generate(server: RunningServer, account: Account, topic: str = "Tides") -> str:
    body = await post(server, GENERATE, {"input": {"topic": topic, **QUIZ}}, token=account.token)
    assert body["data"]["generateContent"]["userErrors"] == [], body
    job_id: str = body["data"]["generateContent"]["job"]["id"]
    return job_id


async def wait_for_job(server: RunningServer, job_id: str) -> dict[str, Any]:
    """The job's row once it is terminal."""
    return await wait_for_status(server, job_id, "succeeded", "failed", "cancelled")


async def wait_for_status(server: RunningServer, job_id: str, *statuses: str) -> dict[str, Any]:
    raw_id = decode_id(job_id, "GenerationJob")
    async with asyncio.timeout(20):
        while True:
            job = one(server, "SELECT * FROM generation_jobs WHERE id = ?", raw_id)
            if job is not None and job["status"] in statuses:
                return job
            await asyncio.sleep(0.05)


# -- the database, read-only ------------------------------------------------------------


@contextmanager
def database(server: RunningServer) -> Iterator[sqlite3.Connection]:
    path = server.settings.data_dir / "lafactoria.db"
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        yield connection
    finally:
        connection.close()


def rows(server: RunningServer, sql: str, *params: Any) -> list[dict[str, Any]]:
    with database(server) as connection:
        return [dict(row) for row in connection.execute(sql, params).fetchall()]


def one(server: RunningServer, sql: str, *params: Any) -> dict[str, Any] | None:
    found = rows(server, sql, *params)
    return found[0] if found else None


def count(server: RunningServer, table: str, user_id: str) -> int:
    found = one(server, f"SELECT count(*) AS n FROM {table} WHERE user_id = ?", user_id)  # noqa: S608
    assert found is not None
    return int(found["n"])


def operator_sql(server: RunningServer, sql: str, *params: Any) -> None:
    """A change an operator makes directly in the database (disable or delete an account)."""
    path = server.settings.data_dir / "lafactoria.db"
    connection = sqlite3.connect(path)
    try:
        connection.execute(sql, params)
        connection.commit()
    finally:
        connection.close()


# -- tokens ---------------------------------------------------------------------------------


def unsigned_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A JWT assembled by hand, for algorithms an attacker claims but cannot sign with."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    return ".".join(
        [part(json.dumps(header).encode()), part(json.dumps(claims).encode()), part(signature)]
    )


def hs_token(claims: dict[str, Any], key: str, algorithm: str = "HS256") -> str:
    if algorithm == "HS256":
        return jwt.encode(claims, key, algorithm=algorithm)
    # By hand: pyjwt warns (an error under pytest) about short keys for longer hashes.
    digest = {"HS384": hashlib.sha384, "HS512": hashlib.sha512}[algorithm]
    unsigned = unsigned_token({"alg": algorithm, "typ": "JWT"}, claims).rsplit(".", 1)[0]
    signature = hmac.new(key.encode(), unsigned.encode(), digest).digest()
    return f"{unsigned}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


# -- streaming transports -------------------------------------------------------------------


@asynccontextmanager
async def websocket(server: RunningServer, protocol: str) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(server.ws_url, subprotocols=[protocol]) as socket:
        yield socket


async def ws_operation(
    server: RunningServer,
    query: str,
    variables: dict[str, Any],
    *,
    token: str | None,
    protocol: str = GRAPHQL_TRANSPORT_WS,
) -> list[dict[str, Any]]:
    """Run one operation over a WebSocket; every message up to its end (or the close)."""
    start = "subscribe" if protocol == GRAPHQL_TRANSPORT_WS else "start"
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    received: list[dict[str, Any]] = []
    try:
        async with websocket(server, protocol) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            ack = json.loads(await asyncio.wait_for(socket.recv(), 10))
            received.append({"type": ack["type"]})
            if ack["type"] != "connection_ack":
                return received
            operation = {"query": query, "variables": variables}
            await socket.send(json.dumps({"id": "1", "type": start, "payload": operation}))
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), 20))
                if message["type"] in ("ping", "pong", "ka"):
                    continue
                received.append(message)
                if message["type"] in ("complete", "error"):
                    return received
    except websockets.ConnectionClosed as closed:
        received.append({"type": "closed", "code": closed.rcvd.code if closed.rcvd else None})
    return received


async def sse_operation(
    server: RunningServer, query: str, variables: dict[str, Any], *, token: str | None
) -> list[dict[str, Any]]:
    """Run one operation over Server-Sent Events; every ``next`` payload."""
    headers = {
        "Accept": "text/event-stream",
        **({"Authorization": f"Bearer {token}"} if token else {}),
    }
    text = ""
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream(
            "POST",
            server.graphql_url,
            json={"query": query, "variables": variables},
            headers=headers,
        ) as response,
    ):
        async for chunk in response.aiter_text():
            text += chunk
    payloads = []
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        if fields.get("event") == "next":
            payloads.append(json.loads(fields["data"]))
    return payloads
