"""The composition root: ``create_app(settings)`` wires every part; nothing runs on import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from lafactoria import __version__
from lafactoria.db.engine import Database
from lafactoria.events.redis import RedisEventLog
from lafactoria.graphql.router import build_router
from lafactoria.http.cors import StrictCORSMiddleware
from lafactoria.http.guard import GraphQLGuard
from lafactoria.observability.metrics import Metrics
from lafactoria.observability.middleware import ObservabilityMiddleware
from lafactoria.observability.routes import build_metrics_router
from lafactoria.providers.base import Provider
from lafactoria.providers.failover import FailoverChain
from lafactoria.rest.router import install as install_rest_api
from lafactoria.runtime import open_runtime
from lafactoria.settings import Settings
from lafactoria.studio import mount_studio

log = structlog.get_logger(__name__)


def create_app(settings: Settings, *, providers: Sequence[Provider] | None = None) -> FastAPI:
    """Build the ASGI app. ``providers`` replaces the configured chain (tests, benchmarks)."""
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, providers=providers, metrics=metrics) as runtime:
            app.state.db = runtime.db
            app.state.events = runtime.events
            app.state.services = runtime.services
            _announce(settings, runtime.chain, runtime.recovered_jobs)
            yield

    app = FastAPI(
        title="La Factoria",
        version=__version__,
        description="Generate study guides, flashcards, quizzes and podcast scripts.",
        lifespan=lifespan,
        openapi_url="/openapi.json" if settings.api_docs_enabled else None,
        docs_url="/docs" if settings.api_docs_enabled else None,
        redoc_url="/redoc" if settings.api_docs_enabled else None,
    )
    # Innermost first: the guard checks /graphql requests before GraphQL reads them, and CORS
    # wraps it so that its refusals carry CORS headers too.
    app.add_middleware(GraphQLGuard, settings=settings.graphql, path="/graphql")
    app.add_middleware(StrictCORSMiddleware, origins=settings.cors_origins)
    # Added last, so it is the outermost middleware: every response carries the request id.
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
    app.state.metrics = metrics
    app.include_router(build_router(settings), prefix="/graphql")
    app.include_router(build_metrics_router(metrics))
    install_rest_api(app)
    mount_studio(app)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness: the process is up."""
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"], response_model=None)
    async def ready() -> JSONResponse:
        """Readiness: the database answers, and Redis too when one is configured."""
        parts = {"database": await _check("database", _ping_database(app.state.db))}
        events = app.state.events
        if isinstance(events, RedisEventLog):
            parts["redis"] = await _check("redis", events.ping())
        if all(state == "ok" for state in parts.values()):
            return JSONResponse({"status": "ok", **parts})
        return JSONResponse({"status": "unavailable", **parts}, status_code=503)

    return app


async def _ping_database(db: Database) -> None:
    async with db.read() as session:
        connection = await session.connection()
        await connection.execute(text("SELECT 1"))


async def _check(part: str, probe: Awaitable[None]) -> str:
    try:
        await probe
    except Exception:
        log.exception("readiness_check_failed", part=part)
        return "down"
    return "ok"


def _announce(settings: Settings, chain: FailoverChain, recovered: int) -> None:
    names = chain.names
    if names == ["offline"]:
        log.warning(
            "offline_provider_only",
            message="no LLM API key is set: content comes from the offline provider. Set "
            "ANTHROPIC_API_KEY or OPENAI_API_KEY for real generation.",
        )
    log.info(
        "lafactoria_started",
        env=settings.env.value,
        providers=names,
        database=settings.resolved_database_url.split("://", 1)[0],
        graphiql=settings.graphiql_enabled,
        recovered_jobs=recovered,
    )
