"""The API's public face: its OpenAPI document is snapshotted (a change to it is deliberate), the docs page
answers, and the health check tells that the app and its database are up."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from guanxi.users.models import User

SNAPSHOT = Path(__file__).resolve().parent / "openapi.json"
UPDATE = "GUANXI_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_openapi.py"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    """The users these tests make need no strong hash; PBKDF2 would cost half a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def render(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def changed_paths(old: Any, new: Any, where: str = "") -> list[str]:
    """Where two JSON documents differ, as paths, so the failure says what changed."""
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in sorted(set(old) | set(new)):
            if key not in old:
                found.append(f"{where}/{key} (added)")
            elif key not in new:
                found.append(f"{where}/{key} (removed)")
            else:
                found += changed_paths(old[key], new[key], f"{where}/{key}")
        return found
    return [] if old == new else [where or "/"]


@pytest.fixture
def signed_in(admin: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin)
    return client


def test_the_openapi_document_matches_its_snapshot(signed_in: Client) -> None:
    # given
    response = signed_in.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    text = render(document)

    # when asked to, write the snapshot
    if os.environ.get("GUANXI_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(text, encoding="utf-8")

    # then
    assert SNAPSHOT.exists(), f"tests/openapi.json is missing: create it with {UPDATE}"
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    differences = changed_paths(snapshot, document)
    assert not differences, (
        "The OpenAPI document differs from tests/openapi.json at:\n  "
        + "\n  ".join(differences[:30])
        + f"\nIf the change is deliberate, update the snapshot with {UPDATE} and commit it with the change."
    )


def test_the_openapi_document_describes_the_api(signed_in: Client) -> None:
    document = signed_in.get("/api/v1/openapi.json").json()
    assert document["info"]["title"] == "Guanxi API"
    assert document["info"]["version"] == "1"
    assert "/api/v1/customers" in document["paths"]
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["BearerToken"].items()
    # every operation says what it does
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"


def test_the_api_docs_page_answers_for_a_signed_in_user(signed_in: Client) -> None:
    response = signed_in.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content


def test_healthz_answers_ok_with_the_database(db: Any) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}


def test_healthz_needs_no_sign_in_and_takes_only_get(db: Any) -> None:
    client = Client()
    assert client.get("/healthz", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 200
    assert client.post("/healthz").status_code == 405
