"""Deep, aliased, wide, long and expensive documents: each refused with QUERY_TOO_COMPLEX and
its reason before anything runs, so not one SQL statement is executed for them."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from tests.security.attacker import Account, post, send, sign_up
from tests.support.server import RunningServer, make_settings, run_server

# The schema has no cycles and graphql-core caps introspection's own nesting, so no document
# can reach the default depth of 12: this server is configured with a depth limit of 5 to show
# the refusal. Six levels: generationJobs, edges, node, content, body, questions.
DEEP = (
    "{ generationJobs(first: 1) { edges { node { content { body "
    "{ ... on Quiz { questions { question } } } } } } } }"
)
JUST_DEEP_ENOUGH = (
    "{ generationJobs(first: 1) { edges { node { content { body { __typename } } } } } }"
)
ALIASED = "{ viewer { " + " ".join(f"a{n}: id" for n in range(31)) + " } }"
WIDE = "{ " + " ".join(f"v{n}: viewer {{ id }}" for n in range(11)) + " }"
LONG = "{ viewer { " + "id " * 2000 + "} }"
LISTING = "contents(first: 100) { edges { node { id body { __typename } } } }"
EXPENSIVE = "{ " + " ".join(f"l{n}: {LISTING}" for n in range(4)) + " }"
FRAGMENT_BOMB = (
    "query { viewer { ...F0 } } "
    + " ".join(f"fragment F{n} on User {{ ...F{n + 1} ...F{n + 1} }}" for n in range(40))
    + " fragment F40 on User { id email }"
)


_USER_LOOKUP = re.compile(r"^SELECT users\.\S+(, users\.\S+)* FROM users WHERE users\.id = \?$")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    settings = make_settings(
        tmp_path_factory.mktemp("query-limits"), env="production", graphql={"max_depth": 5}
    )
    with run_server(settings) as running:
        yield running


@pytest.fixture(scope="module")
def account(server: RunningServer) -> Account:
    return asyncio.run(sign_up(server))


@contextmanager
def sql_statements(server: RunningServer) -> Iterator[list[str]]:
    """Every SQL statement the server runs meanwhile, but for the request log's lookup of who
    sent a credential (the only thing read for a refused operation)."""
    statements: list[str] = []
    lock = threading.Lock()
    engine = server.app.state.db.engine.sync_engine

    def record(*args: Any) -> None:
        statement = " ".join(str(args[2]).split())
        if statement in ("BEGIN", "COMMIT", "ROLLBACK") or _USER_LOOKUP.match(statement):
            return
        with lock:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    ("document", "message", "extensions"),
    [
        (
            DEEP,
            "the operation is nested 6 levels deep; the limit is 5",
            {"reason": "DEPTH", "limit": 5, "value": 6},
        ),
        (
            ALIASED,
            "the document uses 31 aliases; the limit is 30",
            {"reason": "ALIASES", "limit": 30, "value": 31},
        ),
        (
            WIDE,
            "the operation selects 11 root fields; the limit is 10",
            {"reason": "ROOT_FIELDS", "limit": 10, "value": 11},
        ),
        (LONG, "the document has more than 2000 tokens", {"reason": "TOKENS", "limit": 2000}),
        (
            EXPENSIVE,
            "the operation costs 1208 points; the limit is 1000 a request (see extensions.cost)",
            {"reason": "COST", "limit": 1000, "value": 1208},
        ),
    ],
    ids=["depth", "aliases", "root-fields", "tokens", "cost"],
)
async def test_complex_documents_are_refused_before_anything_runs(
    server: RunningServer,
    account: Account,
    document: str,
    message: str,
    extensions: dict[str, Any],
) -> None:
    with sql_statements(server) as statements:
        body = await post(server, document, token=account.token)

    assert body["data"] is None
    assert [(e["message"], e["extensions"]) for e in body["errors"]] == [
        (message, {"code": "QUERY_TOO_COMPLEX", **extensions})
    ]
    # Nothing was charged and nothing was read.
    assert body["extensions"]["cost"]["actualQueryCost"] == 0
    assert body["extensions"]["cost"]["throttleStatus"] is None
    assert statements == []


async def test_a_page_size_out_of_range_is_refused_before_anything_runs(
    server: RunningServer, account: Account
) -> None:
    with sql_statements(server) as statements:
        body = await post(
            server,
            "query($n: Int!) { contents(first: $n) { totalCount } }",
            {"n": 101},
            token=account.token,
        )

    assert [(e["message"], e["extensions"]) for e in body["errors"]] == [
        ("first must be between 1 and 100", {"code": "BAD_USER_INPUT", "field": "first"})
    ]
    assert statements == []


async def test_the_limits_hold_when_the_document_is_valid_but_long(
    server: RunningServer, account: Account
) -> None:
    # Just under every limit: 30 aliases, 10 root fields, depth 5, 906 points.
    documents = [
        "{ viewer { " + " ".join(f"a{n}: id" for n in range(30)) + " } }",
        "{ " + " ".join(f"v{n}: viewer {{ id }}" for n in range(10)) + " }",
        JUST_DEEP_ENOUGH,
        "{ " + " ".join(f"l{n}: {LISTING}" for n in range(3)) + " }",
    ]

    with sql_statements(server) as statements:
        answers = [await post(server, document, token=account.token) for document in documents]

    assert [answer.get("errors") for answer in answers] == [None] * 4
    # The recorder sees what an accepted listing reads.
    assert any("FROM contents" in statement for statement in statements)
    assert answers[3]["extensions"]["cost"]["requestedQueryCost"] == 906


async def test_fragments_spread_into_fragments_cost_no_time(
    server: RunningServer, account: Account
) -> None:
    started = time.monotonic()
    body = await post(server, FRAGMENT_BOMB, token=account.token)

    assert body["data"] == {"viewer": {"id": body["data"]["viewer"]["id"], "email": account.email}}
    assert time.monotonic() - started < 5


async def test_every_answer_reports_its_cost(server: RunningServer, account: Account) -> None:
    listing = await post(
        server, "{ contents(first: 10) { edges { node { id } } } }", token=account.token
    )
    anonymous = await post(server, "{ __typename }")
    response = await send(server, "POST", json={"query": "{ viewer { id } }"}, token=account.token)

    assert listing["extensions"]["cost"]["requestedQueryCost"] == 22
    assert listing["extensions"]["cost"]["actualQueryCost"] == 2
    assert anonymous["extensions"]["cost"] == {
        "requestedQueryCost": 0,
        "actualQueryCost": 0,
        "throttleStatus": None,
    }
    assert response.json()["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 2000
