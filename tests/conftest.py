"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import RunningServer, make_settings, run_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for tests that only need the defaults; each test registers its own user."""
    data_dir: Path = tmp_path_factory.mktemp("lafactoria-data")
    with run_server(make_settings(data_dir)) as running:
        yield running
