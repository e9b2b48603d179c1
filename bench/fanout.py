"""Scenario 3, progress fan-out: job events streamed to WebSocket subscribers, against a raw
WebSocket broadcast of the same messages measured in the same run.

Two cases, each with its own processes (server, raw broadcast, provider emulator, load
clients), so one case's memory never shows up in the other's figures:

- **many jobs**: ``jobs`` concurrent jobs, each streaming its answer to its own subscriber;
- **one job**: one job watched by ``subscribers`` subscribers.

Rounds alternate which side goes first. In each window the harness reads the server's CPU time
at both ends and the clients count what they received; latency is receive time minus the
event's ``at``, the server's clock when the event was published (one machine, one clock).

:func:`measure_job_fanout` is the one-job measurement on its own, against any list of API
servers, for scenarios that start their servers differently (scale-out).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import processes, resources, seed
from bench.emulator_process import MODEL, Pace, run_emulator_process
from bench.fanout_client import GRAPHQL_TRANSPORT_WS
from bench.subscribers import Delivery, SubscriberPool

LAFACTORIA = "La Factoria (GraphQL over graphql-transport-ws)"
RAW = "raw WebSocket broadcast"

# What a progress view reads: every scalar of the event (``content`` and ``error`` are
# object fields that only the terminal event fills).
PROGRESS = """
subscription Progress($jobId: ID!) {
  generationProgress(jobId: $jobId) {
    jobId sequence kind status progress message textDelta discardText at
  }
}"""

BULK_GENERATE = """
mutation Bulk($input: BulkGenerateContentInput!) {
  bulkGenerateContent(input: $input) { jobs { id } userErrors { field message code } }
}"""
_TOPICS_PER_REQUEST = 10
_REQUESTS_AT_ONCE = 4
# Jobs arrive over time, as users start them: a thousand starting in the same instant would
# each claim, number and lease at once, a burst of writes the embedded SQLite queues for
# longer than its pool waits (see the report).
JOBS_PER_SECOND = 50.0
LEASE_SECONDS = 300


@dataclass(frozen=True)
class Plan:
    jobs: int = 1000
    """Concurrent jobs of the many-jobs case, one subscriber each."""
    subscribers: int = 5000
    """Subscribers of the one-job case."""
    chars_per_second: int = 200
    """What each job streams: about 50 tokens/s, a typical model's pace."""
    many_jobs_chunks_per_second: float = 0.5
    one_job_chunks_per_second: float = 1.0
    """Chunks per second of each job's stream; each chunk becomes one event. Coarser than one
    token per chunk, because two cores cannot parse the provider streams of a thousand jobs
    token by token (see the report)."""
    rounds: int = 2
    warmup_seconds: float = 2.0
    window_seconds: float = 8.0
    setup_seconds: float = 10.0
    setup_seconds_per_subscriber: float = 0.008
    """Time allowed for every subscription to go live before the warm-up (about 7 ms each
    were measured); the emulated answers last long enough to stream through the jobs'
    start, this, the warm-up and the window."""
    client_processes: int = 2

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            jobs=100,
            subscribers=500,
            rounds=1,
            warmup_seconds=1.0,
            window_seconds=3.0,
            setup_seconds=5.0,
        )

    def pace(self, chunks_per_second: float, *, jobs: int = 1, subscribers: int = 1) -> Pace:
        """Answers long enough to stream while ``jobs`` jobs start, their ``subscribers`` set
        up, the warm-up and the window pass."""
        setup = self.setup_seconds + subscribers * self.setup_seconds_per_subscriber
        seconds = jobs / JOBS_PER_SECOND + setup + self.warmup_seconds + self.window_seconds + 2
        return Pace(
            chunks_per_second=chunks_per_second,
            chunk_chars=round(self.chars_per_second / chunks_per_second),
            min_chars=int(seconds * self.chars_per_second),
        )


