"""The ``lafactoria`` command line.

    serve           run the API server
    worker          run generation jobs from the Redis queue (scale-out)
    generate        ask a running server for content and watch it being written
    users create    create an account in the server's database
    keys ...        create, list and revoke a user's API keys in the server's database
    db upgrade      migrate the server's database to this version's schema
    db current      show the database's schema revision
    export-schema   print the GraphQL schema

Each command lives in its own module; this one only assembles them.
"""

from __future__ import annotations

import typer

from lafactoria.cli import accounts, database, generate, server, worker

cli = typer.Typer(
    help="La Factoria: a GraphQL API that generates educational content.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli.command()(server.serve)
cli.command()(worker.worker)
cli.command()(generate.generate)
cli.command("export-schema")(server.export_schema)
cli.add_typer(accounts.users, name="users")
cli.add_typer(accounts.keys, name="keys")
cli.add_typer(database.db, name="db")


def main() -> None:
    cli()
