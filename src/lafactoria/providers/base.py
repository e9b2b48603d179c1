"""The provider Protocol: one streaming call, vendor types never leak past an adapter.

An adapter turns a :class:`GenerationRequest` into a stream of :class:`TextDelta` chunks that
ends with exactly one :class:`Completion`. Anything that goes wrong is raised as a
:mod:`lafactoria.providers.errors` exception; SDK exceptions are translated inside the adapter.
Adapters implement ``stream`` as an async generator, so a caller that gives up on an attempt can
``aclose()`` it and release the connection at once instead of when it is garbage-collected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Revision:
    """An earlier answer and what was wrong with it, sent back so the model can fix it."""

    answer: str
    feedback: str


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """What to ask a provider for. ``json_schema`` describes the expected JSON answer.

    ``revisions`` continue the conversation: each earlier answer is sent as the assistant's
    turn and its feedback as the user's reply, in order (a repair after invalid output).
    """

    system: str
    prompt: str
    schema_name: str
    json_schema: dict[str, Any]
    max_tokens: int = 4096
    temperature: float = 0.7
    revisions: tuple[Revision, ...] = ()


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Completion:
    """The end of a successful stream. ``text`` is the whole answer."""

    text: str
    model: str
    stop_reason: str
    usage: Usage = field(default_factory=Usage)


StreamChunk = TextDelta | Completion


class Provider(Protocol):
    """A named model endpoint that can stream a generation."""

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> str: ...

    def stream(self, request: GenerationRequest) -> AsyncIterator[StreamChunk]:
        """Yield text deltas as they arrive, then one ``Completion``.

        Raises a ``ProviderError`` subclass on failure, including a truncated answer
        (``OutputTruncated``), so callers never see a cut answer as a completion.
        """
        ...

    async def aclose(self) -> None:
        """Release connections held by the adapter."""
        ...
