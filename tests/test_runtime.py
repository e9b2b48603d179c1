"""The composition with ``LAFACTORIA_REDIS_URL``: servers share job events, and a Redis
outage is reported, never half-done."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError

from tests.support.graphql import GENERATE, PROGRESS, GraphQLClient, register_user
from tests.support.providers import StallingProvider
from tests.support.redis import isolated_prefix, redis_test_url, throwaway_redis
from tests.support.server import make_settings, run_server, run_worker

pytestmark = pytest.mark.redis

QUIZ = {"contentType": "QUIZ", "audienceLevel": "COLLEGE"}
JOBS = "query { generationJobs(first: 10) { totalCount } }"


async def test_a_job_started_on_one_server_streams_from_another(tmp_path: Path) -> None:
    async with isolated_prefix() as prefix:
        settings = make_settings(tmp_path, redis_url=redis_test_url(), redis_prefix=prefix)
        with run_server(settings) as first, run_server(settings) as second, run_worker(settings):
            on_first = await register_user(first)
            on_second = GraphQLClient(second, on_first.credential)
            job = (await on_first.data(GENERATE, {"input": {"topic": "Volcanoes", **QUIZ}}))[
                "generateContent"
            ]["job"]
            there = await on_second.collect(PROGRESS, {"jobId": job["id"]})
            here = await on_first.collect(PROGRESS, {"jobId": job["id"]})
            resumed = await on_second.collect(PROGRESS, {"jobId": job["id"], "after": 2})

    events = [item["generationProgress"] for item in there]
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert (events[0]["kind"], events[-1]["kind"]) == ("QUEUED", "SUCCEEDED")
    assert there == here
    assert resumed == there[2:]


async def test_a_job_is_refused_whole_while_its_events_cannot_be_published(
    tmp_path: Path,
) -> None:
    with throwaway_redis(tmp_path) as redis:
        # Counters stay in memory here, so the request gets as far as publishing.
        settings = make_settings(
            tmp_path,
            redis_url=redis.url,
            limits={"storage_uri": "memory://", "generations_per_minute": 100},
        )
        with run_server(settings) as server, run_worker(settings):
            client = await register_user(server)
            redis.kill()
            refused = await client.execute(GENERATE, {"input": {"topic": "Tides", **QUIZ}})
            left_behind = await client.data(JOBS)
            redis.start()
            accepted = await client.data(GENERATE, {"input": {"topic": "Tides", **QUIZ}})
            events = await client.collect(
                PROGRESS, {"jobId": accepted["generateContent"]["job"]["id"]}
            )

    assert refused.codes == ["SERVICE_UNAVAILABLE"]
    assert left_behind == {"generationJobs": {"totalCount": 0}}
    assert events[-1]["generationProgress"]["kind"] == "SUCCEEDED"


async def test_a_subscription_ends_with_a_coded_error_when_redis_goes_away(
    tmp_path: Path,
) -> None:
    with throwaway_redis(tmp_path) as redis:
        settings = make_settings(tmp_path, redis_url=redis.url)
        with run_server(settings) as server, run_worker(settings, providers=[StallingProvider()]):
            client = await register_user(server)
            job = (await client.data(GENERATE, {"input": {"topic": "Tides", **QUIZ}}))[
                "generateContent"
            ]["job"]
            seen: list[dict[str, Any]] = []

            async def follow_and_kill_redis_after_text() -> None:
                async for item in client.subscribe(PROGRESS, {"jobId": job["id"]}):
                    seen.append(item["generationProgress"])
                    if item["generationProgress"]["kind"] == "TEXT":
                        redis.kill()
                        seen.append({"killed_at": time.monotonic()})

            with pytest.raises(TransportQueryError) as ended:
                await follow_and_kill_redis_after_text()
            elapsed = time.monotonic() - seen.pop()["killed_at"]

    assert [e["kind"] for e in seen] == ["QUEUED", "STARTED", "ATTEMPT", "TEXT"]
    assert ended.value.errors is not None
    assert [e["extensions"]["code"] for e in ended.value.errors] == ["SERVICE_UNAVAILABLE"]
    assert elapsed < 2
