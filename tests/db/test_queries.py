"""The queries whose SQL differs between SQLite and PostgreSQL, run on both through the
repositories: JSON paths, time zones, ILIKE with escapes, conditional updates, uniqueness and
cascading deletes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from lafactoria.auth.models import User
from lafactoria.content import repository as content_repository
from lafactoria.content.models import Content, ContentFilter
from lafactoria.db import migrate
from lafactoria.db.engine import Database, create_engine
from lafactoria.generation import repository as job_repository
from lafactoria.generation.models import GenerationJob, JobStatus
from lafactoria.pagination import PageKey
from tests.support.databases import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    with fresh_database(request.param) as database_url:
        yield database_url


@pytest.fixture
async def db(url: str) -> AsyncIterator[Database]:
    await migrate.upgrade(url)
    database = Database(create_engine(url))
    yield database
    await database.dispose()


async def add_user(db: Database, email: str = "ada@example.org") -> User:
    user = User(email=email, password_hash="x")
    async with db.write() as session:
        session.add(user)
    return user


def make_content(user: User, **overrides: object) -> Content:
    values: dict[str, object] = {
        "user_id": user.id,
        "title": "Bees",
        "topic": "Bees",
        "content_type": "quiz",
        "audience_level": "high_school",
        "body": {"questions": []},
        "markdown": "# Bees",
        "provider": "offline",
        "model": "offline-template-v1",
    }
    values.update(overrides)
    return Content.model_validate(values)


def make_job(user: User, **overrides: object) -> GenerationJob:
    values: dict[str, object] = {
        "user_id": user.id,
        "content_type": "quiz",
        "audience_level": "high_school",
        "topic": "Bees",
    }
    values.update(overrides)
    return GenerationJob.model_validate(values)


async def titles(db: Database, user: User, filters: ContentFilter) -> list[str]:
    async with db.read() as session:
        rows = await content_repository.list_contents(
            session, user_id=user.id, filters=filters, after=None, limit=10
        )
    return sorted(row.title for row in rows)


async def test_times_come_back_aware_in_utc_to_the_microsecond(db: Database) -> None:
    moment = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    user = await add_user(db)
    async with db.write() as session:
        session.add(make_content(user, created_at=moment))

    async with db.read() as session:
        (row,) = await content_repository.list_contents(
            session, user_id=user.id, filters=ContentFilter(), after=None, limit=1
        )

    assert row.created_at == moment
    assert row.created_at.tzinfo is UTC


async def test_pages_continue_after_a_key_with_tied_times(db: Database) -> None:
    user = await add_user(db)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    async with db.write() as session:
        for title in ("a", "b", "c"):
            session.add(make_content(user, id=f"{title * 32}", title=title, created_at=moment))

    async with db.read() as session:
        rest = await content_repository.list_contents(
            session,
            user_id=user.id,
            filters=ContentFilter(),
            after=PageKey(created_at=moment, id="c" * 32),
            limit=10,
        )

    assert [row.title for row in rest] == ["b", "a"]


async def test_search_ignores_case_and_takes_wildcards_literally(db: Database) -> None:
    user = await add_user(db)
    async with db.write() as session:
        for title in ("100% Sure", "1000 Sure", "Under_score", "Underscore"):
            session.add(make_content(user, title=title))

    assert await titles(db, user, ContentFilter(search="0% s")) == ["100% Sure"]
    assert await titles(db, user, ContentFilter(search="R_S")) == ["Under_score"]
    assert await titles(db, user, ContentFilter(search="SURE")) == ["100% Sure", "1000 Sure"]


async def test_quality_filters_read_the_json_report(db: Database) -> None:
    user = await add_user(db)
    async with db.write() as session:
        session.add(
            make_content(
                user, title="fits", quality={"audience_fit": "fits", "needs_review": False}
            )
        )
        session.add(
            make_content(
                user, title="review", quality={"audience_fit": "too_hard", "needs_review": True}
            )
        )
        session.add(make_content(user, title="unchecked", quality=None))

    assert await titles(db, user, ContentFilter(audience_fit="too_hard")) == ["review"]
    assert await titles(db, user, ContentFilter(needs_review=True)) == ["review"]
    assert await titles(db, user, ContentFilter(needs_review=False)) == ["fits"]


async def test_a_job_is_claimed_once(db: Database) -> None:
    user = await add_user(db)
    job = make_job(user)
    async with db.write() as session:
        session.add(job)

    now = datetime.now(UTC)
    claim = {"started_at": now, "lease_expires_at": now + timedelta(seconds=30)}
    async with db.write() as session:
        first = await job_repository.claim_job(session, job_id=job.id, worker_id="w1", **claim)
    async with db.write() as session:
        second = await job_repository.claim_job(session, job_id=job.id, worker_id="w2", **claim)
    async with db.read() as session:
        stored = await job_repository.get_job(session, job.id)

    assert (first, second) == (True, False)
    assert stored is not None
    assert (stored.status, stored.run_count, stored.worker_id) == (JobStatus.RUNNING, 1, "w1")


async def test_duplicates_are_integrity_errors(db: Database) -> None:
    user = await add_user(db)
    async with db.write() as session:
        session.add(make_job(user, idempotency_key="once"))

    with pytest.raises(IntegrityError):
        await add_user(db, email=user.email)
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            session.add(make_job(user, idempotency_key="once"))


async def test_deletes_cascade_to_children_and_unlink_jobs(db: Database) -> None:
    user = await add_user(db)
    other = await add_user(db, email="grace@example.org")
    content = make_content(user)
    kept = make_content(other)
    async with db.write() as session:
        session.add_all([content, kept])
    job = make_job(user, content_id=content.id)
    async with db.write() as session:
        session.add(job)

    async with db.write() as session:
        assert await content_repository.delete_content(
            session, user_id=user.id, content_id=content.id
        )
    async with db.read() as session:
        unlinked = await job_repository.get_job(session, job.id)
    async with db.write() as session:
        await session.exec(delete(User).where(col(User.id) == user.id))
    async with db.read() as session:
        gone = await job_repository.get_job(session, job.id)
        still = await content_repository.get_content(session, user_id=other.id, content_id=kept.id)

    assert unlinked is not None
    assert unlinked.content_id is None
    assert gone is None
    assert still is not None
