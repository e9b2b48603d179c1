"""Anthropic Messages API adapter: one streamed attempt, classified failures.

The answer is requested as a forced tool call whose ``input_schema`` is the request's JSON
schema, so the model streams the JSON itself as ``input_json_delta`` fragments; a plain text
answer is passed through the same way. Only this module knows the ``anthropic`` SDK: every
failure leaves it as a :mod:`lafactoria.providers.errors` exception whose message never holds
the API key.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Iterator
from typing import Any

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
from lafactoria.providers.transport import (
    AttemptClock,
    build_http_client,
    error_class_for_status,
    http_timeout,
    redact,
    refine_rejection,
    retry_after,
)
from lafactoria.settings import ProviderTimeouts

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
            timeout=http_timeout(timeouts),
            http_client=build_http_client(anthropic.DefaultAsyncHttpxClient, timeouts),
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
            events = await clock.wait(
                self._client.messages.create(
                    model=self._model,
                    max_tokens=request.max_tokens,
                    system=request.system,
                    messages=_messages(request),
                    tools=[
                        {
                            "name": request.schema_name,
                            "description": f"Return the {request.schema_name} as JSON.",
                            "input_schema": request.json_schema,
                        }
                    ],
                    tool_choice={"type": "tool", "name": request.schema_name},
                    # No temperature: this SDK's ``messages.create`` no longer takes one.
                    stream=True,
                )
            )
            try:
                async with contextlib.aclosing(self._read(events, clock)) as chunks:
                    async for chunk in chunks:
                        yield chunk
            finally:
                await events.close()

    async def _read(
        self, events: anthropic.AsyncStream[RawMessageStreamEvent], clock: AttemptClock
    ) -> AsyncGenerator[StreamChunk, None]:
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
        # Classified from the body first: an in-band ``error`` event arrives inside an HTTP 200,
        # and a proxy may relay ``overloaded_error`` under another status.
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
            error_class = error_class_for_status(status)
        error_class = refine_rejection(error_class, exc.error_code, exc.api_message)
        if error_class is ProviderRateLimited:
            return ProviderRateLimited(message, retry_after=retry_after(exc.response.headers))
        return error_class(message)

    def _redact(self, text: str) -> str:
        return redact(text, self._api_key)


def _messages(request: GenerationRequest) -> list[Any]:
    """The user's prompt, then each earlier answer and the feedback on it."""
    messages: list[Any] = [{"role": "user", "content": request.prompt}]
    for revision in request.revisions:
        messages.append({"role": "assistant", "content": revision.answer or "(no answer)"})
        messages.append({"role": "user", "content": revision.feedback})
    return messages
