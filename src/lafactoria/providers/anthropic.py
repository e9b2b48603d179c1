"""Anthropic Messages API adapter: one streamed attempt, classified failures.

The answer is requested as a forced tool call whose ``input_schema`` is the request's JSON
schema, so the model streams the JSON itself as ``input_json_delta`` fragments; a plain text
answer is passed through the same way. Only this module knows the ``anthropic`` SDK: every
failure leaves it as a :mod:`lafactoria.providers.errors` exception whose message never holds
the API key.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TypeVar

import anthropic
import httpx2  # The SDK's transport: its read errors escape unwrapped while a stream is read.
from anthropic.types import (
    InputJSONDelta,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    RawMessageStreamEvent,
    TextBlock,
)
from anthropic.types import TextDelta as SDKTextDelta

from lafactoria.errors import ProviderError
from lafactoria.providers.base import (
    Completion,
    GenerationRequest,
    StreamChunk,
    TextDelta,
    Usage,
)
from lafactoria.providers.errors import (
    OutputTruncated,
    ProviderMisconfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from lafactoria.settings import ProviderTimeouts

_T = TypeVar("_T")

_FINISHED = frozenset({"end_turn", "tool_use", "stop_sequence"})
# Both mean the answer was cut by a token limit, not finished.
_TRUNCATED = frozenset({"max_tokens", "model_context_window_exceeded"})
# A 429 for these is a billing cap, not a burst: waiting will not help, so skip the provider.
_SPEND_LIMIT_CODES = frozenset({"contract_spend_limit_reached", "enforced_spend_limit_reached"})

# In-band ``error`` events arrive inside an HTTP 200, so only their error type tells them apart.
_BY_ERROR_TYPE: dict[str, type[ProviderError]] = {
    "overloaded_error": ProviderUnavailable,
    "api_error": ProviderUnavailable,
    "timeout_error": ProviderUnavailable,
    "conflict_error": ProviderUnavailable,
    "rate_limit_error": ProviderRateLimited,
    "authentication_error": ProviderMisconfigured,
    "permission_error": ProviderMisconfigured,
    "billing_error": ProviderMisconfigured,
    "not_found_error": ProviderMisconfigured,
    "invalid_request_error": ProviderRejected,
    "request_too_large": ProviderRejected,
}


class AnthropicProvider:
    """Streams a JSON answer from the Anthropic Messages API (or a compatible endpoint)."""

    def __init__(
        self,
        *,
        name: str = "anthropic",
        model: str,
        api_key: str,
        base_url: str | None = None,
        timeouts: ProviderTimeouts,
    ) -> None:
        self._name = name
        self._model = model
        self._api_key = api_key
        self._timeouts = timeouts
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            # The failover chain owns retries so that one budget governs every attempt.
            max_retries=0,
            timeout=_http_timeout(timeouts),
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def model(self) -> str:
        return self._model

    async def aclose(self) -> None:
        """Close the SDK client and its connection pool."""
        await self._client.close()

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[StreamChunk, None]:
        """Stream the answer as ``TextDelta`` chunks, then one ``Completion``.

        An async generator, so a caller that stops early can ``aclose()`` it to release the
        connection at once.
        """
        clock = _AttemptClock(self._name, self._timeouts)
        with self._errors_translated():
            events = await clock.wait(
                self._client.messages.create(
                    model=self._model,
                    max_tokens=request.max_tokens,
                    system=request.system,
                    messages=[{"role": "user", "content": request.prompt}],
                    tools=[
                        {
                            "name": request.schema_name,
                            "description": f"Return the {request.schema_name} as JSON.",
                            "input_schema": request.json_schema,
                        }
                    ],
                    tool_choice={"type": "tool", "name": request.schema_name},
                    # No temperature: this SDK no longer sends one, and the API default suits.
                    stream=True,
                )
            )
            try:
                async for chunk in self._read(events, clock):
                    yield chunk
            finally:
                await events.close()

    async def _read(
        self, events: anthropic.AsyncStream[RawMessageStreamEvent], clock: _AttemptClock
    ) -> AsyncIterator[StreamChunk]:
        parts: list[str] = []
        model = self._model
        input_tokens = output_tokens = 0
        stop_reason: str | None = None
        stopped = False
        while not stopped:
            try:
                event = await clock.wait(anext(events))
            except StopAsyncIteration:
                break
            text = ""
            if isinstance(event, RawMessageStartEvent):
                model = str(event.message.model) or model
                input_tokens = event.message.usage.input_tokens
                output_tokens = event.message.usage.output_tokens
            elif isinstance(event, RawContentBlockStartEvent):
                if isinstance(event.content_block, TextBlock):
                    text = event.content_block.text
            elif isinstance(event, RawContentBlockDeltaEvent):
                if isinstance(event.delta, InputJSONDelta):
                    text = event.delta.partial_json
                elif isinstance(event.delta, SDKTextDelta):
                    text = event.delta.text
            elif isinstance(event, RawMessageDeltaEvent):
                stop_reason = event.delta.stop_reason
                output_tokens = event.usage.output_tokens
                if event.usage.input_tokens is not None:
                    input_tokens = event.usage.input_tokens
                if stop_reason in _TRUNCATED:
                    raise OutputTruncated(
                        f"{self._name}: answer cut at {output_tokens} output tokens ({stop_reason})"
                    )
            elif isinstance(event, RawMessageStopEvent):
                stopped = True
            if text:
                parts.append(text)
                clock.text_arrived()
                yield TextDelta(text)

        if not stopped:
            raise ProviderUnavailable(f"{self._name}: stream ended before message_stop")
        if stop_reason == "refusal":
            raise ProviderRejected(f"{self._name}: the model refused to answer")
        if stop_reason not in _FINISHED:
            raise ProviderUnavailable(f"{self._name}: unexpected stop reason {stop_reason!r}")
        yield Completion(
            text="".join(parts),
            model=model,
            stop_reason=stop_reason,
            usage=Usage(input_tokens=input_tokens, output_tokens=output_tokens),
        )

    @contextlib.contextmanager
    def _errors_translated(self) -> Iterator[None]:
        # ``from None``: the SDK error can carry a server message that echoes credentials.
        try:
            yield
        except ProviderError:
            raise
        except anthropic.APIStatusError as exc:
            raise self._from_status(exc) from None
        except (anthropic.APITimeoutError, httpx2.TimeoutException):
            raise ProviderTimeout(f"{self._name}: the HTTP request timed out") from None
        except (anthropic.APIConnectionError, httpx2.HTTPError) as exc:
            raise ProviderUnavailable(
                self._redact(f"{self._name}: connection failed or was cut ({type(exc).__name__})")
            ) from None
        except anthropic.APIError as exc:
            raise ProviderUnavailable(self._redact(f"{self._name}: {exc.message}")) from None
        except anthropic.AnthropicError as exc:
            # Raised before any request is sent, e.g. credentials the SDK cannot use.
            raise ProviderMisconfigured(self._redact(f"{self._name}: {exc}")) from None
        except ValueError as exc:
            # An event whose data is not the JSON the SDK expects.
            raise ProviderUnavailable(
                f"{self._name}: malformed stream event ({type(exc).__name__})"
            ) from None

    def _from_status(self, exc: anthropic.APIStatusError) -> ProviderError:
        status = exc.status_code
        error_type = exc.type or ""
        in_band = status < 400
        where = "stream error" if in_band else f"HTTP {status}"
        message = self._redact(
            f"{self._name}: {where} {error_type or 'error'}: {exc.api_message or ''}"
            + (f" (request-id {exc.request_id})" if exc.request_id else "")
        )
        if in_band:
            error_class = _BY_ERROR_TYPE.get(error_type, ProviderUnavailable)
        elif error_type == "overloaded_error":
            error_class = ProviderUnavailable
        elif status == 429 and exc.error_code in _SPEND_LIMIT_CODES:
            error_class = ProviderMisconfigured
        else:
            error_class = _by_status(status)
        if error_class is ProviderRateLimited:
            return ProviderRateLimited(message, retry_after=_retry_after(exc.response.headers))
        return error_class(message)

    def _redact(self, text: str) -> str:
        # Placeholder keys are not secrets, and replacing a short one would garble the text.
        if len(self._api_key) >= 8:
            return text.replace(self._api_key, "[redacted]")
        return text


def _by_status(status: int) -> type[ProviderError]:
    if status in (401, 402, 403, 404):
        # Bad key, no access, no credit or an unknown model: this provider cannot serve anyone.
        return ProviderMisconfigured
    if status == 429:
        return ProviderRateLimited
    if status in (400, 413, 422):
        # Includes "prompt is too long": the same request would fail on every attempt here.
        return ProviderRejected
    return ProviderUnavailable


def _retry_after(headers: Mapping[str, str]) -> float | None:
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


def _http_timeout(timeouts: ProviderTimeouts) -> anthropic.Timeout:
    # The socket read timeout also bounds the wait for the first byte, so it must not be shorter
    # than the first-token deadline; the exact first-token and idle deadlines are the clock's.
    read = max(timeouts.idle_seconds, timeouts.first_token_seconds)
    return anthropic.Timeout(
        connect=timeouts.connect_seconds,
        read=read,
        write=timeouts.idle_seconds,
        pool=timeouts.connect_seconds,
    )


class _AttemptClock:
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
