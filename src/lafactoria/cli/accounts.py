"""``lafactoria users`` and ``lafactoria keys``: accounts and API keys, straight in the database.

These commands run where the server's settings apply (same environment, ``.env`` and data
directory) and go through the same auth service the API uses, so every rule (email format,
password policy, key limits) holds here too. Key commands ask for the account's password:
having the database settings is not meant to be enough to act as someone.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from lafactoria.auth.models import User
from lafactoria.auth.service import AuthService
from lafactoria.cli.common import fail, fail_with_code, load_settings, stderr, stdout
from lafactoria.db.engine import describe_database
from lafactoria.errors import LaFactoriaError
from lafactoria.settings import Settings

T = TypeVar("T")
_KEY_COLUMNS = ("id", "name", "prefix", "created", "expires", "last used", "state")

users = typer.Typer(help="Manage accounts in the database the server uses.", no_args_is_help=True)
keys = typer.Typer(
    help="Create, list and revoke a user's API keys (asks for the user's password).",
    no_args_is_help=True,
)

Email = Annotated[str, typer.Option("--email", "-e", help="The account's email address.")]
Password = Annotated[
    str | None,
    typer.Option(
        help="The account's password. Better omitted: it is then asked for (or read from a "
        "line of standard input) instead of showing in the process list.",
        show_default=False,
    ),
]


def _password(given: str | None, *, confirm: bool = False) -> str:
    """The password from the option, the terminal (hidden) or one line of standard input."""
    if given is not None:
        return given
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    # Prompts go to stderr so that stdout carries only results (`KEY=$(lafactoria keys create)`).
    answer: str = typer.prompt("Password", hide_input=True, confirmation_prompt=confirm, err=True)
    return answer


@asynccontextmanager
async def _auth_service(settings: Settings) -> AsyncIterator[AuthService]:
    # Built by the composition root's own builders, so the CLI and the server agree; imported
    # here so that commands which never touch the database start without the web stack.
    from lafactoria.runtime import build_auth_service, open_database

    db = await open_database(settings)
    try:
        yield build_auth_service(settings, db)
    finally:
        await db.dispose()


def _run(action: Callable[[AuthService], Awaitable[T]]) -> T:
    """Run one action against the auth service; expected failures end the command."""
    settings = load_settings()
    # Which database, said up front: with the default relative data directory, a command run
    # from another directory than the server's silently opens a new, empty one.
    stderr.print(
        f"database: {escape(describe_database(settings.resolved_database_url))}", soft_wrap=True
    )

    async def main() -> T:
        async with _auth_service(settings) as auth:
            return await action(auth)

    try:
        return asyncio.run(main())
    except LaFactoriaError as exc:
        fail_with_code(exc.message, exc.code)
    except SQLAlchemyError as exc:
        fail(f"the database is not usable: {type(exc).__name__}: {exc.args[0] if exc.args else ''}")


async def _login(auth: AuthService, email: str, password: str) -> User:
    return (await auth.login(email=email, password=password)).user


@users.command("create")
def create_user(email: Email, password: Password = None) -> None:
    """Create an account; the password is asked twice and checked against the policy."""
    new_password = _password(password, confirm=True)
    user = _run(lambda auth: auth.register(email=email, password=new_password))
    stderr.print(f"Created user [bold]{escape(user.email)}[/bold] (id {user.id}).")


@keys.command("create")
def create_key(
    email: Email,
    password: Password = None,
    name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "cli",
    expires_in_days: Annotated[
        int | None, typer.Option(help="Lifetime in days; never expires when omitted.")
    ] = None,
) -> None:
    """Create an API key and print it: it is shown only this once."""
    login_password = _password(password)

    async def action(auth: AuthService) -> str:
        user = await _login(auth, email, login_password)
        created = await auth.create_api_key(
            user_id=user.id, name=name, expires_in_days=expires_in_days
        )
        return created.secret

    typer.echo(_run(action))
    stderr.print("Store this key now: it cannot be shown again. Use it as LAFACTORIA_API_KEY.")


@keys.command("list")
def list_keys(email: Email, password: Password = None) -> None:
    """List the user's API keys, newest first (never their secrets)."""
    login_password = _password(password)

    async def action(auth: AuthService) -> list[tuple[str, ...]]:
        user = await _login(auth, email, login_password)
        return [
            (
                key.id,
                key.name,
                f"lf_{key.prefix}_",
                _when(key.created_at),
                _when(key.expires_at),
                _when(key.last_used_at),
                "revoked" if key.revoked_at else "active",
            )
            for key in await auth.list_api_keys(user_id=user.id)
        ]

    rows = _run(action)
    if not rows:
        stderr.print("No API keys.")
        return
    if not stdout.is_terminal:  # scripts get tab-separated lines
        typer.echo("\n".join("\t".join(row) for row in [_KEY_COLUMNS, *rows]))
        return
    table = Table()
    for column in _KEY_COLUMNS:
        # The id is what `keys revoke` takes: never shortened, whatever the terminal's width.
        table.add_column(column, no_wrap=column == "id", min_width=32 if column == "id" else None)
    for row in rows:
        table.add_row(*map(Text, row))  # names are data, never markup
    stdout.print(table)


@keys.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `keys list` shows it.")],
    email: Email,
    password: Password = None,
) -> None:
    """Revoke one of the user's API keys at once."""
    login_password = _password(password)

    async def action(auth: AuthService) -> str:
        user = await _login(auth, email, login_password)
        return (await auth.revoke_api_key(user_id=user.id, key_id=key_id)).name

    name = _run(action)
    stderr.print(f"Revoked key {escape(key_id)} ({escape(name)}).")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"
