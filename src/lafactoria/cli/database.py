"""``lafactoria db upgrade`` and ``lafactoria db current``: the schema of the server's database.

Deployments that run several processes, or want schema changes as a step of their own, set
``LAFACTORIA_AUTO_MIGRATE=false`` and run ``lafactoria db upgrade`` before starting the new
version; the commands read the same settings the server does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import typer
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from lafactoria.cli.common import EXIT_USAGE, fail, load_settings, stderr
from lafactoria.db import migrate
from lafactoria.db.engine import describe_database
from lafactoria.settings import Settings

T = TypeVar("T")

db = typer.Typer(
    help="Migrate the server's database to the schema of this version.", no_args_is_help=True
)


@db.command("upgrade")
def upgrade() -> None:
    """Apply pending migrations; a database made by a version without migrations is adopted.

    The server does this at start-up unless LAFACTORIA_AUTO_MIGRATE=false. Safe to run from
    several machines at once: on PostgreSQL they take turns.
    """
    url = _database_url()
    before = _run(migrate.current(url))
    _run(migrate.upgrade(url))
    after = _run(migrate.current(url))
    if before == after:
        stderr.print(f"The database is at revision {after}: nothing to do.")
    else:
        stderr.print(f"Upgraded the database from revision {before or 'none'} to {after}.")


@db.command("current")
def current() -> None:
    """Print the database's revision (or "none"), and whether it is this version's."""
    url = _database_url()
    revision = _run(migrate.current(url))
    up_to_date = _run(migrate.is_up_to_date(url))
    typer.echo(revision or "none")
    if up_to_date:
        stderr.print("Up to date.")
    else:
        stderr.print(
            f"This version runs on revision {migrate.head()}: run `lafactoria db upgrade`."
        )


def _database_url() -> str:
    url = load_settings().resolved_database_url
    stderr.print(f"database: {escape(describe_database(url))}", soft_wrap=True)
    return url


def prepare_schema(settings: Settings) -> Settings:
    """Bring the schema to this version (or check it is there) before a long-running command
    starts, so a wrong schema or an unreachable database ends it with one clear line instead
    of a traceback from inside the server's start-up.

    Returns the settings to start with: the migration is done, so start-up only checks it.
    """
    url = settings.resolved_database_url
    try:
        asyncio.run(migrate.upgrade(url) if settings.auto_migrate else migrate.check(url))
    except migrate.SchemaMismatch as exc:
        fail(exc.message, code=EXIT_USAGE)
    except (SQLAlchemyError, OSError) as exc:
        fail(f"the database is not reachable: {type(exc).__name__}: {exc}")
    return settings.model_copy(update={"auto_migrate": False})


def _run(action: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(action)
    except migrate.SchemaMismatch as exc:
        fail(exc.message)
    except (SQLAlchemyError, OSError) as exc:
        # asyncpg reports an unreachable server as an OSError that SQLAlchemy lets through.
        fail(f"the database is not reachable: {type(exc).__name__}: {exc}")
