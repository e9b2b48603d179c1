"""Assembles the REST API and installs it on the app under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.exceptions import HTTPException

from lafactoria.rest import auth, content, tasks
from lafactoria.rest.errors import http_exception_handler
from lafactoria.rest.paths import API_PREFIX


def build_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(auth.router)
    router.include_router(content.router)
    router.include_router(tasks.router)
    return router


def install(app: FastAPI) -> None:
    """Serve the REST API; unmatched paths and methods, in ``/api/`` or not, answer in its
    error shape too."""
    app.include_router(build_router())
    app.add_exception_handler(HTTPException, http_exception_handler)
