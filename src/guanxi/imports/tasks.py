"""Import jobs run by the task consumer (`guanxi run_huey`, started by `make run`)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from guanxi.core.tasks import task_register
from guanxi.imports import services


@task_register("imports.run")
@db_task(retries=0)
def import_job_run_task(job_id: int) -> None:
    """Safe to run twice: a finished job returns at once, an interrupted one goes on where it stopped."""
    services.import_job_run(job_id=job_id)
