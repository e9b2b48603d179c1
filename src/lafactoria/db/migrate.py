"""Schema migrations: bring a database to the schema this version runs on, or say why not.

    upgrade(url)          apply pending revisions; a database without migration history
                          that an earlier version made with ``create_all`` is adopted first
    current(url)          the revision the database is at (``None``: none yet)
    head()                the revision this version runs on
    is_up_to_date(url)    whether the database is at ``head()``
    check(url)            raise ``SchemaMismatch`` saying why it is not

The revisions live in ``db/migrations/versions`` and run through Alembic on both SQLite and
PostgreSQL. Each upgrade is one transaction. On PostgreSQL it holds an advisory lock, so
processes starting together against one database migrate one after another (the later ones
find nothing left to do); on SQLite the write lock taken by ``BEGIN IMMEDIATE`` does the same.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy
import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from lafactoria.db.engine import create_engine
from lafactoria.errors import LaFactoriaError

T = TypeVar("T")
log = structlog.get_logger(__name__)

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_VERSION_TABLE = "alembic_version"
# The schemas earlier versions created with ``metadata.create_all``, newest first. The list is
# closed: every schema since is reached through revisions.
_CREATE_ALL_REVISIONS = ("0002", "0001")
# pg_advisory_xact_lock key ("lafactor" in ASCII): advisory locks are per database, so this
# serialises only migrations of the same database.
_LOCK_KEY = 0x6C61666163746F72


class SchemaMismatch(LaFactoriaError):
    """The database's schema is not the one this version runs on, and it was not changed."""

    code = "SCHEMA_MISMATCH"


def head() -> str:
    """The newest revision: the schema this version of La Factoria runs on."""
    revision = _scripts().get_current_head()
    if revision is None:
        raise SchemaMismatch("no migration revisions are installed")
    return revision


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply the revisions up to ``revision``, adopting a database made by ``create_all``."""
    await _run(url, functools.partial(_upgrade, revision=revision))


async def downgrade(url: str, revision: str) -> None:
    """Undo revisions down to ``revision`` (``"base"``: drop every table)."""
    await _run(url, functools.partial(_downgrade, revision=revision))


async def current(url: str) -> str | None:
    """The revision the database is at; ``None`` when it has no migration history."""
    return await _run(url, _current_revision)


async def check(url: str) -> None:
    """Raise ``SchemaMismatch`` unless the database is at ``head()``."""
    await _run(url, _check)


async def is_up_to_date(url: str) -> bool:
    """Whether the database is at ``head()``."""
    try:
        await check(url)
    except SchemaMismatch:
        return False
    return True


async def _run(url: str, action: Callable[[Connection], T]) -> T:
    engine = create_engine(url, migrating=True)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(action)
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, *, revision: str) -> None:
    _lock(connection)
    before = _current_revision(connection)
    _known(before)
    if before is None:
        before = _adopt(connection)
    try:
        command.upgrade(_config(connection), revision)
    except CommandError as exc:
        raise SchemaMismatch(f"cannot upgrade the database: {exc}") from exc
    if connection.dialect.name == "sqlite":
        _check_foreign_keys(connection)
    after = _current_revision(connection)
    if after != before:
        log.info("database_migrated", from_revision=before, to_revision=after)


def _downgrade(connection: Connection, *, revision: str) -> None:
    _lock(connection)
    _known(_current_revision(connection))
    try:
        command.downgrade(_config(connection), revision)
    except CommandError as exc:
        raise SchemaMismatch(f"cannot downgrade the database: {exc}") from exc
    if connection.dialect.name == "sqlite":
        _check_foreign_keys(connection)


def _check(connection: Connection) -> None:
    revision = _current_revision(connection)
    _known(revision)
    target = head()
    if revision == target:
        return
    if revision is not None:
        state = f"is at revision {revision}"
    elif _our_tables(connection):
        state = "was made by an earlier version, without migrations"
    else:
        state = "has no tables yet"
    raise SchemaMismatch(
        f"the database schema is not up to date: it {state}, this version runs on {target}. "
        "Run `lafactoria db upgrade`, or set LAFACTORIA_AUTO_MIGRATE=true to migrate at start-up"
    )


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Held until the transaction ends: a second process waits here, then reads the
        # version the first one committed.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _known(revision: str | None) -> None:
    """Refuse a database migrated by a newer version: its revision is not ours to touch."""
    if revision is None:
        return
    try:
        _scripts().get_revision(revision)
    except CommandError:
        raise SchemaMismatch(
            f"the database is at revision {revision}, which this version does not know: a "
            "newer version of La Factoria migrated it"
        ) from None


def _adopt(connection: Connection) -> str | None:
    """Stamp a database an earlier version made with ``create_all`` at the revision it
    matches, so that upgrading continues from there; ``None`` when it has none of our tables.
    """
    present = _columns(connection)
    oldest = _schema_at(_CREATE_ALL_REVISIONS[-1])
    ours = sorted(present.keys() & oldest.keys())
    if not ours:
        return None
    for revision in _CREATE_ALL_REVISIONS:
        expected = _schema_at(revision)
        if all(columns <= present.get(table, set()) for table, columns in expected.items()):
            command.stamp(_config(connection), revision)
            log.info("database_adopted", revision=revision, tables=ours)
            return revision
    missing = [table for table in oldest if table not in present] + [
        f"{table}.{column}" for table in ours for column in sorted(oldest[table] - present[table])
    ]
    raise SchemaMismatch(
        "the database has tables of La Factoria but no migration history, and they are not a "
        f"schema an earlier version created (missing: {', '.join(missing)}); it was not changed"
    )


@functools.cache
def _schema_at(revision: str) -> dict[str, frozenset[str]]:
    """Tables and their columns after ``revision``, read from a scratch in-memory database,
    so the revisions stay the only description of each schema."""
    engine = sqlalchemy.create_engine("sqlite://")
    try:
        with engine.begin() as scratch:
            command.upgrade(_config(scratch), revision)
            return {table: frozenset(columns) for table, columns in _columns(scratch).items()}
    finally:
        engine.dispose()


def _columns(connection: Connection) -> dict[str, set[str]]:
    inspector = inspect(connection)
    return {
        table: {column["name"] for column in inspector.get_columns(table)}
        for table in inspector.get_table_names()
        if table != _VERSION_TABLE
    }


def _our_tables(connection: Connection) -> bool:
    names = set(inspect(connection).get_table_names())
    return bool(names & _schema_at(_CREATE_ALL_REVISIONS[-1]).keys())


def _check_foreign_keys(connection: Connection) -> None:
    # Migrations run with SQLite's foreign keys off (see db.engine.create_engine); this is
    # the check SQLite's own procedure for altering tables prescribes before committing.
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise SchemaMismatch(f"the migration left broken foreign keys in {', '.join(tables)}")


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _config(connection: Connection | None = None) -> Config:
    config = Config(_MIGRATIONS / "alembic.ini")
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())
