"""Migrations on both databases: they build exactly the models' schema, undo cleanly, adopt
databases made before migrations existed, and start-up holds to the schema they give."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from lafactoria import tables
from lafactoria.db import migrate
from lafactoria.db.engine import create_engine
from lafactoria.runtime import open_database
from tests.support.databases import BACKENDS, fresh_database
from tests.support.server import make_settings

T = TypeVar("T")
LEASE_COLUMNS = ("worker_id", "lease_expires_at", "cancel_requested")


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    with fresh_database(request.param) as database_url:
        yield database_url


async def on(url: str, action: Callable[[Connection], T]) -> T:
    """Run ``action`` on a connection to ``url`` and commit."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(action)
    finally:
        await engine.dispose()


def differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), tables.metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def create_all(connection: Connection) -> None:
    tables.metadata.create_all(connection)


def insert_user(connection: Connection) -> None:
    connection.execute(
        text(
            "INSERT INTO users (id, email, password_hash, created_at) "
            "VALUES ('u1', 'ada@example.org', 'x', CURRENT_TIMESTAMP)"
        )
    )


def insert_job_without_lease(connection: Connection) -> None:
    connection.execute(
        text(
            "INSERT INTO generation_jobs (id, user_id, status, content_type, audience_level, "
            "topic, attempts, last_sequence, run_count, created_at) VALUES ('j1', 'u1', "
            "'queued', 'quiz', 'high_school', 'Bees', '[]', 1, 0, CURRENT_TIMESTAMP)"
        )
    )


async def test_upgrade_builds_exactly_the_schema_of_the_models(url: str) -> None:
    assert await migrate.current(url) is None

    await migrate.upgrade(url)

    assert await migrate.current(url) == migrate.head()
    assert await migrate.is_up_to_date(url)
    assert await on(url, differences) == []


async def test_downgrade_to_base_then_upgrade_again(url: str) -> None:
    await migrate.upgrade(url)

    await migrate.downgrade(url, "0001")
    before_leases = await on(url, differences)
    await migrate.downgrade(url, "base")
    emptied = await on(url, table_names)
    await migrate.upgrade(url)

    assert sorted(diff[3].name for diff in before_leases) == sorted(LEASE_COLUMNS)
    assert emptied <= {"alembic_version"}
    assert await migrate.current(url) == migrate.head()
    assert await on(url, differences) == []


async def test_concurrent_upgrades_take_turns(url: str) -> None:
    await asyncio.gather(*(migrate.upgrade(url) for _ in range(4)))

    assert await migrate.current(url) == migrate.head()
    assert await on(url, differences) == []


async def test_a_database_made_by_create_all_is_adopted_with_its_rows(url: str) -> None:
    await on(url, create_all)
    await on(url, insert_user)

    await migrate.upgrade(url)

    assert await migrate.current(url) == migrate.head()
    assert await on(url, differences) == []
    emails = await on(url, lambda c: c.execute(text("SELECT email FROM users")).scalars().all())
    assert emails == ["ada@example.org"]


async def test_a_create_all_database_from_before_job_leases_is_adopted_and_upgraded(
    url: str,
) -> None:
    def create_all_without_leases(connection: Connection) -> None:
        tables.metadata.create_all(connection)
        for column in LEASE_COLUMNS:
            connection.execute(text(f"ALTER TABLE generation_jobs DROP COLUMN {column}"))

    await on(url, create_all_without_leases)
    await on(url, insert_user)
    await on(url, insert_job_without_lease)

    await migrate.upgrade(url)

    assert await on(url, differences) == []
    job = await on(
        url,
        lambda c: c.execute(text("SELECT worker_id, cancel_requested FROM generation_jobs")).one(),
    )
    assert tuple(job) == (None, False)


async def test_tables_that_are_not_an_earlier_schema_are_left_alone(url: str) -> None:
    await on(url, lambda c: c.execute(text("CREATE TABLE users (id VARCHAR(32) PRIMARY KEY)")))

    with pytest.raises(migrate.SchemaMismatch) as refused:
        await migrate.upgrade(url)

    assert "no migration history" in refused.value.message
    assert "missing: api_keys, contents, generation_jobs, users.created_at" in refused.value.message
    assert await on(url, table_names) == {"users"}


async def test_a_database_migrated_by_a_newer_version_is_refused(url: str) -> None:
    await migrate.upgrade(url)
    await on(url, lambda c: c.execute(text("UPDATE alembic_version SET version_num = '9999'")))

    with pytest.raises(migrate.SchemaMismatch) as refused:
        await migrate.upgrade(url)

    assert refused.value.message == (
        "the database is at revision 9999, which this version does not know: a newer version "
        "of La Factoria migrated it"
    )
    assert not await migrate.is_up_to_date(url)


async def test_start_up_without_auto_migrate_refuses_an_empty_database(
    url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, database_url=url, auto_migrate=False)

    with pytest.raises(migrate.SchemaMismatch) as refused:
        await open_database(settings)

    assert refused.value.message == (
        f"the database schema is not up to date: it has no tables yet, this version runs on "
        f"{migrate.head()}. Run `lafactoria db upgrade`, or set LAFACTORIA_AUTO_MIGRATE=true "
        "to migrate at start-up"
    )
    assert await on(url, table_names) == set()


async def test_start_up_without_auto_migrate_opens_a_migrated_database(
    url: str, tmp_path: Path
) -> None:
    await migrate.upgrade(url)

    db = await open_database(make_settings(tmp_path, database_url=url, auto_migrate=False))
    try:
        async with db.read() as session:
            assert (await session.exec(text("SELECT count(*) FROM users"))).one() == (0,)
    finally:
        await db.dispose()


async def test_start_up_migrates_by_default(url: str, tmp_path: Path) -> None:
    db = await open_database(make_settings(tmp_path, database_url=url))
    await db.dispose()

    assert await migrate.current(url) == migrate.head()
