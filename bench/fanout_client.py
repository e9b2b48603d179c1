"""A fan-out load client, run as its own process so that receiving does not share a Python
thread with the harness: it holds many WebSockets, subscribes them, and reports what arrived.

    python -m bench.fanout_client

It reads one JSON command per line on stdin and answers each with one JSON line on stdout:

- ``{"op": "connect", "urls": [...], "protocol": "graphql-transport-ws" | "raw",
  "token": "…"}``: one socket per URL; GraphQL sockets send ``connection_init`` with the token
  and wait for ``connection_ack``. Answers ``{"connected": n}``.
- ``{"op": "subscribe", "jobs": [...], "query": "…"}``: socket *i* subscribes to ``jobs[i]``
  (GraphQL only; raw sockets listen from the moment they connect). Answers
  ``{"subscribed": n}`` once the messages are sent.
- ``{"op": "measure", "start": t0, "end": t1}`` (wall-clock seconds): answers after ``t1``
  with every message received between the two, see :class:`Tally`.
- ``{"op": "wait_live", "seconds": s}``: waits until every subscription has sent something
  (so it is set up and streaming).
- ``{"op": "wait_complete", "seconds": s}``: waits until every subscription has completed.
- ``{"op": "close"}``: closes the sockets and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from array import array
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"
# Opening thousands of sockets at once would overflow the server's listen backlog.
_CONNECTING_AT_ONCE = 64
_COMMAND_LIMIT = 64 * 1024 * 1024


@dataclass
class Tally:
    """What arrived in one measuring window."""

    messages: int = 0
    """``next`` messages carrying an event (errors are counted apart)."""
    bytes: int = 0
    errors: int = 0
    """``next`` messages with GraphQL errors, ``error`` messages and unexpected closes."""
    latencies_us: list[int] = field(default_factory=list)
    """Per message: receive time minus the event's ``at`` (its publish time), in µs."""
    first_error: str | None = None
    """The first error seen since the previous window ended, inside this window or not."""
    completed: int = 0
    """Subscriptions that completed while the window was open."""
    delivered_total: dict[str, int] = field(default_factory=dict)
    """Per protocol, the messages counted as delivered since the sockets opened, windows or
    not (for the long run)."""


def latency_us(payload: dict[str, Any], received: float) -> int | None:
    """Receive time minus the event's publish time, or ``None`` when the message has no event."""
    event = (payload.get("data") or {}).get("generationProgress")
    if not isinstance(event, dict) or not isinstance(event.get("at"), str):
        return None
    published = datetime.fromisoformat(event["at"]).timestamp()
    return round((received - published) * 1_000_000)


class Subscriber:
    """One WebSocket and the subscription it runs (one at a time)."""

    __slots__ = ("client", "completed", "live", "operation", "protocol", "socket")

    def __init__(
        self, client: LoadClient, socket: ClientConnection, protocol: str = GRAPHQL_TRANSPORT_WS
    ) -> None:
        self.client = client
        self.socket = socket
        self.protocol = protocol
        self.operation = 0
        self.completed = True
        self.live = True
        """Whether the subscription has sent anything yet (set up, replaying or live)."""

    async def read(self) -> None:
        try:
            async for raw in self.socket:
                received = time.time()
                self.client.note(self, raw, received)
        except Exception as error:
            self.client.failed(f"socket lost: {error!r}")
        else:
            if self.socket.close_code not in (None, 1000):
                self.client.failed(f"socket closed {self.socket.close_code}")


class _Arrivals:
    """Every delivered message's receive time, latency and size, plus errors and completions,
    since the last window was taken."""

    def __init__(self) -> None:
        self.received = array("d")
        self.latencies = array("q")
        self.sizes = array("q")
        self.errors: list[float] = []
        self.completed: list[float] = []
        self.first_error: str | None = None

    def add(self, received: float, latency: int, size: int) -> None:
        self.received.append(received)
        self.latencies.append(latency)
        self.sizes.append(size)

    def take(self, start: float, end: float) -> Tally:
        """The window's tally; what arrived after ``end`` stays for the next window."""
        tally = Tally(
            errors=sum(start <= at <= end for at in self.errors),
            first_error=self.first_error,
            completed=sum(start <= at <= end for at in self.completed),
        )
        later = array("d"), array("q"), array("q")
        for received, latency, size in zip(self.received, self.latencies, self.sizes, strict=True):
            if start <= received <= end:
                tally.messages += 1
                tally.bytes += size
                tally.latencies_us.append(latency)
            elif received > end:
                later[0].append(received)
                later[1].append(latency)
                later[2].append(size)
        self.received, self.latencies, self.sizes = later
        self.errors = [at for at in self.errors if at > end]
        self.completed = [at for at in self.completed if at > end]
        self.first_error = None
        return tally


