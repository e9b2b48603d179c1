"""A fresh, empty database per test or server, on either backend.

    with fresh_database("sqlite") as url: ...      # a file in a new temporary directory
    with fresh_database("postgres") as url: ...    # lafactoria_t_<hex>, dropped afterwards

PostgreSQL databases are created on the server ``LAFACTORIA_TEST_DATABASE_URL`` names, through
asyncpg connected to that URL's database, and dropped ``WITH (FORCE)`` so that a connection a
test left open cannot keep one alive. Without the variable, PostgreSQL tests are skipped (the
``postgres`` marker; see ``tests/conftest.py``).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import asyncpg
import pytest
from sqlalchemy.engine import make_url

Backend = Literal["sqlite", "postgres"]
POSTGRES_URL_VARIABLE = "LAFACTORIA_TEST_DATABASE_URL"
POSTGRES_SKIP_REASON = "set LAFACTORIA_TEST_DATABASE_URL to run the PostgreSQL tests"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_server_url() -> str | None:
    return os.environ.get(POSTGRES_URL_VARIABLE) or None


@contextmanager
def fresh_database(backend: Backend) -> Iterator[str]:
    """Yield the SQLAlchemy URL of a new empty database; it is gone afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="lafactoria-db-") as directory:
            yield f"sqlite+aiosqlite:///{Path(directory) / 'lafactoria.db'}"
        return
    server_url = postgres_server_url()
    if server_url is None:
        pytest.skip(POSTGRES_SKIP_REASON)
    name = f"lafactoria_t_{secrets.token_hex(6)}"
    asyncio.run(_administer(server_url, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(server_url).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_administer(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def asyncpg_dsn(url: str) -> str:
    """The libpq-style DSN asyncpg takes for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _administer(server_url: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction: asyncpg's execute runs it bare.
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
