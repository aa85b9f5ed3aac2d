"""Where a write comes from (web, api, cli, task) and from which address, for the audit log."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    via: str = "system"
    ip: str | None = None
    user_agent: str = ""


_origin: ContextVar[Origin] = ContextVar("guanxi_origin", default=Origin())  # noqa: B039 (frozen)


def current_origin() -> Origin:
    return _origin.get()


@contextlib.contextmanager
def origin(via: str, ip: str | None = None, user_agent: str = "") -> Iterator[Origin]:
    token = _origin.set(Origin(via=via, ip=ip, user_agent=user_agent[:200]))
    try:
        yield _origin.get()
    finally:
        _origin.reset(token)
