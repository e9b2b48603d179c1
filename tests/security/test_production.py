"""What production mode hides from a stranger mapping the API, and development keeps."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.attacker import post, send
from tests.support.server import RunningServer

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
