"""A user with content to read: registered and logged in through the GraphQL API, its items
written straight into the database (generating them would only measure the offline provider)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

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
from lafactoria.settings import Settings

EMAIL = "bench@example.org"
PASSWORD = "Quartz-lantern-meadow-7391"  # noqa: S105 - a throwaway account in a temp database

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { user { id } userErrors { field message code } }
}"""
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken user { id } userErrors { field message code } }
}"""


@dataclass(frozen=True)
class Account:
    user_id: str
    """The raw database id (not the opaque GraphQL one)."""
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def database_settings(data_dir: Path) -> Settings:
    """Enough settings to open the database a server with this data dir uses."""
    return Settings(_env_file=None, env="development", data_dir=data_dir, providers=["offline"])


async def _graphql(http: httpx.AsyncClient, document: str, variables: dict[str, Any]) -> Any:
    response = await http.post("/graphql", json={"query": document, "variables": variables})
    response.raise_for_status()
    payload = response.json()
    if payload.get("errors"):
        raise RuntimeError(f"GraphQL errors: {payload['errors']}")
    return payload["data"]


async def register(http: httpx.AsyncClient) -> Account:
    """Register and log in the benchmark user over ``http`` (whose base URL is the server)."""
    credentials = {"email": EMAIL, "password": PASSWORD}
    registered = await _graphql(http, REGISTER, {"input": credentials})
    if registered["register"]["userErrors"]:
        raise RuntimeError(f"register: {registered['register']['userErrors']}")
    logged_in = (await _graphql(http, LOGIN, {"input": credentials}))["login"]
    if logged_in["userErrors"]:
        raise RuntimeError(f"login: {logged_in['userErrors']}")
    return Account(
        user_id=decode_id(logged_in["user"]["id"], "User"), token=logged_in["accessToken"]
    )


async def store_contents(
    settings: Settings, *, user_id: str, count: int, with_jobs: bool = False
) -> None:
    """``count`` quizzes owned by ``user_id``, one second apart so the order is stable, each
    revising the one before it so that nested ``revisionOf`` fields have something to load;
    ``with_jobs`` adds the finished generation job that made each one."""
    level = AudienceLevel.HIGH_SCHOOL
    body = compose(ContentType.QUIZ, PromptData("Tides", level, None), "Tides")
    report = quality.assess(body, level).as_json()
    markdown = render_markdown(body)
    start = utcnow() - timedelta(hours=1)
    db = await open_database(settings)
    try:
        previous: str | None = None
        async with db.write() as session:
            for n in range(count):
                content = Content(
                    user_id=user_id,
                    title=f"Tides {n}",
                    topic="Tides",
                    content_type=ContentType.QUIZ.value,
                    audience_level=level.value,
                    body=body.model_dump(mode="json"),
                    markdown=markdown,
                    provider="offline",
                    model="offline-templates",
                    quality=report,
                    revision_of_id=previous,
                    created_at=start + timedelta(seconds=n),
                )
                session.add(content)
                if with_jobs:
                    session.add(_finished_job(content))
                previous = content.id
    finally:
        await db.dispose()


def _finished_job(content: Content) -> GenerationJob:
    return GenerationJob(
        user_id=content.user_id,
        status=JobStatus.SUCCEEDED.value,
        content_type=content.content_type,
        audience_level=content.audience_level,
        topic=content.topic,
        content_id=content.id,
        created_at=content.created_at,
        finished_at=content.created_at,
    )
