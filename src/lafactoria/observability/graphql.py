"""A Strawberry extension that counts and times GraphQL operations.

It reports to the :class:`~lafactoria.observability.middleware.RequestInfo` of the request (or
WebSocket connection) that carries the operation, so the request's log line names the
operations and the user, and the app's metrics count them. It must be the outermost
extension: then it times everything and sees errors after they were given their codes.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import structlog
from strawberry.extensions import SchemaExtension
from strawberry.types import StreamExecutionResult
from strawberry.types.graphql import OperationType

from graphql import GraphQLError
from lafactoria.errors import LaFactoriaError
from lafactoria.graphql.context import Context
from lafactoria.observability.middleware import RequestInfo, current_request

log = structlog.get_logger(__name__)


class OperationObserver(SchemaExtension):
    def __init__(self) -> None:
        self._subscribed = False
        self._stream_outcome: str | None = None

    async def on_operation(self) -> AsyncIterator[None]:
        request = current_request()
        started = time.perf_counter()
        try:
            yield
        finally:
            # Reached when the operation ends, including a subscription whose client left.
            if self._subscribed and request is not None:
                request.metrics.subscriptions_open.dec()
            if request is not None:
                try:
                    await self._report(request, time.perf_counter() - started)
                except Exception:
                    # An exception here would replace the operation's result with its text.
                    log.exception("graphql_report_failed")

    def on_execute(self) -> Iterator[None]:
        # Parsed and validated by now, so the operation's type is known.
        request = current_request()
        if request is not None and self._operation_type() == "subscription":
            self._subscribed = request.streams = True
            request.metrics.subscriptions_open.inc()
        yield

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        errors = getattr(result, "errors", None)
        if errors and self._stream_outcome is None:
            self._stream_outcome = _outcome(errors)
        yield

    async def _report(self, request: RequestInfo, seconds: float) -> None:
        context = self.execution_context
        kind = self._operation_type()
        name = request.metrics.operation_label(context.operation_name)
        result = context.result
        outcome = self._stream_outcome or (
            _outcome(result.errors) if result is not None and result.errors else "ok"
        )
        request.metrics.operations.labels(operation=name, type=kind, outcome=outcome).inc()
        if kind in ("query", "mutation"):
            request.metrics.operation_duration.labels(operation=name, type=kind).observe(seconds)
        request.add_operation(name)
        if request.user_id is None:
            request.user_id = await _user_id(context.context)

    def _operation_type(self) -> str:
        try:
            return OperationType(self.execution_context.operation_type).value
        except (RuntimeError, ValueError):  # the document did not parse or names no operation
            return "unknown"


def _outcome(errors: list[GraphQLError]) -> str:
    code = (errors[0].extensions or {}).get("code")
    return code if isinstance(code, str) and code else "ERROR"


async def _user_id(context: object) -> str | None:
    # Authentication is cached on the context, so this costs nothing for an operation that
    # needed the user; a credential no resolver looked at is checked once here.
    if not isinstance(context, Context) or context.credential is None:
        return None
    try:
        principal = await context.authenticate()
    except LaFactoriaError:
        return None
    except Exception:
        # Reporting must never replace the operation's result (or leak an exception's text):
        # an unexpected failure here is only logged.
        log.exception("observability_user_lookup_failed")
        return None
    return principal.user.id if principal else None
