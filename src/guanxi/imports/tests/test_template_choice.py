"""Saved templates on the mapping page: listed with how many of the file's columns each maps, applied by
hand to the columns' selects (with and without htmx), deleted by their owner or an administrator."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from django.test import Client

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import PermissionDenied
from guanxi.imports import services
from guanxi.imports.models import ImportJob, ImportTemplate
from guanxi.imports.services_templates import (
    import_template_choices,
    import_template_delete,
    mapping_for_header,
)
from guanxi.users.models import User

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# 客户名 and 号码 are headers no guess maps; the templates know them.
CSV = "编号,客户名,号码,城市,备注\nA1,张伟,13800138000,深圳,老客户\n".encode()


def template(
    name: str, mapping: dict[str, str], owner: User | None, target: str = "customers"
) -> ImportTemplate:
    return ImportTemplate.objects.create(name=name, target=target, mapping=mapping, created_by=owner)


def new_job(actor: User) -> ImportJob:
    return services.import_job_create(actor=actor, file=io.BytesIO(CSV), file_name="老POS.csv")


def selected(body: str, column: int) -> str:
    select = re.search(rf'<select name="col_{column}".*?</select>', body, re.S)
    assert select, f"no select for column {column}"
    found = re.search(r'<option value="([^"]*)" selected>', select[0])
    return found[1] if found else ""


def test_the_choices_count_the_columns_each_template_maps_best_first(
    manager: User, make_user: Callable[..., User], admin: User
) -> None:
    colleague = make_user("manager")
    job = new_job(manager)  # before the templates: the guess maps the columns
    pos = template("老POS", {"编号": "external_id", "客户名": "name", "号码": "phones"}, owner=colleague)
    mine = template("只有城市", {"城市": "city"}, owner=manager)
    template("别的文件", {"会员卡号": "external_id"}, owner=manager)
    template("订单", {"号码": "phones"}, owner=manager, target="orders")  # another target: not offered

    choices = import_template_choices(actor=manager, job=job)

    assert [(c.template.name, c.mapped, c.may_delete) for c in choices] == [
        ("老POS", 3, False),
        ("只有城市", 1, True),
        ("别的文件", 0, True),
    ]
    assert choices[0].mapping == ["external_id", "name", "phones", None, None]
    assert [c.may_delete for c in import_template_choices(actor=admin, job=job)] == [True, True, True]
    assert choices[1].template == mine and choices[0].template == pos


def test_a_new_sheet_or_file_starts_from_the_newest_template_that_maps_as_much_as_the_guess(
    manager: User,
) -> None:
    target = services.import_target("customers")
    header = ["编号", "客户名", "号码", "城市", "备注"]
    guess = ["external_id", None, None, "city", "notes"]
    assert mapping_for_header(header, target) == guess
    template("两列", {"客户名": "name", "号码": "phones"}, owner=manager)
    assert mapping_for_header(header, target) == guess
    template(
        "四列", {"编号": "external_id", "客户名": "name", "号码": "phones", "城市": "city"}, owner=manager
    )
    assert mapping_for_header(header, target) == ["external_id", "name", "phones", "city", None]


def test_the_page_lists_the_templates_and_marks_the_one_the_upload_applied(
    client_for: Callable[[User], Client], manager: User
) -> None:
    pos = template(
        "老POS", {"编号": "external_id", "客户名": "name", "号码": "phones", "城市": "city"}, manager
    )
    job = new_job(manager)  # the upload applies 老POS: it maps more than the guess

    body = client_for(manager).get(f"/imports/{job.pk}/").content.decode()

    assert f'<option value="{pos.pk}" selected>老POS: maps 4 of the file&#x27;s 5 columns</option>' in body
    assert "The columns are mapped with the saved template “老POS”." in body
    assert f'<input type="hidden" name="template" value="{pos.pk}">' in body  # its owner may delete it


def test_choosing_a_template_fills_the_selects_without_saving(
    client_for: Callable[[User], Client], manager: User, make_user: Callable[..., User]
) -> None:
    job = new_job(manager)
    other = template("城市和号码", {"号码": "phones", "城市": "city"}, owner=make_user("manager"))
    client = client_for(manager)
    assert selected(client.get(f"/imports/{job.pk}/").content.decode(), 2) == ""  # the guess

    response = client.get(f"/imports/{job.pk}/", {"template": other.pk})

    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith("<!doctype html>")
    assert [selected(body, n) for n in range(5)] == ["", "", "phones", "city", ""]
    assert "Applied the template “城市和号码”: it maps 2 of the file's 5 columns." in body
    assert "No column is mapped to these required fields:" in body  # the template maps no name
    assert f'name="template" value="{other.pk}">' not in body  # someone else's: no delete button
    job.refresh_from_db()
    assert job.mapping == ["external_id", None, None, "city", "notes"]


def test_choosing_a_template_with_htmx_answers_the_mapping_part_only(
    client_for: Callable[[User], Client], manager: User
) -> None:
    job = new_job(manager)
    pos = template("老POS", {"编号": "external_id", "客户名": "name", "号码": "phones"}, owner=manager)

    response = client_for(manager).get(f"/imports/{job.pk}/", {"template": pos.pk}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="imp-main">') and "<h1>" not in body
    assert [selected(body, n) for n in range(5)] == ["external_id", "name", "phones", "", ""]
    assert "HX-Request" in response["Vary"]


def test_an_unknown_template_shows_the_jobs_own_mapping(
    client_for: Callable[[User], Client], manager: User
) -> None:
    job = new_job(manager)
    body = client_for(manager).get(f"/imports/{job.pk}/", {"template": "999999"}).content.decode()
    assert [selected(body, n) for n in range(5)] == ["external_id", "", "", "city", "notes"]
    assert "Applied the template" not in body


def test_the_owner_deletes_a_template_and_it_is_audited(
    client_for: Callable[[User], Client], manager: User
) -> None:
    job = new_job(manager)
    pos = template("老POS", {"号码": "phones"}, owner=manager)
    client = client_for(manager)

    response = client.post(f"/imports/{job.pk}/template-delete", {"template": pos.pk})

    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    assert not ImportTemplate.objects.filter(pk=pos.pk).exists()
    event = AuditEvent.objects.get(action="importtemplate.delete")
    assert (event.actor, event.target_id, event.data["name"]) == (manager, str(pos.pk), "老POS")
    assert event.data["mapping"] == {"号码": "phones"}
    assert "The template “老POS” is deleted." in client.get(response["Location"]).content.decode()


def test_deleting_with_htmx_reloads_the_page(client_for: Callable[[User], Client], manager: User) -> None:
    job = new_job(manager)
    pos = template("老POS", {"号码": "phones"}, owner=manager)

    response = client_for(manager).post(f"/imports/{job.pk}/template-delete", {"template": pos.pk}, **HTMX)

    assert response.status_code == 204 and response["HX-Redirect"] == f"/imports/{job.pk}/"
    assert not ImportTemplate.objects.exists()


def test_someone_elses_template_is_not_deleted(
    client_for: Callable[[User], Client], manager: User, make_user: Callable[..., User]
) -> None:
    job = new_job(manager)
    theirs = template("老POS", {"号码": "phones"}, owner=make_user("manager"))
    orphan = template("旧的", {"号码": "phones"}, owner=None)  # its user was deleted: administrators only

    response = client_for(manager).post(f"/imports/{job.pk}/template-delete", {"template": theirs.pk})

    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        import_template_delete(actor=manager, template=orphan)
    assert ImportTemplate.objects.count() == 2
    assert not AuditEvent.objects.filter(action="importtemplate.delete").exists()


def test_an_administrator_deletes_anyones_template(admin: User, manager: User) -> None:
    orphan = template("旧的", {"号码": "phones"}, owner=None)
    theirs = template("老POS", {"号码": "phones"}, owner=manager)

    import_template_delete(actor=admin, template=orphan)
    import_template_delete(actor=admin, template=theirs)

    assert not ImportTemplate.objects.exists()
    assert AuditEvent.objects.filter(action="importtemplate.delete", actor=admin).count() == 2


def test_deleting_without_a_template_or_an_unknown_one(
    client_for: Callable[[User], Client], manager: User
) -> None:
    job = new_job(manager)
    client = client_for(manager)

    missing = client.post(f"/imports/{job.pk}/template-delete", {}, follow=True)
    unknown = client.post(f"/imports/{job.pk}/template-delete", {"template": "999999"})

    assert missing.status_code == 200 and "Choose a template to delete." in missing.content.decode()
    assert unknown.status_code == 404


def test_a_sales_user_sees_no_templates(
    client_for: Callable[[User], Client], make_user: Callable[..., User]
) -> None:
    owner = make_user("manager")
    job = new_job(owner)
    pos = template("老POS", {"号码": "phones"}, owner=owner)

    response = client_for(make_user("sales")).post(f"/imports/{job.pk}/template-delete", {"template": pos.pk})

    assert response.status_code == 403 and ImportTemplate.objects.filter(pk=pos.pk).exists()
