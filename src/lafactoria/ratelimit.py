"""Rate limits and quotas: named windows over counters kept by the ``limits`` library.

Two layers. ``Counters`` is the port: count hits of a key against a :class:`Quota`, in memory
(``memory://``, one process) or in any storage ``limits`` supports (``redis://…``, shared by
every process), chosen by URI. :class:`RateLimits` is the policy the services and transports
ask: failed logins per account and per client address, generation jobs per user per minute and
per day, and the per-user query cost budget that refills over time. Over a limit it raises
:class:`RateLimited` with the seconds to wait.

Short quotas that count events (failed logins, jobs per minute) use a moving window: exact, so
the tenth failed login is the last one, whatever the clock says. The cost budget, where one
request spends hundreds of points, and the daily job quota use a sliding window counter: two
numbers per key instead of one entry per event (the memory storage sweeps every entry list
it holds, so a day of them for every user would cost more than it guards), refilling
smoothly as the previous window's count fades. Its one approximation is at a window's start,
where up to one more event may fit.

A check and the hit that follows it are made atomic per key with an in-process lock. With a
shared storage and several processes a burst can overshoot a quota by at most one request per
process. A shared storage that does not answer raises ``Unavailable`` (SERVICE_UNAVAILABLE):
limits are never silently skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import SlidingWindowCounterSupport, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from redis.asyncio import ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from lafactoria.errors import LaFactoriaError, Unavailable
from lafactoria.settings import LimitSettings

_REDIS_TIMEOUT_SECONDS = 2.0


class RateLimited(LaFactoriaError):
    """A limit was reached; ``retry_after`` is how many seconds to wait before trying again."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


@dataclass(frozen=True, slots=True)
class Quota:
    """``amount`` per ``seconds``; ``name`` keeps its counters apart from other quotas'."""

    name: str
    amount: int
    seconds: int
    smooth: bool = False
    """Refill continuously (a budget of points) instead of counting exact events."""


class Counters(Protocol):
    """The counter store behind every quota."""

    async def hit(self, quota: Quota, key: str, cost: int = 1) -> bool:
        """Count ``cost`` against ``key`` if it fits; ``False`` (and nothing counted) if not."""
        ...

    async def remaining(self, quota: Quota, key: str) -> int:
        """What is left of ``key``'s quota now."""
        ...

    async def seconds_until(self, quota: Quota, key: str, needed: int) -> float:
        """How long until ``needed`` fits again (0 when it fits now)."""
        ...

    async def aclose(self) -> None: ...


class LimitsCounters:
    """:class:`Counters` over a ``limits`` async storage, picked by URI (``memory://``,
    ``redis://…``, or the ``async+`` forms ``limits`` itself uses).

    ``redis://`` and ``rediss://`` run on redis-py's asyncio client (the one the event log
    uses) over a pool this object owns and closes; keys start with ``key_prefix``. A storage
    that does not answer raises :class:`Unavailable`.
    """

    def __init__(self, uri: str, *, key_prefix: str = "LIMITS") -> None:
        scheme = uri if uri.startswith("async+") else f"async+{uri}"
        options: dict[str, Any] = {"wrap_exceptions": True}
        self._pool: ConnectionPool | None = None
        plain = scheme.removeprefix("async+")
        if plain.startswith(("redis://", "rediss://")):
            self._pool = ConnectionPool.from_url(
                plain,
                socket_timeout=_REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
                # Fail fast while Redis is down; the next request reconnects.
                retry=Retry(NoBackoff(), retries=0),
            )
            options |= {
                "implementation": "redispy",
                "connection_pool": self._pool,
                "key_prefix": key_prefix,
            }
        storage = storage_from_string(scheme, **options)
        assert isinstance(storage, Storage)
        self._storage = storage
        self._exact = MovingWindowRateLimiter(storage)
        self._smooth = SlidingWindowCounterRateLimiter(storage)

    async def hit(self, quota: Quota, key: str, cost: int = 1) -> bool:
        strategy = self._smooth if quota.smooth else self._exact
        async with _available():
            return await strategy.hit(_item(quota), key, cost=cost)

    async def remaining(self, quota: Quota, key: str) -> int:
        strategy = self._smooth if quota.smooth else self._exact
        async with _available():
            stats = await strategy.get_window_stats(_item(quota), key)
        return max(0, stats.remaining)

    async def seconds_until(self, quota: Quota, key: str, needed: int) -> float:
        item = _item(quota)
        async with _available():
            if not quota.smooth:
                # The moving window frees its oldest entry first; when more than one is
                # needed this is a lower bound, and a client retrying then is told the rest.
                stats = await self._exact.get_window_stats(item, key)
                if stats.remaining >= needed:
                    return 0.0
                return max(0.0, stats.reset_time - time.time())
            assert isinstance(self._storage, SlidingWindowCounterSupport)
            window = await self._storage.get_sliding_window(item.key_for(key), quota.seconds)
        return _sliding_wait(quota, needed, *window)

    async def aclose(self) -> None:
        # The memory storage sweeps expired keys in a background task of the running loop.
        timer = getattr(self._storage, "timer", None)
        if isinstance(timer, asyncio.Task) and not timer.done():
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
        if self._pool is not None:
            await self._pool.aclose()


