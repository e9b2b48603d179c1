"""Fake providers the attacks need, injected through ``run_server(settings, providers=[...])``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from lafactoria.providers.base import GenerationRequest, StreamChunk, TextDelta
from lafactoria.providers.errors import ProviderUnavailable
from lafactoria.providers.offline import OfflineProvider

# What a careless upstream might echo back: the kind of text that must never reach a client.
SECRET = "sk-live-51HxTOPSECRETabc123"


class SelectiveProvider:
    """The offline provider, except that a topic containing "Stall" runs until cancelled."""

    name = "offline"
    model = "offline-template-v1"

    def __init__(self) -> None:
        self._offline = OfflineProvider()

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamChunk]:
        if "Stall" in request.prompt:
            yield TextDelta('{"title": "')
            await asyncio.Event().wait()
        async for chunk in self._offline.stream(request):
            yield chunk

    async def aclose(self) -> None:
        await self._offline.aclose()


class CrashingProvider:
    """Streams a little, then fails with an exception nobody planned for, quoting a secret."""

    name = "crashing"
    model = "crash-1"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamChunk]:
        yield TextDelta('{"title": "')
        raise RuntimeError(f"upstream said: invalid key {SECRET}")

    async def aclose(self) -> None:
        return None


class FailingProvider:
    """Fails the way providers are expected to, but with the secret in its message."""

    name = "failing"
    model = "fail-1"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamChunk]:
        yield TextDelta('{"title": "')
        raise ProviderUnavailable(f"503 from upstream: bad key {SECRET}")

    async def aclose(self) -> None:
        return None
