"""The Anthropic adapter driven through the real SDK against the emulated Messages API."""

from __future__ import annotations

import contextlib
import email.utils
import socket
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from lafactoria.errors import ProviderError
from lafactoria.providers.anthropic import AnthropicProvider
from lafactoria.providers.base import Completion, GenerationRequest, Provider, TextDelta, Usage
from lafactoria.providers.errors import (
    OutputTruncated,
    ProviderMisconfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from lafactoria.settings import ProviderTimeouts
from tests.support.emulator import DEFAULT_ANSWER, Behaviour, Emulator, Kind

API_KEY = "sk-ant-api03-test-key-0123456789abcdef"
MODEL = "claude-emulated"
DEADLINE = 0.3
TIMEOUTS = ProviderTimeouts(
    connect_seconds=1.0,
    first_token_seconds=DEADLINE,
    idle_seconds=DEADLINE,
    attempt_seconds=5.0,
)
REQUEST = GenerationRequest(
    system="You write study guides.",
    prompt="Photosynthesis for high school.",
    schema_name="study_guide",
    json_schema={
        "type": "object",
        "properties": {"title": {"type": "string"}, "sections": {"type": "array"}},
        "required": ["title", "sections"],
    },
    max_tokens=1024,
)


def make_provider(
    emulator: Emulator, *, timeouts: ProviderTimeouts = TIMEOUTS, base_url: str | None = None
) -> AnthropicProvider:
    return AnthropicProvider(
        model=MODEL,
        api_key=API_KEY,
        base_url=base_url or emulator.base_url,
        timeouts=timeouts,
    )


# One event loop and one shared provider per module: building an SDK client loads the TLS
# trust store (~50 ms), which would otherwise dominate this suite. Tests that need other
# settings build their own provider.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def provider(emulator_server: Emulator) -> AsyncIterator[AnthropicProvider]:
    provider = make_provider(emulator_server)
    yield provider
    await provider.aclose()


async def collect(provider: AnthropicProvider) -> tuple[list[str], Completion]:
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


async def failure(provider: AnthropicProvider) -> tuple[list[str], ProviderError]:
    """The deltas streamed before the attempt failed, and the error; never a Completion."""
    deltas: list[str] = []

    async def consume() -> None:
        async for chunk in provider.stream(REQUEST):
            assert isinstance(chunk, TextDelta), "a failed attempt must not complete"
            deltas.append(chunk.text)

    with pytest.raises(ProviderError) as caught:
        await consume()
    return deltas, caught.value


async def test_implements_the_provider_protocol(provider: AnthropicProvider) -> None:
    checked: Provider = provider  # mypy verifies the structural match

    assert (checked.name, checked.model) == ("anthropic", MODEL)


async def test_streams_tool_json_whose_deltas_make_the_completion(
    emulator: Emulator, provider: AnthropicProvider
) -> None:
    emulator.script(MODEL, Behaviour(model="claude-emulated-20990101"))

    deltas, completion = await collect(provider)

    assert len(deltas) > 1
    assert "".join(deltas) == completion.text == DEFAULT_ANSWER
    assert completion.model == "claude-emulated-20990101"
    assert completion.stop_reason == "tool_use"
    assert completion.usage == Usage(input_tokens=21, output_tokens=len(deltas))


async def test_asks_for_json_through_a_forced_tool(
    emulator: Emulator, provider: AnthropicProvider
) -> None:
    await collect(provider)

    (call,) = emulator.calls
    assert call.path == "/v1/messages"
    assert call.stream
    assert call.body["model"] == MODEL
    assert call.body["system"] == REQUEST.system
    assert call.body["max_tokens"] == REQUEST.max_tokens
    assert call.body["messages"] == [{"role": "user", "content": REQUEST.prompt}]
    (tool,) = call.body["tools"]
    assert tool["name"] == REQUEST.schema_name
    assert tool["input_schema"] == REQUEST.json_schema
    assert call.body["tool_choice"] == {"type": "tool", "name": REQUEST.schema_name}
    assert API_KEY in (call.headers.get("x-api-key", "") + call.headers.get("authorization", ""))


async def test_a_plain_text_answer_is_passed_through(
    emulator: Emulator, provider: AnthropicProvider
) -> None:
    emulator.script(MODEL, Behaviour(tool_use=False))

    deltas, completion = await collect(provider)

    assert "".join(deltas) == completion.text == DEFAULT_ANSWER
    assert completion.stop_reason == "end_turn"


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, ProviderRejected),
        (401, ProviderMisconfigured),
        (402, ProviderMisconfigured),
        (403, ProviderMisconfigured),
        (404, ProviderMisconfigured),
        (408, ProviderUnavailable),
        (409, ProviderUnavailable),
        (413, ProviderRejected),
        (422, ProviderRejected),
        (429, ProviderRateLimited),
        (500, ProviderUnavailable),
        (502, ProviderUnavailable),
        (503, ProviderUnavailable),
        (504, ProviderUnavailable),
        (529, ProviderUnavailable),
    ],
)
async def test_http_errors_are_classified_after_one_call(
    emulator: Emulator,
    provider: AnthropicProvider,
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
    emulator: Emulator, provider: AnthropicProvider
) -> None:
    message = "prompt is too long: 210000 tokens > 200000 maximum"
    emulator.script(MODEL, Behaviour(kind="error", status=400, message=message))

    _, error = await failure(provider)

    assert isinstance(error, ProviderRejected)
    assert message in str(error)