@dataclass(frozen=True)
class Window:
    """One measuring window against one server."""

    messages: int
    bytes: int
    seconds: float
    cpu_seconds: float
    """The server's CPU time (all its processes) over the window."""
    errors: int
    latencies_us: list[int] = field(repr=False)
    rss_bytes: int = 0
    """The servers' resident memory at the end of the window."""
    streams_ended_early: int = 0
    """Subscriptions that completed before the window was over (their job outran it)."""
    first_error: str | None = None
    """The first error message since the previous window, in this window or before it."""
    setup_seconds: float = 0.0
    """From sending the subscribe messages until every subscriber had its first message."""
    delivered_total: int = 0
    """Messages delivered by this server since the sockets opened, at the window's end."""

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    @property
    def cpu_us_per_message(self) -> float:
        return self.cpu_seconds / self.messages * 1e6 if self.messages else float("nan")

    @property
    def p50_ms(self) -> float:
        return _percentile(self.latencies_us, 50) / 1000

    @property
    def p99_ms(self) -> float:
        return _percentile(self.latencies_us, 99) / 1000


def _percentile(values: list[int], percent: int) -> float:
    if len(values) < 2:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


@dataclass
class Memory:
    idle_bytes: int = 0
    """Before any subscriber connected."""
    subscribed_bytes: int = 0
    """With every subscriber connected and subscribed, after the first window."""
    peak_bytes: int = 0
    after_window_bytes: list[int] = field(default_factory=list)
    """At the end of each window: the long run compares the first with the last."""


@dataclass
class CaseResult:
    name: str
    jobs: int
    subscribers: int
    pace: Pace
    windows: dict[str, list[Window]] = field(default_factory=dict)
    memory: dict[str, Memory] = field(default_factory=dict)
    message_bytes: dict[str, float] = field(default_factory=dict)

    def median(self, target: str, metric: Callable[[Window], float]) -> float:
        return statistics.median(metric(window) for window in self.windows[target])

    def cpu_ratio(self, target: str) -> float:
        """Median over rounds of this target's CPU per message over the raw broadcast's in
        the same round."""
        return statistics.median(
            mine.cpu_us_per_message / raw.cpu_us_per_message
            for mine, raw in zip(self.windows[target], self.windows[RAW], strict=True)
        )

    def rss_per_subscription(self, target: str) -> float:
        memory = self.memory[target]
        return (memory.subscribed_bytes - memory.idle_bytes) / self.subscribers

    def long_run(self, target: str) -> tuple[int, float]:
        """Messages delivered from the end of the first window to the end of the last, and
        the RSS growth over the same stretch, as a share."""
        memory = self.memory[target]
        windows = self.windows[target]
        delivered = windows[-1].delivered_total - windows[0].delivered_total
        first, last = memory.after_window_bytes[0], memory.after_window_bytes[-1]
        return delivered, (last - first) / first

    def errors(self, target: str) -> int:
        return sum(window.errors for window in self.windows[target])

    def ended_early(self, target: str) -> int:
        return sum(window.streams_ended_early for window in self.windows[target])


@dataclass
class Result:
    plan: Plan
    cases: list[CaseResult]


# -- servers ------------------------------------------------------------------------------------


def lafactoria_environment(data_dir: Path, *, provider_url: str, jobs: int) -> dict[str, str]:
    """The benchmark server's settings plus a provider that is the emulator, room for
    ``jobs`` jobs at once, and generation quotas one user running them all cannot reach."""
    provider = {"name": "bench", "base_url": provider_url, "model": MODEL}
    return {
        **processes.lafactoria_environment(data_dir),
        "LAFACTORIA_PROVIDERS": "bench",
        "LAFACTORIA_COMPATIBLE_PROVIDERS": json.dumps([provider]),
        "LAFACTORIA_JOBS__CONCURRENCY": str(jobs),
        "LAFACTORIA_JOBS__QUEUE_SIZE": str(max(jobs, 200)),
        "LAFACTORIA_LIMITS__GENERATIONS_PER_MINUTE": "1000000",
        "LAFACTORIA_LIMITS__GENERATIONS_PER_DAY": "1000000",
        # Each running job renews its lease every third of this; at the default (30 s) a
        # thousand jobs write 100 renewals a second, more than the embedded SQLite's one
        # writer keeps up with next to everything else on two cores (see the report).
        "LAFACTORIA_JOBS__LEASE_SECONDS": str(LEASE_SECONDS),
    }


