"""A real GraphQL client (gql) over HTTP and both WebSocket subprotocols."""

from __future__ import annotations

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
