"""The import pages: upload, the mapping step over a preview, progress polled by htmx, summary, download."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from huey.contrib.djhuey import HUEY

from guanxi.customers.models import Customer
from guanxi.imports import services
from guanxi.imports.models import ImportJob, ImportTemplate
from guanxi.users.models import User

pytestmark = pytest.mark.django_db

LIST = "/imports/"
HTMX = {"HTTP_HX_REQUEST": "true"}
HEADER = "姓名,号码,生日,城市\n"
ROWS = "张伟,138 0013 8000,1988年5月1日,深圳\n李娜,+86 139-1234-5678,1990/1/2,广州\n王芳,12345,,\n"


@pytest.fixture
def tasks_inline() -> Iterator[None]:
    """Started jobs run at once: Huey's immediate mode runs a task when it is queued, and a service
    queues it on commit (run the request inside django_capture_on_commit_callbacks(execute=True))."""
    was = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = was


def upload(client: Client, content: bytes, name: str = "老客户.csv", **fields: Any) -> Any:
    data = {"file": SimpleUploadedFile(name, content), "on_duplicate": "merge", **fields}
    return client.post(LIST, data)


def gbk(text: str = HEADER + ROWS) -> bytes:
    return text.encode("gb18030")


def test_the_list_shows_the_upload_form_and_the_users_jobs(client_for: Any, manager: User) -> None:
    job = services.import_job_create(actor=manager, file=io.BytesIO(gbk()), file_name="a.csv")
    response = client_for(manager).get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'type="file"' in body and 'accept=".csv,.txt,.xlsx,.vcf"' in body
    assert 'name="dry_run"' in body and 'name="sheet"' in body
    assert re.search(r'<input type="radio" name="on_duplicate" value="merge"[^>]* checked>', body)
    assert f'href="/imports/{job.pk}/"' in body and "a.csv" in body


def test_an_upload_guesses_the_mapping_and_shows_the_preview(client_for: Any, manager: User) -> None:
    client = client_for(manager)
    response = upload(client, gbk())
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == f"/imports/{job.pk}/"
    assert (job.file_name, job.encoding, job.status) == ("老客户.csv", "gb18030", "draft")

    page = client.get(response.url)
    body = page.content.decode()
    assert page.status_code == 200
    # one select per column, the guess preselected; 号码 is not guessed
    assert re.search(r'<select name="col_0"[^>]*>.*?<option value="name" selected>', body, re.S)
    assert re.search(r'<select name="col_2"[^>]*>.*?<option value="birthday" selected>', body, re.S)
    assert re.search(r'<select name="col_1"[^>]*>\s*<option value="" selected>— do not import —', body)
    # the first rows as they are in the file
    assert "138 0013 8000" in body and "1988年5月1日" in body and "12345" in body
    assert 'name="save_as"' in body


def test_a_file_that_cannot_be_read_shows_why_and_keeps_nothing(client_for: Any, manager: User) -> None:
    response = upload(client_for(manager), b"", name="empty.csv")
    assert response.status_code == 422
    assert "errorlist" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_a_mapping_without_the_name_is_refused_on_the_page(client_for: Any, manager: User) -> None:
    client = client_for(manager)
    upload(client, gbk())
    job = ImportJob.objects.get()
    response = client.post(
        f"/imports/{job.pk}/start",
        {"col_0": "", "col_1": "phones", "col_2": "birthday", "col_3": "city", "on_duplicate": "merge"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "No column fills “Name”." in body
    job.refresh_from_db()
    assert job.status == "draft" and job.mapping[1] is None


def test_the_whole_flow_map_start_progress_summary_download(
    client_for: Any, manager: User, tasks_inline: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given an uploaded file whose phone column was not guessed
    client = client_for(manager)
    upload(client, gbk())
    job = ImportJob.objects.get()

    # when the user maps it, names a template and starts (the task runs inline, after the commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/imports/{job.pk}/start",
            {
                "col_0": "name",
                "col_1": "phones",
                "col_2": "birthday",
                "col_3": "city",
                "on_duplicate": "merge",
                "save_as": "老系统",
            },
        )
    assert response.status_code == 302 and response.url == f"/imports/{job.pk}/"

    # then the job is done: two customers, one rejected row, counts that add up
    job.refresh_from_db()
    assert (job.status, job.created, job.rejected, job.rows_done, job.percent) == ("done", 2, 1, 3, 100)
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张伟", "李娜"]
    assert ImportTemplate.objects.get().mapping == {
        "姓名": "name",
        "号码": "phones",
        "生日": "birthday",
        "城市": "city",
    }
    page = client.get(response.url).content.decode()
    assert 'aria-valuenow="100"' in page and "every 1s" not in page
    assert "Done: all 3 data rows are accounted for above." in page
    assert '<td class="num">4</td><td>号码</td>' in page and "12345" in page
    assert f'href="/imports/{job.pk}/rejected.csv"' in page

    # and the polled partial has stopped polling: no trigger, and 286 for htmx
    partial = client.get(f"/imports/{job.pk}/progress", **HTMX)
    assert partial.status_code == 286
    assert b"<html" not in partial.content and b"hx-trigger" not in partial.content
    assert b'id="job-status"' in partial.content

    # and the rejected rows download as a CSV named after the file
    download = client.get(f"/imports/{job.pk}/rejected.csv")
    assert download.status_code == 200
    assert "%E8%80%81%E5%AE%A2%E6%88%B7-rejected.csv" in download["Content-Disposition"]
    assert download["Content-Disposition"].startswith("attachment")
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["姓名", "号码", "生日", "城市", "Row", "Why it was not imported"]
    assert rows[1][:5] == ["王芳", "12345", "", "", "4"] and rows[1][5].startswith("号码: ")
    assert len(rows) == 2


def test_a_running_job_polls_and_can_be_cancelled(client_for: Any, manager: User) -> None:
    # given a started job the task consumer has not picked up yet (on_commit never runs in this test)
    client = client_for(manager)
    upload(client, gbk())
    job = ImportJob.objects.get()
    services.import_job_start(actor=manager, job=job)

    # then its page shows the progress bar, polling, and a Cancel button
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert f'hx-get="/imports/{job.pk}/progress" hx-trigger="every 1s"' in page
    assert 'role="progressbar"' in page and "Cancel the import" in page
    partial = client.get(f"/imports/{job.pk}/progress", **HTMX)
    assert partial.status_code == 200 and b'hx-trigger="every 1s"' in partial.content
    assert b"<html" not in partial.content
    assert partial["Vary"] == "HX-Request" or "HX-Request" in partial["Vary"]

    # when cancelled with htmx: the partial comes back without the trigger
    response = client.post(f"/imports/{job.pk}/cancel", **HTMX)
    assert response.status_code == 200 and b"hx-trigger" not in response.content
    assert b"The import was cancelled." in response.content
    job.refresh_from_db()
    assert job.status == "cancelled"
    # and without htmx, a cancel goes back to the page
    again = client.post(f"/imports/{job.pk}/cancel")
    assert again.status_code == 302 and again.url == f"/imports/{job.pk}/"


def test_a_started_job_cannot_be_started_again(client_for: Any, manager: User) -> None:
    client = client_for(manager)
    upload(client, gbk())
    job = ImportJob.objects.get()
    services.import_job_start(actor=manager, job=job)
    response = client.post(f"/imports/{job.pk}/start", {"col_0": "name", "on_duplicate": "merge"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "queued"


def test_sales_may_not_import(client_for: Any, make_user: Callable[..., User], manager: User) -> None:
    job = services.import_job_create(actor=manager, file=io.BytesIO(gbk()), file_name="a.csv")
    client = client_for(make_user("sales"))
    assert client.get(LIST).status_code == 403
    assert upload(client, gbk()).status_code == 403
    assert client.get(f"/imports/{job.pk}/").status_code == 403
    assert client.post(f"/imports/{job.pk}/cancel").status_code == 403
    assert ImportJob.objects.get().status == "draft" and ImportJob.objects.count() == 1


def test_another_managers_job_is_not_found_but_an_admin_sees_it(
    client_for: Any, make_user: Callable[..., User], manager: User, admin: User
) -> None:
    job = services.import_job_create(actor=manager, file=io.BytesIO(gbk()), file_name="a.csv")
    other = client_for(make_user("manager"))
    for url in ("", "progress", "rejected.csv"):
        assert other.get(f"/imports/{job.pk}/{url}").status_code == 404
    assert other.post(f"/imports/{job.pk}/cancel").status_code == 404
    assert other.post(f"/imports/{job.pk}/start", {"col_0": "name"}).status_code == 404
    assert "a.csv" not in other.get(LIST).content.decode()
    assert ImportJob.objects.get().status == "draft"
    admin_client = client_for(admin)
    assert admin_client.get(f"/imports/{job.pk}/").status_code == 200
    assert "a.csv" in admin_client.get(LIST).content.decode()


def test_the_nav_and_the_customer_list_link_to_imports_for_importers_only(
    client_for: Any, manager: User, make_user: Callable[..., User]
) -> None:
    body = client_for(manager).get("/customers/").content.decode()
    assert body.count('href="/imports/"') == 2
    assert 'href="/imports/"' not in client_for(make_user("sales")).get("/customers/").content.decode()
