"""Scenario 5, scale-out: generation throughput and progress fan-out of 2 API + 2 worker
processes against 1 + 1, on PostgreSQL and Redis, on this one machine.

Both topologies run at once, each on its own throwaway database and Redis key prefix, against
one timed emulator (:mod:`bench.timed_emulator`); the rounds alternate between them (A B B A
...), so the idle topology's processes sit beside every round of the other and a slow patch
of the machine hits both. Two measurements per round:

- **throughput**: the same closed-loop job mix as Scenario 4, jobs submitted to the API
  processes in turn, each followed to its end by one subscriber on the same process;
- **fan-out**: a few jobs at once, each watched by many subscribers spread over the API
  processes (so with two, most events cross Redis to reach a subscriber on the other one).

Runs only when ``LAFACTORIA_TEST_DATABASE_URL`` and ``LAFACTORIA_TEST_REDIS_URL`` name a
PostgreSQL server (where databases may be created and dropped) and a Redis database.
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import psutil  # type: ignore[import-untyped]  # no stubs in the dev dependencies

from bench import deployment, generation, jobs, processes, seed, timed_emulator
from bench.generation import percentile

DATABASE_VARIABLE = "LAFACTORIA_TEST_DATABASE_URL"
REDIS_VARIABLE = "LAFACTORIA_TEST_REDIS_URL"
ONE_BY_ONE = "1 API + 1 worker"
TWO_BY_TWO = "2 API + 2 workers"
TOPOLOGIES = {ONE_BY_ONE: (1, 1), TWO_BY_TWO: (2, 2)}
_Round = TypeVar("_Round")


@dataclass(frozen=True)
class Plan:
    jobs: int = 100
    concurrency: int = 50
    fanout_jobs: int = 10
    subscribers_per_job: int = 20
    rounds: int = 2
    """Rounds per topology and measurement, alternating A B B A."""
    worker_concurrency: int = 64
    """Jobs each worker runs at once: more than the clients keep in flight, so that with
    either topology no job waits for a free slot and the ratio is not a count of slots."""
    pace: timed_emulator.Pace = field(default_factory=timed_emulator.Pace)


def plan(*, quick: bool) -> Plan:
    if quick:
        return Plan(jobs=20, concurrency=20, fanout_jobs=4, subscribers_per_job=5, rounds=1)
    return Plan()


@dataclass(frozen=True)
class ThroughputRound:
    jobs_per_second: float
    median_added_share: float
    cpu_ms_per_job: float
    """CPU time of all the topology's processes (API and workers) per job."""
    jobs_per_worker: list[int]
    errors: list[str]


@dataclass(frozen=True)
class FanoutRound:
    subscribers: int
    events_per_second: float
    """Events delivered to all subscribers, per second of the round."""
    p50_ms: float
    p99_ms: float
    errors: list[str]
    client_cores: float = 0.0
    """CPU the benchmark's own process (every subscriber) used, in cores: near 1, the
    client rather than the server bounds the figures."""
    api_cores: float = 0.0
    """CPU the API processes used, in cores, summed over them."""

    @property
    def api_ms_per_event(self) -> float:
        """API CPU per event delivered: comparable across process counts."""
        return self.api_cores / self.events_per_second * 1000


@dataclass
class Result:
    plan: Plan
    skipped: str | None = None
    throughput: dict[str, list[ThroughputRound]] = field(default_factory=dict)
    fanout: dict[str, list[FanoutRound]] = field(default_factory=dict)

    def ratio(self, metric: Callable[[ThroughputRound], float]) -> float:
        """Median over paired rounds of 2+2's figure over 1+1's."""
        return _median_ratio(self.throughput[TWO_BY_TWO], self.throughput[ONE_BY_ONE], metric)

    def fanout_ratio(self, metric: Callable[[FanoutRound], float]) -> float:
        return _median_ratio(self.fanout[TWO_BY_TWO], self.fanout[ONE_BY_ONE], metric)

    @property
    def errors(self) -> list[str]:
        found = [e for rounds in self.throughput.values() for r in rounds for e in r.errors]
        return found + [e for rounds in self.fanout.values() for r in rounds for e in r.errors]


def _median_ratio(
    mine: Sequence[_Round], theirs: Sequence[_Round], metric: Callable[[_Round], float]
) -> float:
    return statistics.median(metric(a) / metric(b) for a, b in zip(mine, theirs, strict=True))


def round_order(names: Sequence[str], rounds: int) -> list[str]:
    """Two topologies, ``rounds`` each, as A B B A A B ...: each goes first and last
    equally often, so a trend in the machine's load favours neither."""
    first, second = names
    pairs = [(first, second) if number % 2 == 0 else (second, first) for number in range(rounds)]
    return [name for pair in pairs for name in pair]


def why_skipped() -> str | None:
    missing = [name for name in (DATABASE_VARIABLE, REDIS_VARIABLE) if not os.environ.get(name)]
    if missing:
        return f"{' and '.join(missing)} not set (PostgreSQL and Redis are needed)"
    return None


def environment(
    scratch: Path,
    emulator: timed_emulator.EmulatorProcess,
    *,
    database_url: str,
    redis_url: str,
    prefix: str,
) -> dict[str, str]:
    """One topology's settings, shared by its API and worker processes."""
    return {
        **processes.lafactoria_environment(scratch),
        **generation.UNLIMITED,
        "LAFACTORIA_DATABASE_URL": database_url,
        "LAFACTORIA_REDIS_URL": redis_url,
        "LAFACTORIA_REDIS_PREFIX": prefix,
        "LAFACTORIA_PROVIDERS": "emulated",
        "LAFACTORIA_COMPATIBLE_PROVIDERS": timed_emulator.compatible_provider(emulator),
    }


