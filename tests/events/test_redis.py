"""The Redis event log beyond the shared contract: many processes, outages, what it stores."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from lafactoria.errors import Unavailable
from lafactoria.events.models import EventData, EventKind, JobEvent
from lafactoria.events.redis import RedisEventLog
from tests.support.redis import isolated_prefix, redis_test_url, throwaway_redis

pytestmark = pytest.mark.redis


def text(delta: str, progress: float = 0.5) -> EventData:
    return EventData(kind=EventKind.TEXT, status="running", progress=progress, text_delta=delta)


DONE = EventData(kind=EventKind.SUCCEEDED, status="succeeded", progress=1.0)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    async with isolated_prefix() as prefix:
        yield prefix


def open_log(prefix: str, url: str | None = None, retention: float = 60) -> RedisEventLog:
    return RedisEventLog.from_url(
        url or redis_test_url(), retention_seconds=retention, prefix=prefix
    )


async def drain(stream: AsyncIterator[JobEvent] | None, until: int = 0) -> list[JobEvent]:
    """Every event of ``stream``, or those through sequence ``until`` when given."""
    assert stream is not None
    events = []
    async with asyncio.timeout(10):
        async for event in stream:
            events.append(event)
            if event.sequence == until:
                break
    return events


async def test_every_process_sees_every_event_of_every_process_once_in_order(prefix: str) -> None:
    # Separate logs are separate connection pools and reader tasks: separate processes.
    first, second, third = open_log(prefix), open_log(prefix), open_log(prefix)
    try:
        await first.open("job", start_sequence=0)
        await second.open("job", start_sequence=0)
        from_start = asyncio.create_task(drain(await third.subscribe("job", after_sequence=0)))
        for n in range(300):
            await (first if n % 2 else second).publish("job", text(str(n), n / 1000))
        # Joins mid-stream, on a process that has never seen the job.
        late = asyncio.create_task(drain(await second.subscribe("job", after_sequence=100)))
        for n in range(300, 600):
            await (second if n % 3 else first).publish("job", text(str(n), n / 1000))
        await third.publish("job", DONE)

        seen_from_start, seen_late = await asyncio.wait_for(
            asyncio.gather(from_start, late), timeout=10
        )
    finally:
        for log in (first, second, third):
            await log.aclose()

    assert [e.sequence for e in seen_from_start] == list(range(1, 602))
    assert [e.data.text_delta for e in seen_from_start[:-1]] == [str(n) for n in range(600)]
    assert [e.sequence for e in seen_late] == list(range(101, 602))
    assert seen_late == seen_from_start[100:]
    assert seen_late[-1].data.kind is EventKind.SUCCEEDED


async def test_many_subscribers_of_many_jobs_share_one_reader(prefix: str) -> None:
    publisher, subscriber = open_log(prefix), open_log(prefix)
    jobs = [f"job-{n}" for n in range(20)]
    try:
        for job in jobs:
            await publisher.open(job, start_sequence=0)
        followers = [
            asyncio.create_task(drain(await subscriber.subscribe(job, after_sequence=0)))
            for job in jobs
            for _ in range(10)
        ]
        await asyncio.sleep(0.3)
        # Everyone has replayed and waits: only the reader's XREAD holds a connection.
        following = len(subscriber._redis.connection_pool._in_use_connections)
        for n in range(5):
            for job in jobs:
                await publisher.publish(job, text(f"{job}/{n}"))
        for job in jobs:
            await publisher.publish(job, DONE)
        results = await asyncio.wait_for(asyncio.gather(*followers), timeout=10)
    finally:
        await publisher.aclose()
        await subscriber.aclose()

    assert following == 1
    assert all([e.sequence for e in events] == [1, 2, 3, 4, 5, 6] for events in results)


async def test_entries_are_compact_and_a_finished_log_expires(prefix: str) -> None:
    log = open_log(prefix, retention=30)
    redis = Redis.from_url(redis_test_url())
    try:
        await log.open("job", start_sequence=0)
        await log.publish("job", text("hi", 0.25))
        ttl_while_running = await redis.pttl(f"{prefix}:job:job:events")
        finished = await log.publish("job", DONE)
        [(entry_id, fields)] = await redis.xrange(f"{prefix}:job:job:events", min="2", max="+")
        ttls = [await redis.pttl(f"{prefix}:job:job:{part}") for part in ("meta", "events")]
    finally:
        await redis.aclose()
        await log.aclose()

    assert ttl_while_running == -1  # a running job's log never expires under it
    assert entry_id == b"2-0"
    stamp = finished.at.isoformat()
    assert fields == {
        b"p": b"1.0",
        b"d": f'{{"kind":"succeeded","status":"succeeded","at":"{stamp}"}}'.encode(),
    }
    assert all(25_000 < ttl <= 30_000 for ttl in ttls)


async def test_an_outage_ends_subscriptions_promptly_and_the_log_recovers(
    tmp_path: Path,
) -> None:
    with throwaway_redis(tmp_path) as server:
        log = open_log("outage:", server.url)
        try:
            await log.open("job", start_sequence=0)
            await log.publish("job", text("before"))
            stream = await log.subscribe("job", after_sequence=0)
            assert stream is not None
            assert (await anext(stream)).data.text_delta == "before"
            waiting = asyncio.create_task(anext(stream))
            await asyncio.sleep(0.3)  # the subscriber waits on the reader's XREAD

            server.kill()
            started = time.monotonic()
            with pytest.raises(Unavailable) as ended:
                await asyncio.wait_for(waiting, timeout=5)
            elapsed = time.monotonic() - started
            with pytest.raises(Unavailable):
                await log.publish("job", text("during"))
            with pytest.raises(Unavailable):
                await log.subscribe("job", after_sequence=0)

            server.start()
            await log.open("after", start_sequence=0)
            follower = asyncio.create_task(drain(await log.subscribe("after", after_sequence=0)))
            await log.publish("after", text("back"))
            await log.publish("after", DONE)
            recovered = await asyncio.wait_for(follower, timeout=5)
        finally:
            await log.aclose()

    assert ended.value.code == "SERVICE_UNAVAILABLE"
    assert elapsed < 2
    assert [(e.sequence, e.data.text_delta) for e in recovered] == [(1, "back"), (2, None)]


async def test_numbering_and_progress_go_on_after_redis_loses_the_log(tmp_path: Path) -> None:
    with throwaway_redis(tmp_path) as server:
        worker, watcher, api = (open_log("lost:", server.url) for _ in range(3))
        try:
            await worker.open("job", start_sequence=0)
            before = [await worker.publish("job", text(str(n), 0.1 * n)) for n in range(1, 6)]
            seen = await drain(await watcher.subscribe("job", after_sequence=0), until=5)

            # Restarted without persistence: every key is gone, the job runs on.
            server.kill()
            server.start()
            await reconnect(worker)
            # A process that knows less re-makes the lost log from the job's stored sequence
            # (1 until it finishes), as ``progress`` does for a subscriber.
            await api.open("job", start_sequence=1)
            resumed = asyncio.create_task(drain(await api.subscribe("job", after_sequence=5)))
            behind = asyncio.create_task(drain(await api.subscribe("job", after_sequence=2)))
            await asyncio.sleep(0.3)  # both found nothing to replay and follow live
            after = [await worker.publish("job", text("late", 0.2))]
            after.append(await worker.publish("job", text("later", 0.9)))
            after.append(await worker.publish("job", DONE))
            got, got_behind = await asyncio.wait_for(asyncio.gather(resumed, behind), timeout=5)
            from_start = await drain(await api.subscribe("job", after_sequence=0))
        finally:
            for log in (worker, watcher, api):
                await log.aclose()

    assert [e.sequence for e in before] == [1, 2, 3, 4, 5]
    assert [e.sequence for e in seen] == [1, 2, 3, 4, 5]
    assert [(e.sequence, e.data.progress) for e in after] == [(6, 0.5), (7, 0.9), (8, 1.0)]
    assert got == after
    # Events lost with Redis's data are not made up: the one behind gets what survived.
    assert got_behind == after
    # Replay after the loss starts at the first event that survived it, never renumbered.
    assert from_start == after


async def test_a_process_that_only_opened_the_log_numbers_on_after_a_loss(
    tmp_path: Path,
) -> None:
    with throwaway_redis(tmp_path) as server:
        api, worker = open_log("lost:", server.url), open_log("lost:", server.url)
        try:
            await api.open("job", start_sequence=0)
            await api.publish("job", text("queued", 0.0))
            await api.publish("job", text("more", 0.3))
            await worker.open("job", start_sequence=1)  # claims it: the log holds 2 by now
            server.kill()
            server.start()
            await reconnect(worker)
            started = await worker.publish("job", text("started", 0.05))
            last = await worker.last_sequence("job")
        finally:
            await api.aclose()
            await worker.aclose()

    assert (started.sequence, started.data.progress) == (3, 0.3)
    assert last == 3


async def test_a_finished_or_forgotten_job_leaves_no_floor_behind(prefix: str) -> None:
    log = open_log(prefix)
    try:
        for job in ("done", "dropped"):
            await log.open(job, start_sequence=0)
            await log.publish(job, text("hi"))
        await log.publish("done", DONE)
        await log.forget("dropped")
        floors = dict(log._floors)
    finally:
        await log.aclose()

    assert floors == {}


async def reconnect(log: RedisEventLog) -> None:
    """Let ``log`` find Redis again: its pooled connection fails once after a restart."""
    for _ in range(3):
        with contextlib.suppress(Unavailable):
            await log.ping()
            return
    await log.ping()
