"""The studio is a page and two assets, all served by La Factoria itself."""

from __future__ import annotations

import re

import httpx

from lafactoria.studio import STATIC_DIR
from tests.support.server import RunningServer


async def test_the_page_loads_only_assets_the_server_serves(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        page = await http.get("/")
        references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assets = {ref: await http.get(ref) for ref in references if not ref.startswith("data:")}

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert sorted(assets) == ["/studio/app.css", "/studio/app.js"]
    assert assets["/studio/app.js"].headers["content-type"].startswith("text/javascript")
    assert assets["/studio/app.css"].headers["content-type"].startswith("text/css")
    assert all(response.status_code == 200 for response in assets.values())


async def test_the_page_forbids_other_origins_and_inline_code(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        page = await http.get("/")

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_no_asset_refers_to_another_host() -> None:
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), path
        # The content security policy forbids inline scripts and styles.
        assert "<script>" not in text, path
        assert " style=" not in text, path


async def test_files_outside_the_studio_are_not_served(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        escape = await http.get("/studio/%2e%2e/__init__.py")
        python = await http.get("/studio/__init__.py")

    assert escape.status_code == 404
    assert python.status_code == 404
