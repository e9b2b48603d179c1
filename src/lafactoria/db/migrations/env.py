"""Alembic's environment: runs the revisions in ``versions/`` on one connection.

``lafactoria.db.migrate`` is the way in at start-up and from ``lafactoria db``: it hands over
an open connection inside the transaction (and, on PostgreSQL, the advisory lock) that the
whole migration runs in. Run by the ``alembic`` command instead (to write a revision with
``--autogenerate``), it connects to the configured database by itself.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from lafactoria import tables
from lafactoria.db.engine import create_engine


def render_item(type_: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    # A revision must keep meaning what it meant when it was written, so it never imports the
    # application's column types (UTCDateTime, sqlmodel's AutoString): it spells out the
    # plain SQLAlchemy type they store as.
    if type_ == "type" and isinstance(item, TypeDecorator):
        return f"sa.{item.impl_instance!r}"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=tables.metadata,
        # SQLite can barely ALTER a table: autogenerate writes batch operations, which copy
        # the table when they must.
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_standalone() -> None:
    from lafactoria.settings import Settings

    url = context.config.get_main_option("sqlalchemy.url") or Settings().resolved_database_url
    engine = create_engine(url, migrating=True)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `lafactoria db upgrade`")
given: Connection | None = context.config.attributes.get("connection")
if given is not None:
    run_migrations(given)
else:
    asyncio.run(run_standalone())
