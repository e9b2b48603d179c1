"""Scenario 4, generation overhead: jobs through the real server against an emulated provider
with a realistic pace, and the time the server adds to what the provider itself takes.

    python -m bench.generation [--jobs 200] [--concurrency 50] [--profile stacks.txt]
    python -m bench.pyspy stacks.txt       # where the server's samples went

The server is ``python -m lafactoria serve`` on the embedded default, its only provider the
emulator process (:mod:`bench.timed_emulator`, OpenAI wire format). For every job,

    server-added time = (submit -> terminal event at the client) - (emulator's time on it)

where the emulator's time is what it measured itself, from each request's arrival to its last
byte, for every request carrying the job's marker.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]  # no stubs in the dev dependencies

from bench import jobs, processes, seed, timed_emulator
from bench.pyspy import sampled
from bench.timed_emulator import Pace, Served
from lafactoria.content.enums import AudienceLevel, ContentType
from tests.support.emulator import offline_answer

KIND = jobs.JobKind(content_type="FLASHCARDS", audience_level="ELEMENTARY")
"""The shortest valid answer the offline templates write: the server's fixed costs weigh
most against a short job, so this is the hardest mix for the 5 % target."""

# What lifts every per-user limit and queue bound out of the way: one user submits every job.
UNLIMITED = {
    "LAFACTORIA_LIMITS__GENERATIONS_PER_MINUTE": "1000000",
    "LAFACTORIA_LIMITS__GENERATIONS_PER_DAY": "1000000",
    "LAFACTORIA_JOBS__QUEUE_SIZE": "100000",
}


@dataclass(frozen=True)
class Plan:
    jobs: int = 200
    concurrency: int = 50
    pace: Pace = field(default_factory=Pace)

    @property
    def server_concurrency(self) -> int:
        """Jobs the server runs at once: more than the clients keep in flight, so no job
        ever waits in its queue."""
        return self.concurrency + 14


def plans(*, quick: bool) -> list[Plan]:
    """The issue's load, then a light one that shows the server's cost when it is not
    saturated; ``--quick`` runs a single short wave."""
    if quick:
        return [Plan(jobs=10, concurrency=10)]
    return [Plan(), Plan(jobs=20, concurrency=10)]


@dataclass(frozen=True)
class JobTiming:
    wall_seconds: float
    emulator_seconds: float
    slot: int

    @property
    def added_seconds(self) -> float:
        return self.wall_seconds - self.emulator_seconds

    @property
    def added_share(self) -> float:
        """Server-added time as a fraction of the emulator's time on the job."""
        return self.added_seconds / self.emulator_seconds


@dataclass
class Result:
    plan: Plan
    answer_chars: int
    schedule_seconds: float
    """The emulator's own pace for the answer on an idle machine (a constant of the plan)."""
    timings: list[JobTiming]
    errors: list[str]
    seconds: float
    server_cpu_seconds: float
    emulator_cpu_seconds: float
    provider_calls: int

    @property
    def median_added_share(self) -> float:
        return statistics.median(t.added_share for t in self.timings)

    @property
    def p99_added_share(self) -> float:
        return percentile([t.added_share for t in self.timings], 99)

    @property
    def median_added_ms(self) -> float:
        return statistics.median(t.added_seconds for t in self.timings) * 1000

    @property
    def p99_added_ms(self) -> float:
        return percentile([t.added_seconds for t in self.timings], 99) * 1000

    @property
    def median_emulator_seconds(self) -> float:
        return statistics.median(t.emulator_seconds for t in self.timings)

    @property
    def jobs_per_second(self) -> float:
        return (len(self.timings) + len(self.errors)) / self.seconds

    @property
    def ideal_jobs_per_second(self) -> float:
        """What the same clients would reach if the server added nothing: each client's jobs
        back to back at the emulator's measured times, the busiest client setting the end."""
        return (len(self.timings) + len(self.errors)) / ideal_seconds(self.timings)

    @property
    def throughput_ratio(self) -> float:
        return self.jobs_per_second / self.ideal_jobs_per_second

    @property
    def calls_per_job(self) -> float:
        """Provider requests per job: above 1 when attempts were retried."""
        return self.provider_calls / max(len(self.timings) + len(self.errors), 1)

    @property
    def server_cpu_ms_per_job(self) -> float:
        return self.server_cpu_seconds / max(len(self.timings), 1) * 1000


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def ideal_seconds(timings: Iterable[JobTiming]) -> float:
    by_slot: dict[int, float] = defaultdict(float)
    for timing in timings:
        by_slot[timing.slot] += timing.emulator_seconds
    return max(by_slot.values())


