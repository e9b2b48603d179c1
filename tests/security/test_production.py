"""What production mode hides from a stranger mapping the API, and development keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from lafactoria.app import create_app
from tests.security.attacker import post, send
from tests.support.server import RunningServer, make_settings

INTROSPECTION = [
    "{ __schema { types { name } } }",
    '{ __type(name: "Content") { fields { name } } }',
]
# Each one a near miss that graphql-core would answer with "Did you mean …?".
NEAR_MISSES: list[tuple[str, dict[str, Any] | None]] = [
    ("{ viewr { id } }", None),
    ("{ viewer { emial } }", None),
    ("{ contents(frist: 1) { totalCount } }", None),
    ("{ contents(filter: {contentTyp: QUIZ}) { totalCount } }", None),
    ("{ contents(filter: {contentType: QIZ}) { totalCount } }", None),
    (
        "query($f: ContentFilterInput) { contents(filter: $f) { totalCount } }",
        {"f": {"contentType": "QIZ"}},
    ),
    ("query($f: ContentFiltr) { contents { totalCount } }", None),
    ("{ ... on Quer { __typename } }", None),
]


@pytest.mark.parametrize("document", INTROSPECTION)
async def test_introspection_is_off_in_production(production: RunningServer, document: str) -> None:
    body = await post(production, document)

    assert body["data"] is None
    assert body["errors"][0]["message"].startswith("GraphQL introspection has been disabled")
    assert {error["extensions"]["code"] for error in body["errors"]} == {
        "GRAPHQL_VALIDATION_FAILED"
    }


@pytest.mark.parametrize(("document", "variables"), NEAR_MISSES)
async def test_production_never_suggests_field_type_or_value_names(
    production: RunningServer, document: str, variables: dict[str, Any] | None
) -> None:
    body = await post(production, document, variables)

    assert body["errors"], body
    assert "Did you mean" not in str(body)
    assert {error["extensions"]["code"] for error in body["errors"]} <= {
        "GRAPHQL_VALIDATION_FAILED",
        "BAD_USER_INPUT",
    }


async def test_graphiql_is_off_in_production(production: RunningServer) -> None:
    page = await send(production, "GET", headers={"Accept": "text/html"})

    assert page.status_code == 404
    assert "graphiql" not in page.text.lower()


async def test_development_keeps_introspection_suggestions_and_graphiql(
    development: RunningServer,
) -> None:
    introspected = await post(development, INTROSPECTION[0])
    suggested = await post(development, NEAR_MISSES[0][0])
    page = await send(development, "GET", headers={"Accept": "text/html"})

    assert "errors" not in introspected
    assert suggested["errors"][0]["message"] == (
        "Cannot query field 'viewr' on type 'Query'. Did you mean 'viewer'?"
    )
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
async def test_the_rest_api_documentation_is_off_in_production(
    production: RunningServer, development: RunningServer, path: str
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        hidden = await http.get(f"{production.base_url}{path}")
        shown = await http.get(f"{development.base_url}{path}")

    assert hidden.status_code == 404
    assert "openapi" not in hidden.text.lower()
    assert shown.status_code == 200


def test_a_setting_turns_the_rest_api_documentation_back_on(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, env="production", api_docs=True)

    app = create_app(settings)

    assert (app.openapi_url, app.docs_url, app.redoc_url) == ("/openapi.json", "/docs", "/redoc")
