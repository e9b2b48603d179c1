"""WebSocket handling beyond Strawberry's: auth-gated operations, keep-alive, and messages of
the wrong shape refused with a close code instead of a crashed socket (both subprotocols)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage as LegacyConnectionInitMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage

from lafactoria.graphql.context import Context

# graphql-transport-ws's own codes for "operation before authorisation" and "second init".
_UNAUTHORIZED = 4401
_TOO_MANY_INITIALISATIONS = 4429
_INIT_TIMEOUT = 4408
# RFC 6455's "protocol error", for graphql-ws, which has no code of its own.
_PROTOCOL_ERROR = 1002
_OPERATION_TYPES = {"subscribe", "start"}
_TYPES_WITH_ID = {*_OPERATION_TYPES, "complete", "stop"}


def _is_optional(value: object, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def malformation(message: Any) -> str | None:
    """What is wrong with a decoded message's shape (``None``: nothing). Strawberry indexes
    messages as the protocol describes them, so any other shape would raise inside it."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "a message must be an object with a string type"
    if message["type"] in _TYPES_WITH_ID and not isinstance(message.get("id"), str):
        return "the message's id must be a string"
    if message["type"] in _OPERATION_TYPES:
        payload = message.get("payload")
        if (
            not isinstance(payload, dict)
            or not isinstance(payload.get("query"), str)
            or not _is_optional(payload.get("variables"), dict)
            or not _is_optional(payload.get("operationName"), str)
            or not _is_optional(payload.get("extensions"), dict)
        ):
            return "the payload must hold a string query and optional variables object"
    return None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Closes 4401 when a connection without credentials starts an operation (every operation
    over a WebSocket needs a user), and pings idle connections so proxies keep them open."""

    keep_alive_seconds: float = 15.0
    _pinger: asyncio.Task[None] | None = None

    async def handle_message(self, message: Message) -> None:
        problem = malformation(message)
        if problem is not None:
            await self.handle_invalid_message(problem)  # closes 4400
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._pinger is None:
            self._pinger = asyncio.create_task(self._ping_forever())

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and self.context.credential is None:
            await self.websocket.close(code=_UNAUTHORIZED, reason="Unauthorized")
            return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        await super().shutdown()

    async def _ping_forever(self) -> None:
        while True:
            await asyncio.sleep(self.keep_alive_seconds)
            await self.send_message({"type": "ping"})


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws (subscriptions-transport-ws): a malformed message is a protocol error, a
    second ``connection_init`` is refused, and a connection that sends none in time is closed
    4408, as graphql-transport-ws does (the protocol itself sets no deadline, so an idle
    socket would otherwise be held open for free)."""

    _initialised = False
    connection_init_timeout_seconds: float = 5.0

    async def handle(self) -> None:
        deadline = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            deadline.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deadline

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.connection_init_timeout_seconds)
        if not self._initialised:
            await self.websocket.close(
                code=_INIT_TIMEOUT, reason="Connection initialisation timeout"
            )

    async def handle_message(self, message: OperationMessage) -> None:
        problem = malformation(message)
        if problem is not None:
            await self.send_message({"type": "connection_error", "payload": {"message": problem}})
            await self.websocket.close(code=_PROTOCOL_ERROR, reason="Invalid message")
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: LegacyConnectionInitMessage) -> None:
        if self._initialised:
            await self.websocket.close(
                code=_TOO_MANY_INITIALISATIONS, reason="Too many initialisation requests"
            )
            return
        self._initialised = True
        await super().handle_connection_init(message)
