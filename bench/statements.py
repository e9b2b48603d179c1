"""Scenario 2, no N+1: the SQL statements one GraphQL request runs, for pages of 1, 20 and
100 items, with scalar fields only and with nested relations.

Counted in this process against the same app ``lafactoria serve`` runs (through httpx's ASGI
transport), because the statement counter is a SQLAlchemy event on the app's engine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import processes, query_path, seed
from lafactoria.app import create_app
from lafactoria.logging import configure_logging
from lafactoria.settings import Settings

PAGE_SIZES = (1, 20, 100)

# The statement-count test's shape (tests/graphql/test_statement_counts.py): every relation
# of an item, two levels of revisions deep.
NESTED = """
query Contents($first: Int!) {
  contents(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id title topic contentType audienceLevel markdown provider model createdAt
      usage { inputTokens outputTokens }
      quality { readingGrade audienceFit }
      body { __typename ... on Quiz { title questions { question choices } } }
      exports { format url }
      revisionOf { id title revisionOf { id } }
    } }
  }
}"""

SHAPES = {
    "scalar fields (Scenario 1's query)": query_path.CONTENTS,
    "nested relations (the statement-count test's query)": NESTED,
}


@dataclass(frozen=True)
class Counts:
    by_shape: dict[str, dict[int, int]]
    """Shape name → page size → statements for one request."""


@contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements run meanwhile, transaction control aside."""
    seen: list[str] = []
    lock = threading.Lock()

    def record(*args: Any) -> None:
        statement = " ".join(str(args[2]).split())
        if statement not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"):
            with lock:
                seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def count(data_dir: Path) -> Counts:
    settings = Settings(
        _env_file=None,
        env="development",
        data_dir=data_dir,
        secret_key=processes.SECRET_KEY,
        providers=["offline"],
        log_level="warning",
        limits={"query_cost_budget": 1_000_000_000},
    )
    # The app runs in this process here: keep its per-request log lines off the terminal.
    configure_logging(settings.log_level)
    app = create_app(settings)
    by_shape: dict[str, dict[int, int]] = {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as http,
    ):
        account = await seed.register(http)
        await seed.store_contents(settings, user_id=account.user_id, count=max(PAGE_SIZES))
        engine: AsyncEngine = app.state.db.engine
        for shape, document in SHAPES.items():
            by_shape[shape] = {}
            for first in PAGE_SIZES:
                body = {"query": document, "variables": {"first": first}}
                with _statements(engine) as seen:
                    response = await http.post("/graphql", json=body, headers=account.headers)
                payload = response.json()
                if response.status_code != 200 or payload.get("errors"):
                    raise RuntimeError(f"{shape}, first={first}: {payload}")
                if len(payload["data"]["contents"]["edges"]) != first:
                    raise RuntimeError(f"{shape}, first={first}: wrong number of items")
                by_shape[shape][first] = len(seen)
    return Counts(by_shape=by_shape)