@contextmanager
def run_lafactoria(env: dict[str, str]) -> Iterator[processes.Server]:
    port = processes.free_port()
    command = [sys.executable, "-m", "lafactoria", "serve", "--port", str(port)]
    with processes.run_process(command, port=port, env=env, ready_path="/ready") as server:
        yield server


@contextmanager
def run_raw_ws() -> Iterator[processes.Server]:
    port = processes.free_port()
    command = [sys.executable, "-m", "bench.raw_ws", "--port", str(port)]
    with processes.run_process(command, port=port, ready_path="/") as server:
        yield server


def websocket_url(base_url: str, path: str = "/graphql") -> str:
    return base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + path


async def start_jobs(
    http: httpx.AsyncClient, count: int, *, token: str, per_second: float = JOBS_PER_SECOND
) -> list[str]:
    """``count`` jobs for the benchmark user, ten per ``bulkGenerateContent``, started at
    ``per_second``; their global IDs in order."""
    gate = asyncio.Semaphore(_REQUESTS_AT_ONCE)
    headers = {"Authorization": f"Bearer {token}"}
    began = time.monotonic()

    async def batch(first: int, size: int) -> list[str]:
        await asyncio.sleep(max(0.0, began + first / per_second - time.monotonic()))
        variables = {
            "input": {
                "topics": [f"Tides {first + n}" for n in range(size)],
                "contentType": "QUIZ",
                "audienceLevel": "HIGH_SCHOOL",
            }
        }
        async with gate:
            response = await http.post(
                "/graphql",
                json={"query": BULK_GENERATE, "variables": variables},
                headers=headers,
            )
        payload = response.json()
        bulk = (payload.get("data") or {}).get("bulkGenerateContent")
        if response.status_code != 200 or not bulk or bulk["userErrors"]:
            raise RuntimeError(f"bulkGenerateContent: {payload}")
        return [job["id"] for job in bulk["jobs"]]

    sizes = [
        (first, min(_TOPICS_PER_REQUEST, count - first))
        for first in range(0, count, _TOPICS_PER_REQUEST)
    ]
    batches = await asyncio.gather(*(batch(first, size) for first, size in sizes))
    return [job for ids in batches for job in ids]


# -- one window -----------------------------------------------------------------------------------


async def subscribe_all(pool: SubscriberPool, jobs: Sequence[str], *, within: float) -> float:
    """Subscribe socket *i* to ``jobs[i]`` and wait until every subscription has sent its
    first message (set-up done, replay under way); the seconds that took."""
    started = time.monotonic()
    await pool.subscribe(jobs, PROGRESS)
    waiting = await pool.wait_live(within)
    if waiting:
        # Measured anyway: the window then shows what the server managed meanwhile.
        print(f"    {waiting} of {len(jobs)} subscriptions sent nothing in {within:.0f} s")
    return time.monotonic() - started


