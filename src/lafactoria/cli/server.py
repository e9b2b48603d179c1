"""``lafactoria serve`` and ``lafactoria export-schema``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from lafactoria.cli.common import load_settings
from lafactoria.cli.database import prepare_schema
from lafactoria.logging import configure_logging
from lafactoria.settings import Settings


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (LAFACTORIA_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (LAFACTORIA_PORT).")] = None,
) -> None:
    """Run the API server: the studio at /, GraphQL at /graphql, metrics at /metrics."""
    from lafactoria.app import create_app

    settings = load_settings()
    configure_logging(settings.log_level)
    settings = prepare_schema(settings)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port if port is not None else settings.port,
        log_config=None,
        proxy_headers=False,
        # The request middleware logs every request, with more than an access line says.
        access_log=False,
        # The sans-I/O implementation: uvicorn's legacy websockets one is deprecated.
        ws="websockets-sansio",
    )


def export_schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print the GraphQL schema (SDL) generated from the code."""
    from lafactoria.graphql.schema import export_schema as render_schema

    sdl = render_schema(Settings(_env_file=None, env="development"))
    if output is None:
        typer.echo(sdl, nl=False)
    else:
        output.write_text(sdl, encoding="utf-8")
