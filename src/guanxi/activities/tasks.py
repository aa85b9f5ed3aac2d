"""Task-layer jobs of the activities app, run by the consumer (`guanxi run_huey`, started by `make run`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from guanxi.activities import services_followups, services_reminders
from guanxi.core.context import origin


@db_periodic_task(crontab(minute="*"))
def task_reminders_send_task() -> None:
    """Every minute: the reminders that have come due, each sent once (a run twice, or two consumers at
    once, send nothing twice: services_reminders claims each with a conditional UPDATE)."""
    with origin("task"):
        services_reminders.reminders_send()


@db_periodic_task(crontab(minute="*/5"))
def followups_apply_task() -> None:
    """Every five minutes: the follow-up rules over the events since their last run (one task per rule
    and event, whatever the number of runs)."""
    with origin("task"):
        services_followups.followups_apply()
