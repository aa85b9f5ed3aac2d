"""The importer's write step: a batch of rows created, merged, updated, skipped or rejected, whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from django.utils import translation

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import PermissionDenied
from guanxi.customers import selectors, services
from guanxi.customers.models import Asset, Customer, CustomFieldDefinition, Tag, TimelineEntry
from guanxi.customers.services import bulk
from guanxi.customers.services.bulk import ImportRow, customer_import_rows
from guanxi.users.models import User


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return make_user("manager")


def _state() -> tuple[int, ...]:
    return (
        Customer.objects.count(),
        AuditEvent.objects.count(),
        TimelineEntry.objects.count(),
        Tag.objects.count(),
        Asset.objects.count(),
    )


def test_new_rows_become_whole_searchable_customers(manager: User) -> None:
    # given
    rows = [
        ImportRow(
            2,
            {"name": "张伟", "gender": "male", "birthday": date(1988, 5, 1), "city": "深圳"},
            phones=["138 0013 8000", "+86 139-1234-5678"],
            emails=["ZW@Example.COM"],
            tags=["VIP", "加油卡会员"],
            assets=[{"plate": "粤B·12345", "vin": "LSVAU2180N2183294"}],
        ),
        ImportRow(3, {"name": "华强建材", "kind": "company"}, phones=["0755-88889999"]),
    ]

    # when
    outcomes = customer_import_rows(actor=manager, rows=rows)

    # then
    assert [(o.row_number, o.result) for o in outcomes] == [(2, "created"), (3, "created")]
    zhang = Customer.objects.get(pk=outcomes[0].customer_id)
    assert (zhang.owner, zhang.team, zhang.source, zhang.city) == (manager, manager.team, "import", "深圳")
    assert list(zhang.phones.values_list("number", flat=True)) == ["+8613800138000", "+8613912345678"]
    assert list(zhang.emails.values_list("address", flat=True)) == ["ZW@example.com"]
    assert sorted(zhang.tags.values_list("name", flat=True)) == ["VIP", "加油卡会员"]
    assert zhang.assets.get().plate == "粤B12345"
    for q in ("zw", "zhangwei", "8000", "b12345", "hqjc"):
        assert selectors.customer_list(actor=manager, q=q).exists(), q
    assert AuditEvent.objects.filter(action="customer.create").count() == 2
    assert AuditEvent.objects.filter(action="tag.create").count() == 2
    assert TimelineEntry.objects.filter(kind="customer.created").count() == 2


def test_bad_rows_are_rejected_with_their_reasons_and_good_rows_kept(manager: User) -> None:
    rows = [
        ImportRow(2, {"name": ""}, phones=["13800138000"]),
        ImportRow(3, {"name": "李娜"}, phones=["12345"], emails=["not-an-email"]),
        ImportRow(4, {"name": "王芳", "birthday": "2999-01-01"}),
        ImportRow(5, {"name": "赵敏"}, assets=[{"vin": "SHORT"}]),
        ImportRow(6, {"name": "刘洋"}),
    ]
    outcomes = customer_import_rows(actor=manager, rows=rows)
    assert [o.result for o in outcomes] == ["rejected"] * 4 + ["created"]
    assert outcomes[0].errors == {"name": ["This field is required."]}
    assert set(outcomes[1].errors) == {"phones", "emails"}
    assert outcomes[2].errors == {"birthday": ["Enter a birthday between 1900 and today."]}
    assert list(outcomes[3].errors) == ["vin"]
    assert list(Customer.objects.values_list("name", flat=True)) == ["刘洋"]


def test_merge_fills_what_is_empty_and_adds_what_is_missing(manager: User) -> None:
    # given
    existing = services.customer_create(
        actor=manager, name="张伟", phones=["13800138000"], city="深圳", tags=["VIP"]
    )
    row = ImportRow(
        2,
        {"name": "张小伟", "city": "广州", "district": "天河区"},
        phones=["13800138000", "13912345678"],
        tags=["VIP", "新客"],
        match=existing.pk,
    )

    # when
    [outcome] = customer_import_rows(actor=manager, rows=[row], on_duplicate="merge")

    # then
    existing.refresh_from_db()
    assert (outcome.result, outcome.customer_id) == ("merged", existing.pk)
    assert (existing.name, existing.city, existing.district) == ("张伟", "深圳", "天河区")
    assert list(existing.phones.values_list("number", flat=True)) == ["+8613800138000", "+8613912345678"]
    assert sorted(existing.tags.values_list("name", flat=True)) == ["VIP", "新客"]
    event = AuditEvent.objects.get(action="customer.update")
    assert event.changes == {"district": [None, "天河区"], "phones": [None, ["+8613912345678"]]}
    assert selectors.customer_list(actor=manager, q="1234").get() == existing
    assert Customer.objects.count() == 1


def test_update_lets_the_file_win_and_skip_leaves_the_customer_alone(manager: User) -> None:
    existing = services.customer_create(actor=manager, name="张伟", city="深圳")
    row = ImportRow(2, {"name": "张伟明", "city": "广州"}, match=existing.pk)

    [skipped] = customer_import_rows(actor=manager, rows=[row], on_duplicate="skip")
    existing.refresh_from_db()
    assert (skipped.result, existing.name, existing.city) == ("skipped", "张伟", "深圳")

    [updated] = customer_import_rows(actor=manager, rows=[row], on_duplicate="update")
    existing.refresh_from_db()
    assert (updated.result, existing.name, existing.city) == ("updated", "张伟明", "广州")
    assert selectors.customer_list(actor=manager, q="zwm").get() == existing


def test_a_match_outside_the_actors_scope_is_rejected_and_untouched(
    manager: User, make_user: Callable[..., User], team_b: Any
) -> None:
    other = make_user("sales", team=team_b)
    theirs = services.customer_create(actor=other, name="张伟", city="深圳")
    row = ImportRow(2, {"name": "张伟", "city": "广州"}, match=theirs.pk)

    [outcome] = customer_import_rows(actor=manager, rows=[row])

    theirs.refresh_from_db()
    assert (outcome.result, list(outcome.errors)) == ("rejected", ["customer"])
    assert theirs.city == "深圳"
    assert Customer.objects.count() == 1


def test_a_member_number_in_use_or_twice_in_the_batch_rejects_the_row(manager: User) -> None:
    services.customer_create(actor=manager, name="张伟", member_no="M1")
    rows = [
        ImportRow(2, {"name": "李娜", "member_no": "M1"}),
        ImportRow(3, {"name": "王芳", "member_no": "M2"}),
        ImportRow(4, {"name": "赵敏", "member_no": "M2"}),
    ]
    outcomes = customer_import_rows(actor=manager, rows=rows)
    assert [o.result for o in outcomes] == ["rejected", "created", "rejected"]
    assert outcomes[0].errors == {"member_no": ["Member number M1 is already used."]}


def test_custom_fields_are_checked_by_their_definitions(manager: User, admin: User) -> None:
    services.custom_field_create(actor=admin, key="fleet", label="车队规模", type="number")
    outcomes = customer_import_rows(
        actor=manager,
        rows=[
            ImportRow(2, {"name": "甲"}, custom_fields={"fleet": "12"}),
            ImportRow(3, {"name": "乙"}, custom_fields={"fleet": "很多"}),
        ],
    )
    assert [o.result for o in outcomes] == ["created", "rejected"]
    assert Customer.objects.get(name="甲").custom_fields == {"fleet": 12}
    assert outcomes[1].errors == {"custom_fields.fleet": ["Enter a number."]}
    assert CustomFieldDefinition.objects.count() == 1


def test_only_those_who_may_import_can(make_user: Callable[..., User]) -> None:
    sales = make_user("sales")
    before = _state()
    with pytest.raises(PermissionDenied):
        customer_import_rows(actor=sales, rows=[ImportRow(2, {"name": "张伟"})])
    assert _state() == before


def test_a_failure_halfway_writes_nothing(manager: User, monkeypatch: pytest.MonkeyPatch) -> None:
    write_rows = bulk.write_rows

    def broken(table: str, *args: Any) -> int:
        if table == AuditEvent._meta.db_table:  # the batch's last write
            raise RuntimeError("disk full")
        return write_rows(table, *args)

    monkeypatch.setattr(bulk, "write_rows", broken)
    before = _state()
    with pytest.raises(RuntimeError):
        customer_import_rows(actor=manager, rows=[ImportRow(2, {"name": "张伟"}, tags=["VIP"])])
    assert _state() == before
    _assert_a_new_customer_is_searchable(manager)


def _assert_a_new_customer_is_searchable(actor: User) -> None:
    """The search index follows customers made one by one (SQLite: the insert trigger is in place)."""
    customer = services.customer_create(actor=actor, name="欧阳娜娜")
    assert list(selectors.customer_list(actor=actor, q="oyn")) == [customer]


def test_after_an_import_single_customers_are_indexed_as_before(manager: User) -> None:
    customer_import_rows(actor=manager, rows=[ImportRow(n, {"name": f"客户{n}"}) for n in range(2, 12)])
    assert selectors.customer_list(actor=manager, q="客户7").count() == 1
    _assert_a_new_customer_is_searchable(manager)


@pytest.mark.parametrize("n", [5, 50])
def test_a_batch_costs_the_same_queries_whatever_its_size(
    manager: User, n: int, django_assert_max_num_queries: Any
) -> None:
    existing = [services.customer_create(actor=manager, name=f"老客{i}") for i in range(n)]
    rows = [
        ImportRow(
            i + 2,
            {"name": f"客户{i}"},
            phones=[f"1380013{i:04d}"],
            tags=["VIP"],
            assets=[{"plate": f"粤B{i:05d}"}],
        )
        for i in range(n)
    ] + [
        ImportRow(n + i + 2, {"city": "深圳"}, phones=[f"1390013{i:04d}"], match=c.pk)
        for i, c in enumerate(existing)
    ]
    with django_assert_max_num_queries(40):
        outcomes = customer_import_rows(actor=manager, rows=rows)
    assert {o.result for o in outcomes} == {"created", "merged"}
