"""A real uvicorn server on a free loopback port, in a thread with its own event loop."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from lafactoria.app import create_app
from lafactoria.providers.base import Provider
from lafactoria.runtime import Role, open_runtime
from lafactoria.settings import Settings


def free_port() -> int:
    """A loopback port nobody listens on right now, for a server started as its own process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def process_environment(**settings: str) -> dict[str, str]:
    """The environment for a ``python -m lafactoria`` process a test starts: this one's, less
    any La Factoria or provider settings a developer has set, plus ``settings``."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LAFACTORIA_", "OPENAI_", "ANTHROPIC_"))
    }
    return {**inherited, **settings}


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Test settings: isolated from the developer's environment and ``.env`` file."""
    values: dict[str, Any] = {
        "env": "test",
        "data_dir": data_dir,
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "providers": ["offline"],
        "log_level": "warning",
        # A test server stops at once: jobs still running are handed back, not waited for.
        "jobs": {"shutdown_grace_seconds": 0},
    }
    jobs = overrides.pop("jobs", {})
    values.update(overrides)
    values["jobs"] = {**values["jobs"], **jobs}
    return Settings(_env_file=None, **values)


@dataclass
class RunningServer:
    app: FastAPI
    settings: Settings
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


@contextmanager
def run_server(
    settings: Settings, *, providers: Sequence[Provider] | None = None
) -> Iterator[RunningServer]:
    app = create_app(settings, providers=providers)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, lifespan="on", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningServer(app=app, settings=settings, port=port)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextmanager
def run_worker(
    settings: Settings, *, providers: Sequence[Provider] | None = None
) -> Iterator[None]:
    """What ``lafactoria worker`` runs, in a thread with its own event loop: it takes jobs
    from the Redis queue that servers with the same settings fill."""
    ready = threading.Event()
    stop: asyncio.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None
    failure: list[BaseException] = []

    async def work() -> None:
        nonlocal stop, loop
        stop, loop = asyncio.Event(), asyncio.get_running_loop()
        try:
            async with open_runtime(settings, role=Role.WORKER, providers=providers):
                ready.set()
                await stop.wait()
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            raise

    thread = threading.Thread(target=lambda: asyncio.run(work()), daemon=True)
    thread.start()
    if not ready.wait(timeout=20) or failure:
        raise RuntimeError("the test worker did not start") from (failure or [None])[0]
    try:
        yield
    finally:
        assert loop is not None
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=20)
