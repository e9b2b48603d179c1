"""The failover chain's policy beyond the fault matrix: budgets, deadlines, holds, cancellation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from lafactoria.generation.parsing import extract_json
from lafactoria.providers.anthropic import AnthropicProvider
from lafactoria.providers.base import Completion, GenerationRequest
from lafactoria.providers.breaker import CircuitState
from lafactoria.providers.failover import ChainResult, FailoverChain, GenerationFailed
from lafactoria.providers.openai import OpenAIProvider
from lafactoria.settings import FailoverSettings, ProviderTimeouts
from tests.support.emulator import DEFAULT_ANSWER, Behaviour, Emulator

PRIMARY = "primary-model"
SECONDARY = "secondary-model"
KEY = "sk-test-failover-0123456789abcdef"
TIMEOUTS = ProviderTimeouts(
    connect_seconds=0.5, first_token_seconds=1.0, idle_seconds=1.0, attempt_seconds=5.0
)
REQUEST = GenerationRequest(
    system="You write study guides.",
    prompt="Photosynthesis.",
    schema_name="study_guide",
    json_schema={"type": "object"},
    max_tokens=256,
)


class Listener:
    """Records what a subscriber would be told, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.texted = asyncio.Event()

    async def attempt_started(
        self, *, provider: str, model: str, number: int, purpose: str
    ) -> None:
        self.events.append(("attempt", (provider, number, purpose)))

    async def text(self, delta: str) -> None:
        self.events.append(("text", delta))
        self.texted.set()

    async def discard(self, *, reason: str) -> None:
        self.events.append(("discard", reason))

    async def validating(self, *, provider: str) -> None:
        self.events.append(("validating", provider))


def accept(completion: Completion) -> dict[str, Any]:
    """Any JSON object will do here; the content types' own rules have their own tests."""
    return extract_json(completion.text)


@asynccontextmanager
async def make_chain(
    emulator: Emulator, *, job_seconds: float = 5.0, **policy: Any
) -> AsyncIterator[FailoverChain]:
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
        policy=FailoverSettings(**{"backoff_seconds": 0.01, **policy}),
    )
    try:
        yield chain
    finally:
        await chain.aclose()


async def generate(
    chain: FailoverChain, listener: Listener | None = None
) -> ChainResult[dict[str, Any]]:
    return await chain.generate(REQUEST, accept=accept, listener=listener or Listener())


def calls(emulator: Emulator) -> tuple[int, int]:
    return len(emulator.calls_for(PRIMARY)), len(emulator.calls_for(SECONDARY))


async def test_the_subscriber_hears_one_answer_after_a_discard(emulator: Emulator) -> None:
    emulator.script(PRIMARY, Behaviour(kind="cut", after_chunks=3))
    listener = Listener()
    async with make_chain(emulator, retries_per_provider=0) as chain:
        result = await generate(chain, listener)

    kinds = [kind for kind, _ in listener.events]
    assert kinds == ["attempt", "text", "text", "text", "discard"] + ["attempt"] + ["text"] * (
        kinds.count("text") - 3
    ) + ["validating"]
    after_discard = listener.events[kinds.index("discard") + 1 :]
    assert "".join(value for kind, value in after_discard if kind == "text") == DEFAULT_ANSWER
    assert result.value == extract_json(DEFAULT_ANSWER)
    assert result.provider == "openai"


async def test_the_job_deadline_cuts_a_running_attempt(emulator: Emulator) -> None:
    # Each chunk comes well within the idle deadline; the whole answer would take ~2 s.
    emulator.script(PRIMARY, Behaviour(tokens_per_second=10))
    listener = Listener()
    async with make_chain(emulator, job_seconds=0.8) as chain:
        started = time.monotonic()
        with pytest.raises(GenerationFailed) as failed:
            await generate(chain, listener)
        elapsed = time.monotonic() - started

    assert failed.value.code == "PROVIDER_TIMEOUT"
    assert 0.75 <= elapsed < 1.2
    (attempt,) = failed.value.attempts
    assert (attempt.provider, attempt.outcome, attempt.error_class) == (
        "anthropic",
        "failed",
        "timeout",
    )
    assert listener.events[-1][0] == "discard", "the cut answer is withdrawn"
    assert calls(emulator) == (1, 0)
    # Our deadline says nothing about the provider's health.
    assert chain.breakers[0].state is CircuitState.CLOSED


async def test_the_call_budget_caps_retries_and_failovers(emulator: Emulator) -> None:
    emulator.script(PRIMARY, Behaviour(kind="error", status=503))
    emulator.script(SECONDARY, Behaviour(kind="error", status=503))
    async with make_chain(emulator, max_attempts=3) as chain:
        with pytest.raises(GenerationFailed) as failed:
            await generate(chain)

    assert failed.value.code == "PROVIDER_UNAVAILABLE"
    assert calls(emulator) == (2, 1)
    assert "anthropic (unavailable)" in failed.value.message


