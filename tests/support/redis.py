"""Redis for tests: the shared test server, isolated per test by a key prefix, and throwaway
servers a test may stop and start again."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from tests.support.server import free_port


def redis_test_url() -> str:
    """The Redis the ``redis``-marked tests use (they are skipped without it)."""
    return os.environ["LAFACTORIA_TEST_REDIS_URL"]


@asynccontextmanager
async def isolated_prefix(url: str | None = None) -> AsyncIterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards."""
    prefix = f"lafactoria-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        client = Redis.from_url(url or redis_test_url())
        try:
            keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


@dataclass(frozen=True)
class RedisForTests:
    url: str
    prefix: str


@asynccontextmanager
async def isolated_redis() -> AsyncIterator[RedisForTests]:
    """The test Redis and a key prefix of the test's own (see ``isolated_prefix``)."""
    async with isolated_prefix() as prefix:
        yield RedisForTests(url=redis_test_url(), prefix=prefix)


class ThrowawayRedis:
    """A ``redis-server`` of its own on a loopback port, without persistence."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable is not None, "redis-server is not installed"
        self._process = subprocess.Popen(
            [
                *(executable, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the throwaway redis-server did not start")
            time.sleep(0.02)

    def kill(self) -> None:
        """Stop it the hard way, as a crash or a lost network would."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


@contextmanager
def throwaway_redis(directory: Path) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()
