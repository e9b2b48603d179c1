"""Fixtures shared by every test package, and the markers that need a real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import Backend, fresh_database
from tests.support.server import RunningServer, make_settings, run_server

# Marker → the variable that points its tests at a server, and that server's name.
SERVICES = {
    "postgres": ("LAFACTORIA_TEST_DATABASE_URL", "PostgreSQL"),
    "redis": ("LAFACTORIA_TEST_REDIS_URL", "Redis"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the tests of a server that no variable points at, saying which one to set."""
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


@pytest.fixture(scope="module")
def backend_server(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A server of the module's own on a fresh database of ``backend``: modules that must pass
    on both databases define ``backend`` with ``params=BACKENDS`` and use this as ``server``."""
    data_dir: Path = tmp_path_factory.mktemp("lafactoria-data")
    with (
        fresh_database(backend) as url,
        run_server(make_settings(data_dir, database_url=url)) as running,
    ):
        yield running
