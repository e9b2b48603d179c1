"""The FastAPI router serving ``/graphql`` over HTTP and both WebSocket subprotocols."""

from __future__ import annotations

from typing import Any

from fastapi.requests import HTTPConnection
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types.unset import UnsetType

from lafactoria.errors import Unauthenticated
from lafactoria.graphql.context import Context, bearer_credential
from lafactoria.graphql.schema import build_schema
from lafactoria.services import Services
from lafactoria.settings import Settings


async def _context(connection: HTTPConnection) -> Context:
    services: Services = connection.app.state.services
    return Context(services, bearer_credential(connection.headers.get("authorization")))


def _credential_from_params(params: Any) -> str | None:
    if not isinstance(params, dict):
        return None
    for key, value in params.items():
        if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
            return bearer_credential(value) or value.strip() or None
    return None


class LaFactoriaGraphQLRouter(GraphQLRouter[Context, None]):
    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate from ``connection_init``'s payload: ``{"Authorization": "Bearer …"}``.

        Bad credentials refuse the connection; none at all leave it open for public
        operations, and each subscription then demands authentication itself.
        """
        credential = _credential_from_params(context.connection_params)
        if credential is not None:
            context.credential = credential
        try:
            await context.authenticate()
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"message": exc.message}) from exc
        return None


def build_router(settings: Settings) -> LaFactoriaGraphQLRouter:
    return LaFactoriaGraphQLRouter(
        build_schema(settings),
        context_getter=_context,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        # WebSockets for GraphQL clients; multipart and SSE over HTTP for clients (and curl)
        # that cannot open a WebSocket.
        subscription_protocols=(
            GRAPHQL_TRANSPORT_WS_PROTOCOL,
            GRAPHQL_WS_PROTOCOL,
            MULTIPART_SUBSCRIPTION_PROTOCOL,
            GRAPHQL_SSE_PROTOCOL,
        ),
        keep_alive=True,
        keep_alive_interval=15,
    )
