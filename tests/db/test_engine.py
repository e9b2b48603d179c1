"""Engine construction: which URLs are accepted, how they are shown to people, and that
PostgreSQL connections recover."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from lafactoria.db import migrate
from lafactoria.db.engine import Database, create_engine, describe_database, normalize_url
from tests.support.databases import asyncpg_dsn, fresh_database


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://ada:pw@db:5432/lf", "postgresql+asyncpg://ada:pw@db:5432/lf"),
        ("postgresql://db/lf", "postgresql+asyncpg://db/lf"),
        ("postgresql+asyncpg://db/lf", "postgresql+asyncpg://db/lf"),
        ("sqlite:///data/lf.db", "sqlite+aiosqlite:///data/lf.db"),
        ("sqlite+aiosqlite:///data/lf.db", "sqlite+aiosqlite:///data/lf.db"),
    ],
)
def test_urls_get_the_async_driver(given: str, used: str) -> None:
    assert normalize_url(given).render_as_string(hide_password=False) == used


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("mysql://db/lf", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://db/lf", "postgresql is used through postgresql+asyncpg"),
        ("not a url", "not a database URL"),
    ],
)
def test_other_databases_and_drivers_are_refused(given: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        normalize_url(given)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_database("postgres") as url:
        yield url


@pytest.mark.postgres
async def test_a_dropped_postgres_connection_is_replaced_on_the_next_use(
    postgres_url: str,
) -> None:
    await migrate.upgrade(postgres_url)
    db = Database(create_engine(postgres_url))
    try:
        async with db.read() as session:
            before = (await session.exec(text("SELECT pg_backend_pid()"))).one()[0]
        # What a server restart or an idle-connection reaper does to the pooled connection.
        admin = await asyncpg.connect(asyncpg_dsn(postgres_url))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", before)
        finally:
            await admin.close()

        async with db.write() as session:
            after = (await session.exec(text("SELECT pg_backend_pid()"))).one()[0]
    finally:
        await db.dispose()

    assert after != before


def test_sqlite_is_shown_as_the_absolute_path_of_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    relative = describe_database("sqlite+aiosqlite:///.lafactoria/lafactoria.db")
    absolute = describe_database(f"sqlite+aiosqlite:///{tmp_path}/other.db")

    assert relative == f"sqlite {tmp_path.resolve()}/.lafactoria/lafactoria.db"
    assert absolute == f"sqlite {tmp_path.resolve()}/other.db"
    assert describe_database("sqlite+aiosqlite:///:memory:") == "sqlite in memory"


def test_other_databases_are_shown_without_their_password() -> None:
    shown = describe_database("postgresql+asyncpg://app:s3cr%40t@db.internal:5432/lafactoria")

    assert shown == "postgresql+asyncpg://app:***@db.internal:5432/lafactoria"
    assert "s3cr" not in shown
