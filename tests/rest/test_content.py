"""``/api/v1/content`` over real HTTP: generate, list, read, delete, bulk, and their errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from lafactoria.content.enums import ContentType
from tests.rest.conftest import BODIES
from tests.rest.helpers import (
    API,
    BlockingProvider,
    assert_error,
    generate,
    register,
    wait_for_task,
)
from tests.support.server import make_settings, run_server


async def test_generate_queues_a_job_and_points_at_its_task(api: httpx.AsyncClient) -> None:
    headers = await register(api)

    response = await api.post(
        f"{API}/content/generate",
        headers=headers,
        json={
            "topic": "  Photosynthesis 🌱 ",
            "content_type": "flashcards",
            "audience_level": "middle_school",
            "additional_requirements": "focus on leaves",
        },
    )

    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"{API}/tasks/{job['id']}"
    assert job["status"] in {"queued", "running", "succeeded"}
    assert job["topic"] == "Photosynthesis 🌱"
    assert (job["content_type"], job["audience_level"]) == ("flashcards", "middle_school")
    assert job["additional_requirements"] == "focus on leaves"
    assert (job["batch_id"], job["error"]) == (None, None)
    task = await wait_for_task(api, headers, job["id"])
    assert (task["kind"], task["status"], task["total"], task["succeeded"]) == (
        "job",
        "succeeded",
        1,
        1,
    )


async def test_content_reads_back_as_the_provider_wrote_it(api: httpx.AsyncClient) -> None:
    headers = await register(api)

    for content_type in ContentType:
        content = await generate(api, headers, content_type.value, topic=f"{content_type} topic")

        expected = BODIES[content_type]
        assert content["body"] == expected.model_dump(mode="json")
        assert content["title"] == expected.title
        assert content["content_type"] == content_type.value
        assert (content["provider"], content["model"]) == ("scripted", "scripted-1")
        assert content["usage"] == {"input_tokens": 12, "output_tokens": 34}
        assert content["markdown"].startswith("# ")
        assert content["exports"][0]["url"].startswith(f"{API}/content/{content['id']}/export/")


async def test_the_same_idempotency_key_returns_the_same_job(api: httpx.AsyncClient) -> None:
    headers = await register(api)
    body = {
        "topic": "Cells",
        "content_type": "quiz",
        "audience_level": "college",
        "idempotency_key": "lesson-7",
    }

    first = await api.post(f"{API}/content/generate", headers=headers, json=body)
    second = await api.post(f"{API}/content/generate", headers=headers, json=body)

    assert first.json()["id"] == second.json()["id"]


async def test_generate_rejects_bad_input_naming_the_field(api: httpx.AsyncClient) -> None:
    headers = await register(api)
    valid = {"topic": "Cells", "content_type": "quiz", "audience_level": "college"}

    blank = await api.post(
        f"{API}/content/generate", headers=headers, json={**valid, "topic": "   "}
    )
    control = await api.post(
        f"{API}/content/generate", headers=headers, json={**valid, "topic": "a\x00b"}
    )
    long_requirements = await api.post(
        f"{API}/content/generate",
        headers=headers,
        json={**valid, "additional_requirements": "x" * 2001},
    )
    bad_enum = await api.post(
        f"{API}/content/generate", headers=headers, json={**valid, "content_type": "essay"}
    )
    not_json = await api.post(
        f"{API}/content/generate",
        headers={**headers, "Content-Type": "application/json"},
        content=b"{nope",
    )

    assert_error(blank, 422, "INVALID_INPUT", field="topic")
    assert_error(control, 422, "INVALID_INPUT", field="topic")
    long_requirements_error = assert_error(
        long_requirements, 422, "INVALID_INPUT", field="additional_requirements"
    )
    assert long_requirements_error["message"] == (
        "additional_requirements must be at most 2000 characters"
    )
    assert "'quiz'" in assert_error(bad_enum, 422, "INVALID_INPUT", field="content_type")["message"]
    assert_error(not_json, 422, "INVALID_INPUT", field=None)


async def test_generate_needs_a_caller(api: httpx.AsyncClient) -> None:
    response = await api.post(
        f"{API}/content/generate",
        json={"topic": "Cells", "content_type": "quiz", "audience_level": "college"},
    )

    assert_error(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_listing_pages_through_the_callers_content_newest_first(
    api: httpx.AsyncClient,
) -> None:
    headers = await register(api)
    made = [
        await generate(api, headers, kind, topic=f"topic {n}")
        for n, kind in enumerate(["quiz", "flashcards", "quiz"])
    ]
    newest_first = [item["id"] for item in reversed(made)]

    first = (await api.get(f"{API}/content/?page=1&page_size=2", headers=headers)).json()
    second = (await api.get(f"{API}/content/?page=2&page_size=2", headers=headers)).json()
    far = (await api.get(f"{API}/content/?page={10**30}&page_size=100", headers=headers)).json()
    quizzes = (await api.get(f"{API}/content/?content_type=quiz", headers=headers)).json()

    assert [item["id"] for item in first["items"]] == newest_first[:2]
    assert {k: first[k] for k in ("page", "page_size", "total", "pages", "has_next")} == {
        "page": 1,
        "page_size": 2,
        "total": 3,
        "pages": 2,
        "has_next": True,
    }
    assert [item["id"] for item in second["items"]] == newest_first[2:]
    assert second["has_next"] is False
    assert (far["items"], far["total"], far["has_next"]) == ([], 3, False)
    assert [item["id"] for item in quizzes["items"]] == [made[2]["id"], made[0]["id"]]
    assert (quizzes["page"], quizzes["page_size"], quizzes["total"]) == (1, 20, 2)
    assert first["items"][0] == made[2]


async def test_listing_rejects_out_of_range_paging(api: httpx.AsyncClient) -> None:
    headers = await register(api)

    zero = await api.get(f"{API}/content/?page=0", headers=headers)
    huge = await api.get(f"{API}/content/?page_size=101", headers=headers)
    bad_type = await api.get(f"{API}/content/?content_type=essay", headers=headers)

    assert_error(zero, 422, "INVALID_INPUT", field="page")
    assert_error(huge, 422, "INVALID_INPUT", field="page_size")
    assert_error(bad_type, 422, "INVALID_INPUT", field="content_type")


async def test_delete_removes_the_content(api: httpx.AsyncClient) -> None:
    headers = await register(api)
    content = await generate(api, headers)

    deleted = await api.delete(f"{API}/content/{content['id']}", headers=headers)
    again = await api.delete(f"{API}/content/{content['id']}", headers=headers)
    read = await api.get(f"{API}/content/{content['id']}", headers=headers)

    assert (deleted.status_code, deleted.content) == (204, b"")
    assert_error(again, 404, "NOT_FOUND", field="id")
    assert_error(read, 404, "NOT_FOUND", field="id")


async def test_another_users_content_looks_exactly_like_missing_content(
    api: httpx.AsyncClient,
) -> None:
    owner, intruder = await register(api), await register(api)
    content = await generate(api, owner)
    missing = "0" * 32

    for method, path in [
        ("GET", "/content/{id}"),
        ("DELETE", "/content/{id}"),
        ("GET", "/content/{id}/export/gift"),
    ]:
        theirs = await api.request(method, API + path.format(id=content["id"]), headers=intruder)
        absent = await api.request(method, API + path.format(id=missing), headers=intruder)
        assert_error(theirs, 404, "NOT_FOUND", field="id")
        assert theirs.json() == absent.json()

    listing = (await api.get(f"{API}/content/", headers=intruder)).json()
    assert (listing["items"], listing["total"]) == ([], 0)
    still_there = await api.get(f"{API}/content/{content['id']}", headers=owner)
    assert still_there.status_code == 200


async def test_bulk_generate_returns_one_task_for_all_its_jobs(api: httpx.AsyncClient) -> None:
    headers = await register(api)
    topics = ["Mitosis", "Meiosis 🧬", "Osmosis"]

    response = await api.post(
        f"{API}/content/bulk-generate",
        headers=headers,
        json={"topics": topics, "content_type": "flashcards", "audience_level": "college"},
    )

    assert response.status_code == 202
    accepted = response.json()
    assert response.headers["location"] == f"{API}/tasks/{accepted['task_id']}"
    assert [job["topic"] for job in accepted["jobs"]] == topics
    assert {job["batch_id"] for job in accepted["jobs"]} == {accepted["task_id"]}
    task = await wait_for_task(api, headers, accepted["task_id"])
    assert (task["kind"], task["status"], task["total"], task["succeeded"]) == (
        "batch",
        "succeeded",
        3,
        3,
    )
    assert [job["topic"] for job in task["jobs"]] == topics
    assert task["content_ids"] == [job["content_id"] for job in task["jobs"]]


async def test_bulk_generate_takes_one_to_ten_valid_topics(api: httpx.AsyncClient) -> None:
    headers = await register(api)
    body = {"content_type": "quiz", "audience_level": "college"}

    none = await api.post(
        f"{API}/content/bulk-generate", headers=headers, json={**body, "topics": []}
    )
    eleven = await api.post(
        f"{API}/content/bulk-generate",
        headers=headers,
        json={**body, "topics": [f"t{n}" for n in range(11)]},
    )
    blank = await api.post(
        f"{API}/content/bulk-generate", headers=headers, json={**body, "topics": ["ok", " "]}
    )

    assert_error(none, 422, "INVALID_INPUT", field="topics")
    assert_error(eleven, 422, "INVALID_INPUT", field="topics")
    assert_error(blank, 422, "INVALID_INPUT", field="topics.1")
    listing = (await api.get(f"{API}/content/", headers=headers)).json()
    assert listing["total"] == 0


async def test_a_full_queue_is_503_with_retry_after(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, jobs={"concurrency": 1, "queue_size": 1})
    with run_server(settings, providers=[BlockingProvider()]) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
            headers = await register(client)
            body = {"content_type": "quiz", "audience_level": "college"}
            running = await client.post(
                f"{API}/content/generate", headers=headers, json={**body, "topic": "one"}
            )
            await _wait_until_running(client, headers, running.json()["id"])
            queued = await client.post(
                f"{API}/content/generate", headers=headers, json={**body, "topic": "two"}
            )
            refused = await client.post(
                f"{API}/content/generate", headers=headers, json={**body, "topic": "three"}
            )
            bulk = await client.post(
                f"{API}/content/bulk-generate", headers=headers, json={**body, "topics": ["a"]}
            )

    assert (running.status_code, queued.status_code) == (202, 202)
    for response in (refused, bulk):
        assert_error(response, 503, "LIMIT_EXCEEDED")
        assert int(response.headers["retry-after"]) > 0


async def _wait_until_running(
    client: httpx.AsyncClient, headers: dict[str, str], task_id: str
) -> None:
    for _ in range(500):
        task = (await client.get(f"{API}/tasks/{task_id}", headers=headers)).json()
        if task["status"] == "running":
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the job never started")


async def test_generation_quotas_are_the_users_and_answer_429_with_retry_after(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, limits={"generations_per_minute": 3})
    with run_server(settings, providers=[BlockingProvider()]) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
            headers = await register(client)
            body = {"content_type": "quiz", "audience_level": "college"}
            first = await client.post(
                f"{API}/content/generate",
                headers=headers,
                json={**body, "topic": "one", "idempotency_key": "k"},
            )
            repeat = await client.post(
                f"{API}/content/generate",
                headers=headers,
                json={**body, "topic": "one", "idempotency_key": "k"},
            )
            too_many = await client.post(
                f"{API}/content/bulk-generate", headers=headers, json={**body, "topics": ["a"] * 3}
            )
            two = await client.post(
                f"{API}/content/bulk-generate", headers=headers, json={**body, "topics": ["a", "b"]}
            )
            over = await client.post(
                f"{API}/content/generate", headers=headers, json={**body, "topic": "four"}
            )
            other_user = await client.post(
                f"{API}/content/generate",
                headers=await register(client),
                json={**body, "topic": "theirs"},
            )

    assert first.json()["id"] == repeat.json()["id"]  # a repeat costs nothing
    assert (two.status_code, other_user.status_code) == (202, 202)
    for response in (too_many, over):
        assert_error(response, 429, "RATE_LIMITED")
        assert int(response.headers["retry-after"]) >= 1
