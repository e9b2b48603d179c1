"""No N+1: the SQL statements one GraphQL request runs do not grow with the page size or with
nested fields (each relation is loaded once per request, for the whole page)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from bench import seed
from bench.statements import NESTED, PAGE_SIZES
from lafactoria.graphql.ids import decode_id
from tests.support.graphql import GraphQLClient, register_user
from tests.support.server import RunningServer, make_settings, run_server

CONTENTS = NESTED
JOBS = """
query Jobs($first: Int!) {
  generationJobs(first: $first) {
    totalCount
    edges { node {
      id status topic createdAt finishedAt attempts { provider }
      content { id title revisionOf { id } }
    } }
  }
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(make_settings(tmp_path_factory.mktemp("statements"))) as running:
        yield running


@contextmanager
def statements(server: RunningServer) -> Iterator[list[str]]:
    """The SQL statements the server runs meanwhile, transaction control aside."""
    seen: list[str] = []
    lock = threading.Lock()
    engine = server.app.state.db.engine.sync_engine

    def record(*args: Any) -> None:
        statement = " ".join(str(args[2]).split())
        if statement not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"):
            with lock:
                seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture(scope="module")
def client(server: RunningServer) -> GraphQLClient:
    async def prepare() -> GraphQLClient:
        user = await register_user(server)
        viewer = await user.data("{ viewer { id } }")
        await seed.store_contents(
            server.settings,
            user_id=decode_id(viewer["viewer"]["id"], "User"),
            count=max(PAGE_SIZES),
            with_jobs=True,
        )
        return user

    return asyncio.run(prepare())


@pytest.mark.parametrize(("document", "field"), [(CONTENTS, "contents"), (JOBS, "generationJobs")])
async def test_statements_per_request_do_not_grow_with_the_page(
    server: RunningServer, client: GraphQLClient, document: str, field: str
) -> None:
    counts = {}
    for first in PAGE_SIZES:
        with statements(server) as seen:
            data = await client.data(document, {"first": first})
        assert len(data[field]["edges"]) == first
        counts[first] = len(seen)

    # A bigger page never costs more statements than a page of one (it may cost fewer: the
    # per-request loaders find more of the nested items already loaded).
    assert max(counts.values()) == counts[1], counts
    # The caller, the page, its count, and one per level of nested items.
    assert counts[1] <= 5, counts


async def test_the_total_is_counted_only_when_a_page_asks_for_it(
    server: RunningServer, client: GraphQLClient
) -> None:
    with statements(server) as without_total:
        await client.data("{ contents(first: 2) { edges { node { id } } } }")
    with statements(server) as with_total:
        data = await client.data(
            "query { contents(first: 2) { ...Total edges { node { id } } } }"
            " fragment Total on ContentConnection { totalCount }"
        )

    assert data["contents"]["totalCount"] == max(PAGE_SIZES)
    assert len(with_total) == len(without_total) + 1
    assert not [s for s in without_total if "count(" in s.lower()]