async def test_a_spend_limit_429_is_not_worth_retrying(
    emulator: Emulator, provider: AnthropicProvider
) -> None:
    emulator.script(
        MODEL, Behaviour(kind="error", status=429, error_code="enforced_spend_limit_reached")
    )

    _, error = await failure(provider)

    assert isinstance(error, ProviderMisconfigured)


@pytest.mark.parametrize(
    ("behaviour", "low", "high"),
    [
        (Behaviour(kind="error", status=429, retry_after="7"), 7.0, 7.0),
        (Behaviour(kind="error", status=429, retry_after="1.5"), 1.5, 1.5),
        (Behaviour(kind="error", status=429, retry_after_ms="250", retry_after="30"), 0.25, 0.25),
        (Behaviour(kind="error", status=429, retry_after="soon"), None, None),
        (Behaviour(kind="error", status=429), None, None),
    ],
)
async def test_rate_limit_carries_retry_after(
    emulator: Emulator,
    provider: AnthropicProvider,
    behaviour: Behaviour,
    low: float | None,
    high: float | None,
) -> None:
    emulator.script(MODEL, behaviour)

    _, error = await failure(provider)

    assert isinstance(error, ProviderRateLimited)
    if low is None or high is None:
        assert error.retry_after is None
    else:
        assert error.retry_after is not None
        assert low <= error.retry_after <= high


async def test_retry_after_may_be_an_http_date(
    emulator: Emulator, provider: AnthropicProvider
) -> None:
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    emulator.script(MODEL, Behaviour(kind="error", status=429, retry_after=in_a_minute))

    _, error = await failure(provider)

    assert isinstance(error, ProviderRateLimited)
    assert error.retry_after is not None
    assert 55.0 <= error.retry_after <= 60.0


@pytest.mark.parametrize(
    ("error_type", "error_class"),
    [
        ("overloaded_error", ProviderUnavailable),
        ("api_error", ProviderUnavailable),
        ("rate_limit_error", ProviderRateLimited),
        ("invalid_request_error", ProviderRejected),
        ("authentication_error", ProviderMisconfigured),
    ],
)
@pytest.mark.parametrize("after_chunks", [0, 3])
async def test_in_band_stream_errors_are_classified_by_type(
    emulator: Emulator,
    provider: AnthropicProvider,
    error_type: str,
    error_class: type[ProviderError],
    after_chunks: int,
) -> None:
    emulator.script(
        MODEL, Behaviour(kind="inband_error", error_type=error_type, after_chunks=after_chunks)
    )

    deltas, error = await failure(provider)

    assert type(error) is error_class
    assert error_type in str(error)
    assert len(deltas) == after_chunks
    assert len(emulator.calls) == 1


