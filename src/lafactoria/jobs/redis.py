"""The scale-out queue: job ids on a Redis Stream read by a consumer group (taskiq-redis).

Why a stream: a delivered message stays pending until its worker acknowledges it, so when a
worker dies holding one, another worker reclaims it (``XAUTOCLAIM`` once it has been idle for
``claim_timeout_seconds``). A worker acknowledges a message when its job run is over: run,
handed back, or found claimed elsewhere. From the claim on, the job's lease in the database
protects it, so the stream only has to cover the moment between delivery and claim (and a
long job's message, reclaimed by another worker while it runs, is acknowledged there as soon
as that worker's claim fails).

Acknowledging also deletes the entry, so the stream holds exactly the jobs on their way to a
worker: ``missing`` compares it with the database's QUEUED jobs to find messages Redis lost.
Back-pressure counts QUEUED jobs in the database, which every process shares.

Cancels are broadcast on a pub/sub channel that every consuming worker listens to.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Collection,
    Sequence,
)
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from taskiq import AckableMessage
from taskiq.exceptions import SendTaskError
from taskiq.kicker import AsyncKicker
from taskiq_redis import RedisStreamBroker

from lafactoria.errors import LimitExceeded, Unavailable
from lafactoria.jobs.base import JobHandler, QueuedJob

log = structlog.get_logger(__name__)

TASK_NAME = "lafactoria.generation.run"
# How long a consumer blocks waiting for messages: also how soon it notices a stop.
_READ_BLOCK_MS = 1000
# After Redis fails, wait this long before reading again.
_RETRY_SECONDS = 1.0
# How long the cancel listener waits for a message before checking whether to stop.
_CANCEL_POLL_SECONDS = 0.2

Backlog = Callable[[], Awaitable[int]]


class _JobStream(RedisStreamBroker):
    """``RedisStreamBroker`` read one message per free slot (``receive``), reclaiming idle
    messages on every read, and whose acknowledgement also deletes the entry (see the module
    docstring)."""

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            async with (
                Redis(connection_pool=self.connection_pool) as redis,
                redis.pipeline(transaction=True) as pipe,
            ):
                pipe.xack(queue_name, self.consumer_group_name, id)
                pipe.xdel(queue_name, id)
                await pipe.execute()

        return ack

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        while True:
            message = await self.receive()
            if message is not None:
                yield message

    async def receive(self) -> AckableMessage | None:
        """One new message, or else one idle past the claim timeout; ``None`` when neither
        came within the read block. Reclaiming on every round matters because taskiq-redis
        1.2 reclaims only after new messages arrived: in a quiet queue a dead worker's
        message would wait for the next job."""
        async with Redis(connection_pool=self.connection_pool) as redis:
            # redis-py types stream replies as any RESP value; their shape is fixed.
            fetched: Any = await redis.xreadgroup(
                self.consumer_group_name,
                self.consumer_name,
                {self.queue_name: ">"},
                count=1,
                block=self.block,
            )
            for _stream, entries in fetched or []:
                for entry_id, fields in entries:
                    return self._ackable(entry_id, fields)
            reclaimed = await redis.xautoclaim(
                self.queue_name,
                self.consumer_group_name,
                self.consumer_name,
                min_idle_time=self.idle_timeout,
                count=1,
            )
        for entry_id, fields in reclaimed[1]:
            if fields:  # an entry deleted meanwhile comes back empty
                return self._ackable(entry_id, fields)
        return None

    def _ackable(self, entry_id: Any, fields: Any) -> AckableMessage:
        return AckableMessage(
            data=fields[b"data"], ack=self._ack_generator(_text(entry_id), self.queue_name)
        )


class RedisJobQueue:
    def __init__(
        self,
        *,
        url: str,
        prefix: str,
        consumer: str,
        concurrency: int,
        max_size: int,
        backlog: Backlog,
        claim_timeout_seconds: float,
        shutdown_grace_seconds: float,
    ) -> None:
        """``backlog`` counts the QUEUED jobs in the database, new ones included (they are
        stored before they are enqueued); more than ``max_size`` refuses them."""
        self.stream = f"{prefix}:jobs"
        self.group = f"{prefix}:workers"
        self.cancel_channel = f"{prefix}:jobs:cancel"
        self._broker = _JobStream(
            url,
            queue_name=self.stream,
            consumer_group_name=self.group,
            consumer_name=consumer,
            # From the start of the stream: a group re-created after Redis lost it still gets
            # the messages sent before.
            consumer_id="0",
            xread_block=_READ_BLOCK_MS,
            # One message per free slot, so a busy worker never hoards jobs others could run.
            xread_count=1,
            unacknowledged_batch_size=1,
            idle_timeout=int(claim_timeout_seconds * 1000),
        )
        self._kicker: AsyncKicker[[str], None] = AsyncKicker(TASK_NAME, self._broker, labels={})
        self._slots = asyncio.Semaphore(concurrency)
        self._max_size = max_size
        self._backlog = backlog
        self._grace = shutdown_grace_seconds
        self._consumer: asyncio.Task[None] | None = None
        self._cancels: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # Every run, duplicates of a running job included, and the one to cancel per job.
        self._runs: set[asyncio.Task[None]] = set()
        self._running: dict[str, asyncio.Task[None]] = {}

    # -- producing ---------------------------------------------------------------------------

    async def enqueue(self, jobs: Sequence[QueuedJob]) -> None:
        try:
            waiting = await self._backlog()
        except Exception as exc:
            raise Unavailable("the job queue is unavailable; try again shortly") from exc
        if waiting > self._max_size:
            raise LimitExceeded("the generation queue is full; try again shortly")
        await self.requeue(jobs)

    async def requeue(self, jobs: Sequence[QueuedJob]) -> None:
        try:
            for job in jobs:
                await self._kicker.kiq(job.job_id)
        except SendTaskError as exc:
            raise Unavailable("the job queue is unavailable; try again shortly") from exc

    async def missing(self, job_ids: Collection[str]) -> set[str]:
        if not job_ids:
            return set()
        async with Redis(connection_pool=self._broker.connection_pool) as redis:
            entries = await redis.xrange(self.stream) or []
        waiting = {self._job_id(fields[b"data"]) for _entry_id, fields in entries if fields}
        return set(job_ids) - waiting

    # -- consuming ---------------------------------------------------------------------------

    async def start(self, handler: JobHandler) -> None:
        self._broker.is_worker_process = True
        self._consumer = asyncio.create_task(self._consume(handler), name="job-consumer")
        self._cancels = asyncio.create_task(self._listen_for_cancels(), name="job-cancels")

    async def stop(self) -> None:
        self._stopping.set()
        if self._consumer is not None:
            self._consumer.cancel()
            await asyncio.wait([self._consumer])
        if self._runs and self._grace > 0:
            await asyncio.wait(self._runs, timeout=self._grace)
        for task in self._runs:
            task.cancel()
        # The cancelled runs hand their jobs back through the broker: close it after them.
        await asyncio.gather(*self._runs, return_exceptions=True)
        if self._cancels is not None:
            await self._cancels
        if self._broker.is_worker_process:
            with contextlib.suppress(RedisError):
                await self._forget_consumer()
        await self._broker.shutdown()

    async def cancel(self, job_id: str) -> bool:
        task = self._running.get(job_id)
        if task is not None:
            task.cancel()
            return True
        try:
            async with Redis(connection_pool=self._broker.connection_pool) as redis:
                await redis.publish(self.cancel_channel, job_id)
        except RedisError:
            # The job's lease renewal reads the cancel request from the database instead.
            log.warning("cancel_broadcast_failed", job_id=job_id, exc_info=True)
        return False

    async def _consume(self, handler: JobHandler) -> None:
        await self._ensure_group()
        while True:
            # A free slot first, then a message: a delivered job starts at once, and a busy
            # worker leaves messages to the others. The run releases the slot.
            await self._slots.acquire()
            try:
                message = await self._receive()
            except BaseException:
                self._slots.release()
                raise
            if message is None:
                self._slots.release()
                continue
            try:
                job_id = self._job_id(message.data)
            except Exception:
                log.exception("job_message_unreadable")
                self._slots.release()
                await _acknowledge(message)
                continue
            task = asyncio.create_task(self._run(handler, job_id, message), name=f"job-{job_id}")
            self._runs.add(task)
            task.add_done_callback(self._runs.discard)
            self._running.setdefault(job_id, task)

    async def _receive(self) -> AckableMessage | None:
        try:
            return await self._broker.receive()
        except RedisError as exc:
            log.warning("job_queue_unreachable", error=str(exc))
            await asyncio.sleep(_RETRY_SECONDS)
            if isinstance(exc, ResponseError) and "NOGROUP" in str(exc):
                # Redis lost the group (restarted without persistence): make it again.
                await self._ensure_group()
            return None

    async def _run(self, handler: JobHandler, job_id: str, message: AckableMessage) -> None:
        try:
            await handler(job_id)
        except Exception:
            log.exception("job_handler_crashed", job_id=job_id)
        finally:
            # A duplicate delivery of a running job must not unregister the real run.
            if self._running.get(job_id) is asyncio.current_task():
                del self._running[job_id]
            self._slots.release()
            await _acknowledge(message)

    async def _listen_for_cancels(self) -> None:
        # Polled rather than cancelled on stop: redis-py leaks the connection of a PubSub
        # cancelled while it reads.
        while not self._stopping.is_set():
            try:
                async with (
                    Redis(connection_pool=self._broker.connection_pool) as redis,
                    redis.pubsub(ignore_subscribe_messages=True) as pubsub,
                ):
                    await pubsub.subscribe(self.cancel_channel)
                    while not self._stopping.is_set():
                        message = await pubsub.get_message(timeout=_CANCEL_POLL_SECONDS)
                        if message is not None:
                            task = self._running.get(_text(message["data"]))
                            if task is not None:
                                task.cancel()
                    # Closed here, while nothing reads it: PubSub's own close does not wait
                    # for the socket (redis/redis-py#3941) and leaves it half open.
                    if pubsub.connection is not None:
                        await pubsub.connection.disconnect()
            except RedisError as exc:
                # Once per retry while Redis is down: the reason is enough, not a traceback.
                log.warning("cancel_channel_unreachable", error=str(exc))
                await asyncio.sleep(_RETRY_SECONDS)

    async def _ensure_group(self) -> None:
        try:
            async with Redis(connection_pool=self._broker.connection_pool) as redis:
                await redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):  # the group exists already: the usual case
                log.warning("job_group_not_created", error=str(exc))
        except RedisError as exc:
            log.warning("job_queue_unreachable", error=str(exc))  # the next read retries

    async def _forget_consumer(self) -> None:
        # Every message this consumer took is acknowledged by now, so nothing pending is lost.
        async with Redis(connection_pool=self._broker.connection_pool) as redis:
            await redis.xgroup_delconsumer(self.stream, self.group, self._broker.consumer_name)

    def _job_id(self, data: bytes | str) -> str:
        message = self._broker.formatter.loads(data if isinstance(data, bytes) else data.encode())
        return str(message.args[0])


async def _acknowledge(message: AckableMessage) -> None:
    try:
        pending = message.ack()
        if pending is not None:
            await pending
    except RedisError:
        # Delivered again later, when the database claim makes that delivery a no-op.
        log.warning("job_ack_failed", exc_info=True)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
