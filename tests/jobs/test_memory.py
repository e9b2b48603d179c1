"""The in-process queue: bounded, all-or-nothing, fair between owners."""

from __future__ import annotations

import asyncio

import pytest

from lafactoria.errors import LimitExceeded
from lafactoria.jobs.base import QueuedJob
from lafactoria.jobs.memory import FairQueue, InProcessJobQueue


def jobs(owner: str, *ids: str) -> list[QueuedJob]:
    return [QueuedJob(job_id=job_id, owner=owner) for job_id in ids]


async def test_owners_take_turns() -> None:
    queue = FairQueue(max_size=10)
    queue.put_all(jobs("alice", "a1", "a2", "a3", "a4"))
    queue.put_all(jobs("bob", "b1"))
    queue.put_all(jobs("carol", "c1", "c2"))

    order = [await queue.get() for _ in range(7)]

    assert order == ["a1", "b1", "c1", "a2", "c2", "a3", "a4"]


async def test_a_batch_that_does_not_fit_is_refused_whole() -> None:
    queue = FairQueue(max_size=3)
    queue.put_all(jobs("alice", "a1", "a2"))

    with pytest.raises(LimitExceeded):
        queue.put_all(jobs("bob", "b1", "b2"))

    assert len(queue) == 2
    assert [await queue.get(), await queue.get()] == ["a1", "a2"]


async def test_concurrency_is_bounded() -> None:
    running = 0
    peak = 0
    done = asyncio.Event()
    finished = 0

    async def handler(job_id: str) -> None:
        nonlocal running, peak, finished
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        finished += 1
        if finished == 12:
            done.set()

    queue = InProcessJobQueue(concurrency=3, max_size=20)
    await queue.start(handler)
    await queue.enqueue(jobs("alice", *(f"j{n}" for n in range(12))))
    await asyncio.wait_for(done.wait(), timeout=5)
    await queue.stop()

    assert peak == 3


async def test_cancel_stops_only_that_job_and_the_worker_lives_on() -> None:
    started = asyncio.Event()
    completed: list[str] = []

    async def handler(job_id: str) -> None:
        if job_id == "stuck":
            started.set()
            await asyncio.Event().wait()
        completed.append(job_id)

    queue = InProcessJobQueue(concurrency=1, max_size=5)
    await queue.start(handler)
    await queue.enqueue(jobs("alice", "stuck", "next"))
    await started.wait()

    assert await queue.cancel("stuck") is True
    for _ in range(100):
        if completed:
            break
        await asyncio.sleep(0.01)
    await queue.stop()

    assert completed == ["next"]
    assert await queue.cancel("stuck") is False


async def test_a_job_cancelled_while_waiting_frees_its_place_at_once() -> None:
    queue = FairQueue(max_size=3)
    queue.put_all(jobs("alice", "a1", "a2", "a3"))

    assert queue.drop("a2") is True
    queue.put_all(jobs("bob", "b1"))  # fits: a2's place is free

    assert queue.drop("a2") is False
    assert "a2" not in queue
    assert [await queue.get() for _ in range(3)] == ["a1", "b1", "a3"]
    assert len(queue) == 0
