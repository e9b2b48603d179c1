"""Exception text never reaches a client: a provider failure quoting a secret is seen nowhere
(job errors, attempts, subscription events on every transport, responses); an unexpected error
inside a subscription is masked, with a correlation id that leads to the detail in the log."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from lafactoria.providers.base import Provider
from tests.security.attacker import (
    PROGRESS,
    generate,
    operator_sql,
    post,
    sign_up,
    sse_operation,
    wait_for_job,
    ws_operation,
)
from tests.security.providers import (
    SECRET,
    CrashingProvider,
    FailingProvider,
)
from tests.support.graphql import GRAPHQL_WS
from tests.support.server import RunningServer, make_settings, run_server

JOB = """
query Job($id: ID!) {
  generationJob(id: $id) {
    status error { code message } attempts { provider model outcome errorCode }
  }
}"""
WITH_CONTENT = """
subscription Progress($jobId: ID!) {
  generationProgress(jobId: $jobId) { sequence kind content { id title } }
}"""
CORRELATION_ID = re.compile(r"^[0-9a-f]{32}$")


def serve(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[RunningServer]:
    settings = make_settings(tmp_path_factory.mktemp("leaks"), env="production")
    with run_server(settings, providers=[provider]) as running:
        yield running


@pytest.fixture(scope="module")
def crashing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from serve(tmp_path_factory, CrashingProvider())


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from serve(tmp_path_factory, FailingProvider())


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[RunningServer]:
    """A server whose database an operator is about to break under it."""
    with run_server(make_settings(tmp_path, env="production")) as running:
        yield running


async def everything_a_client_sees(server: RunningServer) -> tuple[dict[str, Any], list[Any]]:
    """Start a job, let it fail, and gather every answer about it on every transport."""
    account = await sign_up(server)
    job_id = await generate(server, account)
    await wait_for_job(server, job_id)
    variables = {"jobId": job_id}
    job = await post(server, JOB, {"id": job_id}, token=account.token)
    streams = [
        await ws_operation(server, PROGRESS, variables, token=account.token),
        await ws_operation(server, PROGRESS, variables, token=account.token, protocol=GRAPHQL_WS),
        await sse_operation(server, PROGRESS, variables, token=account.token),
    ]
    return job, streams


def terminal(stream: list[dict[str, Any]]) -> dict[str, Any]:
    events = [
        (message.get("payload") or message)["data"]["generationProgress"]
        for message in stream
        if "data" in (message.get("payload") or message)
    ]
    return events[-1]


async def test_an_unplanned_provider_exception_fails_the_job_without_its_text(
    crashing: RunningServer,
) -> None:
    job, streams = await everything_a_client_sees(crashing)

    assert SECRET not in json.dumps([job, streams])
    assert job["data"]["generationJob"]["status"] == "FAILED"
    assert job["data"]["generationJob"]["error"] == {
        "code": "INTERNAL_ERROR",
        "message": "the job failed unexpectedly",
    }
    for stream in streams:
        assert terminal(stream)["error"] == {
            "code": "INTERNAL_ERROR",
            "message": "the job failed unexpectedly",
        }


async def test_a_provider_error_quoting_a_secret_is_reported_by_code_only(
    failing: RunningServer,
) -> None:
    job, streams = await everything_a_client_sees(failing)

    assert SECRET not in json.dumps([job, streams])
    reported = job["data"]["generationJob"]
    # The message is built from codes and provider names only.
    assert reported["error"]["code"] == "PROVIDER_UNAVAILABLE"
    assert reported["error"]["message"].startswith("generation failed (PROVIDER_UNAVAILABLE)")
    assert {(a["provider"], a["outcome"], a["errorCode"]) for a in reported["attempts"]} == {
        ("failing", "failed", "PROVIDER_UNAVAILABLE")
    }
    for stream in streams:
        assert terminal(stream)["error"] == reported["error"]


async def test_exceptions_inside_subscriptions_and_resolvers_are_masked_and_logged(
    broken: RunningServer,
) -> None:
    account = await sign_up(broken)
    job_id = await generate(broken, account)
    await wait_for_job(broken, job_id)
    variables = {"jobId": job_id}

    with capture_logs() as logs:
        # The SUCCEEDED event's content resolver fails inside a subscription event...
        operator_sql(broken, "ALTER TABLE contents RENAME TO contents_gone")
        in_events = [
            await ws_operation(broken, WITH_CONTENT, variables, token=account.token),
            await ws_operation(
                broken, WITH_CONTENT, variables, token=account.token, protocol=GRAPHQL_WS
            ),
            await sse_operation(broken, WITH_CONTENT, variables, token=account.token),
        ]
        # ...and the subscription's own resolver fails before its first event; so does a
        # query's.
        operator_sql(broken, "ALTER TABLE generation_jobs RENAME TO jobs_gone")
        in_resolvers = [
            await ws_operation(broken, WITH_CONTENT, variables, token=account.token),
            await ws_operation(
                broken, WITH_CONTENT, variables, token=account.token, protocol=GRAPHQL_WS
            ),
            await sse_operation(broken, WITH_CONTENT, variables, token=account.token),
            [await post(broken, JOB, {"id": job_id}, token=account.token)],
        ]

    seen = json.dumps([in_events, in_resolvers])
    for detail in ("no such table", "_gone", "SELECT"):
        assert detail not in seen
    event_errors = errors_in(in_events)
    resolver_errors = errors_in(in_resolvers)
    assert [error["path"] for error in event_errors] == [["generationProgress", "content"]] * 3
    assert [error.get("path") for error in resolver_errors] == [None, None, None, ["generationJob"]]
    logged = {entry.get("correlation_id"): entry for entry in logs}
    for error in event_errors + resolver_errors:
        assert error["message"] == "Internal server error."
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        correlation_id = error["extensions"]["correlationId"]
        assert CORRELATION_ID.match(correlation_id)
        assert logged[correlation_id]["log_level"] == "error"
        assert "no such table" in str(logged[correlation_id]["exc_info"])


def errors_in(streams: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [
        error
        for stream in streams
        for message in stream
        for error in (message.get("payload") or message).get("errors") or []
    ]