@asynccontextmanager
async def _available() -> AsyncIterator[None]:
    try:
        yield
    except StorageError as error:
        raise Unavailable("the rate-limit storage is unreachable") from error


def _item(quota: Quota) -> RateLimitItem:
    return RateLimitItemPerSecond(quota.amount, quota.seconds, namespace=f"lafactoria-{quota.name}")


def _sliding_wait(
    quota: Quota,
    needed: int,
    previous_count: int,
    previous_ttl: float,
    current_count: int,
    current_ttl: float,
) -> float:
    """Seconds until ``needed`` points fit a sliding window counter.

    The window's usage is ``previous * (previous_ttl / period) + current``: the previous
    window's share fades linearly until the current window ends (``previous_ttl`` from now),
    then the current window becomes the previous one and fades in turn.
    """
    period, room = quota.seconds, quota.amount - needed
    if room < 0:
        return math.inf
    if previous_count * previous_ttl / period + current_count <= room:
        return 0.0
    if current_count <= room:
        return max(0.0, previous_ttl - (room - current_count) * period / previous_count)
    window_ends = max(0.0, current_ttl - period)
    return window_ends + period * (1 - room / current_count)


@dataclass(frozen=True, slots=True)
class Budget:
    """A user's query cost budget, as reported in ``extensions.cost.throttleStatus``."""

    maximum: int
    available: int
    restore_rate: float
    """Points regained per second."""


class Allowance:
    """Room reserved by :meth:`RateLimits.generations`; ``use`` says how much was taken."""

    def __init__(self) -> None:
        self.used = 0

    def use(self, count: int) -> None:
        self.used += count


class LoginAttempt:
    """One login admitted by :meth:`RateLimits.login`; ``fail`` counts it against the limits."""

    def __init__(self) -> None:
        self.is_failure = False

    def fail(self) -> None:
        self.is_failure = True


