"""The classification and deadline rules both HTTP adapters share."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator

import httpx2
import pytest

from lafactoria.errors import ProviderError
from lafactoria.providers.errors import (
    ContextTooLong,
    ProviderMisconfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    error_kind,
)
from lafactoria.providers.transport import (
    ServerSentEvent,
    error_class_for_status,
    http_timeout,
    redact,
    refine_rejection,
    retry_after,
    server_sent_events,
)
from lafactoria.settings import ProviderTimeouts


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, ProviderRejected),
        (413, ProviderRejected),
        (422, ProviderRejected),
        (401, ProviderMisconfigured),
        (402, ProviderMisconfigured),
        (403, ProviderMisconfigured),
        (404, ProviderMisconfigured),
        (405, ProviderMisconfigured),
        (408, ProviderUnavailable),
        (409, ProviderUnavailable),
        (425, ProviderUnavailable),
        (429, ProviderRateLimited),
        (500, ProviderUnavailable),
        (502, ProviderUnavailable),
        (503, ProviderUnavailable),
        (504, ProviderUnavailable),
        (529, ProviderUnavailable),
    ],
)
def test_statuses_map_to_what_failover_does_next(
    status: int, expected: type[ProviderError]
) -> None:
    assert error_class_for_status(status) is expected


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("context_length_exceeded", "anything"),
        (None, "This model's maximum context length is 8192 tokens. However, you requested 9000"),
        (None, "prompt is too long: 210000 tokens > 200000 maximum"),
        (None, "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000"),
        (None, "the request exceeds the available context size, try increasing it"),
    ],
)
def test_a_context_overflow_may_move_to_a_larger_window(code: str | None, message: str) -> None:
    assert refine_rejection(ProviderRejected, code, message) is ContextTooLong


@pytest.mark.parametrize(
    "message", ["messages: at least one message is required", "Invalid value for 'messages'."]
)
def test_other_rejections_stay_rejections(message: str) -> None:
    assert refine_rejection(ProviderRejected, None, message) is ProviderRejected
    assert refine_rejection(ProviderUnavailable, None, "context length") is ProviderUnavailable


def test_retry_after_in_milliseconds_seconds_or_a_date() -> None:
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after({"retry-after": "2"}) == 2.0
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= (retry_after({"retry-after": in_ten}) or 0) <= 10
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None


def test_no_client_is_built_without_every_timeout() -> None:
    timeout = http_timeout(
        ProviderTimeouts(connect_seconds=2, first_token_seconds=30, idle_seconds=5)
    )

    assert timeout == httpx2.Timeout(connect=2, read=30, write=5, pool=2)


def test_keys_are_redacted_but_placeholders_left_alone() -> None:
    assert redact("bad key sk-live-0123456789", "sk-live-0123456789") == "bad key [redacted]"
    assert redact("key x", "x") == "key x"


def test_every_error_class_has_a_trace_name() -> None:
    assert error_kind(ContextTooLong("too long")) == "context_too_long"
    assert error_kind(ProviderRateLimited("slow down", retry_after=1)) == "rate_limited"
    assert error_kind(ProviderError("bare")) == "provider_error"


async def _lines(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def test_server_sent_events_are_framed_as_the_spec_says() -> None:
    body = _lines(
        ": keep-alive",
        'data: {"a": 1}',
        "",
        "event: error",
        "id: 7",
        "data: first line",
        "data:second line",
        "",
        "",
        "data: [DONE]",
        "",
        "data: cut off before its blank line",
    )

    events = [event async for event in server_sent_events(body)]

    assert events == [
        ServerSentEvent(event=None, data='{"a": 1}'),
        ServerSentEvent(event="error", data="first line\nsecond line"),
        ServerSentEvent(event=None, data="[DONE]"),
    ]
