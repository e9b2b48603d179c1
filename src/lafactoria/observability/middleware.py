"""One log line and one set of metrics per HTTP request (and per WebSocket connection).

The middleware gives every request an id (the caller's ``X-Request-ID`` when it is a sane
token, a new one otherwise), echoes it in the response, binds it to every log line written
while the request runs, and keeps a :class:`RequestInfo` in a context variable so that inner
layers (the GraphQL extension) can say which user and which operations the request was about.
It is plain ASGI so it sees WebSockets too and never buffers a streamed response.
"""

from __future__ import annotations

import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lafactoria.observability.metrics import Metrics

log = structlog.get_logger("lafactoria.requests")

REQUEST_ID_HEADER = "x-request-id"
# A caller's id is echoed into logs and headers, so only a short token is trusted as is.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Probes and scrapes arrive every few seconds; their lines are kept out of the info level.
_QUIET_PATHS = frozenset({"/health", "/ready", "/metrics"})
_MAX_LOGGED_OPERATIONS = 20


@dataclass
class RequestInfo:
    """What inner layers learn about the request, reported when it ends."""

    request_id: str
    metrics: Metrics
    user_id: str | None = None
    operations: list[str] = field(default_factory=list)
    streams: bool = False
    """It carried a subscription (SSE, multipart or WebSocket), which lasts as long as the
    client wants: its duration says nothing about latency."""

    def add_operation(self, name: str) -> None:
        # A WebSocket can carry any number of operations; the log line names the first few.
        if len(self.operations) < _MAX_LOGGED_OPERATIONS:
            self.operations.append(name)


_current: ContextVar[RequestInfo | None] = ContextVar("lafactoria_request", default=None)


def current_request() -> RequestInfo | None:
    """The request being served, or ``None`` outside one (background jobs, scripts)."""
    return _current.get()


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        info = RequestInfo(request_id=_request_id(scope), metrics=self.metrics)
        outcome = _Outcome()
        header = (REQUEST_ID_HEADER.encode(), info.request_id.encode())

        async def send_with_id(message: Message) -> None:
            kind = message["type"]
            if kind in ("http.response.start", "websocket.accept"):
                message["headers"] = [*message.get("headers", []), header]
                outcome.status = outcome.status or message.get("status", 101)
            elif kind == "websocket.http.response.start":  # a refused handshake
                outcome.status = outcome.status or message["status"]
            elif kind == "websocket.close":
                outcome.status = outcome.status or 403  # closed before it was accepted
                outcome.close_code = outcome.close_code or message.get("code", 1000)
            await send(message)

        async def receive_disconnect() -> Message:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                outcome.close_code = outcome.close_code or message.get("code", 1005)
            return message

        token = _current.set(info)
        root_path = str(scope.get("root_path", ""))
        started = time.perf_counter()
        try:
            with structlog.contextvars.bound_contextvars(request_id=info.request_id):
                try:
                    await self.app(scope, receive_disconnect, send_with_id)
                finally:
                    # An exception that escaped sent nothing: the server answers 500.
                    outcome.status = outcome.status or 500
                    self._report(scope, root_path, info, outcome, time.perf_counter() - started)
        finally:
            _current.reset(token)

    def _report(
        self, scope: Scope, root_path: str, info: RequestInfo, outcome: _Outcome, seconds: float
    ) -> None:
        websocket = scope["type"] == "websocket"
        method = "WEBSOCKET" if websocket else scope["method"]
        route = _route_template(scope, root_path)
        status = outcome.status or 500
        self.metrics.http_requests.labels(method=method, route=route, status=str(status)).inc()
        if not websocket and not info.streams:
            self.metrics.http_duration.labels(method=method, route=route).observe(seconds)
        fields: dict[str, Any] = {
            "method": method,
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "user_id": info.user_id,
        }
        if outcome.close_code is not None:
            fields["close_code"] = outcome.close_code
        if info.operations:
            fields["operation"] = ",".join(info.operations)
        event = "websocket_closed" if websocket else "http_request"
        if status >= 500:
            log.warning(event, **fields)
        elif scope["path"] in _QUIET_PATHS:
            log.debug(event, **fields)
        else:
            log.info(event, **fields)


@dataclass
class _Outcome:
    status: int | None = None
    """The HTTP status sent (101 for an accepted WebSocket)."""
    close_code: int | None = None
    """How a WebSocket ended, whichever side closed it."""


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER.encode():
            candidate = bytes(value).decode("latin-1")
            if _SANE_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def _route_template(scope: Scope, root_path_before: str) -> str:
    """The matched route's template (``/api/v1/content/{content_id}``), never the concrete
    path, so ids stay out of label values; ``unmatched`` when no route took the request."""
    route = scope.get("route") or _plain_route(scope)
    path_format = getattr(route, "path_format", None)
    path_regex = getattr(route, "path_regex", None)
    path: str = scope["path"]
    if isinstance(path_format, str) and isinstance(path_regex, re.Pattern):
        # A route in an included router knows only its own part of the path: the part
        # before it is the router's prefix.
        cuts = [0, *(i for i, char in enumerate(path) if char == "/" and i), len(path)]
        for cut in cuts:
            if path_regex.match(path[cut:]):
                return path[:cut] + path_format
    mounted = str(scope.get("root_path", ""))
    if mounted != root_path_before and mounted.startswith(root_path_before):
        return mounted[len(root_path_before) :] + "/{path}"
    return "unmatched"


def _plain_route(scope: Scope) -> object | None:
    """The route that served the request when FastAPI did not record it: only its own routes
    (``APIRoute``) put themselves in the scope, plain Starlette routes such as ``/docs``,
    ``/redoc`` and ``/openapi.json`` leave only their endpoint."""
    endpoint = scope.get("endpoint")
    if endpoint is None:
        return None
    routes: list[object] = getattr(scope.get("router"), "routes", [])
    return next((route for route in routes if getattr(route, "endpoint", None) is endpoint), None)
