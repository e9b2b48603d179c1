"""The studio: a small web page at ``/`` for people, on top of the public GraphQL API.

It is three static files (no build step, no CDN): the page logs in, generates content and
follows its progress over the GraphQL WebSocket (``graphql-transport-ws``), lists and deletes
the user's content. It has no privileges of its own: everything goes through ``/graphql``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
# Everything the page needs comes from this server: no inline script or style, no other host.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def mount_studio(app: FastAPI) -> None:
    """Serve the page at ``/`` and its script and style under ``/studio/``."""

    @app.get("/", include_in_schema=False)
    async def studio() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=_SECURITY_HEADERS)

    app.mount("/studio", StaticFiles(directory=STATIC_DIR), name="studio")
