"""customer_merge: chosen values, everything attached moves, traceability, scope, and all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.utils import timezone, translation

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.customers import services
from guanxi.customers.models import (
    Asset,
    Consent,
    Contact,
    Customer,
    CustomerMerge,
    TimelineEntry,
)
from guanxi.customers.services import merge as merge_module
from guanxi.users.models import Team, User

Make = Callable[..., Any]


@pytest.fixture
def pair(admin: User, make_customer: Make) -> tuple[Customer, Customer]:
    services.custom_field_create(actor=admin, key="fleet", label="车队规模", type="number")
    survivor = make_customer(
        admin,
        name="张伟",
        phones=["13800138000", "13900139000"],
        emails=["zw@example.com"],
        tags=["VIP"],
        member_no="M001",
        city="深圳市",
        stage="customer",
        custom_fields={"fleet": 3},
    )
    other = make_customer(
        admin,
        name="张伟(旧)",
        kind="company",  # contacts belong to companies; the survivor stays a person
        phones=["13900139000", "13700137000"],
        emails=["ZW@example.com", "old@example.com"],
        tags=["VIP", "车队"],
        member_no="M002",
        wechat_id="zw888",
        birthday=date(1990, 1, 2),
        stage="loyal",
        custom_fields={"fleet": 5},
        external_ids={"pos": "P-9"},
    )
    services.contact_create(actor=admin, customer=other, name="王经理", phone="13600136000")
    services.asset_create(actor=admin, customer=other, kind="vehicle", plate="粤B12345")
    services.consent_record(
        actor=admin,
        customer=other,
        purpose="marketing",
        channel="sms",
        granted=True,
        method="paper",
        recorded_at=timezone.now(),
    )
    services.note_add(actor=admin, customer=other, body="老客户")
    return survivor, other


def test_merge_keeps_chosen_values_and_moves_everything(admin: User, pair: tuple[Customer, Customer]) -> None:
    # given
    survivor, other = pair
    other_id = other.pk
    other_entries = TimelineEntry.objects.filter(customer=other).count()

    # when
    result = services.customer_merge(
        actor=admin,
        survivor=survivor,
        other=other,
        choose={"name": "survivor", "stage": "other", "member_no": "other", "custom_fields.fleet": "other"},
    )

    # then: chosen values, and the survivor's empty fields filled from the other
    result.refresh_from_db()
    assert (result.name, result.stage, result.member_no) == ("张伟", "loyal", "M002")
    assert (result.wechat_id, result.birthday, result.city) == ("zw888", date(1990, 1, 2), "深圳市")
    assert result.custom_fields == {"fleet": 5}
    assert result.external_ids == {"pos": "P-9", f"member_no#{survivor.pk}": "M001"}
    # phones and emails unioned in order, tags unioned
    assert list(result.phones.values_list("number", "position")) == [
        ("+8613800138000", 0),
        ("+8613900139000", 1),
        ("+8613700137000", 2),
    ]
    assert list(result.emails.values_list("address", flat=True)) == ["zw@example.com", "old@example.com"]
    assert sorted(result.tags.values_list("name", flat=True)) == ["VIP", "车队"]
    # child rows moved
    assert Contact.objects.get().customer_id == result.pk
    assert Asset.objects.get().customer_id == result.pk
    assert Consent.objects.get().customer_id == result.pk
    assert TimelineEntry.objects.filter(customer=result).count() >= other_entries + 1
    # the other is gone, traceably
    assert not Customer.objects.filter(pk=other_id).exists()
    merge = CustomerMerge.objects.get()
    assert (merge.survivor_id, merge.merged_id, merge.merged_name) == (result.pk, other_id, "张伟(旧)")
    assert merge.snapshot["member_no"] == "M002"
    assert [p["number"] for p in merge.snapshot["phones"]] == ["+8613900139000", "+8613700137000"]
    event = AuditEvent.objects.get(action="customer.merge")
    assert event.target_id == str(result.pk)
    assert event.data["merged_id"] == other_id
    assert event.changes["stage"] == ["customer", "loyal"]
    assert event.data["moved"] == {
        "phones": 1,
        "emails": 1,
        "contacts": 1,
        "assets": 1,
        "consents": 1,
        "timeline": other_entries,
        "tags": 1,
    }
    entry = TimelineEntry.objects.filter(customer=result).order_by("-id").first()
    assert entry is not None
    assert (entry.kind, entry.data["merged_id"]) == ("customer.merged", other_id)
    assert "zw888" in result.search_text and "13700137000" in result.search_text


def test_a_field_not_chosen_keeps_the_survivors_value(admin: User, make_customer: Make) -> None:
    survivor = make_customer(admin, name="甲", city="北京市", member_no="A1")
    other = make_customer(admin, name="乙", city="上海市", member_no="A2")

    services.customer_merge(actor=admin, survivor=survivor, other=other, choose={})

    survivor.refresh_from_db()
    assert (survivor.name, survivor.city, survivor.member_no) == ("甲", "北京市", "A1")
    assert survivor.external_ids == {f"member_no#{other.pk}": "A2"}


def test_merging_a_survivor_again_keeps_every_earlier_id_traceable(admin: User, make_customer: Make) -> None:
    a, b, c = (make_customer(admin, name=n) for n in "甲乙丙")
    services.customer_merge(actor=admin, survivor=b, other=a)
    services.customer_merge(actor=admin, survivor=c, other=b)

    merged = CustomerMerge.objects.filter(survivor=c).values_list("merged_id", flat=True)
    assert sorted(merged) == [a.pk, b.pk]


def test_a_sales_user_cannot_merge_and_nothing_changes(
    make_user: Make, make_customer: Make, pair: tuple[Customer, Customer]
) -> None:
    sales = make_user("sales")
    survivor, other = pair
    with pytest.raises(PermissionDenied):
        services.customer_merge(actor=sales, survivor=survivor, other=other)
    assert Customer.objects.count() == 2
    assert not CustomerMerge.objects.exists()


def test_a_customer_outside_scope_is_not_found_and_nothing_changes(
    make_user: Make, make_customer: Make, team_b: Team
) -> None:
    admin = make_user("admin")
    manager = make_user("manager")
    stranger = make_user("sales", team=team_b)
    ours = make_customer(admin, name="张伟", owner=manager)
    theirs = make_customer(admin, name="张伟", owner=stranger)

    with pytest.raises(NotFound):
        services.customer_merge(actor=manager, survivor=ours, other=theirs)
    with pytest.raises(NotFound):
        services.customer_merge(actor=manager, survivor=theirs, other=ours)
    assert Customer.objects.count() == 2
    assert not AuditEvent.objects.filter(action="customer.merge").exists()


def test_a_customer_cannot_be_merged_with_itself(admin: User, make_customer: Make) -> None:
    customer = make_customer(admin)
    with pytest.raises(ValidationFailed):
        services.customer_merge(actor=admin, survivor=customer, other=customer)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_unknown_fields_and_sides_are_refused(admin: User, pair: tuple[Customer, Customer]) -> None:
    survivor, other = pair
    with pytest.raises(ValidationFailed) as caught:
        services.customer_merge(
            actor=admin, survivor=survivor, other=other, choose={"color": "other", "name": "both"}
        )
    assert set(caught.value.details) == {"choose.color", "choose.name"}
    assert Customer.objects.count() == 2


def test_a_failure_mid_merge_leaves_everything_as_it_was(
    admin: User, pair: tuple[Customer, Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    survivor, other = pair

    def explode(survivor: Customer, other: Customer) -> dict[str, int]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(merge_module, "_move_children", explode)

    # when
    with pytest.raises(RuntimeError):
        services.customer_merge(actor=admin, survivor=survivor, other=other, choose={"stage": "other"})

    # then
    survivor.refresh_from_db()
    other.refresh_from_db()
    assert (survivor.stage, survivor.member_no, other.member_no) == ("customer", "M001", "M002")
    assert other.phones.count() == 2 and survivor.phones.count() == 2
    assert Contact.objects.get().customer_id == other.pk
    assert not CustomerMerge.objects.exists()
    assert not AuditEvent.objects.filter(action="customer.merge").exists()


def test_the_merge_reads_as_a_sentence_on_the_timeline(admin: User, make_customer: Make) -> None:
    from guanxi.customers.templatetags.customer_tags import timeline_item

    survivor = make_customer(admin, name="甲", phones=["13800138000"])
    other = make_customer(admin, name="乙<b>", phones=["13900139000"])
    services.customer_merge(actor=admin, survivor=survivor, other=other)

    entry = TimelineEntry.objects.filter(customer=survivor, kind="customer.merged").get()
    survivor.pii_clear = True  # type: ignore[attr-defined]
    with translation.override("en"):
        item = timeline_item(entry, survivor)
        assert "乙&lt;b&gt;" in item.title
        assert ("Earlier id", f"#{other.pk}") in [(str(k), v) for k, v in item.facts]
