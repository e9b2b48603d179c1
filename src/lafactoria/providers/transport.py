"""What the HTTP adapters share: deadlines, error classes by status and body, Retry-After.

Both vendor SDKs run on ``httpx2`` and both adapters answer the same questions the same way:
which failures are worth another try, how long the server asked us to wait, when an attempt
has been silent too long, and how to keep an API key out of every message. Keeping that here
means the two adapters cannot drift apart on policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import re
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import httpx2

from lafactoria.errors import ProviderError
from lafactoria.providers.errors import (
    ContextTooLong,
    ProviderMisconfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from lafactoria.settings import ProviderTimeouts

_T = TypeVar("_T")

# Servers word a context overflow differently and often only in prose: OpenAI and vLLM ("This
# model's maximum context length is 8192 tokens"), Anthropic ("prompt is too long: 210000 tokens
# > 200000 maximum", "input length and `max_tokens` exceed context limit"), llama.cpp/Ollama
# ("the request exceeds the available context size").
_CONTEXT_OVERFLOW = re.compile(
    r"context[ _](length|window|limit|size)|prompt is too long|too many tokens"
    r"|exceeds? the (available )?context",
    re.IGNORECASE,
)
_CONTEXT_OVERFLOW_CODES = frozenset({"context_length_exceeded", "model_context_window_exceeded"})


def error_class_for_status(status: int) -> type[ProviderError]:
    """The failure class an HTTP status means when the body says nothing more specific."""
    if status in (400, 413, 422):
        # The request itself is wrong: the same request fails on every provider.
        return ProviderRejected
    if status == 429:
        return ProviderRateLimited
    if status in (408, 409, 425):
        # Request timeout, conflict (a lock at the provider), too early: worth another try.
        return ProviderUnavailable
    if 400 <= status < 500:
        # 401/402/403/404 and any 4xx we do not know: a bad key, no credit, an unknown model or
        # a base URL that is not an LLM API. This provider cannot serve anyone until fixed.
        return ProviderMisconfigured
    return ProviderUnavailable


def is_context_overflow(code: str | None, message: str | None) -> bool:
    """Whether a rejection says the prompt (plus the answer budget) exceeds the model's window."""
    if code in _CONTEXT_OVERFLOW_CODES:
        return True
    return bool(message and _CONTEXT_OVERFLOW.search(message))


def refine_rejection(
    error_class: type[ProviderError], code: str | None, message: str | None
) -> type[ProviderError]:
    """A rejection that is really a context overflow may move on to a larger window."""
    if error_class is ProviderRejected and is_context_overflow(code, message):
        return ContextTooLong
    return error_class


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    with contextlib.suppress(ValueError):
        if (millis := headers.get("retry-after-ms")) is not None:
            return max(float(millis) / 1000, 0.0)
    raw = headers.get("retry-after")
    if raw is None:
        return None
    with contextlib.suppress(ValueError):
        return max(float(raw), 0.0)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def http_timeout(timeouts: ProviderTimeouts) -> httpx2.Timeout:
    """The SDK client's socket timeouts; no client is ever built without them."""
    # The socket read timeout also bounds the wait for the first byte, so it must not be shorter
    # than the first-token deadline; the exact first-token and idle deadlines are the clock's.
    read = max(timeouts.idle_seconds, timeouts.first_token_seconds)
    return httpx2.Timeout(
        connect=timeouts.connect_seconds,
        read=read,
        write=timeouts.idle_seconds,
        pool=timeouts.connect_seconds,
    )


@functools.cache
def _trust_store() -> ssl.SSLContext:
    # Loading the system's CA certificates costs about 0.1 s; every client can share one
    # context (it is read-only once built) instead of loading its own.
    return httpx2.create_ssl_context()


def build_http_client(
    factory: Callable[..., httpx2.AsyncClient], timeouts: ProviderTimeouts
) -> httpx2.AsyncClient:
    """An SDK's default HTTP client (its pool limits, keep-alive, proxies from the
    environment) with our timeouts and the process's shared trust store."""
    return factory(timeout=http_timeout(timeouts), verify=_trust_store())


def redact(text: str, secret: str) -> str:
    """``text`` without ``secret``: servers echo keys in error messages."""
    # Placeholder keys are not secrets, and replacing a short one would garble the text.
    if len(secret) >= 8:
        return text.replace(secret, "[redacted]")
    return text


class AttemptClock:
    """The deadlines of one attempt: first token, silence between events, and the total."""

    def __init__(self, provider: str, timeouts: ProviderTimeouts) -> None:
        self._provider = provider
        self._timeouts = timeouts
        self._loop = asyncio.get_running_loop()
        started = self._loop.time()
        self._first_token_at = started + timeouts.first_token_seconds
        self._attempt_at = started + timeouts.attempt_seconds
        self._streaming = False

    def text_arrived(self) -> None:
        """From now on the idle deadline applies instead of the first-token one."""
        self._streaming = True

    async def wait(self, awaitable: Awaitable[_T]) -> _T:
        """Await one step of the attempt, raising ``ProviderTimeout`` past its deadline."""
        # A deadline per await, not one around the whole generator: a timeout scope must not
        # stay open across ``yield``, where it would cancel the consumer's code instead.
        t = self._timeouts
        if self._streaming:
            at, reason = self._loop.time() + t.idle_seconds, f"no data for {t.idle_seconds:g}s"
        else:
            at, reason = self._first_token_at, f"no first token in {t.first_token_seconds:g}s"
        if self._attempt_at <= at:
            at, reason = self._attempt_at, f"attempt took over {t.attempt_seconds:g}s"
        scope = asyncio.timeout_at(at)
        try:
            async with scope:
                return await awaitable
        except TimeoutError:
            if scope.expired():
                raise ProviderTimeout(f"{self._provider}: {reason}") from None
            raise


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    event: str | None
    """The ``event:`` field; ``None`` when the server sent none."""
    data: str


async def server_sent_events(
    lines: AsyncIterator[str],
) -> AsyncGenerator[ServerSentEvent, None]:
    """The events of a ``text/event-stream`` body, from its lines (without line endings).

    The framing of the WHATWG spec: ``data:`` lines accumulate, a blank line dispatches the
    event, comments (keep-alives) and other fields are skipped, and an event the body ends in
    the middle of is dropped. Reading the SDKs' streams this way, rather than as their typed
    chunk objects, spares a model construction per token (see docs/benchmarks.md).
    """
    event: str | None = None
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield ServerSentEvent(event, "\n".join(data))
            event, data = None, []
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
