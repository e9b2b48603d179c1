"""The ``lafactoria`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from lafactoria.logging import configure_logging
from lafactoria.settings import Settings

cli = typer.Typer(
    help="La Factoria: a GraphQL API that generates educational content.",
    no_args_is_help=True,
    add_completion=False,
)
_errors = Console(stderr=True)


def _load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        _errors.print(f"[red]Invalid configuration:[/red]\n{exc}")
        raise typer.Exit(code=2) from None


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (LAFACTORIA_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (LAFACTORIA_PORT).")] = None,
) -> None:
    """Run the API server (GraphQL at /graphql)."""
    from lafactoria.app import create_app

    settings = _load_settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port if port is not None else settings.port,
        log_config=None,
        proxy_headers=False,
    )


@cli.command("export-schema")
def export_schema_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print the GraphQL schema (SDL) generated from the code."""
    from lafactoria.graphql.schema import export_schema

    sdl = export_schema(Settings(env="development"))
    if output is None:
        typer.echo(sdl, nl=False)
    else:
        output.write_text(sdl, encoding="utf-8")


def main() -> None:
    cli()
