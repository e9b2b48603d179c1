"""Every GraphQL error leaves with an ``extensions.code``; unexpected ones are masked.

Domain errors raised by services keep their message and get their code; parse, validation and
variable errors get the conventional codes; anything else is replaced by a generic message and
a correlation id that appears, with the full traceback, in the server log.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import structlog
from strawberry.extensions import SchemaExtension

from graphql import GraphQLError, GraphQLSyntaxError
from lafactoria.errors import InvalidInput, LaFactoriaError

log = structlog.get_logger(__name__)

_SUGGESTION = re.compile(r"\s*Did you mean .*\?$")
INTERNAL_MESSAGE = "Internal server error."


def coded_error(
    message: str, code: str, *, extensions: dict[str, Any] | None = None
) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **(extensions or {})})


def domain_code(error: LaFactoriaError) -> str:
    return "BAD_USER_INPUT" if isinstance(error, InvalidInput) else error.code


def to_graphql_error(error: BaseException) -> GraphQLError:
    """Translate an exception raised outside graphql-core's error handling (subscriptions)."""
    if isinstance(error, GraphQLError) and (error.extensions or {}).get("code"):
        return error
    if isinstance(error, LaFactoriaError):
        extensions = {"field": error.field} if error.field else {}
        return coded_error(error.message, domain_code(error), extensions=extensions)
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
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [self._format(error) for error in errors]

    def _format(self, error: GraphQLError) -> GraphQLError:
        if (error.extensions or {}).get("code"):
            return error
        original = error.original_error
        if isinstance(error, GraphQLSyntaxError):
            return self._with_code(error, "GRAPHQL_PARSE_FAILED")
        if error.message.startswith("Variable '$"):
            return self._with_code(error, "BAD_USER_INPUT")
        if isinstance(original, LaFactoriaError):
            extensions = {"code": domain_code(original)}
            if original.field:
                extensions["field"] = original.field
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                path=error.path,
                extensions=extensions,
            )
        if isinstance(original, GraphQLError):
            return self._format(original)
        if original is not None:
            return _masked(original, error)
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
