"""``/tasks``: follow a generation job or a bulk batch by its task id.

A task id is either a job id (``POST /content/generate`` returns the job, whose id it is) or a
batch id (``POST /content/bulk-generate``); both are hex ids drawn from the same space, so one
lookup order serves both.
"""

from __future__ import annotations

from fastapi import APIRouter

from lafactoria.errors import NotFound
from lafactoria.generation.service import MAX_BATCH_SIZE
from lafactoria.rest.dependencies import CurrentPrincipal, ServicesDep
from lafactoria.rest.errors import ApiRoute, error_responses
from lafactoria.rest.schemas import TaskOut

router = APIRouter(prefix="/tasks", tags=["generation"], route_class=ApiRoute)


@router.get(
    "/{task_id}",
    operation_id="get_task",
    responses=error_responses(401, 404, 422),
    summary="Follow a task",
)
async def get_task(task_id: str, principal: CurrentPrincipal, services: ServicesDep) -> TaskOut:
    """Where a job or batch stands, with each job and the content made so far."""
    user_id = principal.user.id
    try:
        job = await services.generation.get_job(user_id=user_id, job_id=task_id)
    except NotFound:
        batch = await services.generation.list_jobs(
            user_id=user_id,
            status=None,
            batch_id=task_id,
            after=None,
            first=MAX_BATCH_SIZE,
            count=False,
        )
        if not batch.items:
            raise NotFound("no such task", field="task_id") from None
        # Listings are newest first; a batch reads best in the order its topics were given.
        return TaskOut.from_jobs(task_id, "batch", list(reversed(batch.items)))
    return TaskOut.from_jobs(task_id, "job", [job])
