"""The assembled REST API: its OpenAPI document, the docs pages, and a schema-driven fuzz run."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.rest.helpers import API, register
from tests.support.server import RunningServer, make_settings, run_server
from tests.test_imports import imported_modules, modules_under

ROUTES = {
    f"{API}/auth/register": {"post"},
    f"{API}/auth/login": {"post"},
    f"{API}/auth/api-key": {"post"},
    f"{API}/auth/me": {"get"},
    f"{API}/content/generate": {"post"},
    f"{API}/content/bulk-generate": {"post"},
    f"{API}/content/": {"get"},
    f"{API}/content/{{content_id}}": {"get", "delete"},
    f"{API}/content/{{content_id}}/export/{{format}}": {"get"},
    f"{API}/tasks/{{task_id}}": {"get"},
}
# Every check about what the server answers. Left out: positive_data_acceptance, because the
# services refuse more than a schema can say (control characters, blank-after-trim topics,
# unknown emails at login), and object_level_authorization, which needs two users' data.
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
    ]
)


async def test_the_openapi_document_describes_every_route_and_both_credentials(
    api: httpx.AsyncClient,
) -> None:
    document = (await api.get("/openapi.json")).json()

    paths = {path: set(item) for path, item in document["paths"].items() if path.startswith(API)}
    assert paths == ROUTES
    schemes = document["components"]["securitySchemes"]
    assert schemes["PasswordLogin"]["flows"]["password"]["tokenUrl"] == f"{API}/auth/login"
    assert schemes["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (lf_…) or an access token from /auth/login.",
    }
    errors = document["paths"][f"{API}/content/{{content_id}}"]["get"]["responses"]
    assert errors["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }


async def test_the_docs_pages_are_served(api: httpx.AsyncClient) -> None:
    swagger = await api.get("/docs")
    redoc = await api.get("/redoc")

    assert swagger.status_code == redoc.status_code == 200
    assert "swagger-ui" in swagger.text
    assert "redoc" in redoc.text
    assert (await api.get("/health")).json() == {"status": "ok"}


def test_a_schema_driven_fuzz_run_finds_no_server_error_or_contract_break(tmp_path: Path) -> None:
    with run_server(make_settings(tmp_path / "data")) as server:
        token = _token(server)
        result = subprocess.run(  # our own venv's schemathesis, fixed arguments
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{server.base_url}/openapi.json",
                "--include-path-regex",
                f"^{API}/",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                CHECKS,
                "--max-examples",
                "5",
                "--seed",
                "20251203",
                "--no-color",
                "--request-timeout",
                "10",
            ],
            cwd=tmp_path,  # its example database (.hypothesis) stays out of the checkout
            capture_output=True,
            text=True,
            timeout=110,
            check=False,
        )

    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "passed" in result.stdout


@pytest.mark.parametrize("path", modules_under("rest"), ids=lambda path: path.name)
def test_the_rest_transport_only_calls_services(path: Path) -> None:
    imported = imported_modules(path)

    assert not {name for name in imported if name.endswith(".repository")}
    assert not {name for name in imported if name.split(".")[0] in {"sqlalchemy", "sqlmodel"}}
    assert not {name for name in imported if name.startswith("lafactoria.graphql")}


def _token(server: RunningServer) -> str:
    async def login() -> str:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            headers = await register(client)
        return headers["Authorization"].removeprefix("Bearer ")

    return asyncio.run(login())
