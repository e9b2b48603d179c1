"""The scale-out adapter: job event logs in Redis Streams, shared by every process.

Two keys per job, under the configured prefix:

    {prefix}:job:{id}:meta     hash: ``seq`` (newest sequence), ``progress`` (highest so far)
    {prefix}:job:{id}:events   stream: one entry per event, its ID ``<sequence>-0``

Publishing is one Lua script, so clamping the progress, numbering, appending and (for the
terminal event) setting the expiry happen atomically whichever process publishes. Because the
entry ID is the sequence, replay is ``XRANGE`` from ``after + 1`` and following is ``XREAD``
from the last sequence seen.

Following uses one reader task per process: it ``XREAD``s every stream a local subscriber is
waiting on in one blocking call and keeps the newest events of each job in a small shared
window. As in the memory log, each subscriber reads with its own cursor (a sequence number):
one that falls behind the window reads its backlog from Redis in pages instead, so a slow
subscriber holds no buffer and holds no one up, and thousands of subscribers share one
blocking connection.

Redis may lose a job's keys while the job runs (it restarts without persistence here). So
that numbering and progress never go back for a job, each process remembers, per job it
opens or publishes to, the newest sequence and progress it saw the log reach (its *floor*),
and both scripts raise the log to the caller's floor before anything else: a lost log is
made again from it, and so is one another process re-made lower from what it knew (the
job's stored sequence). A floor is dropped with the terminal event and by ``forget``, and
only the most recently used ``_FLOORS`` are kept. The events published before the loss are
gone: ``XRANGE`` replay simply starts at the first event that survived, so a subscriber
replaying after a loss receives the job's events from the loss on, under their own numbers
(never renumbered ones), and the job's stored outcome still ends every stream (see
``GenerationService.progress``). A process with no floor for the job (one that never opened
it) can only number on from the job's stored sequence.

Redis errors become :class:`~lafactoria.errors.Unavailable`: a publish raises it, and every
subscriber waiting on the reader ends with it when the reader's connection fails. Nothing is
retried inside a call (a retried append could publish an event twice); the next call
reconnects, so the log works again as soon as Redis does.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar, cast

import structlog
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.typing import KeyT, StreamIdT

from lafactoria.db.types import utcnow
from lafactoria.errors import Unavailable
from lafactoria.events.models import EventData, EventKind, JobEvent

T = TypeVar("T")
# Stream entries as RESP2 without decoding delivers them (the client is built that way).
_Entries = list[tuple[bytes, dict[bytes, bytes]]]

log = structlog.get_logger(__name__)

_UNREACHABLE = "the event log (Redis) is unreachable"

# Newest events kept per followed job in this process; subscribers further behind page
# through Redis instead.
_WINDOW = 256
_PAGE = 256
# How long one XREAD waits for news. A job's first local subscriber joins the reader's next
# call, so this bounds how late its first live event can be (it has replayed everything
# before it); waking the reader sooner would cost a Redis round trip per subscription.
_BLOCK_MS = 100
# Connections per process, whatever the number of subscribers: the reader holds one, and a
# burst of new subscribers replaying at once waits for the others rather than opening more.
_MAX_CONNECTIONS = 16
# A Redis that stops answering (rather than refusing) must still end subscriptions promptly.
_SOCKET_TIMEOUT_SECONDS = 5.0
_CONNECT_TIMEOUT_SECONDS = 2.0
# Jobs whose floor a process remembers. A worker publishes to a few running jobs, which stay
# the most recently used; an API process opens every job it accepts but rarely sees one end.
_FLOORS = 10_000

# Where the meta hash (KEYS[1]) stands, raised to a floor and written back; a missing hash
# starts from ``start``. A floor is a sequence and progress the log really reached, so in a
# log that kept its keys it is never above what the hash holds and changes nothing.
# ``floor_progress`` is '' for none. Progress travels as the shortest repr of the float and
# is compared numerically, so the value stored is exactly one a publisher sent.
_RESTORE = """
local function restore(start, floor_seq, floor_progress)
  local seq = tonumber(redis.call('HGET', KEYS[1], 'seq')) or tonumber(start)
  seq = math.max(seq, tonumber(floor_seq))
  local progress = redis.call('HGET', KEYS[1], 'progress')
  if floor_progress ~= '' and (not progress or tonumber(progress) < tonumber(floor_progress)) then
    progress = floor_progress
  end
  redis.call('HSET', KEYS[1], 'seq', seq)
  if progress then
    redis.call('HSET', KEYS[1], 'progress', progress)
  end
  return seq, progress
