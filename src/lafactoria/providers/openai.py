"""OpenAI Chat Completions adapter, also for OpenAI-compatible servers (Ollama, vLLM, LM Studio).

The answer is requested with a strict ``json_schema`` response format and streamed as content
deltas; usage comes from the final chunk (``stream_options.include_usage``). Only this module
knows the ``openai`` SDK: every failure leaves it as a :mod:`lafactoria.providers.errors`
exception whose message never holds the API key.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx2  # The SDK's transport, caught too in case an error escapes the SDK's wrapping.
import openai

from lafactoria.errors import ProviderError
from lafactoria.providers.base import (
    Completion,
    GenerationRequest,
    StreamChunk,
    TextDelta,
    Usage,
)
from lafactoria.providers.errors import (
    ContextTooLong,
    OutputInvalid,
    OutputTruncated,
    ProviderMisconfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from lafactoria.providers.transport import (
    AttemptClock,
    ServerSentEvent,
    build_http_client,
    error_class_for_status,
    http_timeout,
    redact,
    refine_rejection,
    retry_after,
    server_sent_events,
)
from lafactoria.settings import ProviderTimeouts

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
    "context_length_exceeded": ContextTooLong,
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
            timeout=http_timeout(timeouts),
            http_client=build_http_client(openai.DefaultAsyncHttpxClient, timeouts),
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
        clock = AttemptClock(self._name, self._timeouts)
        with self._errors_translated():
            async with contextlib.AsyncExitStack() as stack:
                # The SDK sends the request and turns an HTTP error status into its exception;
                # the body is read here, as server-sent events, one dict per chunk instead of
                # the SDK's chunk objects (a model construction per token, a fifth of a busy
                # server's time: see docs/benchmarks.md).
                response = await clock.wait(
                    stack.enter_async_context(
                        self._client.chat.completions.with_streaming_response.create(
                            model=self._model,
                            messages=_messages(request),
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
                            max_tokens=(
                                openai.omit if self._on_openai_platform else request.max_tokens
                            ),
                        )
                    )
                )
                http_response = response.http_response
                events = await stack.enter_async_context(
                    contextlib.aclosing(server_sent_events(http_response.aiter_lines()))
                )
                chunks = await stack.enter_async_context(
                    contextlib.aclosing(self._read(events, http_response.request, clock))
                )
                async for chunk in chunks:
                    yield chunk

    async def _read(
        self,
        events: AsyncIterator[ServerSentEvent],
        http_request: httpx2.Request,
        clock: AttemptClock,
    ) -> AsyncGenerator[StreamChunk, None]:
        parts: list[str] = []
        refusal: list[str] = []
        model = self._model
        usage = Usage()
        finish_reason: str | None = None
        while True:
            try:
                event = await clock.wait(anext(events))
            except StopAsyncIteration:
                break
            if event.data.startswith("[DONE]"):
                break
            chunk = json.loads(event.data)
            if not isinstance(chunk, dict):
                raise ValueError("a stream chunk that is not a JSON object")
            if error := chunk.get("error"):
                raise self._in_band(error, http_request) from None
            model = chunk.get("model") or model
            if counts := chunk.get("usage"):
                usage = Usage(
                    input_tokens=counts.get("prompt_tokens") or 0,
                    output_tokens=counts.get("completion_tokens") or 0,
                )
            for choice in chunk.get("choices") or ():
                if choice.get("index") != 0:
                    continue
                delta = choice.get("delta") or {}
                if delta.get("refusal"):
                    refusal.append(delta["refusal"])
                if text := delta.get("content"):
                    parts.append(text)
                    clock.text_arrived()
                    yield TextDelta(text)
                if choice.get("finish_reason") is not None:
                    finish_reason = choice["finish_reason"]
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

    def _in_band(self, error: Any, http_request: httpx2.Request) -> ProviderError:
        """An error event inside the HTTP 200, classified like the SDK's exception for it."""
        message = error.get("message") if isinstance(error, dict) else None
        if not isinstance(message, str) or not message:
            message = "An error occurred during streaming"
        return self._classified(openai.APIError(message, http_request, body=error), None, None)

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
            error_class = error_class_for_status(status)
        else:
            error_class = _BY_ERROR_KIND.get(exc.code or "") or _BY_ERROR_KIND.get(
                exc.type or "", ProviderUnavailable
            )
        error_class = refine_rejection(
            error_class, exc.code, server_message if isinstance(server_message, str) else None
        )
        if error_class is ProviderRateLimited:
            wait = retry_after(headers) if headers is not None else None
            return ProviderRateLimited(message, retry_after=wait)
        return error_class(message)

    def _redact(self, text: str) -> str:
        return redact(text, self._api_key)


def _messages(request: GenerationRequest) -> list[Any]:
    """System and user prompt, then each earlier answer and the feedback on it."""
    messages: list[Any] = [
        {"role": "system", "content": request.system},
        {"role": "user", "content": request.prompt},
    ]
    for revision in request.revisions:
        messages.append({"role": "assistant", "content": revision.answer})
        messages.append({"role": "user", "content": revision.feedback})
    return messages


def _is_openai_platform(base_url: str | None) -> bool:
    if base_url is None:
        return True
    host = urlsplit(base_url).hostname or ""
    return host == "openai.com" or host.endswith((".openai.com", ".openai.azure.com"))
