"""CORS for the configured browser origins only."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp


class StrictCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, except that a refused preflight carries no ``Access-Control-*``
    header at all (Starlette lists the allowed methods and headers even to an origin it
    refuses). Every answer varies by ``Origin`` so caches keep them apart."""

    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["Retry-After", "X-Request-ID"],
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        return PlainTextResponse(
            "Disallowed CORS request", status_code=400, headers={"Vary": "Origin"}
        )
