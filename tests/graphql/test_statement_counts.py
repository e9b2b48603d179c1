"""No N+1: the SQL statements one GraphQL request runs do not grow with the page size or with
nested fields (each relation is loaded once per request, for the whole page)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from lafactoria.content import quality
from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.content.markdown import render_markdown
from lafactoria.content.models import Content
from lafactoria.db.types import utcnow
from lafactoria.generation.models import GenerationJob, JobStatus
from lafactoria.graphql.ids import decode_id
from lafactoria.providers.offline import compose
from lafactoria.providers.prompt_data import PromptData
from lafactoria.runtime import open_database
from tests.support.graphql import GraphQLClient, register_user
from tests.support.server import RunningServer, make_settings, run_server

PAGE_SIZES = (1, 20, 100)

CONTENTS = """
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


async def store_revisions(server: RunningServer, user_id: str, count: int) -> None:
    """``count`` finished jobs, each with a quiz revising the one before it."""
    db = await open_database(server.settings)
    level = AudienceLevel.HIGH_SCHOOL
    body = compose(ContentType.QUIZ, PromptData("Tides", level, None), "Tides")
    report = quality.assess(body, level).as_json()
    start = utcnow() - timedelta(hours=1)
    try:
        previous: str | None = None
        async with db.write() as session:
            for n in range(count):
                at = start + timedelta(seconds=n)
                content = Content(
                    user_id=user_id,
                    title=f"Tides {n}",
                    topic="Tides",
                    content_type=ContentType.QUIZ.value,
                    audience_level=level.value,
                    body=body.model_dump(mode="json"),
                    markdown=render_markdown(body),
                    provider="offline",
                    model="offline-templates",
                    quality=report,
                    revision_of_id=previous,
                    created_at=at,
                )
                session.add(content)
                session.add(
                    GenerationJob(
                        user_id=user_id,
                        status=JobStatus.SUCCEEDED.value,
                        content_type=content.content_type,
                        audience_level=content.audience_level,
                        topic="Tides",
                        content_id=content.id,
                        created_at=at,
                        finished_at=at,
                    )
                )
                previous = content.id
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def client(server: RunningServer) -> GraphQLClient:
    async def prepare() -> GraphQLClient:
        user = await register_user(server)
        viewer = await user.data("{ viewer { id } }")
        await store_revisions(server, decode_id(viewer["viewer"]["id"], "User"), max(PAGE_SIZES))
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
