"""Drives the fan-out load clients (:mod:`bench.fanout_client`), each in its own process, as
one pool: sockets are dealt round robin, commands go to every client at once and the answers
are merged."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from bench.fanout_client import GRAPHQL_TRANSPORT_WS

# One answer line holds a window's latencies: 20,000 messages/s for 10 s is about 2 MB.
_ANSWER_LIMIT = 256 * 1024 * 1024


@dataclass
class Delivery:
    """Every client's tally for one window, merged."""

    messages: int = 0
    bytes: int = 0
    errors: int = 0
    latencies_us: list[int] = field(default_factory=list)
    first_error: str | None = None
    completed: int = 0
    delivered_total: dict[str, int] = field(default_factory=dict)
    """Per protocol, every message delivered since the sockets opened (windows or not)."""

    def add(self, tally: dict[str, Any]) -> None:
        self.messages += tally["messages"]
        self.bytes += tally["bytes"]
        self.errors += tally["errors"]
        self.latencies_us.extend(tally["latencies_us"])
        self.first_error = self.first_error or tally["first_error"]
        self.completed += tally["completed"]
        for protocol, count in tally["delivered_total"].items():
            self.delivered_total[protocol] = self.delivered_total.get(protocol, 0) + count


class SubscriberPool:
    """``processes`` load clients; use as ``async with SubscriberPool(2) as pool``."""

    def __init__(self, processes: int) -> None:
        self._count = processes
        self._clients: list[asyncio.subprocess.Process] = []
        self._sockets: list[int] = []
        """How many sockets each client holds, in client order."""

    async def __aenter__(self) -> Self:
        for _ in range(self._count):
            self._clients.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bench.fanout_client",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    limit=_ANSWER_LIMIT,
                )
            )
            self._sockets.append(0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for client in self._clients:
            if client.returncode is None:
                try:
                    await asyncio.wait_for(self._ask(client, {"op": "close"}), 30)
                    await asyncio.wait_for(client.wait(), 10)
                except (TimeoutError, RuntimeError, BrokenPipeError, ConnectionResetError):
                    client.kill()
                    await client.wait()

    @property
    def pids(self) -> list[int]:
        return [client.pid for client in self._clients]

    async def connect(
        self, urls: Sequence[str], *, token: str | None, protocol: str = GRAPHQL_TRANSPORT_WS
    ) -> int:
        """Open one socket per URL, dealt round robin over the clients (so sockets to several
        servers are spread over every client too)."""
        shares = [list(urls[index :: self._count]) for index in range(self._count)]
        answers = await asyncio.gather(
            *(
                self._ask(
                    client, {"op": "connect", "urls": share, "protocol": protocol, "token": token}
                )
                for client, share in zip(self._clients, shares, strict=True)
            )
        )
        for index, share in enumerate(shares):
            self._sockets[index] += len(share)
        return sum(answer["connected"] for answer in answers)

    async def subscribe(self, jobs: Sequence[str], query: str) -> int:
        """Socket *i* (in the order :meth:`connect` was given the URLs) subscribes to
        ``jobs[i]``."""
        shares = [list(jobs[index :: self._count]) for index in range(self._count)]
        answers = await asyncio.gather(
            *(
                self._ask(client, {"op": "subscribe", "jobs": share, "query": query})
                for client, share in zip(self._clients, shares, strict=True)
            )
        )
        return sum(answer["subscribed"] for answer in answers)

    async def measure(self, start: float, end: float) -> Delivery:
        """Every message received between two wall-clock times."""
        answers = await asyncio.gather(
            *(
                self._ask(client, {"op": "measure", "start": start, "end": end})
                for client in self._clients
            )
        )
        delivery = Delivery()
        for answer in answers:
            delivery.add(answer)
        return delivery

    async def wait_live(self, seconds: float) -> int:
        """Wait up to ``seconds`` until every subscription has sent its first message; the
        number that have not."""
        answers = await asyncio.gather(
            *(
                self._ask(client, {"op": "wait_live", "seconds": seconds})
                for client in self._clients
            )
        )
        return sum(answer["waiting"] for answer in answers)

    async def wait_complete(self, seconds: float) -> int:
        """Wait up to ``seconds`` until every subscription has completed; the number still
        running."""
        answers = await asyncio.gather(
            *(
                self._ask(client, {"op": "wait_complete", "seconds": seconds})
                for client in self._clients
            )
        )
        return sum(answer["running"] for answer in answers)

    async def _ask(self, client: asyncio.subprocess.Process, command: dict[str, Any]) -> Any:
        assert client.stdin is not None
        assert client.stdout is not None
        client.stdin.write(json.dumps(command).encode() + b"\n")
        await client.stdin.drain()
        line = await client.stdout.readline()
        if not line:
            raise RuntimeError(f"load client {client.pid} exited during {command['op']}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"load client {client.pid}: {answer['error']}")
        return answer
