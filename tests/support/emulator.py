"""A local emulator of the Anthropic Messages and OpenAI Chat Completions HTTP APIs.

The real SDKs talk to it over real HTTP (uvicorn on 127.0.0.1, in a background thread), so the
adapters are tested against the wire format and the failure modes they meet in production:
error bodies and headers, SSE framing, in-band errors inside a 200, cut and stalled streams.

    async with run_emulator() as emulator:
        emulator.script("claude-test", [Behaviour(kind="error", status=529), Behaviour()])
        provider = AnthropicProvider(model="claude-test", base_url=emulator.base_url, ...)
        ...
        assert [call.model for call in emulator.calls] == ["claude-test", "claude-test"]

Each call to a model consumes the next scripted ``Behaviour`` (``times=N`` repeats one N
times); the last one repeats forever, and an unscripted model answers ``Behaviour()``.
Behaviours and the wire formats live in :mod:`tests.support.emulator_wire`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import socket
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.generation.prompts import build_prompt
from lafactoria.providers.base import TextDelta
from lafactoria.providers.offline import OfflineProvider
from tests.support import emulator_wire as wire
from tests.support.emulator_wire import DEFAULT_ANSWER, Behaviour, EmulatedCut, Kind

__all__ = [
    "DEFAULT_ANSWER",
    "Behaviour",
    "Call",
    "Emulator",
    "Kind",
    "offline_answer",
    "run_emulator",
]


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request the emulator received."""

    api: Literal["anthropic", "openai"]
    path: str
    model: str
    started: float
    """``time.monotonic()`` when the request arrived."""
    stream: bool
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Emulator:
    """The emulated APIs, their per-model scripts and the calls they received."""

    expected_api_key: str | None = None
    """When set, requests with another key get the API's 401."""
    base_url: str = ""
    """``http://127.0.0.1:PORT``: the Anthropic base URL; OpenAI's is ``openai_base_url``."""
    calls: list[Call] = field(default_factory=list)
    _scripts: dict[str, list[Behaviour]] = field(default_factory=dict, init=False, repr=False)
    # Scripts and calls are shared between the test's thread and the server's.
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _ids: itertools.count[int] = field(default_factory=itertools.count, init=False, repr=False)
    _server: uvicorn.Server | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    def script(self, model: str, behaviour: Behaviour | Sequence[Behaviour]) -> None:
        """Set how the next calls for ``model`` are answered (replaces its previous script)."""
        behaviours = [behaviour] if isinstance(behaviour, Behaviour) else list(behaviour)
        expanded = [b for b in behaviours for _ in range(max(b.times, 1))]
        with self._lock:
            self._scripts[model] = expanded or [Behaviour()]

    def calls_for(self, model: str) -> list[Call]:
        return [call for call in self.calls if call.model == model]

    def reset(self) -> None:
        """Forget scripts, calls and the expected key (for reuse across tests)."""
        with self._lock:
            self._scripts.clear()
            self.calls.clear()
            self.expected_api_key = None

    def start(self) -> None:
        """Serve on a free port of 127.0.0.1 from a background thread; blocks until ready."""
        config = uvicorn.Config(
            _DropOnCut(self._build_app()),
            log_config=None,
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        # Bound here, so the port is known before the server runs; uvicorn closes it on exit.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        # A thread of its own: the server keeps its timing while the test's loop is busy, and
        # uvicorn installs no signal handlers outside the main thread.
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="llm-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the LLM API emulator did not start")
            time.sleep(0.005)
        self.base_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    # -- the ASGI side ---------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/messages", self._anthropic, methods=["POST"]),
                Route("/v1/chat/completions", self._openai, methods=["POST"]),
            ]
        )

    def _next_behaviour(self, model: str) -> Behaviour:
        with self._lock:
            script = self._scripts.get(model)
            if not script:
                return Behaviour()
            return script.pop(0) if len(script) > 1 else script[0]

    async def _receive(
        self, request: Request, api: Literal["anthropic", "openai"]
    ) -> tuple[dict[str, Any], Behaviour, int]:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        call = Call(
            api=api,
            path=request.url.path,
            model=str(body.get("model", "")),
            started=time.monotonic(),
            stream=bool(body.get("stream")),
            body=body,
            headers=dict(request.headers),
        )
        with self._lock:
            self.calls.append(call)
            number = next(self._ids)
        return body, self._next_behaviour(call.model), number

    def _presented_key(self, request: Request) -> str:
        key = request.headers.get("x-api-key") or request.headers.get("authorization", "")
        return key.removeprefix("Bearer ")

    async def _anthropic(self, request: Request) -> Response:
        body, behaviour, number = await self._receive(request, "anthropic")
        request_id = f"req_emu_{number:04d}"
        headers = {"request-id": request_id}
        await asyncio.sleep(behaviour.headers_delay)
        key = self._presented_key(request)
        if self.expected_api_key is not None and key != self.expected_api_key:
            behaviour = Behaviour(kind="error", status=401)
        if not (body.get("model") and body.get("messages") and body.get("max_tokens")):
            behaviour = Behaviour(kind="error", status=400)
        if behaviour.kind == "inband_error" and not body.get("stream"):
            behaviour = dataclasses.replace(behaviour, kind="error", status=529)
        if behaviour.kind == "error":
            return _error_response(behaviour, wire.anthropic_error(behaviour, request_id), headers)
        exchange = wire.AnthropicExchange(body, behaviour, number)
        if not body.get("stream"):
            return _plain_response(behaviour, exchange.message(), headers)
        return StreamingResponse(exchange.events(), media_type="text/event-stream", headers=headers)

    async def _openai(self, request: Request) -> Response:
        body, behaviour, number = await self._receive(request, "openai")
        headers = {"x-request-id": f"req_emu_{number:04d}"}
        await asyncio.sleep(behaviour.headers_delay)
        key = self._presented_key(request)
        if self.expected_api_key is not None and key != self.expected_api_key:
            # Harsher than the real API, which masks most of the key: a test can then show
            # that the adapter never repeats a key the server echoed.
            behaviour = Behaviour(
                kind="error", status=401, message=f"Incorrect API key provided: {key}."
            )
        if not (body.get("model") and body.get("messages")):
            behaviour = Behaviour(kind="error", status=400)
        if behaviour.kind == "inband_error" and not body.get("stream"):
            behaviour = dataclasses.replace(behaviour, kind="error", status=500)
        if behaviour.kind == "error":
            return _error_response(behaviour, wire.openai_error(behaviour), headers)
        exchange = wire.OpenAIExchange(body, behaviour, number)
        if not body.get("stream"):
            return _plain_response(behaviour, exchange.completion(), headers)
        return StreamingResponse(exchange.events(), media_type="text/event-stream", headers=headers)