async def test_a_retry_after_past_the_deadline_skips_ahead_at_once(emulator: Emulator) -> None:
    # Within the policy's longest wait, but not within what is left of the job.
    emulator.script(PRIMARY, Behaviour(kind="error", status=429, retry_after_ms="1500"))
    async with make_chain(emulator, job_seconds=1.0, max_retry_after_seconds=5) as chain:
        started = time.monotonic()
        result = await generate(chain)

    assert time.monotonic() - started < 0.5
    assert result.provider == "openai"
    assert calls(emulator) == (1, 1)


async def test_a_long_retry_after_holds_the_provider_for_every_job(emulator: Emulator) -> None:
    emulator.script(PRIMARY, [Behaviour(kind="error", status=429, retry_after="30"), Behaviour()])
    async with make_chain(emulator, max_retry_after_seconds=2) as chain:
        first = await generate(chain)
        second = await generate(chain)

    assert (first.provider, second.provider) == ("openai", "openai")
    assert calls(emulator) == (1, 2), "nobody calls it before the time it asked for"
    assert second.attempts[0].outcome == "skipped"
    assert 29 < (chain.breakers[0].recovers_at or 0) - asyncio.get_running_loop().time() <= 30


async def test_a_refused_repair_moves_on_instead_of_failing_the_job(emulator: Emulator) -> None:
    emulator.script(PRIMARY, [Behaviour(text="no JSON here"), Behaviour(kind="error", status=400)])
    async with make_chain(emulator) as chain:
        result = await generate(chain)

    assert result.provider == "openai"
    assert [(a.purpose, a.error_class) for a in result.attempts] == [
        ("answer", "invalid_output"),
        ("repair", "rejected"),
        ("answer", None),
    ]


async def test_a_refused_larger_budget_moves_on_instead_of_failing_the_job(
    emulator: Emulator,
) -> None:
    emulator.script(
        PRIMARY,
        [
            Behaviour(kind="truncated"),
            Behaviour(kind="error", status=400, message="max_tokens: 512 > 300, the maximum"),
        ],
    )
    async with make_chain(emulator) as chain:
        result = await generate(chain)

    assert result.provider == "openai"
    assert [a.purpose for a in result.attempts] == ["answer", "larger_budget", "answer"]
    first, second = emulator.calls_for(PRIMARY)
    assert (first.body["max_tokens"], second.body["max_tokens"]) == (256, 512)


async def test_the_trace_holds_usage_model_and_latency(emulator: Emulator) -> None:
    emulator.script(
        PRIMARY, [Behaviour(kind="error", status=500), Behaviour(model="primary-model-2099")]
    )
    async with make_chain(emulator) as chain:
        result = await generate(chain)

    failed, succeeded = result.attempts
    assert failed.as_dict() == {
        "provider": "anthropic",
        "model": PRIMARY,
        "outcome": "failed",
        "error_code": "PROVIDER_UNAVAILABLE",
        "error_class": "unavailable",
        "purpose": "answer",
        "latency_ms": failed.latency_ms,
        "input_tokens": 0,
        "output_tokens": 0,
    }
    assert succeeded.model == "primary-model-2099" == result.completion.model
    assert succeeded.purpose == "retry"
    assert (succeeded.input_tokens, succeeded.output_tokens) == (
        result.completion.usage.input_tokens,
        result.completion.usage.output_tokens,
    )
    assert succeeded.output_tokens > 0
    assert succeeded.latency_ms >= 0


async def test_cancelling_a_job_frees_the_probe_and_closes_the_stream(emulator: Emulator) -> None:
    emulator.script(
        PRIMARY,
        [Behaviour(kind="error", status=503), Behaviour(tokens_per_second=5), Behaviour()],
    )
    async with make_chain(
        emulator, retries_per_provider=0, breaker_threshold=1, breaker_cooldown_seconds=0.2
    ) as chain:
        await generate(chain)
        await asyncio.sleep(0.2)
        listener = Listener()
        job = asyncio.create_task(generate(chain, listener))
        await asyncio.wait_for(listener.texted.wait(), 2)
        assert chain.breakers[0].probing

        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job

        assert not chain.breakers[0].probing
        assert chain.breakers[0].state is CircuitState.HALF_OPEN
        # The slot is free and the connection was released: the next job probes at once.
        result = await asyncio.wait_for(generate(chain), 2)
        assert result.provider == "anthropic"
        assert chain.breakers[0].state is CircuitState.CLOSED


def test_a_chain_needs_a_provider() -> None:
    with pytest.raises(ValueError, match="at least one provider"):
        FailoverChain([], job_deadline_seconds=1)
