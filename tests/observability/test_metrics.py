"""``/metrics`` after real traffic: requests, operations, jobs, providers, subscriptions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from lafactoria.providers.base import GenerationRequest, StreamChunk, TextDelta
from lafactoria.providers.errors import ProviderUnavailable
from lafactoria.providers.offline import OfflineProvider
from tests.support.gated import GatedProvider
from tests.support.graphql import GENERATE, PROGRESS, GraphQLClient, register_user
from tests.support.server import RunningServer, make_settings, run_server

QUIZ = {"input": {"topic": "Glaciers", "contentType": "QUIZ", "audienceLevel": "COLLEGE"}}


class Samples:
    """One scrape, parsed: ``samples["name", {"label": "value"}]`` is 0 when absent."""

    def __init__(self, text: str) -> None:
        self._values = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def __getitem__(self, key: tuple[str, dict[str, str]]) -> float:
        name, labels = key
        return self._values.get((name, frozenset(labels.items())), 0.0)

    def names(self) -> set[str]:
        return {name for name, _ in self._values}


async def scrape(server: RunningServer) -> Samples:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{server.base_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Samples(response.text)


async def eventually(server: RunningServer, check: Callable[[Samples], bool]) -> Samples:
    """Scrape until ``check`` holds: a closed connection is counted once the server saw it."""
    deadline = time.monotonic() + 5
    while True:
        samples = await scrape(server)
        if check(samples) or time.monotonic() > deadline:
            return samples
        await asyncio.sleep(0.05)


async def job_events(client: GraphQLClient) -> list[dict[str, Any]]:
    job = (await client.data(GENERATE, QUIZ))["generateContent"]["job"]
    return await client.collect(PROGRESS, {"jobId": job["id"]})


def operation(name: str, kind: str, outcome: str) -> tuple[str, dict[str, str]]:
    return (
        "lafactoria_graphql_operations_total",
        {"operation": name, "type": kind, "outcome": outcome},
    )


async def test_requests_operations_jobs_and_providers_are_counted(tmp_path: Path) -> None:
    with run_server(make_settings(tmp_path)) as server:
        client = await register_user(server)  # Register and Login
        await GraphQLClient(server, "not-a-token").execute("query Viewer { viewer { id } }")
        await client.post_raw({"query": "query Broken { nope }"})
        await job_events(client)  # Generate, then Progress over a WebSocket
        websocket = {"method": "WEBSOCKET", "route": "/graphql", "status": "101"}
        samples = await eventually(
            server, lambda s: s["lafactoria_http_requests_total", websocket] == 1
        )

    assert samples[operation("Register", "mutation", "ok")] == 1
    assert samples[operation("Login", "mutation", "ok")] == 1
    assert samples[operation("Viewer", "query", "UNAUTHENTICATED")] == 1
    assert samples[operation("Broken", "query", "GRAPHQL_VALIDATION_FAILED")] == 1
    assert samples[operation("Generate", "mutation", "ok")] == 1
    assert samples[operation("Progress", "subscription", "ok")] == 1
    duration = "lafactoria_graphql_operation_duration_seconds_count"
    assert samples[duration, {"operation": "Generate", "type": "mutation"}] == 1
    assert samples[duration, {"operation": "Progress", "type": "subscription"}] == 0
    posts = {"method": "POST", "route": "/graphql"}
    assert samples["lafactoria_http_requests_total", {**posts, "status": "200"}] == 5
    assert samples["lafactoria_http_request_duration_seconds_count", posts] == 5
    assert samples["lafactoria_generation_jobs_total", {"status": "succeeded"}] == 1
    assert samples["lafactoria_generation_jobs_total", {"status": "failed"}] == 0
    attempts = "lafactoria_provider_attempts_total"
    assert samples[attempts, {"provider": "offline", "outcome": "succeeded"}] == 1
    assert samples["lafactoria_graphql_subscriptions_open", {}] == 0


async def test_metrics_routes_are_templates_not_paths(tmp_path: Path) -> None:
    with run_server(make_settings(tmp_path)) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            await http.get("/studio/app.js")
            await http.get("/no/such/page")
            await http.get("/health")
            for docs in ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"):
                await http.get(docs)
        samples = await scrape(server)

    requests = "lafactoria_http_requests_total"
    assert samples[requests, {"method": "GET", "route": "/studio/{path}", "status": "200"}] == 1
    assert samples[requests, {"method": "GET", "route": "unmatched", "status": "404"}] == 1
    assert samples[requests, {"method": "GET", "route": "/health", "status": "200"}] == 1
    # FastAPI's own pages are plain Starlette routes, which leave no route in the scope.
    for docs in ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"):
        assert samples[requests, {"method": "GET", "route": docs, "status": "200"}] == 1


class FlakyProvider:
    """Fails every attempt in a way that moves on to the next provider."""

    name = "flaky"
    model = "flaky-1"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamChunk]:
        yield TextDelta("{")
        raise ProviderUnavailable("overloaded")

    async def aclose(self) -> None:
        return None


async def test_provider_failures_are_counted_by_provider_and_code(tmp_path: Path) -> None:
    with run_server(make_settings(tmp_path), providers=[FlakyProvider(), OfflineProvider()]) as s:
        client = await register_user(s)
        events = await job_events(client)
        samples = await scrape(s)

    assert events[-1]["generationProgress"]["kind"] == "SUCCEEDED"
    attempts = "lafactoria_provider_attempts_total"
    failed = samples[attempts, {"provider": "flaky", "outcome": "failed"}]
    assert failed >= 1  # the chain may retry a provider before it moves on
    assert samples[attempts, {"provider": "flaky", "outcome": "succeeded"}] == 0
    assert samples[attempts, {"provider": "offline", "outcome": "succeeded"}] == 1
    failures = "lafactoria_provider_failures_total"
    assert samples[failures, {"provider": "flaky", "error_code": "PROVIDER_UNAVAILABLE"}] == failed


async def test_open_subscriptions_are_a_gauge(tmp_path: Path) -> None:
    provider = GatedProvider()
    gauge = ("lafactoria_graphql_subscriptions_open", {})
    with run_server(make_settings(tmp_path), providers=[provider]) as server:
        try:
            client = await register_user(server)
            job = (await client.data(GENERATE, QUIZ))["generateContent"]["job"]
            stream = client.subscribe(PROGRESS, {"jobId": job["id"]})
            first = await anext(stream)  # the subscription is live
            while_open = await scrape(server)
            provider.gate.set()
            rest = [event async for event in stream]
            after = await eventually(server, lambda s: s[gauge] == 0)
        finally:
            provider.gate.set()

    assert first["generationProgress"]["kind"] == "QUEUED"
    assert rest[-1]["generationProgress"]["kind"] == "SUCCEEDED"
    assert while_open[gauge] == 1
    assert after[gauge] == 0
    assert after[operation("Progress", "subscription", "ok")] == 1


async def test_a_subscription_over_http_is_not_timed_as_a_request(tmp_path: Path) -> None:
    with run_server(make_settings(tmp_path)) as server:
        client = await register_user(server)
        job = (await client.data(GENERATE, QUIZ))["generateContent"]["job"]
        async with httpx.AsyncClient() as http:
            streamed = await http.post(
                server.graphql_url,
                json={"query": PROGRESS, "variables": {"jobId": job["id"]}},
                headers={
                    "Authorization": f"Bearer {client.credential}",
                    "Accept": "text/event-stream",
                },
            )
        samples = await scrape(server)

    assert "SUCCEEDED" in streamed.text
    posts = {"method": "POST", "route": "/graphql"}
    assert samples["lafactoria_http_requests_total", {**posts, "status": "200"}] == 4
    # Register, Login and Generate are timed; the streamed subscription is not.
    assert samples["lafactoria_http_request_duration_seconds_count", posts] == 3
    assert samples[operation("Progress", "subscription", "ok")] == 1
