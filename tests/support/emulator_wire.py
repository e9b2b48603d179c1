"""What the emulated APIs send: scripted behaviours and the two vendors' wire formats.

Anthropic Messages: SSE frames ``event: <type>`` + ``data: <json>`` (message_start,
content_block_start, ping, content_block_delta, content_block_stop, message_delta,
message_stop; ``error`` for in-band errors) and ``{"type": "error", "error": {...}}`` bodies.
OpenAI Chat Completions: SSE ``data: <chunk>`` lines ending with ``data: [DONE]``, a usage
chunk when ``stream_options.include_usage`` is set, and ``{"error": {...}}`` bodies.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal[
    "success",  # stream ``text`` in chunks, then finish normally
    "error",  # answer HTTP ``status`` with the API's error body and headers
    "inband_error",  # HTTP 200, ``after_chunks`` chunks, then an error event in the stream
    "cut",  # ``after_chunks`` chunks, then drop the connection mid-body
    "stall",  # ``after_chunks`` chunks, then silence (or keep-alives), then drop
    "truncated",  # ``after_chunks`` chunks, then stop_reason max_tokens / finish_reason length
    "refused",  # stop_reason refusal / finish_reason content_filter
    "no_terminal",  # all chunks, then end the body without message_stop / finish_reason
    "malformed",  # ``after_chunks`` chunks, then a chunk whose data is not JSON
]

# The kinds that stop sending text after ``after_chunks`` chunks.
_PARTIAL = frozenset({"inband_error", "cut", "stall", "truncated", "malformed"})

DEFAULT_ANSWER = (
    '{"title": "Photosynthesis", "sections": [{"heading": "Light", '
    '"body": "Plants turn light, water and carbon dioxide into sugar and oxygen."}]}'
)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How the emulator answers one call."""

    kind: Kind = "success"
    text: str = DEFAULT_ANSWER
    """The answer; streamed as tool input JSON when an Anthropic request forces a tool."""
    tool_use: bool | None = None
    """Anthropic: answer with a tool call (``True``) or text; ``None`` follows ``tool_choice``."""
    status: int = 500
    """HTTP status for ``kind="error"``."""
    error_type: str | None = None
    """The API's error type; by default the one the real API uses for the status or kind."""
    error_code: str | None = None
    """OpenAI ``error.code`` / Anthropic ``error.details.error_code``; by default the usual one."""
    message: str | None = None
    """Error message; by default a realistic one."""
    retry_after: str | None = None
    """``retry-after`` header: seconds or an HTTP date."""
    retry_after_ms: str | None = None
    """``retry-after-ms`` header."""
    headers_delay: float = 0.0
    """Seconds before the response headers are sent."""
    first_token_delay: float = 0.0
    """Seconds between the stream's opening events and the first text chunk."""
    tokens_per_second: float | None = None
    """Chunks per second after the first; ``None`` sends them back to back."""
    chunk_size: int = 8
    """Characters per streamed chunk."""
    after_chunks: int = 2
    """Chunks sent before the fault of inband_error, cut, stall, truncated and malformed."""
    keepalive_every: float | None = None
    """While stalled, send a ping event (Anthropic) or SSE comment (OpenAI) this often."""
    stall_seconds: float = 30.0
    """How long a stall lasts before the connection is dropped."""
    model: str | None = None
    """Model name reported in the answer; by default the requested one."""
    input_tokens: int = 21
    """Input tokens reported; output tokens are the number of chunks sent."""
    times: int = 1
    """How many consecutive calls this behaviour answers."""


class EmulatedCut(Exception):
    """Raised by a response body to make the server drop the connection mid-response."""


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One Anthropic-style frame."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def sse_data(data: dict[str, Any]) -> bytes:
    """One OpenAI-style frame."""
    return f"data: {json.dumps(data)}\n\n".encode()


