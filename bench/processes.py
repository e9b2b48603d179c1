"""Server processes the benchmark starts: each on a free loopback port, stopped on exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# Signs the throwaway tokens of a server that lives for one run in a temp directory.
SECRET_KEY = "benchmark-secret-key-that-is-long-enough-0123456789"  # noqa: S105


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    port: int
    pid: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def lafactoria_environment(data_dir: Path) -> dict[str, str]:
    """Settings of the server under test, as environment variables.

    The developer's own La Factoria and provider settings are dropped so that every run
    measures the same configuration: the embedded SQLite default, the offline provider.
    """
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LAFACTORIA_", "OPENAI_", "ANTHROPIC_"))
    }
    return {
        **inherited,
        "LAFACTORIA_ENV": "development",
        "LAFACTORIA_DATA_DIR": str(data_dir),
        "LAFACTORIA_SECRET_KEY": SECRET_KEY,
        "LAFACTORIA_PROVIDERS": "offline",
        # Per-request log lines go to a pipe nobody reads; the benchmark measures the API, not
        # the terminal. Warnings and errors still show.
        "LAFACTORIA_LOG_LEVEL": "warning",
        # One user sends thousands of queries a second here; the default cost budget (a few
        # queries of this size a minute) would turn most of them into RATE_LIMITED answers.
        "LAFACTORIA_LIMITS__QUERY_COST_BUDGET": "1000000000",
    }


@contextmanager
def run_process(
    command: Sequence[str], *, port: int, env: dict[str, str] | None = None, ready_path: str
) -> Iterator[Server]:
    """Start ``command``, wait until ``GET ready_path`` answers 200, and stop it on exit."""
    process = subprocess.Popen(  # noqa: S603 - a fixed command line built by this package
        list(command), env=env, stdin=subprocess.DEVNULL
    )
    try:
        _wait_ready(process, f"http://127.0.0.1:{port}{ready_path}")
        yield Server(port=port, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url}: the server did not become ready")


@contextmanager
def run_lafactoria(data_dir: Path, **settings: str) -> Iterator[Server]:
    """``python -m lafactoria serve``: the real server, as users start it. ``settings`` are
    more ``LAFACTORIA_*`` variables (``GRAPHQL__COMPILED_QUERIES="false"``)."""
    port = free_port()
    command = [sys.executable, "-m", "lafactoria", "serve", "--port", str(port)]
    env = lafactoria_environment(data_dir)
    env.update({f"LAFACTORIA_{name}": value for name, value in settings.items()})
    with run_process(command, port=port, env=env, ready_path="/ready") as server:
        yield server


@contextmanager
def run_stock(data_dir: Path) -> Iterator[Server]:
    """:mod:`bench.stock`: the same app plus a stock Strawberry router, on the same data."""
    port = free_port()
    command = [sys.executable, "-m", "bench.stock", "--port", str(port)]
    with run_process(
        command, port=port, env=lafactoria_environment(data_dir), ready_path="/ready"
    ) as server:
        yield server


@contextmanager
def run_raw(body_file: Path) -> Iterator[Server]:
    """The raw ASGI ceiling (:mod:`bench.raw`), answering the bytes in ``body_file``."""
    port = free_port()
    command = [sys.executable, "-m", "bench.raw", "--port", str(port), str(body_file)]
    with run_process(command, port=port, ready_path="/") as server:
        yield server
