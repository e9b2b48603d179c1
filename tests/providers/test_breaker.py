"""Circuit breakers: the state machine on its own, then in the chain against the emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from structlog.testing import capture_logs

from lafactoria.observability.metrics import Metrics
from lafactoria.providers.anthropic import AnthropicProvider
from lafactoria.providers.base import Completion, GenerationRequest
from lafactoria.providers.breaker import CircuitBreaker, CircuitState
from lafactoria.providers.failover import ChainResult, FailoverChain, GenerationFailed
from lafactoria.providers.openai import OpenAIProvider
from lafactoria.settings import FailoverSettings, ProviderTimeouts
from tests.support.emulator import DEFAULT_ANSWER, Behaviour, Emulator

# -- the state machine, on a clock the test moves -------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def breaker(clock: Clock, *, threshold: int = 3, cooldown: float = 10.0) -> CircuitBreaker:
    return CircuitBreaker("anthropic", threshold=threshold, cooldown_seconds=cooldown, clock=clock)


def test_opens_after_consecutive_failures_only(clock: Clock) -> None:
    circuit = breaker(clock)
    for _ in range(2):
        circuit.failed(reason="unavailable")
    circuit.succeeded()  # The streak is broken.
    for _ in range(2):
        circuit.failed(reason="unavailable")
    assert circuit.state is CircuitState.CLOSED
    assert circuit.acquire()

    circuit.failed(reason="unavailable")

    assert circuit.state is CircuitState.OPEN
    assert not circuit.acquire()
    assert circuit.recovers_at == clock.now + 10.0


def test_half_open_lets_one_probe_through_and_closes_on_success(clock: Clock) -> None:
    circuit = breaker(clock, threshold=1)
    circuit.failed(reason="timeout")
    clock.now += 9.9
    assert not circuit.acquire()

    clock.now += 0.1

    assert circuit.state is CircuitState.HALF_OPEN
    assert circuit.acquire(), "the first caller gets the probe"
    assert circuit.probing
    assert not circuit.acquire(), "nobody else while the probe is under way"
    assert circuit.recovers_at is None
    circuit.succeeded()
    assert circuit.state is CircuitState.CLOSED
    assert circuit.acquire()
    assert circuit.acquire()


def test_a_failed_probe_opens_the_circuit_for_another_cooldown(clock: Clock) -> None:
    circuit = breaker(clock, threshold=1)
    circuit.failed(reason="timeout")
    clock.now += 10
    assert circuit.acquire()

    circuit.failed(reason="unavailable")

    assert circuit.state is CircuitState.OPEN
    assert circuit.recovers_at == clock.now + 10
    assert not circuit.acquire()


def test_a_cancelled_probe_frees_the_slot_without_a_verdict(clock: Clock) -> None:
    circuit = breaker(clock, threshold=1)
    circuit.failed(reason="timeout")
    clock.now += 10
    assert circuit.acquire()

    circuit.released()

    assert circuit.state is CircuitState.HALF_OPEN
    assert circuit.acquire()


def test_misconfigured_opens_at_once_and_is_not_waited_for(clock: Clock) -> None:
    circuit = breaker(clock, threshold=5)

    circuit.misconfigured(reason="misconfigured")

    assert circuit.state is CircuitState.OPEN
    assert circuit.recovers_at is None, "a bad key does not fix itself: nobody waits for it"
    clock.now += 10
    assert circuit.acquire(), "but it is probed again after the cooldown (keys get fixed)"


def test_hold_keeps_the_provider_out_until_the_time_it_asked_for(clock: Clock) -> None:
    circuit = breaker(clock)

    circuit.hold(30, reason="rate limited (Retry-After)")

    assert not circuit.acquire()
    assert circuit.recovers_at == clock.now + 30
    clock.now += 30
    assert circuit.acquire()


def test_every_transition_is_logged_for_the_operator(clock: Clock) -> None:
    circuit = breaker(clock, threshold=1)
    with capture_logs() as logs:
        circuit.failed(reason="unavailable")
        clock.now += 10
        circuit.acquire()
        circuit.succeeded()

    transitions = [(e["state"], e["previous"]) for e in logs if e["event"] == "provider_circuit"]
    assert transitions == [("open", "closed"), ("half_open", "open"), ("closed", "half_open")]
    assert logs[0]["provider"] == "anthropic"
    assert logs[0]["log_level"] == "warning"
    assert "unavailable" in logs[0]["reason"]


# -- in the chain, with real SDKs against the emulator -------------------------------------------

PRIMARY = "primary-model"
SECONDARY = "secondary-model"
KEY = "sk-test-breaker-0123456789abcdef"
TIMEOUTS = ProviderTimeouts(
    connect_seconds=0.5, first_token_seconds=1.0, idle_seconds=1.0, attempt_seconds=2.0
)
REQUEST = GenerationRequest(
    system="You write study guides.",
    prompt="Photosynthesis.",
    schema_name="study_guide",
    json_schema={"type": "object"},
    max_tokens=256,
)
COOLDOWN = 0.5


class Listener:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def attempt_started(
        self, *, provider: str, model: str, number: int, purpose: str
    ) -> None:
        self.calls.append(provider)

    async def text(self, delta: str) -> None:
        return None

    async def discard(self, *, reason: str) -> None:
        return None

    async def validating(self, *, provider: str) -> None:
        return None


def accept(completion: Completion) -> str:
    return completion.text


@asynccontextmanager
async def make_chain(
    emulator: Emulator, *, threshold: int = 2, cooldown: float = COOLDOWN, job_seconds: float = 3
) -> AsyncIterator[tuple[FailoverChain, Metrics]]:
    metrics = Metrics()
    chain = FailoverChain(
        [
            AnthropicProvider(
                model=PRIMARY, api_key=KEY, base_url=emulator.base_url, timeouts=TIMEOUTS
            ),
            OpenAIProvider(
                model=SECONDARY, api_key=KEY, base_url=emulator.openai_base_url, timeouts=TIMEOUTS
            ),
        ],
        job_deadline_seconds=job_seconds,
        policy=FailoverSettings(
            retries_per_provider=1,
            backoff_seconds=0.01,
            breaker_threshold=threshold,
            breaker_cooldown_seconds=cooldown,
        ),
        metrics=metrics,
    )
    try:
        yield chain, metrics
    finally:
        await chain.aclose()


async def generate(chain: FailoverChain) -> ChainResult[str]:
    return await chain.generate(REQUEST, accept=accept, listener=Listener())


def calls(emulator: Emulator) -> tuple[int, int]:
    return len(emulator.calls_for(PRIMARY)), len(emulator.calls_for(SECONDARY))


def gauge(metrics: Metrics, provider: str) -> float | None:
    return metrics.registry.get_sample_value(
        "lafactoria_provider_circuit_state", {"provider": provider}
    )


@pytest.fixture
def logs() -> Iterator[list[dict[str, object]]]:
    with capture_logs() as captured:
        yield captured


async def test_open_then_half_open_then_closed(
    emulator: Emulator, logs: list[dict[str, object]]
) -> None:
    emulator.script(PRIMARY, [Behaviour(kind="error", status=503, times=2), Behaviour()])
    async with make_chain(emulator) as (chain, metrics):
        # Two failures in a row (a call and its retry) open the primary's circuit.
        first = await generate(chain)
        assert first.provider == "openai"
        assert calls(emulator) == (2, 1)
        assert gauge(metrics, "anthropic") == 2

        # While it is open the primary is skipped without a call, and the trace says so.
        second = await generate(chain)
        assert second.provider == "openai"
        assert calls(emulator) == (2, 2)
        skipped = second.attempts[0]
        assert (skipped.provider, skipped.outcome, skipped.error_class) == (
            "anthropic",
            "skipped",
            "circuit_open",
        )

        # After the cooldown one probe goes through; it succeeds and closes the circuit.
        await asyncio.sleep(COOLDOWN)
        third = await generate(chain)
        assert third.provider == "anthropic"
        assert third.value == DEFAULT_ANSWER
        assert calls(emulator) == (3, 2)
        assert gauge(metrics, "anthropic") == 0
        assert chain.breakers[0].state is CircuitState.CLOSED

    states = [e["state"] for e in logs if e["event"] == "provider_circuit"]
    assert states == ["open", "half_open", "closed"]


async def test_a_failed_probe_reopens_without_a_retry(emulator: Emulator) -> None:
    emulator.script(PRIMARY, Behaviour(kind="error", status=503))
    async with make_chain(emulator) as (chain, metrics):
        await generate(chain)
        assert calls(emulator) == (2, 1)
        await asyncio.sleep(COOLDOWN)

        result = await generate(chain)

        assert result.provider == "openai"
        assert calls(emulator) == (3, 2), "one probe, no retry on a failed probe"
        assert chain.breakers[0].state is CircuitState.OPEN
        assert gauge(metrics, "anthropic") == 2


async def test_concurrent_jobs_send_one_probe(emulator: Emulator) -> None:
    emulator.script(
        PRIMARY,
        [Behaviour(kind="error", status=503, times=2), Behaviour(first_token_delay=0.3)],
    )
    async with make_chain(emulator) as (chain, _):
        await generate(chain)
        await asyncio.sleep(COOLDOWN)

        results = await asyncio.gather(*(generate(chain) for _ in range(4)))

        assert calls(emulator)[0] == 3, "the probe is the only call while half-open"
        assert sorted(r.provider for r in results) == ["anthropic", "openai", "openai", "openai"]


async def test_when_every_circuit_is_open_the_job_waits_for_the_first_recovery(
    emulator: Emulator,
) -> None:
    emulator.script(PRIMARY, [Behaviour(kind="error", status=503, times=2), Behaviour()])
    emulator.script(SECONDARY, Behaviour(kind="error", status=503))
    async with make_chain(emulator) as (chain, _):
        with pytest.raises(GenerationFailed) as failed:
            await generate(chain)
        assert failed.value.code == "PROVIDER_UNAVAILABLE"
        assert [b.state for b in chain.breakers] == [CircuitState.OPEN, CircuitState.OPEN]
        recovery = chain.breakers[0].recovers_at
        assert recovery is not None

        result = await generate(chain)

        # The breakers' clock is the event loop's (monotonic) clock.
        finished = asyncio.get_running_loop().time()
        assert result.provider == "anthropic"
        assert recovery <= finished < recovery + 0.4, "waited for the recovery, no longer"
        assert [(a.provider, a.outcome) for a in result.attempts] == [
            ("anthropic", "skipped"),
            ("openai", "skipped"),
            ("anthropic", "succeeded"),
        ]
        assert calls(emulator) == (3, 2)


async def test_a_recovery_after_the_deadline_fails_the_job_at_once(emulator: Emulator) -> None:
    emulator.script(PRIMARY, Behaviour(kind="error", status=503))
    emulator.script(SECONDARY, Behaviour(kind="error", status=503))
    async with make_chain(emulator, cooldown=30, job_seconds=2) as (chain, _):
        with pytest.raises(GenerationFailed):
            await generate(chain)
        started = time.monotonic()

        with pytest.raises(GenerationFailed) as failed:
            await generate(chain)

        assert time.monotonic() - started < 0.2
        assert failed.value.code == "PROVIDER_UNAVAILABLE"
        assert [a.outcome for a in failed.value.attempts] == ["skipped", "skipped"]
        assert calls(emulator) == (2, 2), "no call to a provider whose circuit is open"


async def test_a_misconfigured_provider_is_skipped_by_later_jobs_and_not_waited_for(
    emulator: Emulator, logs: list[dict[str, object]]
) -> None:
    emulator.script(PRIMARY, Behaviour(kind="error", status=401))
    emulator.script(SECONDARY, Behaviour(kind="error", status=403))
    async with make_chain(emulator, threshold=5) as (chain, _):
        with pytest.raises(GenerationFailed) as failed:
            await generate(chain)
        assert failed.value.code == "PROVIDER_UNAVAILABLE"
        assert calls(emulator) == (1, 1)
        started = time.monotonic()

        with pytest.raises(GenerationFailed):
            await generate(chain)

        assert time.monotonic() - started < 0.2, "nobody waits for a bad key to fix itself"
        assert calls(emulator) == (1, 1)
    operator = [e for e in logs if e["event"] == "provider_misconfigured"]
    assert [e["provider"] for e in operator] == ["anthropic", "openai"]
    assert all(e["log_level"] == "error" for e in operator)
    assert all(KEY not in str(e) for e in logs)
