"""The embedded default: event logs held in this process's memory.

Subscribers read the shared list with their own cursor instead of each getting a queue, so a
slow subscriber holds no buffer of its own and can never slow the job or other subscribers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

from lafactoria.events.models import EventData, JobEvent


class _JobLog:
    __slots__ = ("base_sequence", "events", "followers", "progress", "wakeup")

    def __init__(self, base_sequence: int) -> None:
        self.base_sequence = base_sequence
        self.followers = 0
        self.events: list[JobEvent] = []
        self.progress = 0.0
        self.wakeup = asyncio.Event()

    @property
    def last_sequence(self) -> int:
        return self.base_sequence + len(self.events)


class MemoryEventLog:
    def __init__(self, *, retention_seconds: float) -> None:
        self._logs: dict[str, _JobLog] = {}
        self._retention_seconds = retention_seconds

    async def open(self, job_id: str, *, start_sequence: int) -> None:
        if job_id not in self._logs:
            self._logs[job_id] = _JobLog(start_sequence)

    async def publish(self, job_id: str, data: EventData) -> JobEvent:
        log = self._logs.get(job_id)
        if log is None:
            log = self._logs[job_id] = _JobLog(0)
        log.progress = max(log.progress, data.progress)
        event = JobEvent(
            job_id=job_id,
            sequence=log.last_sequence + 1,
            data=replace(data, progress=log.progress),
        )
        log.events.append(event)
        # Swap in a fresh Event before waking everyone, so a waiter that resumes and finds
        # nothing new waits for the next publish rather than spinning on a set Event.
        wakeup, log.wakeup = log.wakeup, asyncio.Event()
        wakeup.set()
        if event.is_terminal:
            asyncio.get_running_loop().call_later(
                self._retention_seconds, self._logs.pop, job_id, None
            )
        return event

    async def forget(self, job_id: str) -> None:
        self._logs.pop(job_id, None)

    async def last_sequence(self, job_id: str) -> int | None:
        log = self._logs.get(job_id)
        return None if log is None else log.last_sequence

    async def subscribe(
        self, job_id: str, *, after_sequence: int
    ) -> AsyncIterator[JobEvent] | None:
        log = self._logs.get(job_id)
        if log is None:
            return None
        return self._follow(log, after_sequence)

    def follower_count(self, job_id: str) -> int:
        log = self._logs.get(job_id)
        return 0 if log is None else log.followers

    async def aclose(self) -> None:
        # Nothing to release: the logs go with the process, eviction timers with its loop.
        return

    async def _follow(self, log: _JobLog, after_sequence: int) -> AsyncIterator[JobEvent]:
        index = max(0, after_sequence - log.base_sequence)
        log.followers += 1
        try:
            while True:
                while index < len(log.events):
                    event = log.events[index]
                    index += 1
                    yield event
                    if event.is_terminal:
                        return
                if log.events and log.events[-1].is_terminal:
                    return
                await log.wakeup.wait()
        finally:
            log.followers -= 1
