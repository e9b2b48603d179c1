"""A closed-loop HTTP load generator: ``concurrency`` clients on their own keep-alive
connections, each sending its next request as soon as the previous answer arrives."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Target:
    """One endpoint to drive: the same request over and over, and the answer it must get."""

    name: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    expected: bytes
    """What the answer must start with; any other answer (or any error) counts as a failed
    request. The whole answer where it never changes; for GraphQL, everything before
    ``extensions``, whose rate-limit budget changes with every request."""


@dataclass(frozen=True)
class Run:
    requests: int
    failures: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def p50_ms(self) -> float:
        if not self.latencies:
            return float("nan")
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100)[98] * 1000


def open_client(concurrency: int) -> httpx.AsyncClient:
    # Exactly one connection per client task, kept open between requests and between runs.
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, timeout=30)


async def drive(
    client: httpx.AsyncClient, target: Target, *, concurrency: int, seconds: float
) -> Run:
    """Send ``target``'s request from ``concurrency`` tasks for ``seconds``; count the
    complete, correct answers."""
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def one_client() -> None:
        nonlocal failures
        while (started := time.perf_counter()) < deadline:
            try:
                response = await client.request(
                    target.method, target.url, headers=target.headers, content=target.body
                )
            except httpx.HTTPError:
                failures += 1
                continue
            if response.status_code == 200 and response.content.startswith(target.expected):
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1

    began = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    # Requests in flight at the deadline finish after it: divide by the time actually spent.
    return Run(
        requests=len(latencies),
        failures=failures,
        seconds=time.perf_counter() - began,
        latencies=latencies,
    )
