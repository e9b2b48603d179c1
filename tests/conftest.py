"""Fixtures shared by every test package, and the markers that need a real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import RunningServer, make_settings, run_server

# Marker → the variable that points its tests at a server, and that server's name.
SERVICES = {"redis": ("LAFACTORIA_TEST_REDIS_URL", "Redis")}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker, (variable, name) in SERVICES.items():
            if item.get_closest_marker(marker) and not os.environ.get(variable):
                item.add_marker(pytest.mark.skip(reason=f"set {variable} to run the {name} tests"))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for tests that only need the defaults; each test registers its own user."""
    data_dir: Path = tmp_path_factory.mktemp("lafactoria-data")
    with run_server(make_settings(data_dir)) as running:
        yield running
