"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]
_WRITE_OPTION = "lafactoria_write"

# Writers wait this long for SQLite's single write lock instead of failing with
# "database is locked" when several jobs finish at once.
_SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine(database_url: str) -> AsyncEngine:
    """Build the async engine; SQLite gets WAL, foreign keys and a busy timeout."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True)

    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit while setting pragmas: journal_mode cannot change inside a transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # pysqlite's own BEGIN handling stays off; the "begin" listener below issues it.

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE): a deferred transaction that
        # reads and then writes cannot wait for the lock, it fails at once with "database is
        # locked". Readers stay deferred so they never queue behind writers under WAL.
        if connection.get_execution_options().get(_WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


def describe_database(database_url: str) -> str:
    """The URL for people: SQLite as the absolute path of its file (a relative data directory
    depends on where a command runs), any other database without its password."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return "sqlite in memory"
        return f"sqlite {Path(url.database).resolve()}"
    return url.render_as_string(hide_password=True)


class Database:
    """The unit-of-work factory: ``async with db.write() as session`` commits on success.

    Reads and writes use separate session factories over one pool so that SQLite can start
    write transactions with ``BEGIN IMMEDIATE`` (see ``create_engine``); on PostgreSQL the two
    behave the same.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._reads: SessionFactory = async_sessionmaker(
            engine, class_=AsyncSession, expire_on_commit=False
        )
        self._writes: SessionFactory = async_sessionmaker(
            engine.execution_options(**{_WRITE_OPTION: True}),
            class_=AsyncSession,
            expire_on_commit=False,
        )

    def read(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A read-only unit of work."""
        return self._reads.begin()

    def write(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A unit of work that commits when the block exits without an exception."""
        return self._writes.begin()

    async def dispose(self) -> None:
        await self.engine.dispose()


async def create_schema(engine: AsyncEngine, metadata: MetaData) -> None:
    """Create missing tables (the embedded default's start-up step)."""
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
