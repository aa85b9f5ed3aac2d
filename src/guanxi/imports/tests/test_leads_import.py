"""Importing leads: a fair's messy GBK sign-up sheet, captured by the leads' own rules; never twice."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import bearer
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import PermissionDenied
from guanxi.imports import services as imports
from guanxi.imports.forms import ImportUploadForm
from guanxi.imports.models import ImportJob
from guanxi.leads.models import Lead, LeadAssignmentRule
from guanxi.leads.services import lead_create
from guanxi.users.models import User

HEADER = "客户姓名,手机号码,邮箱,微信号,公司,城市,来源,意向产品,留言\n"
ROWS = [
    "王芳,+86 139 0013 9000,,,深圳蓝天科技,深圳,官网,Model Y 试驾,想周末试驾\n",  # 2: created
    "刘洋,138-0013-8001,LIU@Example.com,,,广州,朋友介绍,,\n",  # 3: created
    "王芳,139 0013 9000,wangfang@example.com,,,深圳,官网,,价格多少？\n",  # 4: row 2 again: merged
    "赵敏,,,,某公司,北京,展会,,\n",  # 5: no way to reach her: rejected
    "陈静,0086 137 0013 7002,,,,,抖音,,\n",  # 6: created, an unknown source kept as "other"
    "周杰,13600136003,,,,上海,Referral,,再次咨询\n",  # 7: an open lead entered before: merged
    "吴磊,,,wulei_88,,,,,\n",  # 8: created by WeChat ID alone, source "import"
    "孙丽,12345,,,,,,,\n",  # 9: not a phone number: rejected
]
MAPPING = ["name", "phone", "email", "wechat_id", "company", "city", "source", "interest", "message"]
NO_WAY = "Give a way to reach them: a mobile, an email or a WeChat ID."


@pytest.fixture
def known(manager: User) -> Lead:
    """周杰 called last week: an open lead with his mobile."""
    return lead_create(actor=manager, name="周杰", phone="13600136003", source="phone", interest="保养")


def leads_file(rows: list[str] = ROWS) -> io.BytesIO:
    return io.BytesIO((HEADER + "".join(rows)).encode("gbk"))


def run(actor: User, data: io.BytesIO, batch_size: int = 1000, **options: Any) -> ImportJob:
    job = imports.import_job_create(
        actor=actor, file=data, file_name="展会名单.csv", target="leads", **options
    )
    assert job.encoding.lower() in {"gbk", "gb18030"}
    assert job.mapping == MAPPING
    imports.import_job_start(actor=actor, job=job, queue=False)
    return imports.import_job_run(job_id=job.pk, batch_size=batch_size)


def check_first_run(job: ImportJob, known: Lead) -> None:
    assert job.status == "done"
    assert (job.rows_done, job.created, job.merged, job.skipped, job.updated, job.rejected) == (
        8,
        4,
        2,
        0,
        0,
        2,
    )
    assert job.created + job.merged + job.skipped + job.rejected == job.rows_done
    assert Lead.objects.count() == 5  # 周杰 and the four new
    wang = Lead.objects.get(name="王芳")
    assert (wang.phone, wang.email, wang.company, wang.city) == (
        "+8613900139000",
        "wangfang@example.com",
        "深圳蓝天科技",
        "深圳",
    )
    assert (wang.source, wang.interest, wang.captures) == ("web", "Model Y 试驾", 2)
    assert "想周末试驾" in wang.message and "价格多少？" in wang.message
    liu = Lead.objects.get(name="刘洋")
    assert (liu.phone, liu.email, liu.source) == ("+8613800138001", "liu@example.com", "referral")
    chen = Lead.objects.get(name="陈静")
    assert (chen.phone, chen.source, chen.extra) == ("+8613700137002", "other", {"source": "抖音"})
    wu = Lead.objects.get(name="吴磊")
    assert (wu.phone, wu.wechat_id, wu.source) == ("", "wulei_88", "import")
    known.refresh_from_db()
    assert (known.captures, known.city, known.source, known.interest) == (2, "上海", "phone", "保养")
    assert known.message == "再次咨询"
    assert not Lead.objects.filter(name__in=["赵敏", "孙丽"]).exists()
    reasons = {r.row_number: (r.column, r.reason) for r in job.rejections.all()}
    assert reasons[5] == ("手机号码", NO_WAY)
    assert reasons[9] == ("手机号码", "“12345” is not a valid phone number.")
    assert set(reasons) == {5, 9}


def test_a_messy_sign_up_sheet_is_captured_by_the_leads_rules(manager: User, known: Lead) -> None:
    job = run(manager, leads_file())

    check_first_run(job, known)
    assert AuditEvent.objects.filter(action="lead.create").count() == 5  # 周杰's own and four
    assert AuditEvent.objects.filter(action="lead.capture_again").count() == 2


def test_importing_the_same_file_again_creates_nobody_and_changes_nothing(manager: User, known: Lead) -> None:
    run(manager, leads_file())
    before = {lead.pk: (lead.captures, lead.message, lead.email) for lead in Lead.objects.all()}

    again = run(manager, leads_file())

    assert (again.created, again.merged, again.skipped, again.rejected) == (0, 0, 6, 2)
    assert {lead.pk: (lead.captures, lead.message, lead.email) for lead in Lead.objects.all()} == before


def test_rows_split_across_batches_still_merge_the_repeat(manager: User, known: Lead) -> None:
    job = run(manager, leads_file(), batch_size=2)

    check_first_run(job, known)


def test_new_leads_go_by_the_assignment_rules(manager: User, make_user: Callable[..., User]) -> None:
    rep = make_user("sales")
    LeadAssignmentRule.objects.create(
        name="深圳给小李", match_city="深圳", action=LeadAssignmentRule.Action.USER, user=rep
    )

    run(manager, leads_file(ROWS[:2]))

    assert Lead.objects.get(name="王芳").owner == rep
    liu = Lead.objects.get(name="刘洋")
    assert (liu.owner, liu.team) == (None, manager.team)


def test_a_dry_run_reports_and_captures_nothing(manager: User, known: Lead) -> None:
    job = run(manager, leads_file(), dry_run=True)

    assert (job.created, job.merged, job.rejected) == (4, 2, 2)
    assert list(Lead.objects.all()) == [known]


def test_only_those_who_may_enter_leads_can_import_them(make_user: Callable[..., User]) -> None:
    with pytest.raises(PermissionDenied):
        imports.import_job_create(
            actor=make_user("service"), file=leads_file(), file_name="x.csv", target="leads"
        )
    assert not ImportJob.objects.exists()


def test_a_sales_rep_may_import_and_owns_what_they_import(make_user: Callable[..., User]) -> None:
    rep = make_user("sales")

    job = run(rep, leads_file())

    assert (job.created, job.merged, job.rejected) == (5, 1, 2)  # 周杰 is new to this database
    assert set(Lead.objects.values_list("owner", flat=True)) == {rep.pk}


def test_the_command_imports_leads_and_prints_json(tmp_path: Path, admin: User, known: Lead) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(leads_file().getvalue())
    out = io.StringIO()

    call_command("import", "leads", str(path), "--json", stdout=out, stderr=io.StringIO())

    summary = json.loads(out.getvalue())
    assert (summary["rows"], summary["created"], summary["merged"], summary["rejected"]) == (8, 4, 2, 2)
    check_first_run(ImportJob.objects.get(pk=summary["job"]), known)
    rows = {r["row"]: r["reason"] for r in summary["rejections"]}
    assert rows[5] == NO_WAY

    again = io.StringIO()
    call_command("import", "leads", str(path), "--json", stdout=again, stderr=io.StringIO())
    assert json.loads(again.getvalue())["created"] == 0
    assert Lead.objects.count() == 5


def test_the_command_refuses_a_user_who_may_not_enter_leads(
    tmp_path: Path, make_user: Callable[..., User]
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(leads_file().getvalue())
    clerk = make_user("service")

    with pytest.raises(CommandError):
        call_command("import", "leads", str(path), "--as", clerk.username, stdout=io.StringIO())
    assert not Lead.objects.exists()


def test_the_api_and_the_page_offer_leads(manager: User) -> None:
    upload = bearer(manager).post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("leads.csv", leads_file().getvalue()), "target": "leads"},
    )

    assert upload.status_code == 201, upload.content
    assert upload.json()["target"] == "leads"
    assert upload.json()["mapping"] == MAPPING
    assert "leads" in dict(ImportUploadForm().fields["target"].choices)  # type: ignore[attr-defined]


def test_a_row_with_only_a_wechat_id_finds_its_open_lead_by_it(manager: User) -> None:
    reachable = lead_create(actor=manager, name="郑爽", phone="13500135000", wechat_id="zs_2024")
    rows = [
        "郑爽,,,zs_2024,,杭州,,,想了解价格\n",  # merged through her mobile
        "吴磊,,,wulei_88,,,,,\n",  # created
        "吴磊,,,wulei_88,,,,,\n",  # the same again: skipped
        "吴磊,,,wulei_88,,,,,周末到店\n",  # something new, but no mobile or email to merge through
    ]

    job = run(manager, leads_file(rows))

    assert (job.created, job.merged, job.skipped, job.rejected) == (1, 1, 1, 1)
    reachable.refresh_from_db()
    assert (reachable.city, reachable.message, reachable.captures) == ("杭州", "想了解价格", 2)
    assert Lead.objects.filter(wechat_id="wulei_88").count() == 1
    rejection = job.rejections.get()
    assert (rejection.row_number, rejection.column) == (5, "微信号")
    assert rejection.reason == "An open lead, 吴磊, has this WeChat ID: add what is new to it there."


def test_an_excel_sheet_with_phones_stored_as_numbers_imports_by_the_command(
    tmp_path: Path, manager: User
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Name", "Mobile", "Email", "Company", "City", "Source", "Interest", "Message"])
    sheet.append(["Li Lei", 13900139000, "", "Acme", "Shenzhen", "Event or fair", "SUV", "Met at the fair"])
    sheet.append(["Han Meimei", "", "MEI@example.com", "", "", "partner", "", ""])
    path = tmp_path / "fair.xlsx"
    workbook.save(path)
    out = io.StringIO()

    call_command("import", "leads", str(path), "--as", manager.username, stdout=out, stderr=io.StringIO())

    assert (
        "Imported 2 rows of fair.xlsx: 2 created, 0 updated, 0 merged, 0 skipped, 0 rejected."
        in out.getvalue()
    )
    li = Lead.objects.get(name="Li Lei")
    assert (li.phone, li.source, li.owner, li.message) == ("+8613900139000", "event", None, "Met at the fair")
    assert Lead.objects.get(name="Han Meimei").email == "mei@example.com"
