"""Fake providers for lifecycle tests, injected through ``create_app(providers=...)``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from lafactoria.providers.base import GenerationRequest, StreamChunk, TextDelta
from lafactoria.providers.offline import OfflineProvider


class StallingProvider:
    """Streams a little text, then waits until it is cancelled: a job that runs until stopped."""

    name = "stalling"
    model = "stall-1"

    def __init__(self) -> None:
        self.cancelled = 0

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamChunk]:
        yield TextDelta('{"title": "')
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise

    async def aclose(self) -> None:
        return None


def slow_offline(seconds_per_chunk: float) -> OfflineProvider:
    """The offline provider at a readable pace: a job that takes a while but succeeds."""
    return OfflineProvider(chunk_delay=seconds_per_chunk)
