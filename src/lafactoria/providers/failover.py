"""The provider chain: one retry policy that turns any provider fault into the right next step.

The chain owns the whole attempt loop, so the generation pipeline sees one call. Each provider
gets one turn per job, in order; within its turn the failure decides what happens next:

    failure                                      same provider                     then
    ─────────────────────────────────────────    ──────────────────────────────    ──────────
    5xx, 408/409, overloaded, connection error,  retry after a backoff, up to      next
    cut / malformed stream, no terminal event    ``retries_per_provider`` times    provider
    429 with Retry-After that fits the budget    wait as asked, then retry         next
    429 with a longer Retry-After                hold its circuit until then       next
    timeout (connect, first token, idle, total)  no retry: the time is spent       next
    truncated (max_tokens / length)              once more, with twice the budget  next
    invalid output (JSON or schema)              one repair: the error goes back   next
    context window too small                     no retry                          next
    401/403, no credit, unknown model            mark misconfigured, tell operator next
    400 invalid request, content policy          —                                 fail the job

A job also has one deadline and one budget of calls (``max_attempts``) over all of that. Every
provider has a circuit breaker (``providers.breaker``) shared by all jobs: an open circuit is
skipped, and when every remaining provider is open the job waits for the earliest recovery that
falls within its deadline instead of failing at once.

The listener hears each attempt start, the text as it streams, and a ``discard`` whenever an
attempt that already streamed text fails, so a subscriber never reads two answers as one; the
value returned is exactly one attempt's complete, accepted answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, NoReturn, Protocol, TypeVar

import structlog
from prometheus_client import CollectorRegistry, Gauge

from lafactoria.errors import ProviderError
from lafactoria.observability.metrics import Metrics
from lafactoria.providers.base import (
    Completion,
    GenerationRequest,
    Provider,
    Revision,
    StreamChunk,
    TextDelta,
)
from lafactoria.providers.breaker import CircuitBreaker, CircuitState
from lafactoria.providers.errors import (
    ContextTooLong,
    OutputInvalid,
    OutputTruncated,
    ProviderMisconfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    error_kind,
)
from lafactoria.settings import FailoverSettings

T = TypeVar("T")
log = structlog.get_logger(__name__)

# The outer safety net fires this long after the job's deadline, so the deadline checks inside
# (which record the attempt that was cut) always go first.
_DEADLINE_GRACE_SECONDS = 0.5
_CIRCUIT_VALUE = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


class Purpose(StrEnum):
    """Why a call was made, as stored in the attempt trace."""

    ANSWER = "answer"
    RETRY = "retry"
    REPAIR = "repair"
    LARGER_BUDGET = "larger_budget"


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One provider attempt (or a provider skipped because its circuit was open), as stored."""

    provider: str
    model: str
    outcome: str
    """``succeeded``, ``failed`` or ``skipped``."""
    error_code: str | None
    latency_ms: int
    input_tokens: int = 0
    output_tokens: int = 0
    error_class: str | None = None
    """The failure's kind (``rate_limited``, ``timeout``, ``truncated``...), finer than the code."""
    purpose: str = Purpose.ANSWER.value

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class ChainResult(Generic[T]):
    value: T
    completion: Completion
    provider: str
    attempts: list[AttemptRecord]


