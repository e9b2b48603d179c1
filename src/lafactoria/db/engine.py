"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

from lafactoria.errors import Unavailable

log = structlog.get_logger(__name__)

SessionFactory = async_sessionmaker[AsyncSession]
_WRITE_OPTION = "lafactoria_write"

# Writers wait this long for SQLite's single write lock instead of failing with
# "database is locked" when several jobs finish at once.
_SQLITE_BUSY_TIMEOUT_MS = 30_000


# The async drivers each backend is used through; URLs without one get it.
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
# "postgres://" is what Heroku-style platforms and libpq tools hand out.
_BACKEND_ALIASES = {"postgres": "postgresql"}


def normalize_url(database_url: str) -> URL:
    """The URL with its async driver: ``postgres://`` and ``postgresql://`` mean asyncpg,
    ``sqlite://`` means aiosqlite. Other backends and drivers are refused."""
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {exc}") from None
    backend, _, driver = url.drivername.partition("+")
    backend = _BACKEND_ALIASES.get(backend, backend)
    expected = _DRIVERS.get(backend)
    if expected is None:
        raise ValueError(
            f"unsupported database {backend!r}: use sqlite+aiosqlite:///path or "
            "postgresql+asyncpg://user:password@host/name"
        )
    if driver and f"{backend}+{driver}" != expected:
        raise ValueError(f"{backend} is used through {expected}, not {driver}")
    return url.set(drivername=expected)


def create_engine(database_url: str, *, migrating: bool = False) -> AsyncEngine:
    """Build the async engine; SQLite gets WAL, foreign keys and a busy timeout.

    ``migrating`` builds the short-lived engine a schema migration runs on. On SQLite its
    foreign keys are off, because batch migrations copy a table and drop the original, and
    dropping a parent table with foreign keys on would cascade its deletes into the children;
    ``db.migrate`` runs ``PRAGMA foreign_key_check`` before it commits instead. Its
    transactions all take the write lock at once, so processes migrating one file queue.
    """
    url = normalize_url(database_url)
    if url.get_backend_name() != "sqlite":
        if migrating:
            return create_async_engine(url, poolclass=NullPool)
        # A connection the server dropped (restart, failover, idle timeout) is found at
        # checkout and replaced, so a request never gets a dead one.
        return create_async_engine(url, pool_pre_ping=True)

    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000})
    foreign_keys = "OFF" if migrating else "ON"

    @event.listens_for(engine.sync_engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit while setting pragmas: journal_mode cannot change inside a transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _use_wal(cursor)
        cursor.execute(f"PRAGMA foreign_keys={foreign_keys}")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # pysqlite's own BEGIN handling stays off; the "begin" listener below issues it.

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE): a deferred transaction that
        # reads and then writes cannot wait for the lock, it fails at once with "database is
        # locked". Readers stay deferred so they never queue behind writers under WAL.
        if migrating or connection.get_execution_options().get(_WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL once; it stays WAL for every later connection.

    Switching needs a moment with no other connection in a transaction, and SQLite reports
    a conflict there at once instead of waiting on the busy timeout, so processes that open
    a new file together (a server and its workers, concurrent migrations) retry briefly.
    """
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + _SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


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
        return _reachable(self._reads)

    def write(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A unit of work that commits when the block exits without an exception."""
        return _reachable(self._writes)

    async def dispose(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def _reachable(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A unit of work whose lost-connection errors become ``Unavailable``.

    A database that is down, restarting or dropped the connection is a state callers can
    report clearly (``SERVICE_UNAVAILABLE``, HTTP 503) and retry, not a bug to mask. The
    transaction is rolled back either way, so nothing is half-written.
    """
    try:
        async with sessions.begin() as session:
            yield session
    except PoolTimeout as exc:
        # Every pooled connection stayed busy for the pool's whole timeout (a burst of
        # writers queueing on SQLite's one writer): an overload to retry, not a bug.
        log.warning("database_pool_exhausted")
        raise Unavailable("the database is busy; try again shortly") from exc
    except (DBAPIError, DisconnectionError, OSError) as exc:
        if isinstance(exc, DBAPIError) and not _lost_connection(exc):
            raise
        log.warning("database_unreachable", error=type(exc).__name__)
        raise Unavailable("the database is unreachable; try again shortly") from exc


# What drivers say when the server is gone; other operational errors (SQLite's "no such
# table", a lock the busy timeout already waited for) are faults, not outages.
_OUTAGE_WORDS = ("connect", "closed", "terminat", "shutting down", "unable to open", "timeout")


def _lost_connection(error: DBAPIError) -> bool:
    reason = str(error.orig).lower()
    return error.connection_invalidated or any(word in reason for word in _OUTAGE_WORDS)
