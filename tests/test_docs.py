"""Documents generated from code stay in step with it."""

from __future__ import annotations

import os
from pathlib import Path

from django.utils import translation

from guanxi.core.permissions import PERMISSIONS, ROLES

DOC = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"


def render_permissions() -> str:
    with translation.override("en"):
        roles = list(ROLES)
        lines = [
            "# Roles, scope and permissions",
            "",
            "Generated from `guanxi/core/permissions.py` (the one place these rules live); `tests/test_docs.py` "
            "keeps it in step.",
            "",
            "A role decides which customers a user sees (scope), whether personal data (phones, emails, WeChat "
            "ID, street address, birth year) shows in clear or masked (`138****8000`), and what the user may do. "
            "The rules hold on every path: page, partial, API, search, bulk action, CLI. A customer outside a "
            "user's scope answers 404.",
            "",
            "- **own**: customers the user owns.",
            "- **team**: customers of the user's team, and those the user owns.",
            "- **all**: every customer.",
            "",
            "| permission | " + " | ".join(roles) + " |",
            "| --- | " + " | ".join("---" for _ in roles) + " |",
            "| scope | " + " | ".join(ROLES[r]["scope"] for r in roles) + " |",
            "| personal data in clear | "
            + " | ".join("yes" if ROLES[r]["pii"] else "masked" for r in roles)
            + " |",
        ]
        for key, label in PERMISSIONS.items():
            marks = " | ".join("✓" if key in ROLES[r]["perms"] else "" for r in roles)
            lines.append(f"| {label} (`{key}`) | {marks} |")
        lines += [
            "",
            "Every signed-in user may read the list of users and teams (to choose an owner) and manage their own "
            "API tokens.",
            "",
        ]
    return "\n".join(lines)


def test_permissions_doc_matches_the_roles_table() -> None:
    text = render_permissions()
    if os.environ.get("GUANXI_UPDATE_SNAPSHOTS") == "1":
        DOC.write_text(text, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == text, (
        "docs/permissions.md is out of date: run GUANXI_UPDATE_SNAPSHOTS=1 pytest tests/test_docs.py"
    )