class GenerationFailed(Exception):
    """No provider gave an acceptable answer; ``code`` is the job error code."""

    def __init__(self, code: str, message: str, attempts: list[AttemptRecord]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.attempts = attempts


class AttemptListener(Protocol):
    async def attempt_started(
        self, *, provider: str, model: str, number: int, purpose: str
    ) -> None: ...

    async def text(self, delta: str) -> None: ...

    async def discard(self, *, reason: str) -> None: ...

    async def validating(self, *, provider: str) -> None: ...


class FailoverChain:
    """Ordered providers behind one ``generate`` call, with one policy and a breaker each."""

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        job_deadline_seconds: float,
        policy: FailoverSettings | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        if not providers:
            raise ValueError("a provider chain needs at least one provider")
        self.providers = list(providers)
        self.policy = policy or FailoverSettings()
        self.job_deadline_seconds = job_deadline_seconds
        self.metrics = metrics or Metrics()
        self._circuit_gauge = _circuit_gauge(self.metrics.registry)
        # Set (and replaced) on every circuit change, so a job waiting for a provider to
        # recover wakes as soon as a probe closes a circuit.
        self._health_changed = asyncio.Event()
        self.breakers = [
            CircuitBreaker(
                provider.name,
                threshold=self.policy.breaker_threshold,
                cooldown_seconds=self.policy.breaker_cooldown_seconds,
                on_change=self._circuit_changed,
            )
            for provider in self.providers
        ]
        for provider in self.providers:
            self._circuit_gauge.labels(provider=provider.name).set(0)

    @property
    def names(self) -> list[str]:
        return [provider.name for provider in self.providers]

    async def generate(
        self,
        request: GenerationRequest,
        *,
        accept: Callable[[Completion], T],
        listener: AttemptListener,
    ) -> ChainResult[T]:
        """Get one accepted answer; ``accept`` parses a completion or raises ``OutputInvalid``.

        Raises ``GenerationFailed`` with the job error code and the attempt trace.
        """
        job: _Job[T] = _Job(self, request, accept, listener)
        try:
            async with asyncio.timeout_at(job.deadline + _DEADLINE_GRACE_SECONDS):
                return await job.run()
        except TimeoutError:
            raise job.failure(ProviderTimeout("the job's deadline passed")) from None

    async def aclose(self) -> None:
        for provider in self.providers:
            await provider.aclose()

    def _circuit_changed(self, provider: str, state: CircuitState) -> None:
        self._circuit_gauge.labels(provider=provider).set(_CIRCUIT_VALUE[state])
        self._health_changed.set()
        self._health_changed = asyncio.Event()

    async def wait_for_health_change(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when a circuit changes state meanwhile."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._health_changed.wait()


class _MoveOn(Exception):
    """This provider's turn is over; try the next one."""


class _Job(Generic[T]):
    """One ``generate`` call: its deadline, its call budget and its attempt trace."""

    def __init__(
        self,
        chain: FailoverChain,
        request: GenerationRequest,
        accept: Callable[[Completion], T],
        listener: AttemptListener,
    ) -> None:
        self.chain = chain
        self.policy = chain.policy
        self.request = request
        self.accept = accept
        self.listener = listener
        self.loop = asyncio.get_running_loop()
        self.deadline = self.loop.time() + chain.job_deadline_seconds
        self.calls_left = self.policy.max_attempts
        self.attempts: list[AttemptRecord] = []
        self.last_error: ProviderError | None = None

    # -- the providers' turns ---------------------------------------------------------------

    async def run(self) -> ChainResult[T]:
        pending = list(range(len(self.chain.providers)))
        skipped: set[int] = set()
        while pending:
            for index in list(pending):
                if not self.chain.breakers[index].acquire():
                    if index not in skipped:
                        skipped.add(index)
                        self._record_skip(index)
                    continue
                pending.remove(index)
                try:
                    return await self._turn(index)
                except _MoveOn:
                    continue
            if pending:
                await self._wait_for_recovery(pending)
        raise self.failure(self.last_error or ProviderUnavailable("no provider could be called"))

    async def _wait_for_recovery(self, pending: list[int]) -> None:
        """Every provider left is open: wait for the first to recover, if it does in time."""
        breakers = [self.chain.breakers[index] for index in pending]
        if any(b.state is CircuitState.HALF_OPEN and not b.probing for b in breakers):
            return  # A cooldown ended meanwhile: its probe is ours to take.
        # Breakers and the loop share the monotonic clock.
        now = self.loop.time()
        recoveries = [at for b in breakers if (at := b.recovers_at) is not None]
        until: float | None = None
        if recoveries and min(recoveries) < self.deadline:
            until = min(recoveries)
        elif any(b.probing for b in breakers):
            until = self.deadline  # Another job's probe decides; its outcome wakes us.
        if until is None or now >= self.deadline or self.calls_left <= 0:
            names = ", ".join(b.provider for b in breakers)
            self.fail_with(
                self.last_error
                or ProviderUnavailable(f"every provider's circuit is open ({names})")
            )
        log.info(
            "waiting_for_provider_recovery",
            providers=[b.provider for b in breakers],
            seconds=round(until - now, 3),
        )
        await self.chain.wait_for_health_change(max(until - now, 0.0))

    async def _turn(self, index: int) -> ChainResult[T]:
        """Call one provider until it answers or its turn is over (``_MoveOn``)."""
        provider = self.chain.providers[index]
        breaker = self.chain.breakers[index]
        request = self.request
        purpose = Purpose.ANSWER
        retries = 0
        repaired = enlarged = False
        while True:
            if self.calls_left <= 0:
                self.fail_with(self.last_error or ProviderUnavailable("no attempts left"))
            if self.loop.time() >= self.deadline:
                self.fail_with(ProviderTimeout("the job's deadline passed"))
            self.calls_left -= 1
            try:
                return await self._attempt(provider, breaker, request, purpose)
            except _AttemptFailed as failed:
                error, answer, cut_by_deadline = failed.error, failed.answer, failed.job_deadline
            self.last_error = error
            if cut_by_deadline:
                self.fail_with(error)
            if isinstance(error, ContextTooLong):
                raise _MoveOn
            if isinstance(error, ProviderMisconfigured):
                log.error(
                    "provider_misconfigured",
                    provider=provider.name,
                    error=str(error),
                    action="check this provider's key, access and model; it is skipped",
                )
                raise _MoveOn
            if isinstance(error, ProviderRejected):
                if purpose in (Purpose.REPAIR, Purpose.LARGER_BUDGET):
                    # We changed the request; its refusal says nothing about the user's request.
                    raise _MoveOn
                self.fail_with(error)
            if isinstance(error, OutputInvalid):
                if repaired:
                    raise _MoveOn
                repaired, purpose = True, Purpose.REPAIR
                revision = Revision(answer=answer, feedback=_repair_feedback(error))
                request = dataclasses.replace(request, revisions=(*request.revisions, revision))
                continue
            if isinstance(error, OutputTruncated):
                if enlarged:
                    raise _MoveOn
                enlarged, purpose = True, Purpose.LARGER_BUDGET
                request = dataclasses.replace(request, max_tokens=request.max_tokens * 2)
                continue
            if isinstance(error, ProviderTimeout):
                raise _MoveOn
            wait = self._retry_wait(error, retries)
            if wait is None or breaker.state is not CircuitState.CLOSED:
                if isinstance(error, ProviderRateLimited) and error.retry_after:
                    # The server asked everyone to wait: no other job calls it sooner either.
                    breaker.hold(error.retry_after, reason="rate limited (Retry-After)")
                raise _MoveOn
            log.info("provider_retry", provider=provider.name, wait_seconds=round(wait, 3))
            await asyncio.sleep(wait)
            retries, purpose = retries + 1, Purpose.RETRY

    def _retry_wait(self, error: ProviderError, retries: int) -> float | None:
        """Seconds to wait before calling the same provider again, or ``None`` to move on."""
        if retries >= self.policy.retries_per_provider:
            return None
        if isinstance(error, ProviderRateLimited) and error.retry_after is not None:
            wait = error.retry_after
            if wait > self.policy.max_retry_after_seconds:
                return None
        else:
            # Exponential backoff with jitter, so retries from many jobs do not arrive together.
            base = self.policy.backoff_seconds * 2**retries
            wait = base * random.uniform(0.5, 1.0)  # noqa: S311 -- jitter, not cryptography
        if self.loop.time() + wait >= self.deadline:
            return None
        return wait

    # -- one call ---------------------------------------------------------------------------

    async def _attempt(
        self,
        provider: Provider,
        breaker: CircuitBreaker,
        request: GenerationRequest,
        purpose: Purpose,
    ) -> ChainResult[T]:
        number = sum(1 for a in self.attempts if a.outcome != "skipped") + 1
        await self.listener.attempt_started(
            provider=provider.name, model=provider.model, number=number, purpose=purpose.value
        )
        started = time.monotonic()
        parts: list[str] = []
        completion: Completion | None = None
        scope = asyncio.timeout_at(self.deadline)
        try:
            try:
                async with scope, _closing(provider.stream(request)) as stream:
                    async for chunk in stream:
                        if isinstance(chunk, TextDelta):
                            parts.append(chunk.text)
                            await self.listener.text(chunk.text)
                        else:
                            completion = chunk
                if completion is None:
                    raise ProviderUnavailable(
                        f"{provider.name}: the stream ended without a completion"
                    )
                await self.listener.validating(provider=provider.name)
                value = self.accept(completion)
            except TimeoutError:
                if not scope.expired():
                    raise
                raise ProviderTimeout(f"{provider.name}: cut by the job's deadline") from None
        except ProviderError as error:
            cut_by_deadline = scope.expired()
            _judge(breaker, error, cut_by_deadline=cut_by_deadline)
            self._record(provider, purpose, started, completion, error)
            if parts:
                await self.listener.discard(reason=f"{provider.name} failed: {error.code}")
            raise _AttemptFailed(
                error, answer="".join(parts), job_deadline=cut_by_deadline
            ) from None
        except BaseException:
            # Cancelled (or a bug): no verdict on the provider, but free its probe slot.
            breaker.released()
            raise
        breaker.succeeded()
        self._record(provider, purpose, started, completion, None)
        return ChainResult(
            value=value, completion=completion, provider=provider.name, attempts=self.attempts
        )

    def _record(
        self,
        provider: Provider,
        purpose: Purpose,
        started: float,
        completion: Completion | None,
        error: ProviderError | None,
    ) -> None:
        usage = completion.usage if completion is not None else None
        record = AttemptRecord(
            provider=provider.name,
            model=completion.model if completion is not None else provider.model,
            outcome="failed" if error is not None else "succeeded",
            error_code=error.code if error is not None else None,
            error_class=error_kind(error) if error is not None else None,
            latency_ms=int((time.monotonic() - started) * 1000),
            input_tokens=usage.input_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
            purpose=purpose.value,
        )
        self.attempts.append(record)
        self.chain.metrics.provider_attempt(provider.name, error_code=record.error_code)
        if error is not None:
            log.warning(
                "provider_attempt_failed",
                provider=provider.name,
                purpose=purpose.value,
                error_code=error.code,
                error_class=record.error_class,
                latency_ms=record.latency_ms,
                error=str(error),
            )

    def _record_skip(self, index: int) -> None:
        provider = self.chain.providers[index]
        self.attempts.append(
            AttemptRecord(
                provider=provider.name,
                model=provider.model,
                outcome="skipped",
                error_code=None,
                error_class="circuit_open",
                latency_ms=0,
            )
        )
        log.info("provider_skipped", provider=provider.name, reason="circuit open")

    def failure(self, error: ProviderError) -> GenerationFailed:
        code = error.code
        return GenerationFailed(code, _failure_message(code, self.attempts), self.attempts)

    def fail_with(self, error: ProviderError) -> NoReturn:
        raise self.failure(error)


def _judge(breaker: CircuitBreaker, error: ProviderError, *, cut_by_deadline: bool) -> None:
    """Tell the provider's breaker what a failed attempt says about the provider's health."""
    if cut_by_deadline:
        breaker.released()  # Our deadline, not the provider's fault.
    elif isinstance(error, ProviderMisconfigured):
        breaker.misconfigured(reason=error_kind(error))
    elif isinstance(error, ProviderUnavailable | ProviderTimeout | ProviderRateLimited):
        breaker.failed(reason=error_kind(error))
    else:
        # It answered, but the answer was unusable for this request: the provider is healthy.
        breaker.succeeded()


class _AttemptFailed(Exception):
    def __init__(self, error: ProviderError, *, answer: str, job_deadline: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.answer = answer
        self.job_deadline = job_deadline


@contextlib.asynccontextmanager
async def _closing(stream: AsyncIterator[StreamChunk]) -> AsyncIterator[AsyncIterator[StreamChunk]]:
    """Close an abandoned stream at once: its connection goes back now, not at GC time."""
    try:
        yield stream
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


def _repair_feedback(error: ProviderError) -> str:
    return (
        f"That answer cannot be used: {error}. Reply again with only the corrected JSON object "
        "for the same request, matching the schema exactly."
    )


def _failure_message(code: str, attempts: list[AttemptRecord]) -> str:
    # Built from codes only: provider error text can echo request details and never reaches
    # clients; it stays in the server log.
    tried = ", ".join(
        f"{a.provider} ({a.error_class or a.error_code})"
        for a in attempts
        if a.outcome != "succeeded"
    )
    return f"generation failed ({code}); tried: {tried or 'no provider'}"


# One gauge per registry: an app's lifespan may run more than once (tests restart servers).
_GAUGES: weakref.WeakKeyDictionary[CollectorRegistry, Gauge] = weakref.WeakKeyDictionary()


def _circuit_gauge(registry: CollectorRegistry) -> Gauge:
    gauge = _GAUGES.get(registry)
    if gauge is None:
        gauge = _GAUGES[registry] = Gauge(
            "lafactoria_provider_circuit_state",
            "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open.",
            ["provider"],
            registry=registry,
        )
    return gauge
