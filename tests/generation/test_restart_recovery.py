"""Kill the server process mid-work: the next start finishes every job, none stays RUNNING."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.graphql import GENERATE, PROGRESS, GraphQLClient, register_user
from tests.support.server import RunningServer, free_port, make_settings, process_environment

JOBS = "query { generationJobs(first: 20) { edges { node { id status } } } }"


@contextmanager
def server_process(data_dir: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m lafactoria serve`` as its own process, as a user runs it."""
    env = process_environment()
    env.update(
        LAFACTORIA_DATA_DIR=str(data_dir),
        LAFACTORIA_PORT=str(port),
        LAFACTORIA_PROVIDERS="offline",
        LAFACTORIA_JOBS__CONCURRENCY="1",
        LAFACTORIA_LOG_LEVEL="warning",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "lafactoria", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server process exited"
            assert time.monotonic() < deadline, "the server process did not start"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


async def test_jobs_survive_a_killed_server(tmp_path: Path) -> None:
    port = free_port()
    address = RunningServer(app=None, settings=make_settings(tmp_path), port=port)  # type: ignore[arg-type]
    with server_process(tmp_path, port) as first:
        client = await register_user(address)
        job_ids = []
        for n in range(3):
            data = await client.data(
                GENERATE,
                {
                    "input": {
                        "topic": f"Crash {n}",
                        "contentType": "STUDY_GUIDE",
                        "audienceLevel": "COLLEGE",
                    }
                },
            )
            job_ids.append(data["generateContent"]["job"]["id"])
        for _ in range(100):
            statuses = {
                e["node"]["status"] for e in (await client.data(JOBS))["generationJobs"]["edges"]
            }
            if "RUNNING" in statuses:
                break
            await asyncio.sleep(0.02)
        assert "RUNNING" in statuses
        seen = await events_until_text(client, job_ids[0])
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

    with server_process(tmp_path, port):
        restarted = GraphQLClient(address, client.credential)
        streams = await asyncio.gather(
            *(restarted.collect(PROGRESS, {"jobId": job_id}) for job_id in job_ids)
        )
        resumed = await restarted.collect(PROGRESS, {"jobId": job_ids[0], "after": seen[-1]})
        final = {
            e["node"]["id"]: e["node"]["status"]
            for e in (await restarted.data(JOBS))["generationJobs"]["edges"]
        }

    for events in streams:
        kinds = [e["generationProgress"]["kind"] for e in events]
        assert kinds[-1] == "SUCCEEDED"
        assert kinds.count("SUCCEEDED") == 1
    assert final == dict.fromkeys(job_ids, "SUCCEEDED")
    # A client that saw part of the dead run resumes without any number reused under it: the
    # re-run is announced (drop the text shown so far), then streams whole to its end.
    resumed_events = [item["generationProgress"] for item in resumed]
    assert resumed_events[0]["kind"] == "QUEUED"
    assert resumed_events[0]["discardText"] is True
    assert resumed_events[0]["sequence"] > seen[-1]
    assert [e["kind"] for e in resumed_events].count("SUCCEEDED") == 1
    assert resumed_events[-1]["kind"] == "SUCCEEDED"


async def events_until_text(client: GraphQLClient, job_id: str) -> list[int]:
    """The sequences a subscriber saw up to the job's first TEXT event, as a client that was
    watching when the server died."""
    seen = []
    async for item in client.subscribe(PROGRESS, {"jobId": job_id}):
        seen.append(item["generationProgress"]["sequence"])
        if item["generationProgress"]["kind"] == "TEXT":
            break
    return seen
