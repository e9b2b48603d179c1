"""The EventLog contract, held by both adapters: gapless, monotonic, replayable, live, and a
slow reader hurts nobody."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, nullcontext

import pytest

from lafactoria.events.memory import MemoryEventLog
from lafactoria.events.models import EventData, EventKind, EventLog, JobEvent
from lafactoria.events.redis import RedisEventLog
from tests.support.redis import isolated_prefix, redis_test_url

MakeLog = Callable[..., EventLog]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make_log(request: pytest.FixtureRequest) -> AsyncIterator[MakeLog]:
    """Builds logs of one adapter; Redis logs of one test share a prefix and are closed."""
    logs: list[EventLog] = []
    prefix_scope: AbstractAsyncContextManager[str] = (
        isolated_prefix() if request.param == "redis" else nullcontext("")
    )
    async with prefix_scope as prefix:

        def make(*, retention_seconds: float = 60) -> EventLog:
            log: EventLog
            if request.param == "memory":
                log = MemoryEventLog(retention_seconds=retention_seconds)
            else:
                log = RedisEventLog.from_url(
                    redis_test_url(), retention_seconds=retention_seconds, prefix=prefix
                )
            logs.append(log)
            return log

        try:
            yield make
        finally:
            for log in logs:
                await log.aclose()


def data(kind: EventKind, progress: float, *, text_delta: str | None = None) -> EventData:
    return EventData(kind=kind, status="running", progress=progress, text_delta=text_delta)


async def collect(log: EventLog, job_id: str, after: int = 0) -> list[JobEvent]:
    stream = await log.subscribe(job_id, after_sequence=after)
    assert stream is not None
    return [event async for event in stream]


async def test_sequences_are_gapless_and_progress_never_decreases(make_log: MakeLog) -> None:
    log = make_log()
    await log.open("job", start_sequence=0)
    published = [
        await log.publish("job", data(kind, progress))
        for kind, progress in [
            (EventKind.QUEUED, 0.0),
            (EventKind.TEXT, 0.5),
            (EventKind.DISCARD, 0.1),
            (EventKind.SUCCEEDED, 1.0),
        ]
    ]

    events = await collect(log, "job")

    assert [e.sequence for e in events] == [1, 2, 3, 4]
    assert [e.data.progress for e in events] == [0.0, 0.5, 0.5, 1.0]
    assert events == published


async def test_every_field_survives_the_log(make_log: MakeLog) -> None:
    log = make_log()
    await log.open("job", start_sequence=0)
    sent = EventData(
        kind=EventKind.TEXT,
        status="running",
        progress=0.123456789012345678,
        message="asking anthropic (claude) «again»",
        provider="anthropic",
        model="claude",
        attempt=2,
        text_delta='{"title": "Ünïcode \\n"}',
        discard_text=True,
        content_id="c1",
        error_code="E",
    )
    published = await log.publish("job", sent)
    await log.publish("job", data(EventKind.FAILED, 1.0))

    first, _ = await collect(log, "job")

    assert first == published
    assert first.data == sent


async def test_resume_replays_only_what_follows(make_log: MakeLog) -> None:
    log = make_log()
    await log.open("job", start_sequence=0)
    for n in range(5):
        await log.publish("job", data(EventKind.TEXT, n / 10))
    await log.publish("job", data(EventKind.SUCCEEDED, 1))

    events = await collect(log, "job", after=4)

    assert [e.sequence for e in events] == [5, 6]


async def test_a_log_reopened_after_a_restart_numbers_on(make_log: MakeLog) -> None:
    log = make_log()
    await log.open("job", start_sequence=7)
    await log.open("job", start_sequence=0)  # a second open changes nothing
    await log.publish("job", data(EventKind.QUEUED, 0))
    await log.publish("job", data(EventKind.SUCCEEDED, 1))

    assert await log.last_sequence("job") == 9
    assert [e.sequence for e in await collect(log, "job")] == [8, 9]


async def test_live_followers_get_every_event_while_a_stalled_one_holds_nothing_up(
    make_log: MakeLog,
) -> None:
    log = make_log()
    await log.open("job", start_sequence=0)
    stalled = await log.subscribe("job", after_sequence=0)
    assert stalled is not None
    await log.publish("job", data(EventKind.QUEUED, 0))
    first = await anext(stalled)  # reads one event, then nothing until the job is over
    live = asyncio.create_task(collect(log, "job"))

    for n in range(1000):
        await log.publish("job", data(EventKind.TEXT, n / 1000, text_delta=str(n)))
    await log.publish("job", data(EventKind.SUCCEEDED, 1))
    events = await asyncio.wait_for(live, timeout=10)
    rest = [event async for event in stalled]

    assert first.sequence == 1
    assert [e.sequence for e in events] == list(range(1, 1003))
    assert [e.sequence for e in rest] == list(range(2, 1003))
    assert [e.data.text_delta for e in rest[:-1]] == [str(n) for n in range(1000)]
    assert log.follower_count("job") == 0


async def test_a_follower_that_leaves_early_is_no_longer_counted(make_log: MakeLog) -> None:
    log = make_log()
    await log.open("job", start_sequence=0)
    await log.publish("job", data(EventKind.QUEUED, 0))
    stream = await log.subscribe("job", after_sequence=0)
    assert stream is not None

    await anext(stream)
    waiting = asyncio.create_task(anext(stream))
    await asyncio.sleep(0.2)
    counted = log.follower_count("job")
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    await stream.aclose()  # type: ignore[attr-defined]  # the adapters return async generators

    assert (counted, log.follower_count("job")) == (1, 0)


async def test_finished_logs_are_evicted_after_retention(make_log: MakeLog) -> None:
    log = make_log(retention_seconds=0.05)
    await log.open("job", start_sequence=0)
    await log.publish("job", data(EventKind.SUCCEEDED, 1))
    kept = await log.last_sequence("job")
    await asyncio.sleep(0.2)

    assert kept == 1
    assert await log.subscribe("job", after_sequence=0) is None
    assert await log.last_sequence("job") is None


async def test_a_terminal_event_completes_waiting_followers(make_log: MakeLog) -> None:
    log = make_log()
    await log.open("job", start_sequence=0)
    await log.publish("job", data(EventKind.QUEUED, 0))
    followers = [asyncio.create_task(collect(log, "job", after=n)) for n in (0, 1, 1)]
    await asyncio.sleep(0.2)  # all of them caught up and waiting

    await log.publish("job", data(EventKind.CANCELLED, 1))
    done = await asyncio.wait_for(asyncio.gather(*followers), timeout=5)

    assert [[e.sequence for e in events] for events in done] == [[1, 2], [2], [2]]
    # After the end, a new subscriber replays and completes at once.
    assert [e.sequence for e in await collect(log, "job", after=1)] == [2]


async def test_unknown_and_forgotten_jobs_have_no_log(make_log: MakeLog) -> None:
    log = make_log()
    await log.open("job", start_sequence=0)
    await log.publish("job", data(EventKind.QUEUED, 0))
    await log.forget("job")

    assert await log.subscribe("job", after_sequence=0) is None
    assert await log.subscribe("never", after_sequence=0) is None
    assert await log.last_sequence("job") is None
