"""``/api/v1/tasks``: one id to follow a job or a whole bulk batch."""

from __future__ import annotations

import httpx
import pytest

from lafactoria.generation.models import GenerationJob, JobStatus
from lafactoria.rest.schemas import TaskOut, TaskStatus
from tests.rest.helpers import API, assert_error, register, wait_for_task


async def test_a_job_id_is_a_task_id(api: httpx.AsyncClient) -> None:
    headers = await register(api)
    job = (
        await api.post(
            f"{API}/content/generate",
            headers=headers,
            json={"topic": "Cells", "content_type": "podcast", "audience_level": "elementary"},
        )
    ).json()

    task = await wait_for_task(api, headers, job["id"])

    assert task["task_id"] == job["id"]
    assert (task["kind"], task["status"], task["finished"]) == ("job", "succeeded", 1)
    assert task["jobs"][0]["content_id"] == task["content_ids"][0]
    assert task["jobs"][0]["finished_at"] is not None


async def test_unknown_and_other_users_tasks_are_not_found(api: httpx.AsyncClient) -> None:
    owner, intruder = await register(api), await register(api)
    batch = (
        await api.post(
            f"{API}/content/bulk-generate",
            headers=owner,
            json={"topics": ["a", "b"], "content_type": "quiz", "audience_level": "college"},
        )
    ).json()

    theirs = await api.get(f"{API}/tasks/{batch['task_id']}", headers=intruder)
    their_job = await api.get(f"{API}/tasks/{batch['jobs'][0]['id']}", headers=intruder)
    unknown = await api.get(f"{API}/tasks/not-a-task", headers=owner)
    anonymous = await api.get(f"{API}/tasks/{batch['task_id']}")

    for response in (theirs, their_job, unknown):
        assert_error(response, 404, "NOT_FOUND", field="task_id")
    assert theirs.json() == unknown.json()
    assert_error(anonymous, 401, "UNAUTHENTICATED")


def job(status: JobStatus) -> GenerationJob:
    return GenerationJob(
        user_id="u", content_type="quiz", audience_level="college", topic="t", status=status
    )


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([JobStatus.QUEUED], TaskStatus.QUEUED),
        ([JobStatus.CANCELLED], TaskStatus.CANCELLED),
        ([JobStatus.RUNNING, JobStatus.RUNNING], TaskStatus.RUNNING),
        ([JobStatus.QUEUED, JobStatus.SUCCEEDED], TaskStatus.RUNNING),
        ([JobStatus.QUEUED, JobStatus.RUNNING], TaskStatus.RUNNING),
        ([JobStatus.SUCCEEDED, JobStatus.SUCCEEDED], TaskStatus.SUCCEEDED),
        ([JobStatus.FAILED, JobStatus.CANCELLED], TaskStatus.FAILED),
        ([JobStatus.SUCCEEDED, JobStatus.FAILED], TaskStatus.PARTIALLY_SUCCEEDED),
    ],
)
def test_a_batch_status_sums_up_its_jobs(statuses: list[JobStatus], expected: TaskStatus) -> None:
    task = TaskOut.from_jobs("b", "batch", [job(status) for status in statuses])

    assert task.status == expected
    assert task.finished == sum(status.is_terminal for status in statuses)
    assert task.succeeded == statuses.count(JobStatus.SUCCEEDED)
