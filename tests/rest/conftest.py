"""A server whose provider writes the tricky sample bodies, and an HTTP client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from lafactoria.content.enums import ContentType
from tests.content.exports.samples import (
    tricky_deck,
    tricky_podcast,
    tricky_quiz,
    tricky_study_guide,
)
from tests.rest.helpers import ScriptedProvider
from tests.support.server import RunningServer, make_settings, run_server

BODIES = {
    ContentType.STUDY_GUIDE: tricky_study_guide(),
    ContentType.FLASHCARDS: tricky_deck(),
    ContentType.QUIZ: tricky_quiz(),
    ContentType.PODCAST: tricky_podcast(),
}


@pytest.fixture(scope="session")
def rest_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    settings = make_settings(tmp_path_factory.mktemp("rest-data"))
    with run_server(settings, providers=[ScriptedProvider(BODIES)]) as running:
        yield running


@pytest.fixture
async def api(rest_server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=rest_server.base_url, timeout=20) as client:
        yield client
