"""A Redis for tests: the server ``LAFACTORIA_TEST_REDIS_URL`` names, with a key prefix of the
test's own that is deleted afterwards, so tests can share one database."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis


@dataclass(frozen=True)
class RedisForTests:
    url: str
    prefix: str


@asynccontextmanager
async def isolated_redis() -> AsyncIterator[RedisForTests]:
    url = os.environ["LAFACTORIA_TEST_REDIS_URL"]
    prefix = f"lafactoria-test-{uuid.uuid4().hex[:12]}"
    try:
        yield RedisForTests(url=url, prefix=prefix)
    finally:
        async with Redis.from_url(url) as redis:
            keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
            if keys:
                await redis.delete(*keys)
