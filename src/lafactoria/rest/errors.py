"""Every REST error leaves as one JSON shape with the status and headers HTTP clients expect.

    {"error": {"code": "NOT_FOUND", "message": "no such content", "field": "id", "details": []}}

    domain error              status  code                  extra
    InvalidInput              422     INVALID_INPUT
    request validation        422     INVALID_INPUT         details: one entry per problem
    Unauthenticated           401     UNAUTHENTICATED       WWW-Authenticate: Bearer
    InvalidCredentials        401     INVALID_CREDENTIALS   WWW-Authenticate: Bearer
    PermissionDenied          403     FORBIDDEN
    NotFound                  404     NOT_FOUND             also: someone else's object
    Conflict                  409     CONFLICT
    rate limited              429     RATE_LIMITED          Retry-After (the error's retry_after)
    LimitExceeded             503     LIMIT_EXCEEDED        Retry-After: the queue is full
    Unavailable               503     SERVICE_UNAVAILABLE   Retry-After: the database or Redis
    body over 64 KiB          413     PAYLOAD_TOO_LARGE
    anything else             500     INTERNAL_SERVER_ERROR correlation_id, also in the server log

``ApiRoute`` applies this to the REST routes; ``http_exception_handler`` gives every unmatched
path or method (404, 405) the same shape, inside ``/api/`` or not.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

import structlog
from fastapi import Request, Response
from fastapi.exception_handlers import http_exception_handler as default_http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import Message

from lafactoria.errors import LaFactoriaError
from lafactoria.rest.paths import API_PREFIX

log = structlog.get_logger(__name__)

# Generation is refused while the queue is full; it drains at the pace jobs finish, so a
# client that waits this long has a fair chance.
QUEUE_FULL_RETRY_SECONDS = 10
INTERNAL_MESSAGE = "Internal server error."
# The largest legitimate body (ten topics with their requirements) is a few kilobytes.
MAX_BODY_BYTES = 64 * 1024

_PATH_PARAMETER = re.compile(r"\\\{[^/]+?\\\}")
_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_DOMAIN_STATUS = {
    "INVALID_INPUT": 422,
    "UNAUTHENTICATED": 401,
    "INVALID_CREDENTIALS": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "RATE_LIMITED": 429,
    "LIMIT_EXCEEDED": 503,
    "SERVICE_UNAVAILABLE": 503,
}
_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "INVALID_INPUT",
    429: "RATE_LIMITED",
    503: "UNAVAILABLE",
}


class ErrorDetail(BaseModel):
    field: str | None = Field(description="The input at fault, e.g. topic or topics.2.")
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable and machine-readable, e.g. NOT_FOUND.")
    message: str = Field(description="For people; may change.")
    field: str | None = Field(default=None, description="The input at fault, when one is.")
    details: list[ErrorDetail] = Field(
        default_factory=list, description="Every problem found, for invalid requests."
    )
    correlation_id: str | None = Field(
        default=None, description="Only on 500: quote it to find the detail in the server log."
    )


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    details: Sequence[ErrorDetail] = (),
    correlation_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(
        error=ErrorBody(
            code=code,
            message=message,
            field=field,
            details=list(details),
            correlation_id=correlation_id,
        )
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def domain_error_response(error: LaFactoriaError) -> JSONResponse:
    status = _DOMAIN_STATUS.get(error.code)
    if status is None:
        # A domain error no REST route expects (a provider error, say) is a bug here, and its
        # message may carry upstream detail: mask it like any other surprise.
        return internal_error_response(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    elif status == 429:
        # ``ratelimit.RateLimited`` carries the seconds to wait.
        retry_after = getattr(error, "retry_after", None)
        seconds = math.ceil(retry_after) if isinstance(retry_after, int | float) else 1
        headers["Retry-After"] = str(max(1, seconds))
    elif status == 503:
        headers["Retry-After"] = str(QUEUE_FULL_RETRY_SECONDS)
    field = snake_case(error.field)
    message = error.message
    if error.field and field != error.field:
        # Services name the field in the message too ("expiresInDays must be …"): a REST
        # client knows it by its body name, the same one ``field`` gives.
        message = re.sub(rf"\b{re.escape(error.field)}\b", field or "", message)
    return error_response(status, error.code, message, field=field, headers=headers)


def snake_case(field: str | None) -> str | None:
    """Services name fields the GraphQL way (``expiresInDays``); REST bodies use snake case."""
    return _CAMEL_HUMP.sub("_", field).lower() if field else field


def validation_error_response(error: RequestValidationError) -> JSONResponse:
    details = [
        ErrorDetail(
            # A body that is not JSON at all has no field; its "location" is a character offset.
            field=None if problem.get("type") == "json_invalid" else _field(problem.get("loc", ())),
            message=str(problem.get("msg", "")),
        )
        for problem in error.errors()
    ]
    first = details[0] if details else ErrorDetail(field=None, message="invalid request")
    where = f"{first.field}: " if first.field else ""
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    # The offending input is never echoed: it may be huge, secret or not even encodable.
    return error_response(
        422, "INVALID_INPUT", f"{where}{first.message}{more}", field=first.field, details=details
    )


def http_error_response(error: HTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(error.status_code, f"HTTP_{error.status_code}")
    message = error.detail if isinstance(error.detail, str) else code.replace("_", " ").lower()
    return error_response(error.status_code, code, message, headers=error.headers)


def internal_error_response(error: BaseException) -> JSONResponse:
    correlation_id = uuid.uuid4().hex
    log.error("rest_unexpected_error", correlation_id=correlation_id, exc_info=error)
    return error_response(
        500, "INTERNAL_SERVER_ERROR", INTERNAL_MESSAGE, correlation_id=correlation_id
    )


def _field(loc: Sequence[Any]) -> str | None:
    # The first part says where the input was (body, query, path, header); the rest names it.
    parts = [str(part) for part in loc[1:]] if len(loc) > 1 else [str(part) for part in loc]
    return ".".join(parts) or None


class ApiRoute(APIRoute):
    """A route whose every failure becomes the REST error shape, and whose body is bounded."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(_bounded(request))
            except LaFactoriaError as error:
                return domain_error_response(error)
            except RequestValidationError as error:
                return validation_error_response(error)
            except HTTPException as error:
                return http_error_response(error)
            except Exception as error:
                return internal_error_response(error)

        return guarded


