"""Import jobs end to end through the services: upload, mapping, run, counts, rejections, re-runs."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.customers import selectors, services
from guanxi.customers.models import Customer
from guanxi.imports import services as imports
from guanxi.imports.models import ImportJob, ImportTemplate
from guanxi.imports.readers import FileUnreadable
from guanxi.users.models import User

HEADER = "姓名,手机号码,生日,标签,城市,车牌号,备注\n"
ROWS = [
    "张伟,138 0013 8000,1988年5月1日,VIP、加油卡会员,深圳,粤B·12345,老客户\n",
    "李娜,+86 139-1234-5678,1990/1/2,,广州,,\n",
    "\n",
    "张伟,13800138000,,新客,,,同一个人\n",  # the same person as row 2: folded into it
    "王芳,12345,1990-01-02,,,,\n",  # a phone no one can dial
    "赵敏,13700000001,2999-01-01,,,,\n",  # born in the future
    "刘洋,13600000002,,,,,\n",  # already a customer: merged
]


def gbk_file(rows: list[str] = ROWS) -> io.BytesIO:
    return io.BytesIO((HEADER + "".join(rows)).encode("gb18030"))


def run(actor: User, data: io.BytesIO, name: str = "客户.csv", **options: Any) -> ImportJob:
    job = imports.import_job_create(actor=actor, file=data, file_name=name, **options)
    imports.import_job_start(actor=actor, job=job)
    return imports.import_job_run(job_id=job.pk, batch_size=3)


def test_an_import_reads_a_gbk_file_and_accounts_for_every_row(manager: User) -> None:
    # given
    existing = services.customer_create(actor=manager, name="刘洋", phones=["13600000002"])

    # when
    job = run(manager, gbk_file())

    # then every data row is created, merged or rejected, and the counts add up
    assert (job.status, job.encoding) == ("done", "gb18030")
    assert (job.rows_done, job.created, job.merged, job.rejected, job.skipped) == (6, 2, 2, 2, 0)
    assert job.created + job.merged + job.updated + job.skipped + job.rejected == job.rows_done
    zhang = Customer.objects.get(name="张伟")
    assert zhang.birthday.isoformat() == "1988-05-01"
    assert sorted(zhang.tags.values_list("name", flat=True)) == ["VIP", "加油卡会员", "新客"]
    assert zhang.assets.get().plate == "粤B12345"
    assert selectors.customer_list(actor=manager, q="b12345").get() == zhang
    assert Customer.objects.filter(name="刘洋").get() == existing
    reasons = {(r.row_number, r.column): r.reason for r in job.rejections.all()}
    assert set(reasons) == {(6, "手机号码"), (7, "生日")}
    assert job.rejections.get(row_number=6).cells[0] == "王芳"


def test_running_the_same_file_again_makes_nobody_twice(manager: User) -> None:
    run(manager, gbk_file())
    count = Customer.objects.count()
    again = run(manager, gbk_file())
    assert Customer.objects.count() == count
    assert (again.created, again.merged, again.rejected) == (0, 4, 2)


def test_update_and_skip_modes(manager: User) -> None:
    services.customer_create(actor=manager, name="张伟", phones=["13800138000"], city="北京")
    run(manager, gbk_file(ROWS[:1]), on_duplicate="skip")
    assert Customer.objects.get(name="张伟").city == "北京"
    run(manager, gbk_file(ROWS[:1]), on_duplicate="update")
    assert Customer.objects.get(name="张伟").city == "深圳"


def test_a_dry_run_counts_but_writes_no_customer(manager: User) -> None:
    job = run(manager, gbk_file(), dry_run=True)
    assert (job.status, job.created, job.rejected) == ("done", 3, 2)
    assert Customer.objects.count() == 0
    assert job.rejections.count() == 2


def test_a_resumed_job_goes_on_after_the_last_committed_batch(manager: User) -> None:
    job = imports.import_job_create(actor=manager, file=gbk_file(), file_name="a.csv")
    imports.import_job_start(actor=manager, job=job)
    # as if the process had been killed after its first batch of three rows
    ImportJob.objects.filter(pk=job.pk).update(status="running", rows_done=3)
    job = imports.import_job_run(job_id=job.pk, batch_size=3)
    assert job.rows_done == 6
    assert list(Customer.objects.values_list("name", flat=True)) == ["刘洋"]  # 王芳 and 赵敏 are rejected
    assert list(job.rejections.values_list("row_number", flat=True)) == [6, 7]


def test_the_mapping_can_be_corrected_and_saved_as_a_template(manager: User) -> None:
    data = io.BytesIO("客户,联系方式,随便\n张伟,13800138000,x\n".encode())
    job = imports.import_job_create(actor=manager, file=data, file_name="b.csv")
    assert job.mapping == ["name", "phones", None]
    imports.import_job_map(
        actor=manager, job=job, mapping=["name", "phones", "notes"], template_name="老系统"
    )
    assert ImportTemplate.objects.get().mapping == {"客户": "name", "联系方式": "phones", "随便": "notes"}
    second = imports.import_job_create(actor=manager, file=io.BytesIO(data.getvalue()), file_name="c.csv")
    assert second.mapping == ["name", "phones", "notes"]


def test_a_mapping_without_the_required_fields_is_refused(manager: User) -> None:
    job = imports.import_job_create(actor=manager, file=gbk_file(), file_name="a.csv")
    with pytest.raises(ValidationFailed) as caught:
        imports.import_job_map(actor=manager, job=job, mapping=[None] * 7)
    assert caught.value.details == {"mapping": ["No column fills “Name”."]}


def test_an_unreadable_file_keeps_nothing(manager: User) -> None:
    with pytest.raises(FileUnreadable):
        imports.import_job_create(actor=manager, file=io.BytesIO(b""), file_name="empty.csv")
    assert ImportJob.objects.count() == 0


def test_only_importers_may_import_and_only_their_own_jobs(
    manager: User, make_user: Callable[..., User]
) -> None:
    with pytest.raises(PermissionDenied):
        imports.import_job_create(actor=make_user("sales"), file=gbk_file(), file_name="a.csv")
    job = imports.import_job_create(actor=manager, file=gbk_file(), file_name="a.csv")
    with pytest.raises(NotFound):
        imports.import_job_start(actor=make_user("manager"), job=job)
    assert ImportJob.objects.get().status == "draft"


def test_every_step_is_audited(manager: User) -> None:
    run(manager, gbk_file(ROWS[:2]))
    actions = list(AuditEvent.objects.filter(action__startswith="import.").values_list("action", flat=True))
    assert sorted(actions) == ["import.create", "import.finish", "import.start"]
    assert AuditEvent.objects.filter(action="customer.create").count() == 2


def test_starting_a_job_queues_it_for_the_task_consumer(
    manager: User, django_capture_on_commit_callbacks: Any
) -> None:
    from huey.contrib.djhuey import HUEY

    job = imports.import_job_create(actor=manager, file=gbk_file(ROWS[:2]), file_name="a.csv")
    immediate, HUEY.immediate = HUEY.immediate, True
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            imports.import_job_start(actor=manager, job=job)
    finally:
        HUEY.immediate = immediate
    job.refresh_from_db()
    assert len(callbacks) == 1
    assert (job.status, job.created) == ("done", 2)


def test_a_second_runner_never_writes_a_batch_twice(manager: User, monkeypatch: pytest.MonkeyPatch) -> None:
    job = imports.import_job_create(actor=manager, file=gbk_file(ROWS[:2]), file_name="a.csv")
    imports.import_job_start(actor=manager, job=job, queue=False)
    real = imports.customer_import_write

    def meanwhile(**kwargs: Any) -> Any:
        ImportJob.objects.filter(pk=job.pk).update(rows_done=2)  # another runner committed this batch
        return real(**kwargs)

    monkeypatch.setattr(imports, "customer_import_write", meanwhile)
    job = imports.import_job_run(job_id=job.pk)
    assert Customer.objects.count() == 0
    assert (job.status, job.created) == ("running", 0)