class _Exchange:
    """One answer being produced: the text cut into chunks, paced, with the scripted fault."""

    def __init__(self, body: dict[str, Any], behaviour: Behaviour, number: int) -> None:
        self.body = body
        self.behaviour = behaviour
        self.number = number
        self.model = behaviour.model or str(body.get("model", ""))
        size = max(behaviour.chunk_size, 1)
        pieces = [behaviour.text[i : i + size] for i in range(0, len(behaviour.text), size)]
        self.pieces = pieces[: behaviour.after_chunks] if behaviour.kind in _PARTIAL else pieces
        self.sent = 0

    async def _paced(self, frame: Callable[[str], bytes]) -> AsyncIterator[bytes]:
        b = self.behaviour
        if b.first_token_delay:
            await asyncio.sleep(b.first_token_delay)
        for index, piece in enumerate(self.pieces):
            if index and b.tokens_per_second:
                await asyncio.sleep(1 / b.tokens_per_second)
            self.sent += 1
            yield frame(piece)

    async def _stall(self, keepalive: bytes) -> AsyncIterator[bytes]:
        b = self.behaviour
        until = time.monotonic() + b.stall_seconds
        while (left := until - time.monotonic()) > 0:
            await asyncio.sleep(min(left, b.keepalive_every or left))
            if b.keepalive_every:
                yield keepalive
        raise EmulatedCut


# -- Anthropic Messages ------------------------------------------------------------------------

_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_ANTHROPIC_MESSAGES = {
    "invalid_request_error": "messages: at least one message is required",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low to access the Anthropic API.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "model: not found",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of requests has exceeded your per-minute rate limit.",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out",
    "overloaded_error": "Overloaded",
}


def anthropic_error(behaviour: Behaviour, request_id: str) -> dict[str, Any]:
    """The Anthropic error body for an HTTP error or an in-band ``error`` event."""
    b = behaviour
    if b.kind == "inband_error":
        default = "overloaded_error"
    else:
        default = _ANTHROPIC_TYPES.get(
            b.status, "api_error" if b.status >= 500 else "invalid_request_error"
        )
    error_type = b.error_type or default
    error: dict[str, Any] = {
        "type": error_type,
        "message": b.message or _ANTHROPIC_MESSAGES.get(error_type, error_type),
    }
    if b.error_code:
        error["details"] = {"error_code": b.error_code}
    return {"type": "error", "error": error, "request_id": request_id}


class AnthropicExchange(_Exchange):
    """A ``POST /v1/messages`` answer: a tool call when the request forces a tool, else text."""

    def __init__(self, body: dict[str, Any], behaviour: Behaviour, number: int) -> None:
        super().__init__(body, behaviour, number)
        choice = body.get("tool_choice") or {}
        forced = choice.get("name") if choice.get("type") == "tool" else None
        if behaviour.tool_use is None:
            self.tool: str | None = forced
        else:
            self.tool = (forced or "answer") if behaviour.tool_use else None

    @property
    def _stop_reason(self) -> str:
        special = {"truncated": "max_tokens", "refused": "refusal"}
        return special.get(self.behaviour.kind, "tool_use" if self.tool else "end_turn")

    def _block(self, text: str) -> dict[str, Any]:
        if self.tool is None:
            return {"type": "text", "text": text, "citations": None}
        try:
            tool_input = json.loads(text) if text else {}
        except ValueError:
            tool_input = {}
        return {
            "type": "tool_use",
            "id": f"toolu_emu_{self.number:04d}",
            "name": self.tool,
            "input": tool_input,
        }

    def _message(self, content: list[dict[str, Any]], stop_reason: str | None) -> dict[str, Any]:
        return {
            "id": f"msg_emu_{self.number:04d}",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": self.behaviour.input_tokens, "output_tokens": 1},
        }

    def message(self) -> dict[str, Any]:
        """The non-streaming answer."""
        message = self._message([self._block("".join(self.pieces))], self._stop_reason)
        message["usage"]["output_tokens"] = len(self.pieces)
        return message

    def _delta(self, piece: str) -> bytes:
        if self.tool is None:
            delta = {"type": "text_delta", "text": piece}
        else:
            delta = {"type": "input_json_delta", "partial_json": piece}
        return sse(
            "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
        )

    async def events(self) -> AsyncIterator[bytes]:
        """The streamed answer, with the scripted fault."""
        kind = self.behaviour.kind
        yield sse("message_start", {"type": "message_start", "message": self._message([], None)})
        block = self._block("") if self.tool else {"type": "text", "text": ""}
        yield sse(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": block},
        )
        yield sse("ping", {"type": "ping"})
        async for frame in self._paced(self._delta):
            yield frame
        if kind == "inband_error":
            yield sse("error", anthropic_error(self.behaviour, f"req_emu_{self.number:04d}"))
            return
        if kind == "cut":
            raise EmulatedCut
        if kind == "stall":
            async for frame in self._stall(sse("ping", {"type": "ping"})):
                yield frame
        if kind == "malformed":
            yield b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'
            return
        yield sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        yield sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": self._stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": self.sent},
            },
        )
        if kind != "no_terminal":
            yield sse("message_stop", {"type": "message_stop"})


