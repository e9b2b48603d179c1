"""OpenAI Chat Completions adapter, also for OpenAI-compatible servers (Ollama, vLLM, LM Studio).

The answer is requested with a strict ``json_schema`` response format and streamed as content
deltas; usage comes from the final chunk (``stream_options.include_usage``). Only this module
knows the ``openai`` SDK: every failure leaves it as a :mod:`lafactoria.providers.errors`
exception whose message never holds the API key.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlsplit

import httpx2  # The SDK's transport, caught too in case an error escapes the SDK's wrapping.
import openai
from openai.types.chat import ChatCompletionChunk

from lafactoria.errors import ProviderError
from lafactoria.providers.base import (
    Completion,
    GenerationRequest,
    StreamChunk,
    TextDelta,
    Usage,
)
from lafactoria.providers.errors import (
    OutputInvalid,
    OutputTruncated,
    ProviderMisconfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from lafactoria.settings import ProviderTimeouts

_T = TypeVar("_T")

# Local servers ignore the key, but the SDK refuses to start without one.
_PLACEHOLDER_KEY = "not-needed"

# In-band errors arrive inside an HTTP 200 (the SDK raises a bare APIError for them), so their
# type or code is all there is to classify. Compatible servers put an HTTP status in ``code``.
_BY_ERROR_KIND: dict[str, type[ProviderError]] = {
    "server_error": ProviderUnavailable,
    "api_error": ProviderUnavailable,
    "service_unavailable": ProviderUnavailable,
    "overloaded_error": ProviderUnavailable,
    "timeout": ProviderUnavailable,
    "rate_limit_exceeded": ProviderRateLimited,
    "rate_limit_error": ProviderRateLimited,
    "requests": ProviderRateLimited,
    "tokens": ProviderRateLimited,
    "insufficient_quota": ProviderMisconfigured,
    "invalid_api_key": ProviderMisconfigured,
    "authentication_error": ProviderMisconfigured,
    "permission_error": ProviderMisconfigured,
    "model_not_found": ProviderMisconfigured,
    "invalid_request_error": ProviderRejected,
    "context_length_exceeded": ProviderRejected,
    "content_filter": ProviderRejected,
}


class OpenAIProvider:
    """Streams a JSON answer from OpenAI Chat Completions or an OpenAI-compatible server."""

    def __init__(
        self,
        *,
        name: str = "openai",
        model: str,
        api_key: str,
        base_url: str | None = None,
        timeouts: ProviderTimeouts,
    ) -> None:
        self._name = name
        self._model = model
        self._api_key = api_key
        self._timeouts = timeouts
        # OpenAI's own API wants ``max_completion_tokens`` (reasoning models refuse
        # ``max_tokens``); many compatible servers only understand ``max_tokens``.
        self._on_openai_platform = _is_openai_platform(base_url)
        self._client = openai.AsyncOpenAI(
            api_key=api_key or _PLACEHOLDER_KEY,
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
            chunks = await clock.wait(
                self._client.chat.completions.create(
                    model=self._model,
                    messages=[
                        {"role": "system", "content": request.system},
                        {"role": "user", "content": request.prompt},
                    ],
                    response_format={
                        "type": "json_schema",
                        "json_schema": {
                            "name": request.schema_name,
                            "schema": request.json_schema,
                            "strict": True,
                        },
                    },
                    temperature=request.temperature,
                    stream=True,
                    stream_options={"include_usage": True},
                    max_completion_tokens=(
                        request.max_tokens if self._on_openai_platform else openai.omit
                    ),
                    max_tokens=openai.omit if self._on_openai_platform else request.max_tokens,
                )
            )
            try:
                async for chunk in self._read(chunks, clock):
                    yield chunk
            finally:
                await chunks.close()

    async def _read(
        self, chunks: openai.AsyncStream[ChatCompletionChunk], clock: _AttemptClock
    ) -> AsyncIterator[StreamChunk]:
        parts: list[str] = []
        refusal: list[str] = []
        model = self._model
        usage = Usage()
        finish_reason: str | None = None
        while True:
            try:
                chunk = await clock.wait(anext(chunks))
            except StopAsyncIteration:
                break
            model = chunk.model or model
            if chunk.usage is not None:
                usage = Usage(
                    input_tokens=chunk.usage.prompt_tokens,
                    output_tokens=chunk.usage.completion_tokens,
                )
            for choice in chunk.choices:
                if choice.index != 0:
                    continue
                if choice.delta.refusal:
                    refusal.append(choice.delta.refusal)
                if text := choice.delta.content:
                    parts.append(text)
                    clock.text_arrived()
                    yield TextDelta(text)
                if choice.finish_reason is not None:
                    finish_reason = choice.finish_reason
                    if finish_reason == "length":
                        raise OutputTruncated(f"{self._name}: answer cut by the token limit")

        if finish_reason is None:
            raise ProviderUnavailable(f"{self._name}: stream ended without a finish reason")
        if finish_reason == "content_filter" or refusal:
            raise ProviderRejected(
                self._redact(f"{self._name}: refused by content policy: {''.join(refusal)}")
            )
        if finish_reason != "stop":
            raise OutputInvalid(f"{self._name}: unexpected finish reason {finish_reason!r}")
        yield Completion(text="".join(parts), model=model, stop_reason=finish_reason, usage=usage)

    @contextlib.contextmanager
    def _errors_translated(self) -> Iterator[None]:
        # ``from None``: the SDK error can carry a server message that echoes the key
        # ("Incorrect API key provided: ...").
        try:
            yield
        except ProviderError:
            raise
        except openai.APIStatusError as exc:
            raise self._classified(exc, exc.status_code, exc.response.headers) from None
        except (openai.APITimeoutError, httpx2.TimeoutException):
            raise ProviderTimeout(f"{self._name}: the HTTP request timed out") from None
        except (openai.APIConnectionError, httpx2.HTTPError) as exc:
            raise ProviderUnavailable(
                f"{self._name}: connection failed or was cut ({type(exc).__name__})"
            ) from None
        except openai.APIResponseValidationError as exc:
            raise ProviderUnavailable(self._redact(f"{self._name}: {exc.message}")) from None
        except openai.APIError as exc:
            raise self._classified(exc, None, None) from None
        except openai.OpenAIError as exc:
            # Raised before any request is sent, e.g. a configuration the SDK refuses.
            raise ProviderMisconfigured(self._redact(f"{self._name}: {exc}")) from None
        except ValueError as exc:
            # A chunk whose data is not the JSON the SDK expects.
            raise ProviderUnavailable(
                f"{self._name}: malformed stream chunk ({type(exc).__name__})"
            ) from None

    def _classified(
        self, exc: openai.APIError, status: int | None, headers: Mapping[str, str] | None
    ) -> ProviderError:
        body = exc.body if isinstance(exc.body, dict) else {}
        server_message = body.get("message")
        kind = exc.code or exc.type or ""
        where = f"HTTP {status}" if status is not None else "stream error"
        request_id = getattr(exc, "request_id", None)
        message = self._redact(
            f"{self._name}: {where} {kind or 'error'}: "
            + (server_message if isinstance(server_message, str) else "")
            + (f" (request-id {request_id})" if request_id else "")
        )
        if status is None and kind.isdigit():
            status = int(kind)
        if exc.code == "insufficient_quota":
            # A 429 for an exhausted quota: waiting will not help, so skip the provider.
            error_class: type[ProviderError] = ProviderMisconfigured
        elif status is not None and status >= 400:
            error_class = _by_status(status)
        else:
            error_class = _BY_ERROR_KIND.get(exc.code or "") or _BY_ERROR_KIND.get(
                exc.type or "", ProviderUnavailable
            )
        if error_class is ProviderRateLimited:
            retry_after = _retry_after(headers) if headers is not None else None
            return ProviderRateLimited(message, retry_after=retry_after)
        return error_class(message)

    def _redact(self, text: str) -> str:
        # Placeholder keys are not secrets, and replacing a short one would garble the text.
        if len(self._api_key) >= 8:
            return text.replace(self._api_key, "[redacted]")
        return text


def _is_openai_platform(base_url: str | None) -> bool:
    if base_url is None:
        return True
    host = urlsplit(base_url).hostname or ""
    return host == "openai.com" or host.endswith((".openai.com", ".openai.azure.com"))


def _by_status(status: int) -> type[ProviderError]:
    if status in (401, 402, 403, 404):
        # Bad key, no access, no credit or an unknown model: this provider cannot serve anyone.
        return ProviderMisconfigured
    if status == 429:
        return ProviderRateLimited
    if status in (400, 413, 422):
        # Includes context_length_exceeded: the same request would fail on every attempt here.
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


def _http_timeout(timeouts: ProviderTimeouts) -> openai.Timeout:
    # The socket read timeout also bounds the wait for the first byte, so it must not be shorter
    # than the first-token deadline; the exact first-token and idle deadlines are the clock's.
    read = max(timeouts.idle_seconds, timeouts.first_token_seconds)
    return openai.Timeout(
        connect=timeouts.connect_seconds,
        read=read,
        write=timeouts.idle_seconds,
        pool=timeouts.connect_seconds,
    )


class _AttemptClock:
    """The deadlines of one attempt: first token, silence between chunks, and the total."""

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
