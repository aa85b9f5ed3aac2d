"""What the import tests share: uploaded files under the test's own folder, and a manager to import as."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from guanxi.users.models import User


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return make_user("manager")