# -- OpenAI Chat Completions -------------------------------------------------------------------

_OPENAI_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid value for 'messages'."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Not supported."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    408: ("server_error", None, "Request timed out."),
    409: ("server_error", None, "Conflict."),
    422: ("invalid_request_error", None, "Unprocessable request."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}
_OPENAI_SERVER_ERROR = _OPENAI_ERRORS[500]


def openai_error(behaviour: Behaviour) -> dict[str, Any]:
    """The OpenAI error body, for an HTTP error or as an in-band stream chunk."""
    b = behaviour
    if b.kind == "inband_error":
        error_type, code, message = _OPENAI_SERVER_ERROR
    else:
        fallback = _OPENAI_SERVER_ERROR if b.status >= 500 else _OPENAI_ERRORS[400]
        error_type, code, message = _OPENAI_ERRORS.get(b.status, fallback)
    return {
        "error": {
            "message": b.message or message,
            "type": b.error_type or error_type,
            "param": None,
            "code": b.error_code or code,
        }
    }


class OpenAIExchange(_Exchange):
    """A ``POST /v1/chat/completions`` answer."""

    def __init__(self, body: dict[str, Any], behaviour: Behaviour, number: int) -> None:
        super().__init__(body, behaviour, number)
        self.include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.created = int(time.time())

    @property
    def _finish_reason(self) -> str:
        return {"truncated": "length", "refused": "content_filter"}.get(self.behaviour.kind, "stop")

    def _usage(self) -> dict[str, int]:
        prompt, completion = self.behaviour.input_tokens, self.sent or len(self.pieces)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _base(self, kind: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-emu{self.number:04d}",
            "object": kind,
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_emulator",
        }

    def completion(self) -> dict[str, Any]:
        """The non-streaming answer."""
        message = {"role": "assistant", "content": "".join(self.pieces), "refusal": None}
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": self._finish_reason,
        }
        return {**self._base("chat.completion"), "choices": [choice], "usage": self._usage()}

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        chunk = {**self._base("chat.completion.chunk"), "choices": [choice]}
        if self.include_usage:
            chunk["usage"] = None
        return sse_data(chunk)

    async def events(self) -> AsyncIterator[bytes]:
        """The streamed answer, with the scripted fault."""
        kind = self.behaviour.kind
        yield self._chunk({"role": "assistant", "content": "", "refusal": None})
        async for frame in self._paced(lambda piece: self._chunk({"content": piece})):
            yield frame
        if kind == "inband_error":
            yield sse_data(openai_error(self.behaviour))
            return
        if kind == "cut":
            raise EmulatedCut
        if kind == "stall":
            async for frame in self._stall(b": keep-alive\n\n"):
                yield frame
        if kind == "malformed":
            yield b'data: {"id": "chatcmpl-emu", "choices": [{"delta": {"con\n\n'
            return
        if kind == "no_terminal":
            return
        yield self._chunk({}, self._finish_reason)
        if self.include_usage:
            yield sse_data(
                {**self._base("chat.completion.chunk"), "choices": [], "usage": self._usage()}
            )
        yield b"data: [DONE]\n\n"


async def cut_json_body(behaviour: Behaviour) -> AsyncIterator[bytes]:
    """A non-streaming body that stops half-way (after a stall, for ``kind="stall"``)."""
    if behaviour.kind == "stall":
        await asyncio.sleep(behaviour.stall_seconds)
    yield b'{"id": "'
    raise EmulatedCut
