"""The Redis queue against a real Redis: delivery, back-pressure, redelivery, cancels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis

from lafactoria.errors import LimitExceeded
from lafactoria.jobs.base import QueuedJob
from lafactoria.jobs.redis import RedisJobQueue
from tests.support.redis import RedisForTests, isolated_redis

pytestmark = pytest.mark.redis

CLAIM_TIMEOUT = 0.3


@pytest.fixture
async def redis() -> AsyncIterator[RedisForTests]:
    async with isolated_redis() as redis:
        yield redis


def jobs(*ids: str) -> list[QueuedJob]:
    return [QueuedJob(job_id=job_id, owner="alice") for job_id in ids]


def make_queue(
    redis: RedisForTests, *, consumer: str = "w1", backlog: int = 0, concurrency: int = 2
) -> RedisJobQueue:
    async def count() -> int:
        return backlog

    return RedisJobQueue(
        url=redis.url,
        prefix=redis.prefix,
        consumer=consumer,
        concurrency=concurrency,
        max_size=3,
        backlog=count,
        claim_timeout_seconds=CLAIM_TIMEOUT,
        shutdown_grace_seconds=0,
    )


class Recorder:
    """A handler that records the job ids it runs, optionally blocking until cancelled."""

    def __init__(self, *, block: bool = False) -> None:
        self.started: list[str] = []
        self.cancelled: list[str] = []
        self.block = block
        self._changed = asyncio.Condition()

    async def __call__(self, job_id: str) -> None:
        async with self._changed:
            self.started.append(job_id)
            self._changed.notify_all()
        if self.block:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.append(job_id)
                raise

    async def wait_for(self, count: int) -> list[str]:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.started) >= count), timeout=10
            )
        return self.started


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.02)


async def test_enqueued_jobs_reach_a_worker_and_leave_the_stream(redis: RedisForTests) -> None:
    producer, worker, handler = make_queue(redis), make_queue(redis), Recorder()
    await worker.start(handler)
    try:
        await producer.enqueue(jobs("a", "b", "c"))

        assert sorted(await handler.wait_for(3)) == ["a", "b", "c"]
        async with Redis.from_url(redis.url) as client:
            await eventually(lambda: _length(client, producer.stream, 0))
        assert await producer.missing(["a", "b", "c"]) == {"a", "b", "c"}
    finally:
        await worker.stop()
        await producer.stop()


async def test_a_batch_over_the_limit_is_refused_whole(redis: RedisForTests) -> None:
    full = make_queue(redis, backlog=4)  # 4 queued in the database, new ones included
    fits = make_queue(redis, backlog=3)
    try:
        with pytest.raises(LimitExceeded):
            await full.enqueue(jobs("a", "b"))
        assert await full.missing(["a", "b"]) == {"a", "b"}

        await fits.enqueue(jobs("c", "d"))
        assert await fits.missing(["a", "b", "c", "d"]) == {"a", "b"}
    finally:
        await full.stop()
        await fits.stop()


async def test_a_message_a_dead_worker_took_is_delivered_again(redis: RedisForTests) -> None:
    producer = make_queue(redis)
    await producer.enqueue(jobs("a"))
    async with Redis.from_url(redis.url) as client:
        # A worker that reads the message and dies before acknowledging it.
        await client.xgroup_create(producer.stream, producer.group, id="0")
        taken = await client.xreadgroup(producer.group, "doomed", {producer.stream: ">"}, count=1)
        assert len(taken[0][1]) == 1
    # Held by a consumer, the job is on its way: the sweep does not send it again.
    assert await producer.missing(["a"]) == set()
    survivor, handler = make_queue(redis, consumer="survivor"), Recorder()
    await survivor.start(handler)
    try:
        # Idle past the claim timeout, it is reclaimed, with no other message to wake anyone.
        assert await handler.wait_for(1) == ["a"]
        async with Redis.from_url(redis.url) as client:
            await eventually(lambda: _length(client, producer.stream, 0))
    finally:
        await survivor.stop()
        await producer.stop()


async def test_a_duplicate_message_reaches_the_handler_again(redis: RedisForTests) -> None:
    """The queue does not deduplicate: the handler's database claim does (see
    tests/generation/test_leases.py)."""
    producer, worker, handler = make_queue(redis), make_queue(redis), Recorder()
    await worker.start(handler)
    try:
        await producer.requeue(jobs("a", "a"))
        assert await handler.wait_for(2) == ["a", "a"]
    finally:
        await worker.stop()
        await producer.stop()


async def test_a_cancel_reaches_the_worker_running_the_job(redis: RedisForTests) -> None:
    api, worker, handler = make_queue(redis), make_queue(redis), Recorder(block=True)
    await worker.start(handler)
    try:
        await api.enqueue(jobs("a"))
        await handler.wait_for(1)

        assert await api.cancel("a") is False  # not running in the API process
        await eventually(lambda: _true(handler.cancelled == ["a"]))
    finally:
        await worker.stop()
        await api.stop()


async def test_stop_gives_running_jobs_back_to_their_handler(redis: RedisForTests) -> None:
    producer, worker, handler = make_queue(redis), make_queue(redis), Recorder(block=True)
    await worker.start(handler)
    await producer.requeue(jobs("a"))
    await producer.stop()
    await handler.wait_for(1)

    await worker.stop()

    assert handler.cancelled == ["a"]
    async with Redis.from_url(redis.url) as client:
        assert await client.xlen(worker.stream) == 0


async def _length(client: Redis, stream: str, expected: int) -> bool:
    return int(await client.xlen(stream)) == expected


async def _true(value: bool) -> bool:
    return value