async def test_max_tokens_stop_is_truncation_not_a_completion(
    emulator: Emulator, provider: AnthropicProvider
) -> None:
    emulator.script(MODEL, Behaviour(kind="truncated", after_chunks=4))

    deltas, error = await failure(provider)

    assert isinstance(error, OutputTruncated)
    assert len(deltas) == 4


async def test_a_refusal_is_rejected(emulator: Emulator, provider: AnthropicProvider) -> None:
    emulator.script(MODEL, Behaviour(kind="refused"))

    _, error = await failure(provider)

    assert isinstance(error, ProviderRejected)


@pytest.mark.parametrize("kind", ["cut", "no_terminal", "malformed"])
async def test_broken_streams_are_unavailable(
    emulator: Emulator, provider: AnthropicProvider, kind: Kind
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
            Behaviour(kind="stall", after_chunks=0, keepalive_every=0.1), 0, id="first-token-pings"
        ),
        pytest.param(Behaviour(first_token_delay=3.0), 0, id="slow-first-token"),
        pytest.param(Behaviour(headers_delay=3.0), 0, id="slow-headers"),
        pytest.param(Behaviour(kind="stall", after_chunks=3), 3, id="idle-silent"),
        pytest.param(
            Behaviour(kind="stall", after_chunks=3, keepalive_every=0.1), 3, id="idle-pings"
        ),
    ],
)
async def test_stalls_time_out_within_the_deadline(
    emulator: Emulator, provider: AnthropicProvider, behaviour: Behaviour, deltas_before: int
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
    provider = make_provider(emulator, base_url=f"http://127.0.0.1:{closed_port}")
    try:
        _, error = await failure(provider)
    finally:
        await provider.aclose()

    assert isinstance(error, ProviderUnavailable)


@pytest.mark.parametrize(
    "behaviour",
    [
        Behaviour(kind="error", status=401, message=f"invalid x-api-key: {API_KEY}"),
        Behaviour(kind="error", status=400, message=f"bad request from {API_KEY}"),
        Behaviour(kind="error", status=429, message=f"slow down, {API_KEY}"),
        Behaviour(kind="inband_error", message=f"overloaded for {API_KEY}"),
        Behaviour(kind="cut"),
        Behaviour(kind="stall", after_chunks=1),
    ],
)
async def test_the_api_key_never_appears_in_an_error(
    emulator: Emulator, provider: AnthropicProvider, behaviour: Behaviour
) -> None:
    emulator.script(MODEL, behaviour)

    _, error = await failure(provider)

    assert API_KEY not in str(error)
    assert API_KEY not in repr(error)
    assert error.__cause__ is None
    assert error.__suppress_context__, "the SDK error (and any echoed key) stays out of tracebacks"


async def test_a_wrong_key_is_misconfigured(
    emulator: Emulator, provider: AnthropicProvider
) -> None:
    emulator.expected_api_key = "sk-ant-api03-another-key"

    _, error = await failure(provider)

    assert isinstance(error, ProviderMisconfigured)


async def test_one_call_per_attempt_and_the_next_attempt_succeeds(
    emulator: Emulator, provider: AnthropicProvider
) -> None:
    emulator.script(MODEL, [Behaviour(kind="error", status=529), Behaviour()])

    _, error = await failure(provider)
    _, completion = await collect(provider)

    assert isinstance(error, ProviderUnavailable)
    assert completion.text == DEFAULT_ANSWER
    assert [call.model for call in emulator.calls] == [MODEL, MODEL]


async def test_stopping_early_releases_the_stream(
    emulator: Emulator, provider: AnthropicProvider
) -> None:
    emulator.script(MODEL, [Behaviour(tokens_per_second=20), Behaviour()])

    async with contextlib.aclosing(provider.stream(REQUEST)) as stream:
        async for chunk in stream:
            assert isinstance(chunk, TextDelta)
            break

    # The connection went back or was dropped cleanly: the next attempt works.
    _, completion = await collect(provider)
    assert completion.text == DEFAULT_ANSWER
