"""A provider that holds a job mid-stream until the test lets it finish."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

from lafactoria.providers.base import GenerationRequest, StreamChunk
from lafactoria.providers.offline import OfflineProvider


class GatedProvider:
    """The offline provider's answer, paused after its first chunk until ``gate`` is set.

    The gate is a thread event because the server runs in another thread; ``aclose`` opens it
    so a failing test cannot leave the server waiting.
    """

    # It is the offline provider, only paused: content and progress read the same.
    name = "offline"
    model = "offline-template-v1"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self._offline = OfflineProvider()

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamChunk]:
        first = True
        async for chunk in self._offline.stream(request):
            yield chunk
            if first:
                first = False
                await asyncio.to_thread(self.gate.wait, 30)

    async def aclose(self) -> None:
        self.gate.set()
