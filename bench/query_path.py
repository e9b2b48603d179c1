"""Scenario 1, the query path: one page of 20 items over GraphQL against its baselines, all
served from this machine in the same run, in interleaved rounds."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import load, processes, seed
from bench.stock import PATH as STOCK_PATH

PAGE_SIZE = 20
STOCK = "stock Strawberry GraphQLRouter"
PLANS_OFF = "GraphQL, compiled plans off"
ITEMS = 25
"""More items than a page, so the page is a real slice of the user's list."""

# Every scalar field of Content (the object fields usage, body, quality, revisionOf and
# exports are left out: they are Scenario 2's nested shape).
CONTENTS = """
query Contents($first: Int!) {
  contents(first: $first) {
    edges { node {
      id title topic contentType audienceLevel markdown provider model createdAt
    } }
  }
}"""


@dataclass(frozen=True)
class Plan:
    concurrency: int = 16
    warmup_seconds: float = 2.0
    round_seconds: float = 3.0
    rounds: int = 5


@dataclass
class Result:
    """Every round of every target, in target order."""

    targets: list[str]
    baseline: str
    stock: str = STOCK
    plans_off: str = PLANS_OFF
    runs: dict[str, list[load.Run]] = field(default_factory=dict)
    response_bytes: dict[str, int] = field(default_factory=dict)

    def median_per_second(self, name: str) -> float:
        return statistics.median(run.per_second for run in self.runs[name])

    def median_ratio(self, name: str, against: str | None = None) -> float:
        """The median over rounds of this target's rate over another's (the baseline's unless
        ``against`` names one) in the same round: a slow patch of a shared machine hits both
        sides of each ratio."""
        other = self.runs[against or self.baseline]
        return statistics.median(
            mine.per_second / theirs.per_second
            for mine, theirs in zip(self.runs[name], other, strict=True)
        )

    def failures(self, name: str) -> int:
        return sum(run.failures for run in self.runs[name])


async def _capture(http: httpx.AsyncClient, target: load.Target) -> bytes:
    response = await http.request(
        target.method, target.url, headers=target.headers, content=target.body
    )
    response.raise_for_status()
    return response.content


async def measure(data_dir: Path, plan: Plan, *, progress: Callable[[str], None] = print) -> Result:
    with processes.run_lafactoria(data_dir) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            account = await seed.register(http)
            await seed.store_contents(
                seed.database_settings(data_dir), user_id=account.user_id, count=ITEMS
            )
            graphql = load.Target(
                name="GraphQL contents(first: 20)",
                method="POST",
                url=f"{server.base_url}/graphql",
                headers={**account.headers, "Content-Type": "application/json"},
                body=json.dumps({"query": CONTENTS, "variables": {"first": PAGE_SIZE}}).encode(),
                expected=b"",
            )
            graphql_bytes = await _capture(http, graphql)
            edges = json.loads(graphql_bytes)["data"]["contents"]["edges"]
            if len(edges) != PAGE_SIZE:
                raise RuntimeError(f"GraphQL returned {len(edges)} items, not {PAGE_SIZE}")
            rest = load.Target(
                name="REST GET /api/v1/content/?page_size=20",
                method="GET",
                url=f"{server.base_url}/api/v1/content/?page_size={PAGE_SIZE}",
                headers=account.headers,
                body=None,
                expected=b"",
            )
            rest_bytes = await _capture(http, rest)
            if len(json.loads(rest_bytes)["items"]) != PAGE_SIZE:
                raise RuntimeError("the REST page does not hold the same number of items")

        body_file = data_dir / "graphql-response.json"
        body_file.write_bytes(graphql_bytes)
        with (
            processes.run_lafactoria(
                data_dir, GRAPHQL__COMPILED_QUERIES="false"
            ) as plans_off_server,
            processes.run_stock(data_dir) as stock_server,
            processes.run_raw(body_file) as raw_server,
        ):
            plans_off = dataclasses.replace(
                graphql, name=PLANS_OFF, url=f"{plans_off_server.base_url}/graphql"
            )
            stock = dataclasses.replace(
                graphql,
                name=STOCK,
                url=f"{stock_server.base_url}{STOCK_PATH}",
            )
            async with httpx.AsyncClient(timeout=30) as http:
                stock_bytes = await _capture(http, stock)
            if json.loads(stock_bytes)["data"] != json.loads(graphql_bytes)["data"]:
                raise RuntimeError("stock Strawberry answers other data than La Factoria")
            raw = load.Target(
                name="raw ASGI, same bytes (ceiling)",
                method="POST",
                url=f"{raw_server.base_url}/graphql",
                headers=graphql.headers,
                body=graphql.body,
                expected=graphql_bytes,
            )
            sizes = {
                graphql.name: len(graphql_bytes),
                plans_off.name: len(graphql_bytes),
                rest.name: len(rest_bytes),
                stock.name: len(stock_bytes),
            }
            targets = [
                dataclasses.replace(graphql, expected=_before_extensions(graphql_bytes)),
                dataclasses.replace(plans_off, expected=_before_extensions(graphql_bytes)),
                dataclasses.replace(stock, expected=stock_bytes),
                dataclasses.replace(rest, expected=rest_bytes),
                raw,
            ]
            result = await _rounds(targets, baseline=rest.name, plan=plan, log=progress)
    result.response_bytes = {**sizes, raw.name: len(graphql_bytes)}
    return result


def _before_extensions(answer: bytes) -> bytes:
    """The GraphQL answer up to its ``extensions`` (the data; the cost report after it says
    how much budget is left, which changes with every request)."""
    end = answer.find(b',"extensions":')
    return answer if end < 0 else answer[:end]


async def _rounds(
    targets: list[load.Target],
    *,
    baseline: str,
    plan: Plan,
    log: Callable[[str], None],
) -> Result:
    result = Result(targets=[t.name for t in targets], baseline=baseline)
    clients = {t.name: load.open_client(plan.concurrency) for t in targets}
    try:
        for target in targets:
            await load.drive(
                clients[target.name],
                target,
                concurrency=plan.concurrency,
                seconds=plan.warmup_seconds,
            )
            result.runs[target.name] = []
        for number in range(plan.rounds):
            # Each round starts with a different target, so none always runs first or last.
            order = targets[number % len(targets) :] + targets[: number % len(targets)]
            for target in order:
                run = await load.drive(
                    clients[target.name],
                    target,
                    concurrency=plan.concurrency,
                    seconds=plan.round_seconds,
                )
                result.runs[target.name].append(run)
                log(
                    f"  round {number + 1}/{plan.rounds} {target.name}: "
                    f"{run.per_second:,.0f} req/s, p50 {run.p50_ms:.1f} ms, "
                    f"{run.failures} failed"
                )
    finally:
        for client in clients.values():
            await client.aclose()
    return result
