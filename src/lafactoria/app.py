"""The composition root: ``create_app(settings)`` wires every part; nothing runs on import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pwdlib import PasswordHash
from sqlalchemy import text

from lafactoria import __version__
from lafactoria.auth.service import AuthService
from lafactoria.auth.tokens import TokenCodec
from lafactoria.content.service import ContentService
from lafactoria.db import migrate
from lafactoria.db.engine import Database, create_engine
from lafactoria.events.memory import MemoryEventLog
from lafactoria.generation.service import GenerationService
from lafactoria.graphql.router import build_router
from lafactoria.http.cors import StrictCORSMiddleware
from lafactoria.http.guard import GraphQLGuard
from lafactoria.jobs.memory import InProcessJobQueue
from lafactoria.observability.metrics import Metrics
from lafactoria.observability.middleware import ObservabilityMiddleware
from lafactoria.observability.routes import build_metrics_router
from lafactoria.providers.base import Provider
from lafactoria.providers.failover import FailoverChain
from lafactoria.providers.registry import build_providers
from lafactoria.ratelimit import RateLimits, open_rate_limits
from lafactoria.rest.router import install as install_rest_api
from lafactoria.services import Services
from lafactoria.settings import Settings
from lafactoria.studio import mount_studio

log = structlog.get_logger(__name__)


def create_app(settings: Settings, *, providers: Sequence[Provider] | None = None) -> FastAPI:
    """Build the ASGI app. ``providers`` replaces the configured chain (tests, benchmarks)."""
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = await open_database(settings)
        chain = FailoverChain(
            list(providers) if providers is not None else build_providers(settings),
            job_deadline_seconds=settings.timeouts.job_seconds,
            policy=settings.failover,
            metrics=metrics,
        )
        events = MemoryEventLog(retention_seconds=settings.jobs.event_retention_seconds)
        queue = InProcessJobQueue(
            concurrency=settings.jobs.concurrency, max_size=settings.jobs.queue_size
        )
        generation = GenerationService(
            db=db,
            events=events,
            queue=queue,
            chain=chain,
            max_output_tokens=settings.max_output_tokens,
            metrics=metrics,
        )
        limits = open_rate_limits(settings.limits)
        app.state.db = db
        app.state.events = events
        app.state.services = Services(
            settings=settings,
            auth=build_auth_service(settings, db, limits=limits),
            content=ContentService(db=db),
            generation=generation,
            limits=limits,
        )
        await queue.start(generation.run)
        recovered = await generation.recover_interrupted()
        _announce(settings, chain, recovered)
        try:
            yield
        finally:
            await queue.stop()
            await chain.aclose()
            await limits.aclose()
            await db.dispose()

    app = FastAPI(
        title="La Factoria",
        version=__version__,
        description="Generate study guides, flashcards, quizzes and podcast scripts.",
        lifespan=lifespan,
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
        """Readiness: the database answers."""
        try:
            async with app.state.db.read() as session:
                await session.exec(text("SELECT 1"))
        except Exception:
            log.exception("readiness_check_failed")
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return app


async def open_database(settings: Settings) -> Database:
    """Connect to the configured database once its schema is at the head revision: migrated
    there when ``auto_migrate`` is on, otherwise ``SchemaMismatch`` says what to run."""
    url = settings.resolved_database_url
    if settings.auto_migrate:
        await migrate.upgrade(url)
    else:
        await migrate.check(url)
    return Database(create_engine(url))


def build_auth_service(
    settings: Settings, db: Database, *, limits: RateLimits | None = None
) -> AuthService:
    """The auth service as configured: shared by the server and the ``lafactoria`` CLI (which
    has no login limits: its user runs it on the server)."""
    return AuthService(
        db=db,
        tokens=TokenCodec(
            secret=settings.signing_secret(),
            issuer=settings.auth.jwt_issuer,
            audience=settings.auth.jwt_audience,
            lifetime=timedelta(minutes=settings.auth.access_token_minutes),
        ),
        hasher=PasswordHash.recommended(),
        min_password_length=settings.auth.min_password_length,
        limits=limits,
    )


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
