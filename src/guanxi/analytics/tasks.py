"""Analytics jobs run by the task consumer (`guanxi run_huey`, started by `make run`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from guanxi.analytics import services
from guanxi.core.context import origin
from guanxi.core.tasks import task_register
from guanxi.users.models import User


@task_register(services.REFRESH_TASK)
@db_task(retries=0)
def analytics_refresh_task(actor_id: int | None = None) -> None:
    """A refresh someone asked for ("Recompute" or POST /analytics/refresh). Safe to run twice: each run
    replaces the stored results whole. The user must still be active and allowed when it runs."""
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    if actor_id and actor is None:
        return  # the user is gone: nobody asks for this run any more
    with origin("task"):
        services.analytics_refresh(actor=actor)


@db_periodic_task(crontab(minute="0", hour="3"))
def analytics_refresh_nightly_task() -> None:
    """Every night after the duplicate finder (02:30), so every figure is at most a day old."""
    with origin("task"):
        services.analytics_refresh(actor=None)
