"""Builders for REST tests: a provider that answers with given bodies, accounts, waiting."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from lafactoria.content.bodies import Body
from lafactoria.content.enums import ContentType
from lafactoria.providers.base import Completion, GenerationRequest, StreamChunk, TextDelta, Usage

PASSWORD = "correct horse battery"
API = "/api/v1"


class ScriptedProvider:
    """Answers every request with the body given for its content type, in two chunks."""

    name = "scripted"
    model = "scripted-1"

    def __init__(self, bodies: Mapping[ContentType, Body]) -> None:
        self.bodies = bodies

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamChunk]:
        body = self.bodies[ContentType(request.schema_name)]
        text = json.dumps(body.model_dump(mode="json"), ensure_ascii=False)
        middle = len(text) // 2
        yield TextDelta(text[:middle])
        yield TextDelta(text[middle:])
        yield Completion(text=text, model=self.model, stop_reason="end_turn", usage=Usage(12, 34))

    async def aclose(self) -> None:
        return None


class BlockingProvider:
    """Never answers until cancelled: keeps a worker busy so the queue can fill up."""

    name = "blocking"
    model = "block-1"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamChunk]:
        await asyncio.Event().wait()
        yield TextDelta("")  # pragma: no cover  # unreachable; makes this an async generator

    async def aclose(self) -> None:
        return None


async def register(client: httpx.AsyncClient, email: str | None = None) -> dict[str, str]:
    """A new account, logged in over REST: the Authorization header to send."""
    email = email or f"rest-{uuid.uuid4().hex[:12]}@example.org"
    registered = await client.post(
        f"{API}/auth/register", json={"email": email, "password": PASSWORD}
    )
    assert registered.status_code == 201, registered.text
    login = await client.post(f"{API}/auth/login", data={"username": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def wait_for_task(
    client: httpx.AsyncClient, headers: dict[str, str], task_id: str, *, seconds: float = 15
) -> dict[str, Any]:
    """Poll ``/tasks/{id}`` until every job has finished."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        response = await client.get(f"{API}/tasks/{task_id}", headers=headers)
        assert response.status_code == 200, response.text
        task: dict[str, Any] = response.json()
        if task["finished"] == task["total"]:
            return task
        assert asyncio.get_running_loop().time() < deadline, task
        await asyncio.sleep(0.02)


async def generate(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content_type: str = "quiz",
    topic: str = "Cells",
) -> dict[str, Any]:
    """Generate one item and return it as ``GET /content/{id}`` shows it."""
    accepted = await client.post(
        f"{API}/content/generate",
        headers=headers,
        json={"topic": topic, "content_type": content_type, "audience_level": "high_school"},
    )
    assert accepted.status_code == 202, accepted.text
    task = await wait_for_task(client, headers, accepted.json()["id"])
    assert task["status"] == "succeeded", task
    (content_id,) = task["content_ids"]
    content = await client.get(f"{API}/content/{content_id}", headers=headers)
    assert content.status_code == 200, content.text
    result: dict[str, Any] = content.json()
    return result


def assert_error(
    response: httpx.Response, status: int, code: str, *, field: str | None = None
) -> dict[str, Any]:
    """The one error shape, with the given status, code and field; returns the error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "field", "details", "correlation_id"}
    assert error["code"] == code
    assert error["field"] == field
    assert isinstance(error["message"], str)
    assert error["message"]
    return error
