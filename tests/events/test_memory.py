"""The in-memory event log: gapless, monotonic, replayable, and slow readers hurt nobody."""

from __future__ import annotations

import asyncio

from lafactoria.events.memory import MemoryEventLog
from lafactoria.events.models import EventData, EventKind, JobEvent


def data(kind: EventKind, progress: float) -> EventData:
    return EventData(kind=kind, status="running", progress=progress)


async def collect(log: MemoryEventLog, job_id: str, after: int = 0) -> list[JobEvent]:
    stream = await log.subscribe(job_id, after_sequence=after)
    assert stream is not None
    return [event async for event in stream]


async def test_sequences_are_gapless_and_progress_never_decreases() -> None:
    log = MemoryEventLog(retention_seconds=60)
    await log.open("job", start_sequence=0)
    for kind, progress in [
        (EventKind.QUEUED, 0.0),
        (EventKind.TEXT, 0.5),
        (EventKind.DISCARD, 0.1),
        (EventKind.SUCCEEDED, 1.0),
    ]:
        await log.publish("job", data(kind, progress))

    events = await collect(log, "job")

    assert [e.sequence for e in events] == [1, 2, 3, 4]
    assert [e.data.progress for e in events] == [0.0, 0.5, 0.5, 1.0]


async def test_resume_replays_only_what_follows() -> None:
    log = MemoryEventLog(retention_seconds=60)
    await log.open("job", start_sequence=0)
    for n in range(5):
        await log.publish("job", data(EventKind.TEXT, n / 10))
    await log.publish("job", data(EventKind.SUCCEEDED, 1))

    events = await collect(log, "job", after=4)

    assert [e.sequence for e in events] == [5, 6]


async def test_a_log_reopened_after_a_restart_numbers_on() -> None:
    log = MemoryEventLog(retention_seconds=60)
    await log.open("job", start_sequence=7)
    await log.publish("job", data(EventKind.QUEUED, 0))

    assert await log.last_sequence("job") == 8


async def test_live_followers_get_every_event_while_a_stalled_one_holds_nothing_up() -> None:
    log = MemoryEventLog(retention_seconds=60)
    await log.open("job", start_sequence=0)
    stalled = await log.subscribe("job", after_sequence=0)
    assert stalled is not None
    await log.publish("job", data(EventKind.QUEUED, 0))
    first = await anext(stalled)  # reads one event, then never reads again
    live = asyncio.create_task(collect(log, "job"))

    for n in range(1000):
        await log.publish("job", data(EventKind.TEXT, n / 1000))
    await log.publish("job", data(EventKind.SUCCEEDED, 1))
    events = await asyncio.wait_for(live, timeout=5)
    await stalled.aclose()  # type: ignore[attr-defined]

    assert first.sequence == 1
    assert len(events) == 1002
    assert log.follower_count("job") == 0


async def test_finished_logs_are_evicted_after_retention() -> None:
    log = MemoryEventLog(retention_seconds=0.01)
    await log.open("job", start_sequence=0)
    await log.publish("job", data(EventKind.SUCCEEDED, 1))
    await asyncio.sleep(0.05)

    assert await log.subscribe("job", after_sequence=0) is None