def _bounded(request: Request) -> Request:
    """``request`` with a body of at most ``MAX_BODY_BYTES``: 413 beyond, checked on the
    declared length first and on the bytes as they arrive (chunked bodies declare none)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, f"the body is over {MAX_BODY_BYTES} bytes")
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise HTTPException(413, f"the body is over {MAX_BODY_BYTES} bytes")
        return message

    return Request(request.scope, receive)


async def http_exception_handler(request: Request, error: Exception) -> Response:
    """The REST shape for every unmatched path and method (404, 405), in ``/api/`` or not:
    the app has one error shape outside ``/graphql``, whose guard and router answer in
    GraphQL's own."""
    if not isinstance(error, HTTPException):  # registered for HTTPException only
        raise error
    if error.status_code < 400:  # not an error (304 and the like): no error body
        return await default_http_exception_handler(request, error)
    if error.status_code == 405 and (
        request.url.path == API_PREFIX or request.url.path.startswith(API_PREFIX + "/")
    ):
        # Starlette names only the first route matching the path; a path served by two
        # routes (GET and DELETE /content/{id}) must list both.
        error = HTTPException(405, headers={"Allow": _allowed_methods(request)})
    return http_error_response(error)


def _allowed_methods(request: Request) -> str:
    # Read from the OpenAPI document, which lists every operation of a path together. As in
    # OpenAPI, a concrete path (/content/generate) wins over a template (/content/{id}).
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    path = request.url.path
    matching = (
        [paths[path]]
        if path in paths
        else [
            operations
            for template, operations in paths.items()
            if re.fullmatch(_PATH_PARAMETER.sub("[^/]+", re.escape(template)), path)
        ]
    )
    methods = {method.upper() for operations in matching for method in operations}
    methods &= _METHODS
    if "GET" in methods:
        methods.add("HEAD")  # Starlette answers HEAD wherever it answers GET
    return ", ".join(sorted(methods))


# Documented on every REST operation so clients (and schema-driven tests) know the shape.
def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "The body could not be read at all (for example, it is not UTF-8).",
        401: "Missing, invalid, expired or revoked credentials (WWW-Authenticate: Bearer).",
        403: "Authenticated but not allowed.",
        404: "No such object, or it belongs to someone else.",
        409: "Conflicts with existing data.",
        413: "The body is over 64 KiB.",
        422: "Invalid input; details lists every problem.",
        429: "Over a rate limit; Retry-After says when to try again.",
        503: "Generation is unavailable (the queue is full); Retry-After says when to retry.",
    }
    return {
        status: {"model": ErrorResponse, "description": descriptions[status]} for status in statuses
    }
