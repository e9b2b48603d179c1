"""The reference graphql-transport-ws client (npm graphql-ws, as Apollo and urql use) works."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.graphql import GENERATE, PROGRESS, register_user
from tests.support.server import RunningServer

CLIENT_DIR = Path(__file__).parent / "js"
NODE = shutil.which("node")
NPM = shutil.which("npm")

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None, reason="Node.js and npm are needed to run the JavaScript client"
)


@pytest.fixture(scope="module")
def js_client() -> Path:
    if not (CLIENT_DIR / "node_modules" / "graphql-ws").exists():
        subprocess.run(
            [str(NPM), "install", "--no-package-lock", "--no-audit", "--no-fund", "--silent"],
            cwd=CLIENT_DIR,
            check=True,
            timeout=300,
        )
    return CLIENT_DIR / "subscribe.mjs"


async def test_graphql_ws_client_receives_the_whole_stream(
    server: RunningServer, js_client: Path
) -> None:
    client = await register_user(server)
    job = (
        await client.data(
            GENERATE,
            {"input": {"topic": "Rainbows", "contentType": "QUIZ", "audienceLevel": "ELEMENTARY"}},
        )
    )["generateContent"]["job"]
    assert client.credential is not None

    process = await asyncio.create_subprocess_exec(
        str(NODE),
        str(js_client),
        server.ws_url,
        client.credential,
        job["id"],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)

    assert process.returncode == 0, stderr.decode()
    lines = [json.loads(line) for line in stdout.decode().splitlines()]
    assert lines[-1] == {"complete": True}
    events = [line["data"]["generationProgress"] for line in lines[:-1]]
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["kind"] == "SUCCEEDED"
    python_view = await client.collect(PROGRESS, {"jobId": job["id"]})
    assert len(python_view) == len(events)