end
"""

# KEYS: meta. ARGV: start sequence, floor sequence, floor progress.
_OPEN = (
    _RESTORE
    + """
local seq, progress = restore(ARGV[1], ARGV[2], ARGV[3])
return {seq, progress}
"""
)

# KEYS: meta, stream. ARGV: progress, payload, terminal ("1"/"0"), retention in ms, floor
# sequence, floor progress.
_APPEND = (
    _RESTORE
    + """
local seq, progress = restore('0', ARGV[5], ARGV[6])
seq = seq + 1
if not progress or tonumber(ARGV[1]) > tonumber(progress) then
  progress = ARGV[1]
end
redis.call('HSET', KEYS[1], 'seq', seq, 'progress', progress)
redis.call('XADD', KEYS[2], seq .. '-0', 'p', progress, 'd', ARGV[2])
if ARGV[3] == '1' then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return {seq, progress}
"""
)


class _Watch:
    """What the reader has taken from one job's stream for this process's subscribers."""

    __slots__ = ("events", "failure", "followers", "head", "wakeup")

    def __init__(self, head: int) -> None:
        self.head = head
        """The newest sequence read from Redis; the window ends with it."""
        self.events: deque[JobEvent] = deque(maxlen=_WINDOW)
        self.followers = 0
        self.wakeup = asyncio.Event()
        self.failure: BaseException | None = None
        """Why the reader stopped: each follower then ends with :class:`Unavailable`."""

    @property
    def finished(self) -> bool:
        return bool(self.events) and self.events[-1].is_terminal

    def after(self, sequence: int) -> list[JobEvent] | None:
        """The window's events after ``sequence``; ``None`` when some of them have left it."""
        if sequence >= self.head:
            return []
        base = self.head - len(self.events)
        if sequence < base:
            return None
        return list(self.events)[sequence - base :]

    def wake(self) -> None:
        # A fresh Event before waking everyone, as in the memory log: a waiter that finds
        # nothing new waits for the next batch instead of spinning.
        wakeup, self.wakeup = self.wakeup, asyncio.Event()
        wakeup.set()


