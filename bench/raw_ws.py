"""The fan-out baseline: a raw WebSocket broadcast on the same uvicorn as La Factoria, with no
GraphQL, no event log and no jobs. Each stream publishes progress messages shaped like La
Factoria's ``next`` messages at a steady rate and sends each one, serialised once, to every
socket that listens to the stream.

    python -m bench.raw_ws --port 8123

``ws://…/streams/{name}`` listens to a stream; ``POST /publish`` with a JSON body
``{"streams": [...], "per_second": 5, "seconds": 20, "text_chars": 40}`` publishes on those
streams for that long and answers at once; ``GET /`` answers 200 when the server is up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Sender = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Schedule:
    streams: list[str]
    per_second: float
    seconds: float
    text_chars: int

    @classmethod
    def from_json(cls, body: bytes) -> Schedule:
        data = json.loads(body)
        return cls(
            streams=[str(name) for name in data["streams"]],
            per_second=float(data["per_second"]),
            seconds=float(data["seconds"]),
            text_chars=int(data["text_chars"]),
        )


def progress_message(stream: str, sequence: int, text: str) -> str:
    """One ``next`` message of the fan-out subscription's selection, stamped with the time it
    is published (as La Factoria's ``at`` is), so clients measure the same latency."""
    event = {
        "jobId": stream,
        "sequence": sequence,
        "kind": "TEXT",
        "status": "RUNNING",
        "progress": round(min(0.85, 0.1 + sequence / 1000), 4),
        "message": "",
        "textDelta": text,
        "discardText": False,
        "at": datetime.now(UTC).isoformat(),
    }
    return json.dumps(
        {
            "id": "1",
            "type": "next",
            "payload": {"data": {"generationProgress": event}, "extensions": _COST_REPORT},
        },
        separators=(",", ":"),
    )


# La Factoria reports every result's cost; the baseline carries a report of the same size so
# that both send the same bytes per message.
_COST_REPORT = {
    "cost": {
        "requestedQueryCost": 10,
        "actualQueryCost": 10,
        "throttleStatus": {
            "maximumAvailable": 1000000000,
            "currentlyAvailable": 999999990,
            "restoreRate": 16666666.67,
        },
    }
}


class Broadcaster:
    """Who listens to which stream, and the publishers that write to them."""

    def __init__(self) -> None:
        self.listeners: dict[str, set[Sender]] = {}
        self._publishers: set[asyncio.Task[None]] = set()

    def start(self, schedule: Schedule) -> None:
        for stream in schedule.streams:
            task = asyncio.create_task(self._publish(stream, schedule))
            self._publishers.add(task)
            task.add_done_callback(self._publishers.discard)

    async def _publish(self, stream: str, schedule: Schedule) -> None:
        interval = 1 / schedule.per_second
        text = "x" * schedule.text_chars
        # A random phase, as jobs started at different moments would have.
        next_at = time.monotonic() + random.random() * interval  # noqa: S311 - not security
        end = time.monotonic() + schedule.seconds
        sequence = 0
        while next_at < end:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
            sequence += 1
            message = {"type": "websocket.send", "text": progress_message(stream, sequence, text)}
            for send in list(self.listeners.get(stream, ())):
                await send(message)


def build_app(broadcaster: Broadcaster) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif scope["type"] == "websocket":
            await _listen(scope, receive, send, broadcaster)
        elif scope["method"] == "POST" and scope["path"] == "/publish":
            body = await _read_body(receive)
            broadcaster.start(Schedule.from_json(body))
            await _answer(send, 202)
        else:
            await _answer(send, 200)

    return app


async def _listen(scope: Scope, receive: Receive, send: Send, broadcaster: Broadcaster) -> None:
    stream = str(scope["path"]).removeprefix("/streams/")
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    listeners = broadcaster.listeners.setdefault(stream, set())
    listeners.add(send)
    try:
        while (await receive())["type"] != "websocket.disconnect":
            pass  # listeners say nothing; anything they send is dropped
    finally:
        listeners.discard(send)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        else:
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    # The same server options as `lafactoria serve` (WebSocket implementation included), so
    # only the app differs.
    uvicorn.run(
        build_app(Broadcaster()),
        host="127.0.0.1",
        port=arguments.port,
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        ws="websockets-sansio",
    )


if __name__ == "__main__":
    main()
