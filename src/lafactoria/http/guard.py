"""The gate in front of ``/graphql``: what a request must look like before GraphQL sees it.

    request                                   answer
    POST without Content-Type application/json  415 UNSUPPORTED_MEDIA_TYPE (CSRF: a browser
                                              form or "simple" request cannot send JSON)
    body over max_body_bytes                  413 QUERY_TOO_COMPLEX, reason BODY_SIZE
    GET with a query string over the limit    414 QUERY_TOO_COMPLEX, reason BODY_SIZE
    GET carrying a mutation                   405 METHOD_NOT_ALLOWED, Allow: POST
    any method but GET and POST               405 METHOD_NOT_ALLOWED, Allow: GET, POST
    a body that is not a GraphQL request      400 BAD_REQUEST (not JSON, not an object or an
                                              array of them, query or operationName not a
                                              string, variables or extensions not an object)
    a batch (JSON array) over the limit       400 QUERY_TOO_COMPLEX, reason BATCH_SIZE
    WebSocket message over max_body_bytes     closed with 1009 (message too big)

Each refusal is a GraphQL-shaped JSON body (``{"errors": [{"message", "extensions"}]}``) and
nothing behind the gate runs. The body is read once, with the limit enforced while it
streams in, and handed on unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from graphql.utilities import get_operation_ast
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql import GraphQLError, OperationType, parse
from lafactoria.settings import GraphQLSettings

_MESSAGE_TOO_BIG = 1009


class GraphQLGuard:
    def __init__(self, app: ASGIApp, *, settings: GraphQLSettings, path: str) -> None:
        self.app = app
        self.settings = settings
        self.paths = {path, f"{path}/"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["method"] == "GET":
            refusal = self._check_get(scope)
            if refusal is not None:
                await _respond(send, *refusal)
                return
            await self.app(scope, receive, send)
        elif scope["method"] == "POST":
            await self._post(scope, receive, send)
        else:
            await _respond(
                send,
                405,
                _error("/graphql answers GET and POST requests", "METHOD_NOT_ALLOWED"),
                {"allow": "GET, POST"},
            )

    def _check_get(self, scope: Scope) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        query_string: bytes = scope.get("query_string", b"")
        if len(query_string) > self.settings.max_body_bytes:
            return 414, self._too_big(), {}
        params = parse_qs(query_string.decode("latin-1"))
        document = (params.get("query") or [""])[0]
        operation_names = params.get("operationName")
        operation_name = operation_names[0] if operation_names else None
        if document and self._is_mutation(document, operation_name):
            return (
                405,
                _error(
                    "mutations are only accepted over POST; GET runs queries",
                    "METHOD_NOT_ALLOWED",
                ),
                {"allow": "POST"},
            )
        return None

    def _is_mutation(self, document: str, operation_name: str | None) -> bool:
        try:
            ast = parse(document, max_tokens=self.settings.max_tokens, no_location=True)
        except GraphQLError:
            return False  # GraphQL itself answers a document it cannot parse
        operation = get_operation_ast(ast, operation_name)
        return operation is not None and operation.operation is OperationType.MUTATION

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            await _respond(
                send,
                415,
                _error(
                    "POST requests must send Content-Type: application/json",
                    "UNSUPPORTED_MEDIA_TYPE",
                ),
            )
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            await _respond(send, 413, self._too_big())
            return
        body = await self._read_body(receive)
        if body is None:
            await _respond(send, 413, self._too_big())
            return
        try:
            operations = _operations(body)
        except _BadRequest as exc:
            await _respond(send, 400, _error(str(exc), "BAD_REQUEST"))
            return
        if operations is not None and len(operations) > self.settings.max_batch_operations:
            await _respond(send, 400, self._too_many_operations(len(operations)))
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or ``None`` as soon as it grows past the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client left; the app sees an empty body
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        closed = False
        limit = self.settings.max_body_bytes

        async def guarded_receive() -> Message:
            nonlocal closed
            message = await receive()
            if message["type"] == "websocket.receive" and _message_size(message) > limit:
                closed = True
                await send({"type": "websocket.close", "code": _MESSAGE_TOO_BIG, "reason": ""})
                return {"type": "websocket.disconnect", "code": _MESSAGE_TOO_BIG}
            return message

        async def guarded_send(message: Message) -> None:
            # Once closed here, whatever the handler still sends has nowhere to go.
            if not closed:
                await send(message)

        await self.app(scope, guarded_receive, guarded_send)

    def _too_big(self) -> dict[str, Any]:
        limit = self.settings.max_body_bytes
        return _error(
            f"the request is larger than {limit} bytes",
            "QUERY_TOO_COMPLEX",
            reason="BODY_SIZE",
            limit=limit,
        )

    def _too_many_operations(self, count: int) -> dict[str, Any]:
        limit = self.settings.max_batch_operations
        if limit == 1:
            message = "batching is turned off: send one operation per request"
        else:
            message = f"the batch has {count} operations; the limit is {limit}"
        return _error(message, "QUERY_TOO_COMPLEX", reason="BATCH_SIZE", limit=limit, value=count)


def _error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


class _BadRequest(ValueError):
    """The body is not a GraphQL request; the message says why."""


# What each member of a request may be besides null (GraphQL over HTTP, "Request Parameters").
_MEMBER_TYPES: dict[str, tuple[type, str]] = {
    "query": (str, "a string"),
    "operationName": (str, "a string"),
    "variables": (dict, "an object"),
    "extensions": (dict, "an object"),
}


def _operations(body: bytes) -> list[dict[str, Any]] | None:
    """The operations of a batch, ``None`` for a single one; ``_BadRequest`` if the body is
    not a GraphQL request. Checked here because GraphQL answers such bodies in plain text
    (or, for a body that is not an object, with a 500)."""
    try:
        decoded = json.loads(body)
    except ValueError:  # also a body that is not UTF-8
        raise _BadRequest("the body is not valid JSON") from None
    except RecursionError:  # "[[[[…" within the size limit
        raise _BadRequest("the body is nested too deeply") from None
    if isinstance(decoded, dict):
        _check_operation(decoded, "")
        return None
    if not isinstance(decoded, list):
        raise _BadRequest("the body must be a JSON object, or an array of them for a batch")
    for index, operation in enumerate(decoded):
        if not isinstance(operation, dict):
            raise _BadRequest(f"operation {index} of the batch is not a JSON object")
        _check_operation(operation, f"operation {index} of the batch: ")
    return decoded


def _check_operation(operation: dict[str, Any], where: str) -> None:
    for name, (expected, described) in _MEMBER_TYPES.items():
        value = operation.get(name)
        if value is not None and not isinstance(value, expected):
            raise _BadRequest(f"{where}{name} must be {described} or null")


def _message_size(message: Message) -> int:
    text = message.get("text")
    if isinstance(text, str):
        return len(text.encode())
    data = message.get("bytes")
    return len(data) if isinstance(data, bytes) else 0


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, when it comes

    return replay


async def _respond(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode()
    raw_headers: Iterable[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *((name.encode(), value.encode()) for name, value in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": list(raw_headers)})
    await send({"type": "http.response.body", "body": payload})