class RedisEventLog:
    """:class:`~lafactoria.events.models.EventLog` over Redis Streams."""

    def __init__(self, redis: Redis, *, retention_seconds: float, prefix: str) -> None:
        self._redis = redis
        self._retention_ms = max(1, round(retention_seconds * 1000))
        self._prefix = prefix
        self._open = redis.register_script(_OPEN)
        self._append = redis.register_script(_APPEND)
        self._floors: OrderedDict[str, tuple[int, str]] = OrderedDict()
        """Per job, the newest sequence and progress this process saw its log reach."""
        self._watches: dict[str, _Watch] = {}
        self._followers: dict[str, int] = {}
        self._watching = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    def from_url(cls, url: str, *, retention_seconds: float, prefix: str) -> RedisEventLog:
        """A log on a pool of its own; connections open on first use."""
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=_MAX_CONNECTIONS,
            timeout=_SOCKET_TIMEOUT_SECONDS,
            protocol=2,
            socket_timeout=_SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=_CONNECT_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), retries=0),
        )
        return cls(Redis.from_pool(pool), retention_seconds=retention_seconds, prefix=prefix)

    async def open(self, job_id: str, *, start_sequence: int) -> None:
        floor_sequence, floor_progress = self._floors.get(job_id, (0, ""))
        sequence, progress = await _call(
            self._open(
                keys=[self._meta(job_id)],
                args=[start_sequence, floor_sequence, floor_progress],
            )
        )
        # What the log holds now is a floor too: a process that only opened the log (a
        # worker that claimed the job) still numbers on from it after a loss.
        self._raise_floor(job_id, int(sequence), progress)

    async def publish(self, job_id: str, data: EventData) -> JobEvent:
        at = utcnow()
        floor_sequence, floor_progress = self._floors.get(job_id, (0, ""))
        sequence, progress = await _call(
            self._append(
                keys=[self._meta(job_id), self._stream(job_id)],
                args=[
                    repr(float(data.progress)),
                    _encode(data, at),
                    "1" if data.kind.is_terminal else "0",
                    self._retention_ms,
                    floor_sequence,
                    floor_progress,
                ],
            )
        )
        if data.kind.is_terminal:
            self._floors.pop(job_id, None)
        else:
            self._raise_floor(job_id, int(sequence), progress)
        return JobEvent(
            job_id=job_id,
            sequence=int(sequence),
            data=replace(data, progress=float(progress)),
            at=at,
        )

    async def forget(self, job_id: str) -> None:
        self._floors.pop(job_id, None)
        await _call(self._redis.delete(self._meta(job_id), self._stream(job_id)))

    async def last_sequence(self, job_id: str) -> int | None:
        sequence = await _call(self._redis.hget(self._meta(job_id), "seq"))
        return None if sequence is None else int(sequence)

    async def subscribe(
        self, job_id: str, *, after_sequence: int
    ) -> AsyncIterator[JobEvent] | None:
        if not await _call(self._redis.exists(self._meta(job_id))):
            return None
        return self._follow(job_id, after_sequence)

    def follower_count(self, job_id: str) -> int:
        return self._followers.get(job_id, 0)

    async def ping(self) -> None:
        """Raise :class:`Unavailable` unless Redis answers."""
        await _call(self._redis.ping())

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        await self._redis.aclose()

    def _raise_floor(self, job_id: str, sequence: int, progress: bytes | None) -> None:
        # Only ever raised: replies to concurrent calls for one job may arrive out of order.
        held_sequence, held_progress = self._floors.pop(job_id, (0, ""))
        new_progress = held_progress if progress is None else progress.decode()
        if held_progress and float(held_progress) > float(new_progress):
            new_progress = held_progress
        self._floors[job_id] = (max(held_sequence, sequence), new_progress)
        if len(self._floors) > _FLOORS:
            self._floors.popitem(last=False)

    # -- following ------------------------------------------------------------------------

    async def _follow(self, job_id: str, cursor: int) -> AsyncIterator[JobEvent]:
        self._followers[job_id] = self._followers.get(job_id, 0) + 1
        watch: _Watch | None = None
        try:
            while True:
                if watch is not None and watch.failure is not None:
                    raise Unavailable(_UNREACHABLE) from watch.failure
                # Taken before looking, so an event the reader adds meanwhile still wakes us.
                wakeup = watch.wakeup if watch is not None else None
                batch = watch.after(cursor) if watch is not None else None
                if batch is None:
                    batch = await self._range(job_id, cursor)
                    if not batch and watch is None:
                        # Caught up: from here the reader brings the news.
                        watch = self._join(job_id, cursor)
                        continue
                    if not batch and not await _call(self._redis.exists(self._meta(job_id))):
                        # Expired or forgotten while this subscriber was behind the window.
                        return
                for event in batch:
                    cursor = event.sequence
                    yield event
                    if event.is_terminal:
                        return
                if not batch and wakeup is not None:
                    await wakeup.wait()
        finally:
            self._followers[job_id] -= 1
            if not self._followers[job_id]:
                del self._followers[job_id]
            if watch is not None:
                self._leave(job_id, watch)

    async def _range(self, job_id: str, after: int) -> list[JobEvent]:
        entries = await _call(
            self._redis.xrange(self._stream(job_id), min=str(after + 1), max="+", count=_PAGE)
        )
        return [_decode(job_id, entry_id, fields) for entry_id, fields in cast(_Entries, entries)]

    def _join(self, job_id: str, head: int) -> _Watch:
        watch = self._watches.get(job_id)
        if watch is None:
            watch = self._watches[job_id] = _Watch(head)
            self._watching.set()
        watch.followers += 1
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="redis-event-reader")
        return watch

    def _leave(self, job_id: str, watch: _Watch) -> None:
        watch.followers -= 1
        if not watch.followers and self._watches.get(job_id) is watch:
            del self._watches[job_id]

    async def _read(self) -> None:
        """The reader task: one blocking XREAD over every followed stream, fanned out."""
        while True:
            streams: dict[KeyT, StreamIdT] = {
                self._stream(job_id): f"{watch.head}-0"
                for job_id, watch in self._watches.items()
                if not watch.finished
            }
            if not streams:
                self._watching.clear()
                await self._watching.wait()
                continue
            try:
                reply = await self._redis.xread(streams, count=_PAGE, block=_BLOCK_MS)
                self._fan_out(cast(list[tuple[bytes, _Entries]], reply or []))
            except RedisError as error:
                log.warning("event_reader_failed", error=str(error))
                self._fail_all(error)
            except Exception as error:
                # Followers must never wait on a reader that has died.
                log.exception("event_reader_crashed")
                self._fail_all(error)

    def _fan_out(self, reply: list[tuple[bytes, _Entries]]) -> None:
        for key, entries in reply:
            job_id = self._job_of(key)
            watch = self._watches.get(job_id)
            if watch is None:
                continue  # every follower left while the call was out
            for entry_id, fields in entries:
                event = _decode(job_id, entry_id, fields)
                if event.sequence <= watch.head:
                    continue
                if event.sequence > watch.head + 1:
                    # The events between were lost with Redis's data: the window starts
                    # again here, and a follower behind it pages through what survived.
                    watch.events.clear()
                watch.events.append(event)
                watch.head = event.sequence
            watch.wake()

    def _fail_all(self, error: BaseException) -> None:
        watches, self._watches = self._watches, {}
        for watch in watches.values():
            watch.failure = error
            watch.wake()

    # -- keys -----------------------------------------------------------------------------

    def _meta(self, job_id: str) -> str:
        return f"{self._prefix}:job:{job_id}:meta"

    def _stream(self, job_id: str) -> str:
        return f"{self._prefix}:job:{job_id}:events"

    def _job_of(self, key: bytes) -> str:
        return key.decode()[len(f"{self._prefix}:job:") : -len(":events")]


async def _call(operation: Awaitable[T]) -> T:
    try:
        return await operation
    except RedisError as error:
        raise Unavailable(_UNREACHABLE) from error


# Entries hold only the fields that differ from EventData's defaults.
_DEFAULTS: dict[str, Any] = {
    "message": "",
    "provider": None,
    "model": None,
    "attempt": None,
    "text_delta": None,
    "discard_text": False,
    "content_id": None,
    "error_code": None,
}


def _encode(data: EventData, at: datetime) -> str:
    fields: dict[str, Any] = {"kind": data.kind.value, "status": str(data.status)}
    for name, default in _DEFAULTS.items():
        value = getattr(data, name)
        if value != default:
            fields[name] = value
    fields["at"] = at.isoformat()
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def _decode(job_id: str, entry_id: bytes, fields: dict[bytes, bytes]) -> JobEvent:
    payload: dict[str, Any] = json.loads(fields[b"d"])
    at = datetime.fromisoformat(payload.pop("at"))
    kind = EventKind(payload.pop("kind"))
    return JobEvent(
        job_id=job_id,
        sequence=int(entry_id.split(b"-", 1)[0]),
        data=EventData(kind=kind, progress=float(fields[b"p"]), **payload),
        at=at,
    )
