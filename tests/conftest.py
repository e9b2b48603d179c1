"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import (
    POSTGRES_SKIP_REASON,
    Backend,
    fresh_database,
    postgres_server_url,
)
from tests.support.server import RunningServer, make_settings, run_server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip tests marked ``postgres`` unless a PostgreSQL server is configured."""
    if postgres_server_url() is not None:
        return
    skip = pytest.mark.skip(reason=POSTGRES_SKIP_REASON)
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


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
