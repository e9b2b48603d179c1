"""graphql-transport-ws handling beyond Strawberry's: auth-gated operations and keep-alive."""

from __future__ import annotations

import asyncio
import contextlib

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from lafactoria.graphql.context import Context

# graphql-transport-ws's own code for "operation before authorisation".
_UNAUTHORIZED = 4401


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Closes 4401 when a connection without credentials starts an operation (every operation
    over a WebSocket needs a user), and pings idle connections so proxies keep them open."""

    keep_alive_seconds: float = 15.0
    _pinger: asyncio.Task[None] | None = None

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