async def measure_window(
    pool: SubscriberPool,
    server_pids: Sequence[int],
    *,
    warmup_seconds: float,
    window_seconds: float,
    setup_seconds: float = 0.0,
    protocol: str = GRAPHQL_TRANSPORT_WS,
) -> Window:
    """Wait out the warm-up, then count what the pool receives over the window and what CPU
    the servers spent meanwhile."""
    start = time.time() + warmup_seconds
    end = start + window_seconds
    counting = asyncio.create_task(pool.measure(start, end))
    await asyncio.sleep(max(0.0, start - time.time()))
    cpu_before = sum(resources.usage(pid).cpu_seconds for pid in server_pids)
    await asyncio.sleep(max(0.0, end - time.time()))
    after = [resources.usage(pid) for pid in server_pids]
    delivery: Delivery = await counting
    return Window(
        messages=delivery.messages,
        bytes=delivery.bytes,
        seconds=window_seconds,
        cpu_seconds=sum(usage.cpu_seconds for usage in after) - cpu_before,
        errors=delivery.errors,
        latencies_us=delivery.latencies_us,
        rss_bytes=sum(usage.rss_bytes for usage in after),
        streams_ended_early=delivery.completed,
        first_error=delivery.first_error,
        setup_seconds=setup_seconds,
        delivered_total=delivery.delivered_total.get(protocol, 0),
    )


async def measure_job_fanout(
    base_urls: Sequence[str],
    *,
    token: str,
    start_job: Callable[[], Awaitable[str]],
    subscribers: int,
    server_pids: Sequence[int],
    warmup_seconds: float = 3.0,
    window_seconds: float = 10.0,
    client_processes: int = 2,
    complete_within_seconds: float = 120.0,
) -> Window:
    """One job watched by ``subscribers`` WebSocket subscribers spread round robin over the
    API servers at ``base_urls`` (``http://host:port``; ``/graphql`` is added).

    The subscribers connect and authenticate with ``token`` first; then ``start_job()`` must
    start a job that streams for longer than subscribing, the warm-up and the window take,
    and return its global ID. CPU is summed over ``server_pids`` (API servers and workers
    alike). Returns after every subscription completed or ``complete_within_seconds``
    passed.
    """
    urls = [websocket_url(base_urls[n % len(base_urls)]) for n in range(subscribers)]
    async with SubscriberPool(client_processes) as pool:
        await pool.connect(urls, token=token)
        job = await start_job()
        setup = await subscribe_all(pool, [job] * subscribers, within=complete_within_seconds)
        window = await measure_window(
            pool,
            server_pids,
            warmup_seconds=warmup_seconds,
            window_seconds=window_seconds,
            setup_seconds=setup,
        )
        await pool.wait_complete(complete_within_seconds)
    return window


# -- the scenario ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    jobs: int
    subscribers_per_job: int
    chunks_per_second: float

    @property
    def subscribers(self) -> int:
        return self.jobs * self.subscribers_per_job


def cases(plan: Plan) -> list[Case]:
    return [
        Case(
            f"(a) {plan.jobs:,} jobs x 1 subscriber", plan.jobs, 1, plan.many_jobs_chunks_per_second
        ),
        Case(
            f"(b) 1 job x {plan.subscribers:,} subscribers",
            1,
            plan.subscribers,
            plan.one_job_chunks_per_second,
        ),
    ]


async def measure(data_dir: Path, plan: Plan, *, progress: Callable[[str], None] = print) -> Result:
    results = []
    for number, case in enumerate(cases(plan)):
        progress(f"  {case.name}")
        results.append(await _measure_case(data_dir / f"case-{number}", case, plan, progress))
    return Result(plan=plan, cases=results)


