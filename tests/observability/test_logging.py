"""The JSON log of ``lafactoria serve``: one line per request and per job, with their ids."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lafactoria.graphql.ids import decode_id
from tests.support.server import free_port, process_environment

PASSWORD = "correct horse battery"


class Served:
    """``lafactoria serve`` in its own process, stopped like an operator would (Ctrl-C)."""

    def __init__(self, data_dir: Path) -> None:
        port = free_port()
        env = process_environment()
        env.update(
            LAFACTORIA_ENV="test",
            LAFACTORIA_DATA_DIR=str(data_dir),
            LAFACTORIA_SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
            LAFACTORIA_PROVIDERS="offline",
            LAFACTORIA_PORT=str(port),
        )
        self.base_url = f"http://127.0.0.1:{port}"
        self.log: str | None = None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lafactoria", "serve"],
            cwd=data_dir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.base_url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("lafactoria serve did not start")
            time.sleep(0.1)

    def stop(self) -> list[dict[str, Any]]:
        """Stop the server and return its log, one decoded JSON object per line."""
        if self.log is None:
            self.process.send_signal(signal.SIGINT)
            _, stderr = self.process.communicate(timeout=30)
            self.log = stderr
        return [json.loads(line) for line in self.log.splitlines()]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path)
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


def post(base_url: str, body: dict[str, Any], request_id: str, token: str | None = None) -> Any:
    headers = {"X-Request-ID": request_id}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.post(f"{base_url}/graphql", json=body, headers=headers)
    assert response.headers["x-request-id"] == request_id
    return response.json()["data"]


def test_each_request_and_job_is_one_json_line_with_its_ids(served: Served) -> None:
    base_url = served.base_url
    account = {"input": {"email": "ada@example.org", "password": PASSWORD}}
    registered = post(
        base_url,
        {"query": "mutation R($input: RegisterInput!) { register(input: $input) { user { id } } }",
         "variables": account},
        "req-register",
    )  # fmt: skip
    token = post(
        base_url,
        {"query": "mutation L($input: LoginInput!) { login(input: $input) { accessToken } }",
         "variables": account},
        "req-login",
    )["login"]["accessToken"]  # fmt: skip
    post(base_url, {"query": "query Viewer { viewer { email } }"}, "req-viewer", token)
    job_id = post(
        base_url,
        {"query": 'mutation Generate { generateContent(input: {topic: "Moss", contentType: QUIZ, '
         "audienceLevel: COLLEGE}) { job { id } } }"},
        "req-generate",
        token,
    )["generateContent"]["job"]["id"]  # fmt: skip
    status_query = {"query": f'{{ generationJob(id: "{job_id}") {{ status }} }}'}
    deadline = time.monotonic() + 10
    while post(base_url, status_query, "req-poll", token)["generationJob"]["status"] != "SUCCEEDED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    httpx.get(f"{base_url}/health")
    lines = served.stop()  # every line of it must be JSON

    user_id = decode_id(registered["register"]["user"]["id"], "User")
    raw_job_id = decode_id(job_id, "GenerationJob")
    requests = {line["request_id"]: line for line in lines if line["event"] == "http_request"}
    viewer = requests["req-viewer"]
    assert viewer["method"] == "POST"
    assert viewer["path"] == "/graphql"
    assert viewer["status"] == 200
    assert viewer["operation"] == "Viewer"
    assert viewer["user_id"] == user_id
    assert viewer["level"] == "info"
    assert isinstance(viewer["duration_ms"], float)
    assert "timestamp" in viewer
    assert requests["req-register"]["user_id"] is None  # nobody was logged in
    assert requests["req-generate"]["operation"] == "Generate"
    # Lines written while serving a request carry its id.
    queued = next(line for line in lines if line["event"] == "job_queued")
    assert (queued["request_id"], queued["job_id"]) == ("req-generate", raw_job_id)
    finished = next(line for line in lines if line["event"] == "job_finished")
    assert (finished["job_id"], finished["user_id"]) == (raw_job_id, user_id)
    assert isinstance(finished["duration_ms"], int)
    # One line per request: no access log besides, and probes stay below info.
    assert not [line for line in lines if line.get("logger") == "uvicorn.access"]
    assert not [line for line in lines if line.get("path") == "/health"]
