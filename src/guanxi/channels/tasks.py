"""Email jobs run by the task consumer (`guanxi run_huey`, started by `make run`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from guanxi.channels import selectors, services
from guanxi.core.context import origin
from guanxi.core.tasks import task_register


@task_register(services.SEND_TASK)
@db_task(retries=0)
def email_send_task(message_id: int) -> None:
    """Safe to run twice: the second run finds the message claimed or sent and does nothing.
    Huey does not retry it; the outbox's own back-off does (services.BACKOFF_MINUTES)."""
    with origin("task"):
        services.email_send(message_id=message_id)


@db_periodic_task(crontab(minute="*"))
def email_send_due_task() -> None:
    """Every minute: one send job per failed message now due, and per queued one whose job was lost."""
    for message_id in selectors.email_due_ids():
        email_send_task(message_id)