async def _measure_case(
    data_dir: Path, case: Case, plan: Plan, log: Callable[[str], None]
) -> CaseResult:
    pace = plan.pace(case.chunks_per_second, jobs=case.jobs, subscribers=case.subscribers)
    result = CaseResult(name=case.name, jobs=case.jobs, subscribers=case.subscribers, pace=pace)
    with ExitStack() as stack:
        provider_url, _ = stack.enter_context(run_emulator_process(pace))
        env = lafactoria_environment(data_dir, provider_url=provider_url, jobs=case.jobs)
        server = stack.enter_context(run_lafactoria(env))
        raw = stack.enter_context(run_raw_ws())
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=120) as http,
            httpx.AsyncClient(base_url=raw.base_url, timeout=30) as raw_http,
            SubscriberPool(plan.client_processes) as pool,
        ):
            log(f"    server pid {server.pid}, raw broadcast pid {raw.pid}")
            account = await seed.register(http)
            # As long as a job's global ID, so both servers send messages of the same size.
            streams = [f"stream-{n:051d}" for n in range(case.jobs)]
            targets = {LAFACTORIA: server.pid, RAW: raw.pid}
            for name, pid in targets.items():
                result.memory[name] = Memory(idle_bytes=resources.usage(pid).rss_bytes)
                result.windows[name] = []
            await pool.connect(
                [websocket_url(server.base_url)] * case.subscribers, token=account.token
            )
            await pool.connect(
                [
                    websocket_url(raw.base_url, f"/streams/{streams[n % case.jobs]}")
                    for n in range(case.subscribers)
                ],
                token=None,
                protocol="raw",
            )

            async def lafactoria_round() -> Window:
                jobs = await start_jobs(http, case.jobs, token=account.token)
                setup = await subscribe_all(
                    pool,
                    [jobs[n % case.jobs] for n in range(case.subscribers)],
                    within=pace.stream_seconds,
                )
                window = await measure_window(
                    pool,
                    [server.pid],
                    warmup_seconds=plan.warmup_seconds,
                    window_seconds=plan.window_seconds,
                    setup_seconds=setup,
                )
                running = await pool.wait_complete(pace.stream_seconds + 120)
                if running:
                    log(f"    {running} subscriptions had not completed; going on")
                return window

            async def raw_round() -> Window:
                schedule = {
                    "streams": streams,
                    "per_second": pace.chunks_per_second,
                    "seconds": plan.warmup_seconds + plan.window_seconds + 1,
                    "text_chars": pace.chunk_chars,
                }
                (await raw_http.post("/publish", json=schedule)).raise_for_status()
                window = await measure_window(
                    pool,
                    [raw.pid],
                    warmup_seconds=plan.warmup_seconds,
                    window_seconds=plan.window_seconds,
                    protocol="raw",
                )
                await asyncio.sleep(1.5)  # the publishers' last messages
                return window

            rounds: dict[str, Callable[[], Awaitable[Window]]] = {
                LAFACTORIA: lafactoria_round,
                RAW: raw_round,
            }
            for number in range(plan.rounds):
                order = list(rounds) if number % 2 == 0 else list(reversed(rounds))
                for name in order:
                    window = await rounds[name]()
                    memory = result.memory[name]
                    memory.after_window_bytes.append(window.rss_bytes)
                    memory.subscribed_bytes = memory.subscribed_bytes or window.rss_bytes
                    result.windows[name].append(window)
                    log(
                        f"    round {number + 1}/{plan.rounds} {name}: "
                        f"{window.per_second:,.0f} msg/s, "
                        f"{window.cpu_us_per_message:.1f} µs CPU/msg, "
                        f"p50 {window.p50_ms:.1f} ms, p99 {window.p99_ms:.1f} ms, "
                        f"{window.errors} errors, {window.streams_ended_early} ended early, "
                        f"RSS {window.rss_bytes / 2**20:.0f} MiB, "
                        f"set-up {window.setup_seconds:.1f} s"
                    )
                    if window.first_error:
                        log(f"      first error: {window.first_error}")
                    if window.messages:
                        result.message_bytes[name] = window.bytes / window.messages
            for name, pid in targets.items():
                result.memory[name].peak_bytes = resources.peak_rss_bytes(pid)
    return result


def summary(result: Result) -> Iterator[str]:
    for case in result.cases:
        for target in case.windows:
            yield (
                f"  {case.name}, {target}: "
                f"{case.median(target, lambda w: w.per_second):,.0f} msg/s, "
                f"{case.median(target, lambda w: w.cpu_us_per_message):.1f} µs CPU/msg "
                f"({case.cpu_ratio(target):.2f}x raw), "
                f"p99 {case.median(target, lambda w: w.p99_ms):.1f} ms"
            )
