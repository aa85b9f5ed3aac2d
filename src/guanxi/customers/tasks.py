"""Customer jobs run by the task consumer (`guanxi run_huey`, started by `make run`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from guanxi.core.tasks import task_register
from guanxi.customers import duplicates


@task_register(duplicates.REFRESH_TASK)
@db_task(retries=0)
def customer_duplicates_refresh_task() -> None:
    """Find the duplicate pairs again ("find again" on the finder). Safe to run twice: each run replaces
    the stored pairs whole."""
    duplicates.customer_duplicates_refresh()


@db_periodic_task(crontab(minute="30", hour="2"))
def customer_duplicates_nightly_task() -> None:
    """Every night, so the finder shows pairs at most a day old without anyone asking."""
    duplicates.customer_duplicates_refresh()
