"""A small GraphQL client for the CLI: operations over HTTP, subscriptions over WebSocket.

The WebSocket side speaks ``graphql-transport-ws`` directly (connection_init with the
credential, subscribe, next/error/complete, ping/pong); it is short enough that a general
GraphQL client library would add more than it saves.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

_SUBPROTOCOL = Subprotocol("graphql-transport-ws")
_ACK_TIMEOUT_SECONDS = 10.0
# Close codes a graphql-transport-ws server uses to refuse the credential.
_REFUSED = {4401: "Unauthorized", 4403: "Forbidden"}


class ClientError(Exception):
    """Talking to the server failed; ``code`` is a GraphQL error code when the server gave one."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def graphql_endpoint(url: str) -> str:
    """The GraphQL endpoint for a server URL, which may or may not end in ``/graphql``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/graphql"):
        path += "/graphql"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def websocket_endpoint(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return urlunsplit(("wss" if parts.scheme == "https" else "ws", *parts[1:]))


class GraphQLClient:
    """Executes documents against one server with one bearer credential."""

    def __init__(self, url: str, credential: str, *, timeout: float = 30.0) -> None:
        self.endpoint = graphql_endpoint(url)
        self._credential = credential
        self._http = httpx.AsyncClient(
            timeout=timeout, headers={"Authorization": f"Bearer {credential}"}
        )

    async def __aenter__(self) -> GraphQLClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def execute(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run a query or mutation; GraphQL errors raise ``ClientError`` with their code."""
        try:
            response = await self._http.post(
                self.endpoint, json={"query": document, "variables": variables}
            )
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach {self.endpoint}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            raise ClientError(
                f"{self.endpoint} answered HTTP {response.status_code} without a GraphQL "
                "response: is this a La Factoria server?"
            ) from None
        if not isinstance(body, dict):
            raise ClientError(f"{self.endpoint} sent an unexpected answer")
        _raise_errors(body.get("errors"))
        data = body.get("data")
        if not isinstance(data, dict):
            raise ClientError(f"{self.endpoint} answered HTTP {response.status_code} with no data")
        return data

    async def download(self, path: str) -> bytes:
        """GET a file (an export) from the same server with the same credential."""
        url = urljoin(self.endpoint, path)
        try:
            response = await self._http.get(url)
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach {url}: {exc}") from exc
        if response.status_code != httpx.codes.OK:
            try:
                error = response.json()["error"]
                message, code = str(error["message"]), str(error["code"])
            except (ValueError, KeyError, TypeError):
                message, code = f"HTTP {response.status_code}", None
            raise ClientError(f"the download failed: {message}", code=code)
        return response.content

    async def subscribe(
        self, document: str, variables: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield each ``data`` of a subscription until the server completes it."""
        try:
            async with connect(
                websocket_endpoint(self.endpoint),
                subprotocols=[_SUBPROTOCOL],
                open_timeout=_ACK_TIMEOUT_SECONDS,
                proxy=None,
            ) as socket:
                await self._initialise(socket)
                payload = {"query": document, "variables": variables}
                await _send(socket, {"id": "1", "type": "subscribe", "payload": payload})
                async for message in _messages(socket):
                    kind = message.get("type")
                    if kind == "next" and message.get("id") == "1":
                        result = message.get("payload") or {}
                        _raise_errors(result.get("errors"))
                        yield result.get("data") or {}
                    elif kind == "error" and message.get("id") == "1":
                        _raise_errors(message.get("payload") or [{"message": "refused"}])
                    elif kind == "complete" and message.get("id") == "1":
                        return
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise ClientError(f"cannot open a WebSocket to {self.endpoint}: {exc}") from exc
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            if code in _REFUSED:
                raise ClientError(
                    f"the server refused the credential ({code} {_REFUSED[code]})",
                    code="UNAUTHENTICATED",
                ) from None
            raise ClientError(f"the server closed the connection ({exc})") from None
        raise ClientError("the server closed the subscription before it completed")

    async def _initialise(self, socket: ClientConnection) -> None:
        await _send(
            socket,
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {self._credential}"}},
        )
        async with asyncio.timeout(_ACK_TIMEOUT_SECONDS):
            async for message in _messages(socket):
                if message.get("type") == "connection_ack":
                    return
        raise ClientError("the server closed the connection before accepting it")


async def _send(socket: ClientConnection, message: dict[str, Any]) -> None:
    await socket.send(json.dumps(message))


async def _messages(socket: ClientConnection) -> AsyncIterator[dict[str, Any]]:
    """Decoded protocol messages; pings are answered here so callers never see them."""
    async for raw in socket:
        message = json.loads(raw)
        if not isinstance(message, dict):
            raise ClientError("the server sent a malformed message")
        if message.get("type") == "ping":
            await _send(socket, {"type": "pong"})
            continue
        if message.get("type") == "pong":
            continue
        yield message


def _raise_errors(errors: object) -> None:
    if not errors:
        return
    first = errors[0] if isinstance(errors, list) and errors else {}
    if not isinstance(first, dict):
        raise ClientError("the server answered with an error")
    code = (first.get("extensions") or {}).get("code")
    raise ClientError(str(first.get("message", "the server answered with an error")), code=code)
