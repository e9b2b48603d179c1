"""Fixtures shared by every test package, and the markers that need a real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import RunningServer, make_settings, run_server

# Tests marked with one of these run only when its variable names a server to use.
SERVER_MARKERS = {
    "redis": "LAFACTORIA_TEST_REDIS_URL",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for marker, variable in SERVER_MARKERS.items():
        if os.environ.get(variable):
            continue
        skip = pytest.mark.skip(reason=f"set {variable} to run the {marker.capitalize()} tests")
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for tests that only need the defaults; each test registers its own user."""
    data_dir: Path = tmp_path_factory.mktemp("lafactoria-data")
    with run_server(make_settings(data_dir)) as running:
        yield running