def _error_response(
    behaviour: Behaviour, body: dict[str, Any], headers: dict[str, str]
) -> Response:
    if behaviour.retry_after is not None:
        headers["retry-after"] = behaviour.retry_after
    if behaviour.retry_after_ms is not None:
        headers["retry-after-ms"] = behaviour.retry_after_ms
    return JSONResponse(body, status_code=behaviour.status, headers=headers)


def _plain_response(
    behaviour: Behaviour, body: dict[str, Any], headers: dict[str, str]
) -> Response:
    """A non-streaming answer; stream-only faults get their closest non-streaming equivalent."""
    if behaviour.kind in ("cut", "stall"):
        return StreamingResponse(
            wire.cut_json_body(behaviour), media_type="application/json", headers=headers
        )
    if behaviour.kind == "malformed":
        return Response(b'{"id": "truncated', media_type="application/json", headers=headers)
    return JSONResponse(body, headers=headers)


class _DropOnCut:
    """Lets an ``EmulatedCut`` end the app without a final body chunk: uvicorn then closes the
    connection mid-body, as a crashed upstream or a dropping proxy would."""

    def __init__(self, app: Starlette) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._app(scope, receive, send)
        except* EmulatedCut:
            pass


@contextlib.asynccontextmanager
async def run_emulator(*, expected_api_key: str | None = None) -> AsyncIterator[Emulator]:
    """Run an emulator for the duration of the block."""
    emulator = Emulator(expected_api_key=expected_api_key)
    await asyncio.to_thread(emulator.start)
    try:
        yield emulator
    finally:
        await asyncio.to_thread(emulator.stop)


async def offline_answer(content_type: ContentType, audience_level: AudienceLevel) -> str:
    """An answer every check accepts (the offline provider's), for the emulator to serve when
    a test needs a real provider's timing but not its faults."""
    request = build_prompt(
        content_type=content_type,
        audience_level=audience_level,
        topic="Photosynthesis",
        additional_requirements=None,
        max_tokens=8192,
    )
    chunks = [c async for c in OfflineProvider().stream(request) if isinstance(c, TextDelta)]
    return "".join(chunk.text for chunk in chunks)
