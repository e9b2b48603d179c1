"""Engine construction: which URLs are accepted, how they are shown to people, and that
PostgreSQL connections recover."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from lafactoria.db import migrate
from lafactoria.db.engine import Database, create_engine, describe_database, normalize_url
from lafactoria.errors import Unavailable
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


@pytest.mark.postgres
async def test_a_database_that_refuses_connections_is_reported_unavailable_until_it_returns(
    postgres_url: str,
) -> None:
    await migrate.upgrade(postgres_url)
    name = make_url(postgres_url).database
    db = Database(create_engine(postgres_url))
    admin = await asyncpg.connect(asyncpg_dsn(postgres_url).rsplit("/", 1)[0] + "/postgres")
    try:
        async with db.read() as session:
            await session.exec(text("SELECT 1"))
        # What a restart or an outage looks like from here: connections cut, new ones refused.
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        with pytest.raises(Unavailable):
            async with db.read() as session:
                await session.exec(text("SELECT 1"))
        with pytest.raises(Unavailable):
            async with db.write() as session:
                await session.exec(text("SELECT 1"))

        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        async with db.read() as session:
            back = (await session.exec(text("SELECT 1"))).one()[0]
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
        await db.dispose()

    assert back == 1


async def test_an_unreachable_server_is_unavailable_not_a_crash() -> None:
    db = Database(create_engine("postgresql://nobody@127.0.0.1:9/nothing"))
    try:
        with pytest.raises(Unavailable, match="the database is unreachable"):
            async with db.read() as session:
                await session.exec(text("SELECT 1"))
    finally:
        await db.dispose()


async def test_other_database_errors_are_not_disguised_as_outages(tmp_path: Path) -> None:
    db = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))
    try:
        with pytest.raises(OperationalError, match="no such table"):
            async with db.read() as session:
                await session.exec(text("SELECT * FROM missing"))
    finally:
        await db.dispose()


async def test_a_pool_with_no_free_connection_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    # Found by the fan-out benchmark: with every pooled connection held by transactions
    # waiting for SQLite's writer, requests failed with INTERNAL_SERVER_ERROR after 30 s.
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_size=1, max_overflow=0, pool_timeout=0.1
    )
    db = Database(engine)
    try:
        async with db.read() as holder:
            await holder.exec(text("SELECT 1"))
            with pytest.raises(Unavailable, match="the database is busy"):
                async with db.read() as session:
                    await session.exec(text("SELECT 1"))
        async with db.read() as session:
            assert (await session.exec(text("SELECT 1"))).one()[0] == 1
    finally:
        await db.dispose()