class LoadClient:
    def __init__(self) -> None:
        self.subscribers: list[Subscriber] = []
        self._readers: list[asyncio.Task[None]] = []
        self._arrivals = _Arrivals()
        self._all_complete = asyncio.Event()
        self._running = 0
        self._all_live = asyncio.Event()
        self._waiting_first = 0
        self._delivered: dict[str, int] = {}

    async def connect(self, urls: Sequence[str], protocol: str, token: str | None) -> int:
        gate = asyncio.Semaphore(_CONNECTING_AT_ONCE)

        async def one(url: str) -> Subscriber:
            async with gate:
                socket = await connect(
                    url,
                    subprotocols=[GRAPHQL_TRANSPORT_WS] if protocol != "raw" else None,  # type: ignore[list-item]
                    # Browsers would negotiate permessage-deflate; it would add the same zlib
                    # work per message to every server measured, so it is left out.
                    compression=None,
                    max_size=None,
                    open_timeout=60,
                    ping_interval=None,
                )
                if protocol != "raw":
                    init = {
                        "type": "connection_init",
                        "payload": {"Authorization": f"Bearer {token}"},
                    }
                    await socket.send(json.dumps(init))
                    ack = json.loads(await socket.recv())
                    if ack.get("type") != "connection_ack":
                        raise RuntimeError(f"connection_init answered {ack}")
                return Subscriber(self, socket, protocol)

        opened = await asyncio.gather(*(one(url) for url in urls))
        for subscriber in opened:
            self.subscribers.append(subscriber)
            self._readers.append(asyncio.create_task(subscriber.read()))
        return len(opened)

    async def subscribe(self, jobs: Sequence[str], query: str) -> int:
        self._all_complete.clear()
        self._all_live.clear()
        self._running = self._waiting_first = len(jobs)
        if not jobs:
            self._all_complete.set()
            self._all_live.set()
        for subscriber, job in zip(self.subscribers, jobs, strict=False):
            subscriber.operation += 1
            subscriber.completed = subscriber.live = False
            message = {
                "id": str(subscriber.operation),
                "type": "subscribe",
                "payload": {"query": query, "variables": {"jobId": job}},
            }
            await subscriber.socket.send(json.dumps(message))
        return len(jobs)

    async def measure(self, start: float, end: float) -> Tally:
        """What arrived between two wall-clock times (and the first error since the last
        window, wherever it arrived). Every arrival is recorded with its time, so a command
        that reaches a busy client late still counts the whole window."""
        await asyncio.sleep(max(0.0, end - time.time()) + 0.05)
        tally = self._arrivals.take(start, end)
        tally.delivered_total = dict(self._delivered)
        return tally

    async def wait_live(self, seconds: float) -> dict[str, int]:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_live.wait(), seconds)
        return {"waiting": self._waiting_first}

    async def wait_complete(self, seconds: float) -> dict[str, int]:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_complete.wait(), seconds)
        return {"running": self._running}

    def note(self, subscriber: Subscriber, raw: str | bytes, received: float) -> None:
        message = json.loads(raw)
        kind = message.get("type")
        # Pings and other connection-level messages say nothing about the subscription.
        if not subscriber.live and message.get("id") == str(subscriber.operation):
            subscriber.live = True
            self._waiting_first -= 1
            if self._waiting_first <= 0:
                self._all_live.set()
        if kind == "ping":
            pong = asyncio.ensure_future(subscriber.socket.send('{"type":"pong"}'))
            # A socket closing meanwhile is no error of the benchmark's.
            pong.add_done_callback(lambda done: done.cancelled() or done.exception())
            return
        if kind == "complete":
            self._complete(subscriber)
            self._arrivals.completed.append(received)
            return
        payload = message.get("payload") or {}
        latency = latency_us(payload, received) if kind == "next" else None
        if latency is None or payload.get("errors"):
            self.failed(str(raw)[:500], at=received)
            return
        self._delivered[subscriber.protocol] = self._delivered.get(subscriber.protocol, 0) + 1
        self._arrivals.add(received, latency, len(raw))

    def failed(self, why: str, *, at: float | None = None) -> None:
        """An error, counted in the window it arrived in, and kept for the report (the first
        one since the last window) wherever it arrived."""
        self._arrivals.errors.append(time.time() if at is None else at)
        self._arrivals.first_error = self._arrivals.first_error or why

    def _complete(self, subscriber: Subscriber) -> None:
        if not subscriber.completed:
            subscriber.completed = True
            self._running -= 1
            if self._running <= 0:
                self._all_complete.set()

    async def close(self) -> None:
        await asyncio.gather(
            *(subscriber.socket.close() for subscriber in self.subscribers),
            return_exceptions=True,
        )
        for reader in self._readers:
            reader.cancel()


async def serve_commands() -> None:
    client = LoadClient()
    loop = asyncio.get_running_loop()
    # A connect command lists thousands of URLs on one line.
    reader = asyncio.StreamReader(limit=_COMMAND_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        op = command["op"]
        answer: dict[str, Any]
        if op == "connect":
            count = await client.connect(command["urls"], command["protocol"], command.get("token"))
            answer = {"connected": count}
        elif op == "subscribe":
            answer = {"subscribed": await client.subscribe(command["jobs"], command["query"])}
        elif op == "measure":
            answer = asdict(await client.measure(command["start"], command["end"]))
        elif op == "wait_live":
            answer = await client.wait_live(command["seconds"])
        elif op == "wait_complete":
            answer = await client.wait_complete(command["seconds"])
        elif op == "close":
            await client.close()
            answer = {"closed": True}
        else:
            answer = {"error": f"unknown op {op!r}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
        if op == "close":
            return


def main() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        asyncio.run(serve_commands())
    else:
        uvloop.run(serve_commands())


if __name__ == "__main__":
    main()