def emulator_seconds(served: Iterable[Served]) -> dict[str, float]:
    """The emulator's time per job marker, over every request of the job."""
    by_marker: dict[str, float] = defaultdict(float)
    for record in served:
        if record.marker is not None:
            by_marker[record.marker] += record.seconds
    return by_marker


def timings_of(batch: jobs.Batch, by_marker: Mapping[str, float]) -> list[JobTiming]:
    """Each successful job's wall time next to the emulator's time on it."""
    result = []
    for run in batch.runs:
        wall = run.wall_seconds
        if run.error is None and wall is not None and run.marker in by_marker:
            result.append(JobTiming(wall, by_marker[run.marker], run.slot))
    return result


def server_environment(
    data_dir: Path, emulator: timed_emulator.EmulatorProcess, plan: Plan
) -> dict[str, str]:
    return {
        **processes.lafactoria_environment(data_dir),
        **UNLIMITED,
        "LAFACTORIA_PROVIDERS": "emulated",
        "LAFACTORIA_COMPATIBLE_PROVIDERS": timed_emulator.compatible_provider(emulator),
        "LAFACTORIA_JOBS__CONCURRENCY": str(plan.server_concurrency),
    }


async def answer() -> str:
    return await offline_answer(
        ContentType(KIND.content_type.lower()), AudienceLevel(KIND.audience_level.lower())
    )


async def measure(
    scratch: Path,
    plan: Plan,
    *,
    progress: Callable[[str], None] = print,
    profile: Path | None = None,
) -> Result:
    """Run the plan once. With ``profile``, py-spy samples the server process meanwhile and
    writes its stacks there (collapsed, one line per stack with its sample count)."""
    text = await answer()
    with timed_emulator.run_timed_emulator(text, plan.pace, scratch / "emulator") as emulator:
        port = processes.free_port()
        command = [sys.executable, "-m", "lafactoria", "serve", "--port", str(port)]
        env = server_environment(scratch / "server", emulator, plan)
        with processes.run_process(command, port=port, env=env, ready_path="/ready") as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                account = await seed.register(http)
            server_process, emulator_ps = psutil.Process(server.pid), psutil.Process(emulator.pid)
            server_cpu, emulator_cpu = _cpu(server_process), _cpu(emulator_ps)
            with sampled(server.pid, profile):
                batch = await jobs.run_jobs(
                    [jobs.Api(server.base_url)],
                    account.token,
                    KIND,
                    round_name="s4",
                    count=plan.jobs,
                    concurrency=plan.concurrency,
                )
            server_cpu = _cpu(server_process) - server_cpu
            emulator_cpu = _cpu(emulator_ps) - emulator_cpu
        served = emulator.served()
    timings = timings_of(batch, emulator_seconds(served))
    result = Result(
        plan=plan,
        answer_chars=len(text),
        schedule_seconds=plan.pace.seconds_for(text),
        timings=timings,
        errors=batch.errors,
        seconds=batch.seconds,
        server_cpu_seconds=server_cpu,
        emulator_cpu_seconds=emulator_cpu,
        provider_calls=sum(1 for record in served if record.marker is not None),
    )
    progress(
        f"  {len(timings)} jobs in {batch.seconds:.1f} s: server-added median "
        f"{result.median_added_share:.2%} (p99 {result.p99_added_share:.2%}) of the emulator's "
        f"{result.median_emulator_seconds:.2f} s, {len(result.errors)} errors"
    )
    return result


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generation", description=__doc__)
    parser.add_argument("--jobs", type=int, default=Plan.jobs)
    parser.add_argument("--concurrency", type=int, default=Plan.concurrency)
    parser.add_argument("--profile", type=Path, help="write py-spy's samples of the server here")
    arguments = parser.parse_args()
    plan = Plan(jobs=arguments.jobs, concurrency=arguments.concurrency)
    with tempfile.TemporaryDirectory(prefix="lafactoria-bench-") as scratch:
        result = asyncio.run(measure(Path(scratch), plan, profile=arguments.profile))
    print(
        f"{result.jobs_per_second:.2f} jobs/s ({result.throughput_ratio:.2f}x of an "
        f"overhead-free server), server CPU {result.server_cpu_ms_per_job:.0f} ms per job"
    )


if __name__ == "__main__":
    main()
