"""The LLM provider emulator (:mod:`tests.support.emulator`) as a process of its own, answering
every request with one fixed answer at a fixed pace, and timing what it serves.

    python -m bench.timed_emulator --port-file PORT_FILE ANSWER_FILE

Every chat completion it serves is recorded with the time it arrived and the time its last
byte was sent, by the emulator's own clock, with the job marker found in the request
(``bench-<round>-NNNN`` in the topic). ``GET /bench/served`` returns those records, so the
harness can subtract exactly the time this process spent on each job, whatever the load did
to its pace.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.support.emulator import Behaviour, Emulator

MODEL = "bench-model"
"""The model name La Factoria is configured to ask for."""
MARKER = re.compile(rb"bench-[0-9a-z]+-\d{4}")
"""How a job's requests are recognised: its topic carries a marker like ``bench-r1-0042``."""
_READY_SECONDS = 30.0


@dataclass(frozen=True)
class Pace:
    """How the emulated provider answers: the issue's "realistic latency"."""

    first_token_seconds: float = 0.3
    tokens_per_second: float = 50.0
    chars_per_token: int = 4
    """Characters per streamed chunk; one chunk is one token, about the size of an English
    token in the JSON the provider writes."""

    def seconds_for(self, answer: str) -> float:
        """The emulator's schedule for ``answer``: what it would take on an idle machine."""
        tokens = -(-len(answer) // self.chars_per_token)
        return self.first_token_seconds + max(tokens - 1, 0) / self.tokens_per_second


@dataclass(frozen=True)
class Served:
    """One request the emulator answered, by its own monotonic clock."""

    marker: str | None
    status: int
    started: float
    finished: float

    @property
    def seconds(self) -> float:
        return self.finished - self.started


class _Stopwatch:
    """ASGI middleware: when each API request arrived and when its last byte left."""

    def __init__(self, app: ASGIApp, *, ledger: list[Served], lock: threading.Lock) -> None:
        self._app = app
        self._ledger = ledger
        self._lock = lock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self._app(scope, receive, send)
            return
        started = time.monotonic()
        body = bytearray()
        status = 0

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receiving, sending)
        finally:
            found = MARKER.search(body)
            served = Served(
                marker=found.group().decode() if found else None,
                status=status,
                started=started,
                finished=time.monotonic(),
            )
            with self._lock:
                self._ledger.append(served)


class TimedEmulator(Emulator):
    """The test suite's emulator with a stopwatch on every request and a route to read it."""

    def __init__(self) -> None:
        super().__init__()
        self.ledger: list[Served] = []
        self._ledger_lock = threading.Lock()

    def _build_app(self) -> Starlette:
        app = super()._build_app()
        app.add_middleware(_Stopwatch, ledger=self.ledger, lock=self._ledger_lock)
        app.router.routes.append(Route("/bench/served", self._served, methods=["GET"]))
        return app

    async def _served(self, request: Request) -> JSONResponse:
        with self._ledger_lock:
            records = [asdict(served) for served in self.ledger]
        return JSONResponse(records)


def serve(answer: str, pace: Pace, port_file: Path) -> None:
    """Run until SIGTERM or SIGINT; the port goes to ``port_file`` once it answers."""
    emulator = TimedEmulator()
    emulator.script(
        MODEL,
        Behaviour(
            text=answer,
            first_token_delay=pace.first_token_seconds,
            tokens_per_second=pace.tokens_per_second,
            chunk_size=pace.chars_per_token,
        ),
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    emulator.start()
    port_file.write_text(emulator.base_url.rsplit(":", 1)[1], encoding="utf-8")
    try:
        stop.wait()
    finally:
        emulator.stop()


@dataclass(frozen=True)
class EmulatorProcess:
    base_url: str
    pid: int

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    def served(self) -> list[Served]:
        response = httpx.get(f"{self.base_url}/bench/served", timeout=30)
        response.raise_for_status()
        return [Served(**record) for record in response.json()]


@contextmanager
def run_timed_emulator(answer: str, pace: Pace, scratch: Path) -> Iterator[EmulatorProcess]:
    """Start the emulator process serving ``answer`` at ``pace``; stop it on exit."""
    scratch.mkdir(parents=True, exist_ok=True)
    answer_file, port_file = scratch / "answer.json", scratch / "emulator-port"
    answer_file.write_text(answer, encoding="utf-8")
    port_file.unlink(missing_ok=True)
    command = [
        *(sys.executable, "-m", "bench.timed_emulator", "--port-file", str(port_file)),
        *("--first-token-seconds", str(pace.first_token_seconds)),
        *("--tokens-per-second", str(pace.tokens_per_second)),
        *("--chars-per-token", str(pace.chars_per_token)),
        str(answer_file),
    ]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)  # noqa: S603 - fixed command
    try:
        deadline = time.monotonic() + _READY_SECONDS
        while not port_file.exists() or not port_file.read_text(encoding="utf-8"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the emulator process did not start")
            time.sleep(0.05)
        base_url = f"http://127.0.0.1:{port_file.read_text(encoding='utf-8')}"
        yield EmulatorProcess(base_url=base_url, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def compatible_provider(emulator: EmulatorProcess) -> str:
    """``LAFACTORIA_COMPATIBLE_PROVIDERS`` naming the emulator as the provider ``emulated``."""
    return json.dumps([{"name": "emulated", "base_url": emulator.openai_base_url, "model": MODEL}])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--first-token-seconds", type=float, default=Pace.first_token_seconds)
    parser.add_argument("--tokens-per-second", type=float, default=Pace.tokens_per_second)
    parser.add_argument("--chars-per-token", type=int, default=Pace.chars_per_token)
    parser.add_argument("answer", type=Path, help="file holding the answer to stream")
    arguments = parser.parse_args()
    pace = Pace(
        first_token_seconds=arguments.first_token_seconds,
        tokens_per_second=arguments.tokens_per_second,
        chars_per_token=arguments.chars_per_token,
    )
    serve(arguments.answer.read_text(encoding="utf-8"), pace, arguments.port_file)


if __name__ == "__main__":
    main()
