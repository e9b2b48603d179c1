"""The composition root: start-up, restarts, health and readiness."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.support.databases import asyncpg_dsn, fresh_database
from tests.support.graphql import GENERATE, PROGRESS, GraphQLClient, register_user
from tests.support.redis import throwaway_redis
from tests.support.server import make_settings, run_server


async def test_a_restart_keeps_accounts_content_and_tokens(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, secret_key=None)
    with run_server(settings) as first:
        client = await register_user(first)
        job = (
            await client.data(
                GENERATE,
                {"input": {"topic": "Comets", "contentType": "QUIZ", "audienceLevel": "COLLEGE"}},
            )
        )["generateContent"]["job"]
        events = await client.collect(PROGRESS, {"jobId": job["id"]})

    with run_server(settings) as second:
        same_token = GraphQLClient(second, client.credential)
        listing = await same_token.data("query { contents(first: 5) { totalCount } }")
        replay = await same_token.collect(PROGRESS, {"jobId": job["id"]})

    assert listing["contents"]["totalCount"] == 1
    # The full log lived in the old process; the stored outcome is replayed as the terminal
    # event under its original sequence number.
    assert [e["generationProgress"] for e in replay] == [
        {**events[-1]["generationProgress"], "at": replay[0]["generationProgress"]["at"]}
    ]


async def test_health_and_readiness(tmp_path: Path) -> None:
    with run_server(make_settings(tmp_path)) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            health = await http.get("/health")
            ready = await http.get("/ready")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "ok"})


async def test_graphiql_is_served_in_development(tmp_path: Path) -> None:
    with run_server(make_settings(tmp_path)) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            page = await http.get("/graphql", headers={"Accept": "text/html"})

    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


@pytest.mark.redis
async def test_readiness_reports_redis_when_it_is_configured(tmp_path: Path) -> None:
    with throwaway_redis(tmp_path) as redis:
        settings = make_settings(tmp_path, redis_url=redis.url)
        with run_server(settings) as server:
            async with httpx.AsyncClient(base_url=server.base_url) as http:
                up = await http.get("/ready")
                redis.kill()
                down = await http.get("/ready")

    assert (up.status_code, up.json()) == (200, {"status": "ok", "database": "ok", "redis": "ok"})
    assert (down.status_code, down.json()) == (
        503,
        {"status": "unavailable", "database": "ok", "redis": "down"},
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_database("postgres") as url:
        yield url


@pytest.mark.postgres
async def test_a_database_outage_is_a_clear_error_and_heals_by_itself(
    tmp_path: Path, postgres_url: str
) -> None:
    name = make_url(postgres_url).database
    admin_dsn = asyncpg_dsn(postgres_url).rsplit("/", 1)[0] + "/postgres"
    with run_server(make_settings(tmp_path, database_url=postgres_url)) as server:
        client = await register_user(server)
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            during = await client.execute("{ viewer { email } }")
            async with httpx.AsyncClient(base_url=server.base_url) as http:
                rest = await http.get(
                    "/api/v1/auth/me", headers={"Authorization": f"Bearer {client.credential}"}
                )
                ready = await http.get("/ready")
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await admin.close()
        after = await client.data("{ viewer { email } }")

    assert during.codes == ["SERVICE_UNAVAILABLE"]
    assert (rest.status_code, rest.json()["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert "retry-after" in rest.headers
    assert (ready.status_code, ready.json()["database"]) == (503, "down")
    assert after["viewer"]["email"].endswith("@example.org")
