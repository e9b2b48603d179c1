"""Every GraphQL error leaves with an ``extensions.code``; unexpected ones are masked.

Domain errors raised by services keep their message and get their code; parse, validation and
variable errors get the conventional codes; anything else is replaced by a generic message and
a correlation id that appears, with the full traceback, in the server log. That includes
errors graphql-core raises while executing (a value the schema cannot represent, a null in a
non-null field): their text can quote any value, secrets included.

Streamed results (subscription events, and every operation over WebSockets, SSE or multipart)
are coded one by one as they leave, because the operation hook only runs after the stream
has ended.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import structlog
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import StreamExecutionResult

from graphql import GraphQLError, GraphQLSyntaxError
from lafactoria.errors import InvalidInput, LaFactoriaError
from lafactoria.ratelimit import RateLimited

log = structlog.get_logger(__name__)

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
_TOKEN_LIMIT = re.compile(r"Document contains more than (\d+) tokens")
_ARGUMENT_VALUE = re.compile(r"Argument '(\w+)' has invalid value")
INTERNAL_MESSAGE = "Internal server error."


def _bad_argument(error: BaseException | None) -> str | None:
    """The argument an execution-time argument coercion error of graphql-core names."""
    if not isinstance(error, GraphQLError) or error.original_error is not None:
        return None
    match = _ARGUMENT_VALUE.match(error.message)
    return match.group(1) if match else None


def coded_error(
    message: str, code: str, *, extensions: dict[str, Any] | None = None
) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **(extensions or {})})


def domain_code(error: LaFactoriaError) -> str:
    return "BAD_USER_INPUT" if isinstance(error, InvalidInput) else error.code


def domain_extensions(error: LaFactoriaError) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": domain_code(error)}
    if error.field:
        extensions["field"] = error.field
    if isinstance(error, RateLimited):
        extensions["retryAfter"] = error.retry_after
    return extensions


def to_graphql_error(error: BaseException) -> GraphQLError:
    """Translate an exception raised outside graphql-core's error handling (subscriptions)."""
    if isinstance(error, GraphQLError) and (error.extensions or {}).get("code"):
        return error
    if isinstance(error, LaFactoriaError):
        return GraphQLError(error.message, extensions=domain_extensions(error))
    return _masked(error)


def _masked(error: BaseException, template: GraphQLError | None = None) -> GraphQLError:
    correlation_id = uuid.uuid4().hex
    log.error("graphql_unexpected_error", correlation_id=correlation_id, exc_info=error)
    return GraphQLError(
        INTERNAL_MESSAGE,
        nodes=template.nodes if template else None,
        path=template.path if template else None,
        extensions={"code": "INTERNAL_SERVER_ERROR", "correlationId": correlation_id},
    )


class ErrorCodes(SchemaExtension):
    """Codes every error and masks unexpected ones; hides suggestions when asked to."""

    def __init__(self, *, hide_suggestions: bool = False) -> None:
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        self._format_result(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        self._format_result(result)
        yield

    def _format_result(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [self._format(error) for error in errors]  # type: ignore[attr-defined]

    def _format(self, error: GraphQLError) -> GraphQLError:
        if (error.extensions or {}).get("code"):
            return error
        original = error.original_error
        if isinstance(error, GraphQLSyntaxError):
            tokens = _TOKEN_LIMIT.search(error.message)
            if tokens:
                limit = int(tokens.group(1))
                return coded_error(
                    f"the document has more than {limit} tokens",
                    "QUERY_TOO_COMPLEX",
                    extensions={"reason": "TOKENS", "limit": limit},
                )
            return self._with_code(error, "GRAPHQL_PARSE_FAILED")
        if error.message.startswith("Variable '$"):
            return self._with_code(error, "BAD_USER_INPUT")
        if isinstance(original, LaFactoriaError):
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                path=error.path,
                extensions=domain_extensions(original),
            )
        if isinstance(original, InvalidOperationTypeError | CannotGetOperationTypeError):
            return self._with_code(error, "GRAPHQL_VALIDATION_FAILED")
        argument = _bad_argument(original)
        if argument is not None:
            # A value validation cannot see: null from a nullable variable into a non-null
            # argument that has a default. graphql-core refuses it while executing.
            return GraphQLError(
                error.message,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "BAD_USER_INPUT", "field": argument},
            )
        if error.path is not None or (
            original is not None and not isinstance(original, GraphQLError)
        ):
            return _masked(original or error, error)
        if isinstance(original, GraphQLError):
            return self._format(original)
        return self._with_code(error, "GRAPHQL_VALIDATION_FAILED")

    def _with_code(self, error: GraphQLError, code: str) -> GraphQLError:
        message = error.message
        if self.hide_suggestions:
            message = _SUGGESTION.sub("", message)
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={**(error.extensions or {}), "code": code},
        )