async def measure(scratch: Path, plan: Plan, *, progress: Callable[[str], None] = print) -> Result:
    skipped = why_skipped()
    if skipped is not None:
        progress(f"  skipped: {skipped}")
        return Result(plan=plan, skipped=skipped)
    database_server, redis_url = os.environ[DATABASE_VARIABLE], os.environ[REDIS_VARIABLE]
    answer = await generation.answer()
    result = Result(plan=plan)
    with timed_emulator.run_timed_emulator(answer, plan.pace, scratch / "emulator") as emulator:
        async with AsyncExitStack() as stack:
            running: dict[str, tuple[deployment.Deployment, str, str]] = {}
            for name, (api_count, worker_count) in TOPOLOGIES.items():
                database_url = await stack.enter_async_context(
                    deployment.throwaway_database(database_server)
                )
                prefix = await stack.enter_async_context(deployment.isolated_prefix(redis_url))
                env = environment(
                    scratch / name.replace(" ", ""),
                    emulator,
                    database_url=database_url,
                    redis_url=redis_url,
                    prefix=prefix,
                )
                started = stack.enter_context(
                    deployment.run_deployment(
                        api_count=api_count,
                        worker_count=worker_count,
                        worker_concurrency=plan.worker_concurrency,
                        environment=env,
                        logs=scratch / "logs" / name.replace(" ", ""),
                    )
                )
                token = await _register(started.apis[0])
                # A first small batch: every process has its connections and caches warm,
                # and a worker that failed to start shows up here, not in a measured round.
                await jobs.run_jobs(
                    started.apis,
                    token,
                    generation.KIND,
                    round_name=f"warm{len(running)}",
                    count=4 * worker_count,
                    concurrency=4 * worker_count,
                )
                started.check_workers()
                running[name] = (started, token, database_url)
                progress(f"  {name}: up")
            for number, name in enumerate(round_order(list(TOPOLOGIES), plan.rounds)):
                started, token, database_url = running[name]
                round_name = f"t{number}"
                throughput = await _throughput(
                    started, token, database_url, emulator, plan, round_name
                )
                result.throughput.setdefault(name, []).append(throughput)
                fanout = await _fanout(started, token, plan, f"f{number}")
                result.fanout.setdefault(name, []).append(fanout)
                started.check_workers()
                progress(
                    f"  {name}: {throughput.jobs_per_second:.2f} jobs/s, server-added "
                    f"{throughput.median_added_share:.1%}, jobs per worker "
                    f"{throughput.jobs_per_worker}; fan-out {fanout.events_per_second:,.0f} "
                    f"events/s, p99 {fanout.p99_ms:.0f} ms (client {fanout.client_cores:.2f}, "
                    f"API {fanout.api_cores:.2f} cores), "
                    f"{len(throughput.errors) + len(fanout.errors)} errors"
                )
    return result


async def _register(api: jobs.Api) -> str:
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
        return (await seed.register(http)).token


async def _throughput(
    started: deployment.Deployment,
    token: str,
    database_url: str,
    emulator: timed_emulator.EmulatorProcess,
    plan: Plan,
    round_name: str,
) -> ThroughputRound:
    cpu_before = _cpu_seconds(started.pids)
    batch = await jobs.run_jobs(
        started.apis,
        token,
        generation.KIND,
        round_name=round_name,
        count=plan.jobs,
        concurrency=plan.concurrency,
    )
    cpu = _cpu_seconds(started.pids) - cpu_before
    timings = generation.timings_of(batch, generation.emulator_seconds(emulator.served()))
    return ThroughputRound(
        jobs_per_second=batch.jobs_per_second,
        median_added_share=statistics.median(t.added_share for t in timings)
        if timings
        else float("nan"),
        cpu_ms_per_job=cpu / len(batch.runs) * 1000,
        jobs_per_worker=await deployment.jobs_per_worker(database_url, round_name),
        errors=batch.errors,
    )


async def _fanout(
    started: deployment.Deployment, token: str, plan: Plan, round_name: str
) -> FanoutRound:
    api_pids = started.pids[: len(started.apis)]
    client_before, api_before = _cpu_seconds([os.getpid()]), _cpu_seconds(api_pids)
    batch = await jobs.run_jobs(
        started.apis,
        token,
        generation.KIND,
        round_name=round_name,
        count=plan.fanout_jobs,
        concurrency=plan.fanout_jobs,
        watchers=plan.subscribers_per_job,
    )
    latencies = batch.latencies
    client_cpu = _cpu_seconds([os.getpid()]) - client_before
    api_cpu = _cpu_seconds(api_pids) - api_before
    return FanoutRound(
        subscribers=plan.fanout_jobs * plan.subscribers_per_job,
        events_per_second=batch.delivered_events / batch.seconds,
        p50_ms=statistics.median(latencies) * 1000 if latencies else float("nan"),
        p99_ms=percentile(latencies, 99) * 1000,
        errors=batch.errors,
        client_cores=client_cpu / batch.seconds,
        api_cores=api_cpu / batch.seconds,
    )


def _cpu_seconds(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


def summary(result: Result) -> str:
    """One line for the console."""
    if result.skipped:
        return f"skipped: {result.skipped}"
    return json.dumps(
        {
            "jobs/s x": round(result.ratio(lambda r: r.jobs_per_second), 2),
            "fan-out events/s x": round(result.fanout_ratio(lambda r: r.events_per_second), 2),
            "fan-out p99 x": round(result.fanout_ratio(lambda r: r.p99_ms), 2),
        }
    )