class RateLimits:
    """The limits the API enforces, configured by :class:`LimitSettings`."""

    def __init__(self, counters: Counters, settings: LimitSettings) -> None:
        self._counters = counters
        window = settings.login_window_seconds
        self._login_account = Quota("login-account", settings.login_attempts_per_account, window)
        self._login_client = Quota("login-client", settings.login_attempts_per_client, window)
        self._per_minute = Quota("generation-minute", settings.generations_per_minute, 60)
        self._per_day = Quota("generation-day", settings.generations_per_day, 86_400, smooth=True)
        self._budget = Quota(
            "query-cost",
            settings.query_cost_budget,
            settings.query_cost_window_seconds,
            smooth=True,
        )
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def login(self, *, account: str, client: str | None) -> AsyncIterator[LoginAttempt]:
        """Admit one login attempt, or raise :class:`RateLimited` when the account (whether or
        not it exists) or the client address has failed too often lately."""
        # Hashed, so a shared storage never holds email addresses; "surrogatepass" because
        # an attempt with a malformed email still counts (and must not crash).
        account_key = hashlib.sha256(account.encode("utf-8", "surrogatepass")).hexdigest()
        checks = [(self._login_account, account_key)]
        if client:
            checks.append((self._login_client, client))
        async with AsyncExitStack() as stack:
            for quota, key in checks:
                await stack.enter_async_context(self._lock(quota, key))
            for quota, key in checks:
                await self._require(quota, key, 1, "too many failed logins")
            attempt = LoginAttempt()
            try:
                yield attempt
            finally:
                if attempt.is_failure:
                    for quota, key in checks:
                        await self._counters.hit(quota, key)

    @asynccontextmanager
    async def generations(self, *, user_id: str, count: int) -> AsyncIterator[Allowance]:
        """Admit ``count`` new generation jobs for a user, or raise :class:`RateLimited`.

        Only what the block reports with ``Allowance.use`` is counted, so a request that
        creates nothing (bad input, an idempotent repeat) costs nothing.
        """
        async with self._lock(self._per_minute, user_id):
            await self._require(self._per_minute, user_id, count, "too many generation requests")
            await self._require(self._per_day, user_id, count, "daily generation quota reached")
            allowance = Allowance()
            try:
                yield allowance
            finally:
                if allowance.used:
                    await self._counters.hit(self._per_minute, user_id, allowance.used)
                    await self._counters.hit(self._per_day, user_id, allowance.used)

    async def spend(self, *, user_id: str, cost: int) -> Budget:
        """Take ``cost`` points from the user's budget, or raise :class:`RateLimited`."""
        if cost > 0 and not await self._counters.hit(self._budget, user_id, cost):
            wait = min(
                await self._counters.seconds_until(self._budget, user_id, cost),
                self._budget.seconds,
            )
            raise RateLimited(
                f"this query costs {cost} points and the budget has fewer left; "
                "it refills over time",
                retry_after=wait,
            )
        return await self.budget(user_id=user_id)

    async def budget(self, *, user_id: str) -> Budget:
        quota = self._budget
        return Budget(
            maximum=quota.amount,
            available=await self._counters.remaining(quota, user_id),
            restore_rate=round(quota.amount / quota.seconds, 2),
        )

    async def aclose(self) -> None:
        await self._counters.aclose()

    async def _require(self, quota: Quota, key: str, needed: int, reason: str) -> None:
        if needed > quota.amount:
            raise RateLimited(
                f"{reason}: at most {quota.amount} per {_period(quota.seconds)}",
                retry_after=quota.seconds,
            )
        if await self._counters.remaining(quota, key) >= needed:
            return
        wait = await self._counters.seconds_until(quota, key, needed)
        raise RateLimited(
            f"{reason}: at most {quota.amount} per {_period(quota.seconds)}; "
            f"try again in {math.ceil(wait)} s",
            retry_after=wait,
        )

    @asynccontextmanager
    async def _lock(self, quota: Quota, key: str) -> AsyncIterator[None]:
        name = f"{quota.name}/{key}"
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        async with lock:
            yield


def _period(seconds: int) -> str:
    for unit, name in ((86_400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % unit == 0:
            count = seconds // unit
            return name if count == 1 else f"{count} {name}s"
    return f"{seconds} seconds"


def open_rate_limits(
    settings: LimitSettings, *, storage_uri: str | None = None, key_prefix: str = "LIMITS"
) -> RateLimits:
    """The rate limits over the storage ``storage_uri`` (default ``settings.storage_uri``)
    names."""
    return RateLimits(
        LimitsCounters(storage_uri or settings.storage_uri, key_prefix=key_prefix), settings
    )
