"""The REST error shape for every failure, and nothing leaked from unexpected ones."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from structlog.testing import capture_logs

from lafactoria.errors import InvalidInput, LimitExceeded
from lafactoria.providers.errors import ProviderRejected
from lafactoria.ratelimit import RateLimited
from lafactoria.rest.errors import ApiRoute, domain_error_response
from tests.rest.helpers import API, assert_error, register


def failing_app() -> FastAPI:
    router = APIRouter(route_class=ApiRoute)

    @router.get("/rate-limited")
    async def rate_limited() -> None:
        raise RateLimited("too many generations; slow down", retry_after=2.2)

    @router.get("/queue-full")
    async def queue_full() -> None:
        raise LimitExceeded("the generation queue is full; try again shortly")

    @router.get("/bug")
    async def bug() -> None:
        raise RuntimeError("database password is hunter2")

    @router.get("/provider")
    async def provider() -> None:
        raise ProviderRejected("upstream said: key sk-secret is invalid")

    app = FastAPI()
    app.include_router(router)
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=failing_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_a_rate_limit_is_429_with_retry_after_rounded_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/rate-limited")

    assert_error(response, 429, "RATE_LIMITED")
    assert response.headers["retry-after"] == "3"


async def test_a_full_queue_is_503_with_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/queue-full")

    assert_error(response, 503, "LIMIT_EXCEEDED")
    assert int(response.headers["retry-after"]) > 0


async def test_unexpected_errors_are_masked_with_a_logged_correlation_id(
    client: httpx.AsyncClient,
) -> None:
    with capture_logs() as logs:
        bug = await client.get("/bug")
        provider = await client.get("/provider")

    for response in (bug, provider):
        error = assert_error(response, 500, "INTERNAL_SERVER_ERROR")
        assert error["message"] == "Internal server error."
        assert len(error["correlation_id"]) == 32
        assert "hunter2" not in response.text
        assert "sk-secret" not in response.text
    logged = {entry["correlation_id"]: entry for entry in logs}
    assert logged[bug.json()["error"]["correlation_id"]]["log_level"] == "error"
    assert isinstance(logged[bug.json()["error"]["correlation_id"]]["exc_info"], RuntimeError)
    assert provider.json()["error"]["correlation_id"] in logged


def test_service_field_names_are_given_in_snake_case() -> None:
    response = domain_error_response(InvalidInput("bad", field="expiresInDays"))

    assert response.status_code == 422
    assert b'"field":"expires_in_days"' in response.body


async def test_unknown_api_paths_and_methods_use_the_error_shape(api: httpx.AsyncClient) -> None:
    missing = await api.get(f"{API}/nothing-here")
    wrong_method = await api.put(f"{API}/content/abc")

    assert_error(missing, 404, "NOT_FOUND")
    assert_error(wrong_method, 405, "METHOD_NOT_ALLOWED")
    assert wrong_method.headers["allow"] == "DELETE, GET, HEAD"
    concrete = await api.put(f"{API}/content/generate")
    assert_error(concrete, 405, "METHOD_NOT_ALLOWED")
    assert concrete.headers["allow"] == "POST"


async def test_paths_outside_the_api_use_the_error_shape_too(api: httpx.AsyncClient) -> None:
    missing = await api.get("/nope")
    missing_file = await api.get("/studio/nope.js")
    wrong_method = await api.post("/health")

    assert assert_error(missing, 404, "NOT_FOUND")["message"] == "Not Found"
    assert_error(missing_file, 404, "NOT_FOUND")
    assert_error(wrong_method, 405, "METHOD_NOT_ALLOWED")
    assert wrong_method.headers["allow"] == "GET"


async def test_a_body_over_64_kib_is_refused_whether_declared_or_streamed(
    api: httpx.AsyncClient,
) -> None:
    headers = await register(api)
    body = json.dumps({"topic": "x" * 70_000, "content_type": "quiz", "audience_level": "college"})

    async def chunks() -> AsyncIterator[bytes]:
        yield body.encode()

    declared = await api.post(f"{API}/content/generate", headers=headers, content=body)
    streamed = await api.post(
        f"{API}/content/generate",
        headers={**headers, "Content-Type": "application/json"},
        content=chunks(),
    )
    login = await api.post(f"{API}/auth/login", data={"username": "a", "password": "b" * 70_000})

    for response in (declared, streamed, login):
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    listing = (await api.get(f"{API}/content/", headers=headers)).json()
    assert listing["total"] == 0
