"""Fixtures for the provider adapter tests: one emulator server, a clean slate per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.emulator import Emulator


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    # One server for the session: starting and stopping uvicorn costs about 0.3 s, and the
    # server runs in its own thread, so it does not depend on any test's event loop.
    emulator = Emulator()
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    """The emulated Anthropic and OpenAI APIs, with no scripts and no recorded calls.

    Synchronous on purpose: the server lives in its own thread, so this fixture suits tests
    on any event-loop scope.
    """
    emulator_server.reset()
    yield emulator_server
    emulator_server.reset()
