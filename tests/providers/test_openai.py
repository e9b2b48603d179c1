"""The OpenAI adapter driven through the real SDK against the emulated Chat Completions API."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from lafactoria.errors import ProviderError
from lafactoria.providers.base import Completion, GenerationRequest, Provider, TextDelta, Usage
from lafactoria.providers.errors import (
    OutputTruncated,
    ProviderMisconfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from lafactoria.providers.openai import OpenAIProvider
from lafactoria.settings import ProviderTimeouts
from tests.support.emulator import DEFAULT_ANSWER, Behaviour, Emulator, Kind, run_emulator

API_KEY = "sk-proj-test-key-0123456789abcdef"
MODEL = "gpt-emulated"
DEADLINE = 0.3
TIMEOUTS = ProviderTimeouts(
    connect_seconds=1.0,
    first_token_seconds=DEADLINE,
    idle_seconds=DEADLINE,
    attempt_seconds=5.0,
)
REQUEST = GenerationRequest(
    system="You write quizzes.",
    prompt="The water cycle for middle school.",
    schema_name="quiz",
    json_schema={
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
        "additionalProperties": False,
    },
    max_tokens=2048,
    temperature=0.3,
)


def make_provider(
    emulator: Emulator,
    *,
    timeouts: ProviderTimeouts = TIMEOUTS,
    base_url: str | None = None,
    api_key: str = API_KEY,
) -> OpenAIProvider:
    return OpenAIProvider(
        model=MODEL,
        api_key=api_key,
        base_url=base_url or emulator.openai_base_url,
        timeouts=timeouts,
    )


# One event loop and one shared provider per module: building an SDK client loads the TLS
# trust store (~50 ms), which would otherwise dominate this suite. Tests that need other
# settings build their own provider.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def provider(emulator_server: Emulator) -> AsyncIterator[OpenAIProvider]:
    provider = make_provider(emulator_server)
    yield provider
    await provider.aclose()


async def collect(provider: OpenAIProvider) -> tuple[list[str], Completion]:
    deltas: list[str] = []
    completions: list[Completion] = []
    async for chunk in provider.stream(REQUEST):
        if isinstance(chunk, TextDelta):
            assert not completions, "no text after the completion"
            deltas.append(chunk.text)
        else:
            completions.append(chunk)
    assert len(completions) == 1
    return deltas, completions[0]


async def failure(provider: OpenAIProvider) -> tuple[list[str], ProviderError]:
    """The deltas streamed before the attempt failed, and the error; never a Completion."""
    deltas: list[str] = []

    async def consume() -> None:
        async for chunk in provider.stream(REQUEST):
            assert isinstance(chunk, TextDelta), "a failed attempt must not complete"
            deltas.append(chunk.text)

    with pytest.raises(ProviderError) as caught:
        await consume()
    return deltas, caught.value


async def test_implements_the_provider_protocol(provider: OpenAIProvider) -> None:
    checked: Provider = provider  # mypy verifies the structural match

    assert (checked.name, checked.model) == ("openai", MODEL)


async def test_streams_deltas_that_make_the_completion(
    emulator: Emulator, provider: OpenAIProvider
) -> None:
    emulator.script(MODEL, Behaviour(model="gpt-emulated-2099-01-01"))

    deltas, completion = await collect(provider)

    assert len(deltas) > 1
    assert "".join(deltas) == completion.text == DEFAULT_ANSWER
    assert completion.model == "gpt-emulated-2099-01-01"
    assert completion.stop_reason == "stop"
    assert completion.usage == Usage(input_tokens=21, output_tokens=len(deltas))


async def test_asks_for_strict_json_schema_and_usage(
    emulator: Emulator, provider: OpenAIProvider
) -> None:
    await collect(provider)

    (call,) = emulator.calls
    assert call.path == "/v1/chat/completions"
    assert call.stream
    assert call.body["model"] == MODEL
    assert call.body["messages"] == [
        {"role": "system", "content": REQUEST.system},
        {"role": "user", "content": REQUEST.prompt},
    ]
    assert call.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "quiz", "schema": REQUEST.json_schema, "strict": True},
    }
    assert call.body["stream_options"] == {"include_usage": True}
    assert call.body["temperature"] == REQUEST.temperature
    # A compatible server (not api.openai.com) gets the widely understood ``max_tokens``.
    assert call.body["max_tokens"] == REQUEST.max_tokens
    assert "max_completion_tokens" not in call.body
    assert call.headers["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize("api_key", ["", "ollama"])
async def test_serves_compatible_servers_with_a_placeholder_key(
    emulator: Emulator, api_key: str
) -> None:
    provider = make_provider(emulator, api_key=api_key)
    try:
        _, completion = await collect(provider)
    finally:
        await provider.aclose()

    assert completion.text == DEFAULT_ANSWER


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, ProviderRejected),
        (401, ProviderMisconfigured),
        (403, ProviderMisconfigured),
        (404, ProviderMisconfigured),
        (408, ProviderUnavailable),
        (409, ProviderUnavailable),
        (422, ProviderRejected),
        (429, ProviderRateLimited),
        (500, ProviderUnavailable),
        (502, ProviderUnavailable),
        (503, ProviderUnavailable),
        (529, ProviderUnavailable),
    ],
)
async def test_http_errors_are_classified_after_one_call(
    emulator: Emulator,
    provider: OpenAIProvider,
    status: int,
    error_class: type[ProviderError],
) -> None:
    emulator.script(MODEL, Behaviour(kind="error", status=status))

    deltas, error = await failure(provider)

    assert type(error) is error_class
    assert deltas == []
    assert f"HTTP {status}" in str(error)
    assert "req_emu_" in str(error), "the request id helps the operator"
    # The SDK would retry 408/409/429/5xx on its own; the failover chain must decide instead.
    assert len(emulator.calls) == 1


async def test_context_length_rejection_keeps_the_server_message(
    emulator: Emulator, provider: OpenAIProvider
) -> None:
    message = "This model's maximum context length is 128000 tokens."
    emulator.script(
        MODEL,
        Behaviour(kind="error", status=400, error_code="context_length_exceeded", message=message),
    )

    _, error = await failure(provider)

    assert isinstance(error, ProviderRejected)
    assert message in str(error)


async def test_an_exhausted_quota_is_not_worth_retrying(
    emulator: Emulator, provider: OpenAIProvider
) -> None:
    emulator.script(
        MODEL,
        Behaviour(
            kind="error",
            status=429,
            error_type="insufficient_quota",
            error_code="insufficient_quota",
        ),
    )

    _, error = await failure(provider)

    assert isinstance(error, ProviderMisconfigured)


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        (Behaviour(kind="error", status=429, retry_after="3"), 3.0),
        (Behaviour(kind="error", status=429, retry_after_ms="1200", retry_after="9"), 1.2),
        (Behaviour(kind="error", status=429), None),
    ],
)
async def test_rate_limit_carries_retry_after(
    emulator: Emulator, provider: OpenAIProvider, behaviour: Behaviour, expected: float | None
) -> None:
    emulator.script(MODEL, behaviour)

    _, error = await failure(provider)

    assert isinstance(error, ProviderRateLimited)
    assert error.retry_after == expected


@pytest.mark.parametrize(
    ("error_type", "error_code", "error_class"),
    [
        ("server_error", None, ProviderUnavailable),
        ("requests", "rate_limit_exceeded", ProviderRateLimited),
        ("invalid_request_error", None, ProviderRejected),
        ("insufficient_quota", "insufficient_quota", ProviderMisconfigured),
        # vLLM and friends put the HTTP status in ``code``.
        ("BadRequestError", "400", ProviderRejected),
        ("InternalServerError", "500", ProviderUnavailable),
    ],
)
@pytest.mark.parametrize("after_chunks", [0, 3])
async def test_in_band_stream_errors_are_classified(
    emulator: Emulator,
    provider: OpenAIProvider,
    error_type: str,
    error_code: str | None,
    error_class: type[ProviderError],
    after_chunks: int,
) -> None:
    emulator.script(
        MODEL,
        Behaviour(
            kind="inband_error",
            error_type=error_type,
            error_code=error_code,
            after_chunks=after_chunks,
        ),
    )

    deltas, error = await failure(provider)

    assert type(error) is error_class
    assert "stream error" in str(error)
    assert len(deltas) == after_chunks
    assert len(emulator.calls) == 1


async def test_length_finish_is_truncation_not_a_completion(
    emulator: Emulator, provider: OpenAIProvider
) -> None:
    emulator.script(MODEL, Behaviour(kind="truncated", after_chunks=4))

    deltas, error = await failure(provider)

    assert isinstance(error, OutputTruncated)
    assert len(deltas) == 4


async def test_a_content_filter_finish_is_rejected(
    emulator: Emulator, provider: OpenAIProvider
) -> None:
    emulator.script(MODEL, Behaviour(kind="refused"))

    _, error = await failure(provider)

    assert isinstance(error, ProviderRejected)


@pytest.mark.parametrize("kind", ["cut", "no_terminal", "malformed"])
async def test_broken_streams_are_unavailable(
    emulator: Emulator, provider: OpenAIProvider, kind: Kind
) -> None:
    emulator.script(MODEL, Behaviour(kind=kind))

    _, error = await failure(provider)

    assert isinstance(error, ProviderUnavailable)
    assert len(emulator.calls) == 1


@pytest.mark.parametrize(
    ("behaviour", "deltas_before"),
    [
        pytest.param(Behaviour(kind="stall", after_chunks=0), 0, id="first-token-silent"),
        pytest.param(
            Behaviour(kind="stall", after_chunks=0, keepalive_every=0.1),
            0,
            id="first-token-keepalive",
        ),
        pytest.param(Behaviour(first_token_delay=3.0), 0, id="slow-first-token"),
        pytest.param(Behaviour(headers_delay=3.0), 0, id="slow-headers"),
        pytest.param(Behaviour(kind="stall", after_chunks=3), 3, id="idle-silent"),
        pytest.param(
            Behaviour(kind="stall", after_chunks=3, keepalive_every=0.1), 3, id="idle-keepalive"
        ),
    ],
)
async def test_stalls_time_out_within_the_deadline(
    emulator: Emulator, provider: OpenAIProvider, behaviour: Behaviour, deltas_before: int
) -> None:
    emulator.script(MODEL, behaviour)
    started = time.monotonic()

    deltas, error = await failure(provider)

    elapsed = time.monotonic() - started
    assert isinstance(error, ProviderTimeout)
    assert len(deltas) == deltas_before
    assert DEADLINE * 0.9 <= elapsed < DEADLINE + 0.5
    assert len(emulator.calls) == 1


async def test_the_attempt_deadline_bounds_a_slow_but_steady_stream(emulator: Emulator) -> None:
    timeouts = TIMEOUTS.model_copy(update={"attempt_seconds": 0.6})
    emulator.script(MODEL, Behaviour(tokens_per_second=25))  # 19 chunks: about 0.75 s
    provider = make_provider(emulator, timeouts=timeouts)
    started = time.monotonic()
    try:
        deltas, error = await failure(provider)
    finally:
        await provider.aclose()

    assert isinstance(error, ProviderTimeout)
    assert "attempt" in str(error)
    assert deltas
    assert time.monotonic() - started < 0.6 + 0.4


async def test_a_refused_connection_is_unavailable(emulator: Emulator) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    provider = make_provider(emulator, base_url=f"http://127.0.0.1:{closed_port}/v1")
    try:
        _, error = await failure(provider)
    finally:
        await provider.aclose()

    assert isinstance(error, ProviderUnavailable)


async def test_a_key_echoed_by_the_server_is_not_repeated() -> None:
    # A private emulator that checks keys, and like OpenAI quotes the wrong one back.
    async with run_emulator(expected_api_key="sk-proj-the-right-key") as emulator:
        provider = make_provider(emulator)
        try:
            _, error = await failure(provider)
        finally:
            await provider.aclose()
        assert API_KEY in emulator.calls[0].headers["authorization"]

    assert isinstance(error, ProviderMisconfigured)
    assert "Incorrect API key provided" in str(error)
    assert API_KEY not in str(error)


@pytest.mark.parametrize(
    "behaviour",
    [
        Behaviour(kind="error", status=400, message=f"bad request from {API_KEY}"),
        Behaviour(kind="error", status=429, message=f"slow down, {API_KEY}"),
        Behaviour(kind="inband_error", message=f"server error for {API_KEY}"),
        Behaviour(kind="cut"),
        Behaviour(kind="stall", after_chunks=1),
    ],
)
async def test_the_api_key_never_appears_in_an_error(
    emulator: Emulator, provider: OpenAIProvider, behaviour: Behaviour
) -> None:
    emulator.script(MODEL, behaviour)

    _, error = await failure(provider)

    assert API_KEY not in str(error)
    assert API_KEY not in repr(error)
    assert error.__cause__ is None
    assert error.__suppress_context__, "the SDK error (and any echoed key) stays out of tracebacks"


async def test_one_call_per_attempt_and_the_next_attempt_succeeds(
    emulator: Emulator, provider: OpenAIProvider
) -> None:
    emulator.script(MODEL, [Behaviour(kind="error", status=503, times=2), Behaviour()])

    first = await failure(provider)
    second = await failure(provider)
    _, completion = await collect(provider)

    assert isinstance(first[1], ProviderUnavailable)
    assert isinstance(second[1], ProviderUnavailable)
    assert completion.text == DEFAULT_ANSWER
    assert len(emulator.calls) == 3


async def test_stopping_early_releases_the_stream(
    emulator: Emulator, provider: OpenAIProvider
) -> None:
    emulator.script(MODEL, [Behaviour(tokens_per_second=20), Behaviour()])

    async with contextlib.aclosing(provider.stream(REQUEST)) as stream:
        async for chunk in stream:
            assert isinstance(chunk, TextDelta)
            break

    _, completion = await collect(provider)
    assert completion.text == DEFAULT_ANSWER
