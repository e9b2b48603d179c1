"""The generation load: closed-loop clients that each submit a job over GraphQL, follow it over
a WebSocket subscription to its terminal event, then submit the next.

Every job's topic carries a marker (``bench-<round>-NNNN``) that the emulator finds in the
prompt, so each job's wall time can be set against the time the emulator spent on it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from bench import subscriber

GENERATE = """
mutation Generate($input: GenerateContentInput!) {
  generateContent(input: $input) { job { id status } userErrors { field message code } }
}"""


@dataclass(frozen=True)
class Api:
    """One API process, as clients reach it."""

    base_url: str

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws{self.base_url.removeprefix('http')}/graphql"


@dataclass(frozen=True)
class JobKind:
    """What every job asks for; the emulator's answer must fit it."""

    content_type: str
    audience_level: str


@dataclass
class JobRun:
    """One job as its client saw it."""

    marker: str
    slot: int
    """Which closed-loop client ran it."""
    submitted: float
    """``time.monotonic()`` just before the mutation was sent."""
    job_id: str | None = None
    watches: list[subscriber.Watch] = field(default_factory=list)
    submit_error: str | None = None

    @property
    def error(self) -> str | None:
        if self.submit_error is not None:
            return self.submit_error
        for seen in self.watches:
            if seen.error is not None:
                return seen.error
            if seen.terminal != "SUCCEEDED":
                return f"ended {seen.terminal}"
            if seen.gaps:
                return f"{seen.gaps} sequence gaps"
        return None

    @property
    def finished(self) -> float | None:
        """When the first subscriber saw the terminal event."""
        times = [seen.finished for seen in self.watches if seen.finished is not None]
        return min(times) if times else None

    @property
    def wall_seconds(self) -> float | None:
        finished = self.finished
        return None if finished is None else finished - self.submitted


@dataclass
class Batch:
    """Every job of one round, and how long the round took from first submit to last end."""

    runs: list[JobRun]
    seconds: float

    @property
    def errors(self) -> list[str]:
        return [f"{run.marker}: {run.error}" for run in self.runs if run.error is not None]

    @property
    def jobs_per_second(self) -> float:
        return len(self.runs) / self.seconds

    @property
    def delivered_events(self) -> int:
        return sum(seen.events for run in self.runs for seen in run.watches)

    @property
    def latencies(self) -> list[float]:
        return [value for run in self.runs for seen in run.watches for value in seen.latencies]


def marker(round_name: str, number: int) -> str:
    return f"bench-{round_name}-{number:04d}"


async def run_jobs(
    apis: Sequence[Api],
    token: str,
    kind: JobKind,
    *,
    round_name: str,
    count: int,
    concurrency: int,
    watchers: int = 1,
) -> Batch:
    """Run ``count`` jobs from ``concurrency`` clients; each job is followed by ``watchers``
    subscribers. Job ``n`` is submitted to ``apis[n % len(apis)]`` and its subscribers go to
    the next processes in turn, so load and subscriptions spread over every API process."""
    numbers = itertools.count()
    runs: list[JobRun] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(limits=limits, timeout=60, headers=headers) as http:

        async def client(slot: int) -> None:
            while (number := next(numbers)) < count:
                run = JobRun(marker=marker(round_name, number), slot=slot, submitted=0.0)
                runs.append(run)
                await _run_one(http, apis, token, kind, run, number, watchers)

        began = time.monotonic()
        await asyncio.gather(*(client(slot) for slot in range(concurrency)))
        seconds = time.monotonic() - began
    runs.sort(key=lambda run: run.marker)
    return Batch(runs=runs, seconds=seconds)


async def _run_one(
    http: httpx.AsyncClient,
    apis: Sequence[Api],
    token: str,
    kind: JobKind,
    run: JobRun,
    number: int,
    watchers: int,
) -> None:
    api = apis[number % len(apis)]
    variables = {
        "input": {
            "topic": f"Tides {run.marker}",
            "contentType": kind.content_type,
            "audienceLevel": kind.audience_level,
        }
    }
    run.submitted = time.monotonic()
    try:
        body = {"query": GENERATE, "variables": variables}
        response = await http.post(api.graphql_url, json=body)
        payload = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        run.submit_error = f"{type(exc).__name__}: {exc}"[:200]
        return
    generated = (payload.get("data") or {}).get("generateContent") or {}
    if payload.get("errors") or generated.get("userErrors") or not generated.get("job"):
        run.submit_error = str(payload.get("errors") or generated.get("userErrors"))[:200]
        return
    run.job_id = generated["job"]["id"]
    followers = [apis[(number + offset) % len(apis)] for offset in range(watchers)]
    run.watches = list(
        await asyncio.gather(
            *(subscriber.watch(api.ws_url, token, run.job_id) for api in followers)
        )
    )
