"""A real GraphQL client (gql) over HTTP and both WebSocket subprotocols."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.support.server import RunningServer

GRAPHQL_TRANSPORT_WS = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
GRAPHQL_WS = WebsocketsTransport.APOLLO_SUBPROTOCOL

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { user { id email } userErrors { field message code } }
}"""
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken expiresAt user { id email } userErrors { field message code } }
}"""
GENERATE = """
mutation Generate($input: GenerateContentInput!) {
  generateContent(input: $input) {
    job { id status topic contentType audienceLevel }
    userErrors { field message code }
  }
}"""
PROGRESS = """
subscription Progress($jobId: ID!, $after: Int! = 0) {
  generationProgress(jobId: $jobId, afterSequence: $after) {
    jobId sequence kind status progress message provider model attempt textDelta discardText
    error { code message }
    content { id title contentType }
    at
  }
}"""


@dataclass
class Result:
    data: dict[str, Any] | None
    errors: list[dict[str, Any]] | None

    @property
    def codes(self) -> list[str]:
        return [(e.get("extensions") or {}).get("code", "") for e in self.errors or []]


class GraphQLClient:
    """One user's view of the API: executes documents with their bearer credential."""

    def __init__(self, server: RunningServer, credential: str | None = None) -> None:
        self.server = server
        self.credential = credential

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential}"} if self.credential else {}

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> Result:
        transport = HTTPXAsyncTransport(url=self.server.graphql_url, headers=self._headers())
        async with Client(transport=transport) as session:
            try:
                data = await session.execute(GraphQLRequest(document, variable_values=variables))
            except TransportQueryError as exc:
                return Result(data=exc.data, errors=exc.errors)
        return Result(data=data, errors=None)

    async def post_raw(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST a body as is, for requests a GraphQL client refuses to send (bad syntax)."""
        async with httpx.AsyncClient() as http:
            response = await http.post(self.server.graphql_url, json=body, headers=self._headers())
        decoded: dict[str, Any] = response.json()
        return decoded

    async def data(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Execute and insist on success."""
        result = await self.execute(document, variables)
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data

    async def subscribe(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        subprotocol: str = GRAPHQL_TRANSPORT_WS,
    ) -> AsyncIterator[dict[str, Any]]:
        payload = {"Authorization": f"Bearer {self.credential}"} if self.credential else {}
        transport = WebsocketsTransport(
            url=self.server.ws_url, init_payload=payload, subprotocols=[subprotocol]
        )
        async with Client(transport=transport) as session:
            async for item in session.subscribe(
                GraphQLRequest(document, variable_values=variables)
            ):
                yield item

    async def collect(
        self, document: str, variables: dict[str, Any], *, subprotocol: str = GRAPHQL_TRANSPORT_WS
    ) -> list[dict[str, Any]]:
        return [item async for item in self.subscribe(document, variables, subprotocol=subprotocol)]


async def http_subscribe(
    client: GraphQLClient, document: str, variables: dict[str, Any], *, transport: str
) -> list[dict[str, Any]]:
    """A subscription over HTTP: ``sse`` (text/event-stream) or ``multipart`` (multipart/mixed).

    Returns each ``data`` as gql's WebSocket client would; raises ``TransportQueryError`` on
    errors, like it.
    """
    accept = "text/event-stream" if transport == "sse" else "multipart/mixed;subscriptionSpec=1.0"
    headers = {**client._headers(), "Accept": accept}
    body = {"query": document, "variables": variables}
    payloads: list[dict[str, Any]] = []
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream("POST", client.server.graphql_url, json=body, headers=headers) as response,
    ):
        text = ""
        async for chunk in response.aiter_text():
            text += chunk
    if transport == "sse":
        for frame in re.split(r"\r?\n\r?\n", text):
            fields = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
            if fields.get("event") == "next":
                payloads.append(json.loads(fields["data"]))
    else:
        for part in text.split("--graphql"):
            pieces = re.split(r"\r?\n\r?\n", part, maxsplit=1)
            content = pieces[1].strip() if len(pieces) == 2 else ""
            if content and content != "{}" and content != "--":
                payloads.append(json.loads(content)["payload"])
    results: list[dict[str, Any]] = []
    for payload in payloads:
        if payload.get("errors"):
            raise TransportQueryError(str(payload["errors"]), errors=payload["errors"])
        results.append(payload["data"])
    return results


async def register_user(
    server: RunningServer, *, email: str | None = None, password: str = "correct horse battery"
) -> GraphQLClient:
    """A new account, logged in: the builder every test uses instead of shared fixtures."""
    anonymous = GraphQLClient(server)
    email = email or f"user-{uuid.uuid4().hex[:12]}@example.org"
    registered = await anonymous.data(REGISTER, {"input": {"email": email, "password": password}})
    assert registered["register"]["userErrors"] == [], registered
    login = await anonymous.data(LOGIN, {"input": {"email": email, "password": password}})
    return GraphQLClient(server, login["login"]["accessToken"])
