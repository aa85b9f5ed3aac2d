"""Background jobs: services queue a job by name once their transaction commits.

Each app defines its jobs in its `tasks.py` as Huey tasks and registers them here by name; the web
process and the consumer (`guanxi run_huey`) both import every app's `tasks.py` at start (CoreConfig).
A service queues with `task_enqueue_on_commit("imports.run", job.pk)`: it needs no import of the app's
interface layer, and a rolled-back transaction queues nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction

T = TypeVar("T", bound=Callable[..., Any])
TASKS: dict[str, Callable[..., Any]] = {}


def task_register(name: str) -> Callable[[T], T]:
    def register(task: T) -> T:
        TASKS[name] = task
        return task

    return register


def task_enqueue_on_commit(name: str, *args: Any) -> None:
    task = TASKS[name]  # a KeyError here is a typo or an app without tasks.py: fail before committing
    transaction.on_commit(lambda: task(*args))
