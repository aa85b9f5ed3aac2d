"""What the benches' child processes share: each runs Django on a database of its own, so each gets an
environment naming its data folder and, on PostgreSQL, its database."""

from __future__ import annotations

import os
from pathlib import Path


def child_environment(data_dir: Path, database: str, postgres_url: str, name: str) -> dict[str, str]:
    """The environment of a child benchmarking `database` (sqlite or postgres) with its files in
    `data_dir` and, on PostgreSQL, the database `name` on the server of `postgres_url`."""
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GUANXI_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "guanxi.config.settings",
        "GUANXI_LOG_LEVEL": "WARNING",
        "GUANXI_DEBUG": "0",
    }
    env.pop("DATABASE_URL", None)
    if database == "postgres":
        base, _slash, _old = postgres_url.rpartition("/")
        env["DATABASE_URL"] = f"{base}/{name}"
    elif database != "sqlite":
        raise SystemExit(f"Unknown database {database!r}: use sqlite or postgres.")
    return env
