"""The FastAPI router serving ``/graphql`` over HTTP and both WebSocket subprotocols."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from fastapi.requests import HTTPConnection
from fastapi.responses import JSONResponse
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from lafactoria.errors import Unauthenticated
from lafactoria.graphql.context import Context, bearer_credential
from lafactoria.graphql.errors import coded_error
from lafactoria.graphql.fanout import sharing_executor
from lafactoria.graphql.schema import build_schema
from lafactoria.graphql.websockets import LegacyWSHandler, TransportWSHandler
from lafactoria.http.client import client_address
from lafactoria.services import Services
from lafactoria.settings import Settings

_HTTP_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


async def graphql_context(connection: HTTPConnection) -> Context:
    """The context of one request (or WebSocket connection)."""
    services: Services = connection.app.state.services
    # Only the Authorization header (or a WebSocket's connection_init) carries credentials:
    # never the URL, which ends up in logs, browser history and Referer headers.
    return Context(
        services,
        bearer_credential(connection.headers.get("authorization")),
        client_address=client_address(connection, services.settings.trusted_proxies),
    )


def _credential_from_params(params: Any) -> str | None:
    if not isinstance(params, dict):
        return None
    for key, value in params.items():
        if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
            return bearer_credential(value) or value.strip() or None
    return None


class LaFactoriaGraphQLRouter(GraphQLRouter[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry refuses a request it cannot run (a GET with variables that are not
        JSON, no query, an operation it cannot pick) in plain text; here it is refused the
        way every other /graphql error is, as GraphQL-shaped JSON with a code."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            code = _HTTP_CODES.get(exc.status_code, "BAD_REQUEST")
            # The only 405 left after the guard: a mutation over GET (see execute_single).
            headers = {"Allow": "POST"} if exc.status_code == 405 else None
            return JSONResponse(
                {"errors": [{"message": exc.reason, "extensions": {"code": code}}]},
                status_code=exc.status_code,
                headers=headers,
            )

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

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Plain (non-streaming) HTTP requests: a subscription here cannot stream, so it is
        refused with a coded error instead of being run as if it were a query."""
        allowed = OperationType.from_http(request_adapter.method) - {OperationType.SUBSCRIPTION}
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason()) from exc
        except MissingQueryError as exc:
            raise HTTPException(400, "No GraphQL query found in the request") from exc
        except InvalidOperationTypeError as exc:
            if exc.operation_type is not OperationType.SUBSCRIPTION:
                # Only a mutation over GET gets here: the method is what is wrong.
                raise HTTPException(405, exc.as_http_error_reason(request_adapter.method)) from exc
            return ExecutionResult(
                data=None,
                errors=[
                    coded_error(
                        "subscriptions stream over a WebSocket (graphql-transport-ws or "
                        "graphql-ws) or over HTTP with 'Accept: text/event-stream' or "
                        "'Accept: multipart/mixed;subscriptionSpec=1.0'",
                        "BAD_REQUEST",
                    )
                ],
            )


def build_router(settings: Settings) -> LaFactoriaGraphQLRouter:
    # The handler class reads its ping interval from the class; a subclass per app keeps
    # several apps in one process (tests) from sharing it.
    class ConfiguredTransportWSHandler(TransportWSHandler):
        keep_alive_seconds = settings.graphql.keep_alive_seconds

    class ConfiguredLegacyWSHandler(LegacyWSHandler):
        connection_init_timeout_seconds = settings.graphql.connection_init_timeout_seconds

    schema = build_schema(settings)
    # Subscription events are executed once per job and operation, not once per subscriber.
    schema.execution_context_class = sharing_executor(schema.execution_context_class)
    router = LaFactoriaGraphQLRouter(
        schema,
        context_getter=graphql_context,
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
        keep_alive_interval=settings.graphql.keep_alive_seconds,
        connection_init_wait_timeout=timedelta(
            seconds=settings.graphql.connection_init_timeout_seconds
        ),
        max_subscriptions_per_connection=settings.graphql.max_subscriptions_per_connection,
    )
    router.graphql_transport_ws_handler_class = ConfiguredTransportWSHandler
    router.graphql_ws_handler_class = ConfiguredLegacyWSHandler
    return router
