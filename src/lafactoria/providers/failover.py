"""The provider chain: try each provider in order until one gives an acceptable answer.

The chain implements the whole attempt loop so the generation pipeline sees one call: it tells
a listener when an attempt starts, passes text through as it streams, and says when text
already streamed must be discarded because the attempt that produced it failed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import structlog

from lafactoria.errors import ProviderError
from lafactoria.providers.base import Completion, GenerationRequest, Provider, TextDelta
from lafactoria.providers.errors import ProviderMisconfigured, ProviderTimeout

T = TypeVar("T")
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One provider attempt, as stored on the job."""

    provider: str
    model: str
    outcome: str
    error_code: str | None
    latency_ms: int
    input_tokens: int = 0
    output_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "outcome": self.outcome,
            "error_code": self.error_code,
            "latency_ms": self.latency_ms,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


@dataclass(frozen=True, slots=True)
class ChainResult(Generic[T]):
    value: T
    completion: Completion
    provider: str
    attempts: list[AttemptRecord]


class GenerationFailed(Exception):
    """Every provider failed; ``code`` is the job error code."""

    def __init__(self, code: str, message: str, attempts: list[AttemptRecord]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.attempts = attempts


class AttemptListener(Protocol):
    async def attempt_started(self, *, provider: str, model: str, number: int) -> None: ...

    async def text(self, delta: str) -> None: ...

    async def discard(self, *, reason: str) -> None: ...

    async def validating(self, *, provider: str) -> None: ...


class FailoverChain:
    def __init__(self, providers: Sequence[Provider], *, job_deadline_seconds: float) -> None:
        if not providers:
            raise ValueError("a provider chain needs at least one provider")
        self.providers = list(providers)
        self._job_deadline_seconds = job_deadline_seconds

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
        """Run the attempts; ``accept`` parses a completion or raises ``ProviderError``."""
        attempts: list[AttemptRecord] = []
        last_error: ProviderError | None = None
        try:
            async with asyncio.timeout(self._job_deadline_seconds):
                for number, provider in enumerate(self.providers, start=1):
                    try:
                        return await self._attempt(
                            provider, number, request, accept, listener, attempts
                        )
                    except ProviderError as exc:
                        last_error = exc
                        if isinstance(exc, ProviderMisconfigured):
                            log.error(
                                "provider_misconfigured", provider=provider.name, error=str(exc)
                            )
                            continue
                        if not exc.retryable:
                            break
        except TimeoutError:
            last_error = ProviderTimeout("the job's deadline passed")
        code = last_error.code if last_error else "PROVIDER_UNAVAILABLE"
        raise GenerationFailed(code, _failure_message(code, attempts), attempts)

    async def _attempt(
        self,
        provider: Provider,
        number: int,
        request: GenerationRequest,
        accept: Callable[[Completion], T],
        listener: AttemptListener,
        attempts: list[AttemptRecord],
    ) -> ChainResult[T]:
        await listener.attempt_started(provider=provider.name, model=provider.model, number=number)
        started = time.monotonic()
        streamed_text = False
        completion: Completion | None = None
        try:
            async for chunk in provider.stream(request):
                if isinstance(chunk, TextDelta):
                    streamed_text = True
                    await listener.text(chunk.text)
                else:
                    completion = chunk
            if completion is None:
                raise ProviderError("the stream ended without a completion")
            await listener.validating(provider=provider.name)
            value = accept(completion)
        except ProviderError as exc:
            attempts.append(
                AttemptRecord(
                    provider=provider.name,
                    model=provider.model,
                    outcome="failed",
                    error_code=exc.code,
                    latency_ms=_elapsed_ms(started),
                )
            )
            log.warning(
                "provider_attempt_failed",
                provider=provider.name,
                error_code=exc.code,
                error=str(exc),
            )
            if streamed_text:
                await listener.discard(reason=f"{provider.name} failed: {exc.code}")
            raise
        attempts.append(
            AttemptRecord(
                provider=provider.name,
                model=completion.model,
                outcome="succeeded",
                error_code=None,
                latency_ms=_elapsed_ms(started),
                input_tokens=completion.usage.input_tokens,
                output_tokens=completion.usage.output_tokens,
            )
        )
        return ChainResult(
            value=value, completion=completion, provider=provider.name, attempts=attempts
        )

    async def aclose(self) -> None:
        for provider in self.providers:
            await provider.aclose()


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _failure_message(code: str, attempts: list[AttemptRecord]) -> str:
    # Built from codes only: provider error text can echo request details and never reaches
    # clients; it stays in the server log.
    tried = ", ".join(f"{a.provider} ({a.error_code})" for a in attempts) or "no provider"
    return f"generation failed ({code}); tried: {tried}"
