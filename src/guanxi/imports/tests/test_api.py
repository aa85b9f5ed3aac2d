"""The import API: upload, list, read, map, start, cancel, rejected rows; the happy path and the errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import bearer
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from huey.contrib.djhuey import HUEY

from guanxi.customers.models import Customer
from guanxi.imports import services
from guanxi.imports.models import ImportJob, ImportTemplate
from guanxi.users.models import User

pytestmark = pytest.mark.django_db

API = "/api/v1/imports"
CSV = "姓名,号码,生日\n张伟,138 0013 8000,1988-05-01\n李娜,13912345678,1990/1/2\n王芳,12345,\n".encode(
    "gb18030"
)


@pytest.fixture
def tasks_inline() -> Iterator[None]:
    """A queued job runs as soon as it is queued (on commit: see django_capture_on_commit_callbacks)."""
    was = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = was


def post_file(client: Client, content: bytes = CSV, name: str = "客户.csv", **fields: Any) -> Any:
    return client.post(API, {"file": SimpleUploadedFile(name, content), **fields})


def put(client: Client, url: str, body: Any) -> Any:
    return client.put(url, json.dumps(body), content_type="application/json")


def test_upload_answers_the_headers_the_guess_and_the_fields(manager: User) -> None:
    response = post_file(bearer(manager), dry_run="true", on_duplicate="skip")
    assert response.status_code == 201
    job = response.json()
    assert job["status"] == "draft" and job["file_name"] == "客户.csv" and job["encoding"] == "gb18030"
    assert (job["dry_run"], job["on_duplicate"]) == (True, "skip")
    assert job["headers"] == ["姓名", "号码", "生日"]
    assert job["mapping"] == ["name", None, "birthday"]
    assert job["missing"] == []
    fields = {f["key"]: f for f in job["fields"]}
    assert fields["name"] == {"key": "name", "label": "Name", "required": True, "multiple": False}
    assert "phones" in fields
    assert ImportJob.objects.get().created_by == manager


def test_upload_errors(manager: User, make_user: Callable[..., User]) -> None:
    client = bearer(manager)
    unreadable = post_file(client, b"", name="empty.csv")
    assert unreadable.status_code == 422 and unreadable.json()["code"] == "import_file_unreadable"
    assert unreadable.json()["message"]
    no_file = client.post(API, {"on_duplicate": "merge"})
    assert no_file.status_code == 422 and no_file.json()["code"] == "validation_failed"
    assert "file" in no_file.json()["details"]
    bad_mode = post_file(client, on_duplicate="replace")
    assert bad_mode.status_code == 422 and "on_duplicate" in bad_mode.json()["details"]
    denied = post_file(bearer(make_user("sales")))
    assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"
    assert post_file(Client()).status_code == 401
    assert ImportJob.objects.count() == 0


def test_the_whole_flow_map_start_poll_rejections_and_csv(
    manager: User, tasks_inline: None, django_capture_on_commit_callbacks: Any
) -> None:
    client = bearer(manager)
    job_id = post_file(client).json()["id"]

    mapped = put(
        client,
        f"{API}/{job_id}/mapping",
        {"mapping": ["name", "phones", "birthday"], "on_duplicate": "update", "template_name": "老系统"},
    )
    assert mapped.status_code == 200
    assert mapped.json()["mapping"] == ["name", "phones", "birthday"]
    assert mapped.json()["on_duplicate"] == "update"
    assert ImportTemplate.objects.get().name == "老系统"

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"{API}/{job_id}/start")
    assert started.status_code == 202 and started.json()["status"] == "queued"

    job = client.get(f"{API}/{job_id}").json()
    assert (job["status"], job["percent"], job["rows_done"]) == ("done", 100, 3)
    assert (job["created"], job["updated"], job["merged"], job["skipped"], job["rejected"]) == (2, 0, 0, 0, 1)
    assert Customer.objects.count() == 2

    rejections = client.get(f"{API}/{job_id}/rejections").json()
    assert rejections["next_offset"] is None
    [rejection] = rejections["items"]
    assert (rejection["row_number"], rejection["column"], rejection["value"]) == (4, "号码", "12345")
    assert rejection["cells"] == ["王芳", "12345", ""] and rejection["reason"]

    download = client.get(f"{API}/{job_id}/rejected.csv")
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert "-rejected.csv" in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert rows[1][:4] == ["王芳", "12345", "", "4"]

    again = client.post(f"{API}/{job_id}/start")
    assert again.status_code == 422 and again.json()["code"] == "validation_failed"
    late = put(client, f"{API}/{job_id}/mapping", {"mapping": ["name", None, None]})
    assert late.status_code == 422


def test_mapping_errors(manager: User) -> None:
    client = bearer(manager)
    job_id = post_file(client).json()["id"]
    no_name = put(client, f"{API}/{job_id}/mapping", {"mapping": [None, "phones", "birthday"]})
    assert no_name.status_code == 422
    assert no_name.json()["details"] == {"mapping": ["No column fills “Name”."]}
    unknown = put(client, f"{API}/{job_id}/mapping", {"mapping": ["name", "shoe_size", None]})
    assert unknown.json()["details"] == {"mapping": ["There is no field “shoe_size”."]}
    short = put(client, f"{API}/{job_id}/mapping", {"mapping": ["name"]})
    assert short.status_code == 422 and "mapping" in short.json()["details"]
    bad_mode = put(client, f"{API}/{job_id}/mapping", {"mapping": ["name", None, None], "on_duplicate": "x"})
    assert bad_mode.status_code == 422 and "on_duplicate" in bad_mode.json()["details"]
    not_object = put(client, f"{API}/{job_id}/mapping", ["name"])
    assert not_object.status_code == 422
    assert ImportJob.objects.get().mapping == ["name", None, "birthday"]


def test_start_refuses_a_mapping_without_the_required_fields(manager: User) -> None:
    client = bearer(manager)
    data = "号码\n13800138000\n".encode()
    job_id = post_file(client, data, name="phones.csv").json()["id"]
    response = client.post(f"{API}/{job_id}/start")
    assert response.status_code == 422 and response.json()["details"] == {
        "mapping": ["No column fills “Name”."]
    }
    assert ImportJob.objects.get().status == "draft"


def test_cancel_stops_a_queued_job(manager: User) -> None:
    client = bearer(manager)
    job_id = post_file(client).json()["id"]
    client.post(f"{API}/{job_id}/start")  # queued: on_commit never runs in this test
    response = client.post(f"{API}/{job_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert ImportJob.objects.get().finished_at is not None


def test_the_list_is_the_users_own_jobs_paged(
    manager: User, make_user: Callable[..., User], admin: User
) -> None:
    for name in ("a.csv", "b.csv", "c.csv"):
        services.import_job_create(actor=manager, file=io.BytesIO(CSV), file_name=name)
    other = make_user("manager")
    services.import_job_create(actor=other, file=io.BytesIO(CSV), file_name="theirs.csv")
    client = bearer(manager)
    first = client.get(API, {"limit": 2}).json()
    assert [j["file_name"] for j in first["items"]] == ["c.csv", "b.csv"]
    assert (first["limit"], first["offset"], first["next_offset"]) == (2, 0, 2)
    second = client.get(API, {"limit": 2, "offset": 2}).json()
    assert [j["file_name"] for j in second["items"]] == ["a.csv"] and second["next_offset"] is None
    assert len(bearer(admin).get(API).json()["items"]) == 4
    assert bearer(make_user("sales")).get(API).status_code == 403


def test_another_managers_job_is_not_found(manager: User, make_user: Callable[..., User]) -> None:
    job = services.import_job_create(actor=manager, file=io.BytesIO(CSV), file_name="a.csv")
    other = bearer(make_user("manager"))
    for response in (
        other.get(f"{API}/{job.pk}"),
        put(other, f"{API}/{job.pk}/mapping", {"mapping": ["name", None, None]}),
        other.post(f"{API}/{job.pk}/start"),
        other.post(f"{API}/{job.pk}/cancel"),
        other.get(f"{API}/{job.pk}/rejected.csv"),
        other.get(f"{API}/{job.pk}/rejections"),
        other.get(f"{API}/999999"),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    job.refresh_from_db()
    assert (job.status, job.mapping) == ("draft", ["name", None, "birthday"])
