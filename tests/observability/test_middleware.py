"""Every response carries a request id: the caller's when it is sane, a fresh one otherwise."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.server import RunningServer


@pytest.mark.parametrize("path", ["/health", "/graphql?query=%7B__typename%7D", "/missing"])
async def test_a_sane_request_id_is_echoed(server: RunningServer, path: str) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.get(path, headers={"X-Request-ID": "checkout-42.retry:1"})

    assert response.headers["x-request-id"] == "checkout-42.retry:1"


@pytest.mark.parametrize(
    "sent",
    [None, "", "has spaces", "x" * 129, 'quote"inject', "tab\there"],
)
async def test_anything_else_gets_a_fresh_id(server: RunningServer, sent: str | None) -> None:
    headers = {"X-Request-ID": sent} if sent is not None else {}
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        first = await http.get("/health", headers=headers)
        second = await http.get("/health", headers=headers)

    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
