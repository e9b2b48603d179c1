"""Servers the attacks run against: production mode unless a test needs something else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import RunningServer, make_settings, run_server

ALLOWED_ORIGIN = "https://app.example.org"


@pytest.fixture(scope="package")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Hardened as deployed: production mode, one allowed browser origin, default limits."""
    settings = make_settings(
        tmp_path_factory.mktemp("production"), env="production", cors_origins=[ALLOWED_ORIGIN]
    )
    with run_server(settings) as running:
        yield running


@pytest.fixture(scope="package")
def development(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Development mode, default limits: introspection, suggestions and GraphiQL stay on."""
    settings = make_settings(tmp_path_factory.mktemp("development"), env="development")
    with run_server(settings) as running:
        yield running
