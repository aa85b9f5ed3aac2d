"""Customer services: validation, permissions, audit events and timeline entries of every write."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from guanxi.audit.models import AuditEvent
from guanxi.core.context import origin
from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from guanxi.core.permissions import ROLES
from guanxi.customers import selectors, services
from guanxi.customers.models import (
    Asset,
    Consent,
    Contact,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomFieldDefinition,
    Tag,
    TimelineEntry,
)
from guanxi.users.models import Team, User


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    """The users these tests make need no strong hash; PBKDF2 would cost half a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are asserted in their English source form, whatever translations exist."""
    with translation.override("en"):
        yield


MODELS = (
    Customer,
    CustomerPhone,
    CustomerEmail,
    Contact,
    Asset,
    Consent,
    Tag,
    CustomFieldDefinition,
    TimelineEntry,
    AuditEvent,
    Customer.tags.through,
)


def state() -> dict[str, Any]:
    """Everything a customer write could change: the row count of each table and every customer row."""
    counts = {model._meta.label: model.objects.count() for model in MODELS}
    rows = list(Customer.objects.order_by("pk").values())
    tags = sorted(Customer.tags.through.objects.values_list("customer_id", "tag_id"))
    return {"counts": counts, "customers": rows, "tags": tags}


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.fixture
def sales(make_user: Callable[..., User], team_a: Team) -> User:
    return make_user("sales", team=team_a)


@pytest.fixture
def manager(make_user: Callable[..., User], team_a: Team) -> User:
    return make_user("manager", team=team_a)


@pytest.fixture
def zhang(admin: User, sales: User, team_a: Team) -> Customer:
    return services.customer_create(
        actor=admin,
        name="张伟",
        phones=["138 0013 8000"],
        emails=["zhang.wei@example.com"],
        owner=sales,
        team=team_a,
        city="深圳",
    )


@pytest.fixture
def company(admin: User, sales: User, team_a: Team) -> Customer:
    return services.customer_create(actor=admin, name="华强建材", kind="company", owner=sales, team=team_a)


# customer_create


def test_customer_create_stores_phones_as_e164_without_duplicates(admin: User) -> None:
    # when
    customer = services.customer_create(
        actor=admin,
        name="张伟",
        phones=["138 0013 8000", "+86 138-0013-8000", "", "  ", "021-62345678", "８６１３８００１３８０００"],
    )

    # then
    assert list(customer.phones.values_list("number", "position")) == [
        ("+8613800138000", 0),
        ("+862162345678", 1),
    ]


def test_customer_create_stores_emails_with_lower_case_domain_without_duplicates(admin: User) -> None:
    # when
    customer = services.customer_create(
        actor=admin, name="张伟", emails=["Zhang@Example.COM", "Zhang@example.com", " ", "li@qq.com"]
    )

    # then
    assert list(customer.emails.values_list("address", flat=True)) == ["Zhang@example.com", "li@qq.com"]


def test_customer_create_gives_the_customer_to_its_creator_and_the_creators_team(
    sales: User, team_a: Team
) -> None:
    # when
    customer = services.customer_create(actor=sales, name="张伟")

    # then
    customer.refresh_from_db()
    assert (customer.owner, customer.team, customer.created_by) == (sales, team_a, sales)
    assert (customer.kind, customer.stage) == ("person", "lead")


def test_customer_create_writes_one_audit_event_and_one_timeline_entry(sales: User) -> None:
    # when
    customer = services.customer_create(actor=sales, name="张伟", phones=["13800138000"], city="深圳")

    # then
    [event] = AuditEvent.objects.all()
    assert (event.action, event.actor, event.target_type, event.target_id, event.target_label) == (
        "customer.create",
        sales,
        "customers.customer",
        str(customer.pk),
        "张伟",
    )
    assert event.changes["name"] == [None, "张伟"]
    assert event.changes["phones"] == [None, ["+8613800138000"]]
    assert event.changes["city"] == [None, "深圳"]
    assert event.changes["owner"] == [None, sales.username]
    assert "street" not in event.changes  # empty stays out
    assert list(customer.timeline.values_list("kind", "actor")) == [("customer.created", sales.pk)]


def test_customer_create_collects_every_field_error_at_once(admin: User) -> None:
    # given
    before = state()

    # when
    with pytest.raises(ValidationFailed) as caught:
        services.customer_create(
            actor=admin,
            name="  ",
            kind="robot",
            phones=["138 0013 8000", "abc", "123"],
            emails=["not-an-email", "ok@example.com"],
            gender="x",
            stage="nope",
            source="tv",
            birthday="2999-01-01",
            wechat_id="w" * 65,
            street="路" * 201,
            external_ids=["not", "a", "dict"],
            custom_fields={"nope": 1},
            colour="red",
        )

    # then
    assert caught.value.code == "validation_failed"
    assert caught.value.details == {
        "name": ["This field is required."],
        "kind": ["“robot” is not one of the allowed values."],
        "phones": ["“abc” is not a valid phone number.", "“123” is not a valid phone number."],
        "emails": ["“not-an-email” is not a valid email address."],
        "gender": ["“x” is not one of the allowed values."],
        "stage": ["“nope” is not one of the allowed values."],
        "source": ["“tv” is not one of the allowed values."],
        "birthday": ["Enter a birthday between 1900 and today."],
        "wechat_id": ["Enter at most 64 characters."],
        "street": ["Enter at most 200 characters."],
        "external_ids": ["Enter codes as system: code pairs."],
        "custom_fields.nope": ["There is no custom field “nope”."],
        "colour": ["Unknown field."],
    }
    assert state() == before


@pytest.mark.parametrize(
    ("birthday", "message"),
    [
        ("1899-12-31", "Enter a birthday between 1900 and today."),
        ("17/05/1988", "Enter a date as YYYY-MM-DD."),
        ("1988-02-30", "Enter a date as YYYY-MM-DD."),
    ],
)
def test_customer_create_refuses_a_wrong_birthday(admin: User, birthday: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.customer_create(actor=admin, name="张伟", birthday=birthday)
    assert caught.value.details == {"birthday": [message]}
    assert Customer.objects.count() == 0


def test_customer_create_takes_a_birthday_as_date_or_iso_text(admin: User) -> None:
    a = services.customer_create(actor=admin, name="张伟", birthday="1988-05-17")
    b = services.customer_create(actor=admin, name="王芳", birthday=date(1990, 1, 2))
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.birthday, b.birthday) == (date(1988, 5, 17), date(1990, 1, 2))


def test_customer_create_with_a_used_member_number_is_a_conflict_and_writes_nothing(admin: User) -> None:
    # given
    services.customer_create(actor=admin, name="张伟", member_no="M001")
    before = state()

    # when
    with pytest.raises(Conflict) as caught:
        services.customer_create(
            actor=admin, name="王芳", member_no=" M001 ", phones=["13900139000"], tags=["新"]
        )

    # then
    assert (caught.value.status, caught.value.code) == (409, "conflict")
    assert caught.value.details == {"member_no": "M001"}
    assert state() == before


def test_customer_create_stores_a_blank_member_number_as_none_so_many_may_lack_one(admin: User) -> None:
    services.customer_create(actor=admin, name="张伟", member_no="")
    services.customer_create(actor=admin, name="王芳", member_no="  ")
    assert list(Customer.objects.values_list("member_no", flat=True)) == [None, None]


def test_customer_create_tags_by_name(admin: User, sales: User) -> None:
    # given
    vip = services.tag_create(actor=admin, name="VIP")

    # when
    customer = services.customer_create(actor=sales, name="张伟", tags=["VIP", " VIP ", ""])

    # then
    assert list(customer.tags.all()) == [vip]


def test_customer_create_with_an_unknown_tag_needs_tag_manage_and_writes_nothing(sales: User) -> None:
    # given
    before = state()

    # when
    with pytest.raises(PermissionDenied) as caught:
        services.customer_create(actor=sales, name="张伟", tags=["新标签"])

    # then
    assert caught.value.details == {"permission": "tag.manage"}
    assert state() == before


def test_customer_create_makes_an_unknown_tag_for_a_user_who_may_manage_tags(manager: User) -> None:
    # when
    customer = services.customer_create(actor=manager, name="张伟", tags=["新标签"])

    # then
    assert list(customer.tags.values_list("name", flat=True)) == ["新标签"]
    assert [e.target_label for e in events("tag.create")] == ["新标签"]


def test_customer_create_refuses_a_tag_name_over_50_characters(manager: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.customer_create(actor=manager, name="张伟", tags=["标" * 51])
    assert caught.value.details == {"tags": ["A tag has at most 50 characters."]}
    assert Tag.objects.count() == 0


def test_customer_create_for_someone_else_needs_customer_assign(
    sales: User, make_user: Callable[..., User], team_a: Team
) -> None:
    # given
    mate = make_user("sales", team=team_a)
    before = state()

    # when
    with pytest.raises(PermissionDenied) as caught:
        services.customer_create(actor=sales, name="张伟", owner=mate)

    # then
    assert caught.value.details == {"permission": "customer.assign"}
    assert state() == before


def test_customer_create_in_another_team_needs_customer_assign(sales: User, team_b: Team) -> None:
    before = state()
    with pytest.raises(PermissionDenied):
        services.customer_create(actor=sales, name="张伟", owner=sales, team=team_b)
    assert state() == before


def test_customer_create_for_someone_else_takes_the_owners_team(
    manager: User, make_user: Callable[..., User], team_b: Team
) -> None:
    # given
    other = make_user("sales", team=team_b)

    # when
    customer = services.customer_create(actor=manager, name="张伟", owner=other)

    # then
    customer.refresh_from_db()
    assert (customer.owner, customer.team) == (other, team_b)


# custom fields on customers


@pytest.fixture
def custom(admin: User) -> dict[str, CustomFieldDefinition]:
    return {
        "fleet": services.custom_field_create(actor=admin, key="fleet", label="车队规模", type="number"),
        "since": services.custom_field_create(actor=admin, key="since", label="合作开始", type="date"),
        "grade": services.custom_field_create(
            actor=admin, key="grade", label="等级", type="choice", choices=["A", "B", "C"]
        ),
        "invoice": services.custom_field_create(actor=admin, key="invoice", label="需要发票", type="boolean"),
        "remark": services.custom_field_create(actor=admin, key="remark", label="备注", type="text"),
        "region": services.custom_field_create(
            actor=admin, key="region", label="区域", type="text", required=True
        ),
    }


def test_customer_create_stores_typed_custom_field_values(
    admin: User, custom: dict[str, CustomFieldDefinition]
) -> None:
    # when
    customer = services.customer_create(
        actor=admin,
        name="华强建材",
        custom_fields={
            "fleet": "1,200",
            "since": "2023-04-01",
            "grade": "B",
            "invoice": "是",
            "remark": "  老客户  ",
            "region": "华南",
        },
    )

    # then
    customer.refresh_from_db()
    assert customer.custom_fields == {
        "fleet": 1200,
        "since": "2023-04-01",
        "grade": "B",
        "invoice": True,
        "remark": "老客户",
        "region": "华南",
    }


@pytest.mark.parametrize(
    ("values", "details"),
    [
        ({"fleet": "many"}, {"custom_fields.fleet": ["Enter a number."]}),
        ({"fleet": True}, {"custom_fields.fleet": ["Enter a number."]}),
        ({"since": "2023-13-01"}, {"custom_fields.since": ["Enter a date as YYYY-MM-DD."]}),
        ({"grade": "D"}, {"custom_fields.grade": ["Choose one of: A, B, C."]}),
        ({"invoice": "maybe"}, {"custom_fields.invoice": ["Enter yes or no."]}),
        ({"remark": "字" * 501}, {"custom_fields.remark": ["Enter at most 500 characters."]}),
        ({"unknown": 1}, {"custom_fields.unknown": ["There is no custom field “unknown”."]}),
        ({"region": ""}, {"custom_fields.region": ["This field is required."]}),
        ({"region": None}, {"custom_fields.region": ["This field is required."]}),
    ],
)
def test_customer_create_refuses_wrong_custom_field_values(
    admin: User, custom: dict[str, CustomFieldDefinition], values: dict[str, Any], details: dict[str, Any]
) -> None:
    # given
    before = state()

    # when
    with pytest.raises(ValidationFailed) as caught:
        services.customer_create(actor=admin, name="华强建材", custom_fields={"region": "华南", **values})

    # then
    assert caught.value.details == details
    assert state() == before


def test_customer_create_requires_a_required_custom_field(
    admin: User, custom: dict[str, CustomFieldDefinition]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.customer_create(actor=admin, name="华强建材")
    assert caught.value.details == {"custom_fields.region": ["This field is required."]}


def test_an_inactive_custom_field_is_neither_required_nor_accepted(
    admin: User, custom: dict[str, CustomFieldDefinition]
) -> None:
    # given
    services.custom_field_update(actor=admin, definition=custom["region"], active=False)

    # then it is not required
    services.customer_create(actor=admin, name="华强建材")
    # and a value for it is refused
    with pytest.raises(ValidationFailed) as caught:
        services.customer_create(actor=admin, name="王芳", custom_fields={"region": "华南"})
    assert caught.value.details == {"custom_fields.region": ["There is no custom field “region”."]}


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1e400"])
def test_customer_create_refuses_a_number_custom_field_that_is_not_finite(
    admin: User, custom: dict[str, CustomFieldDefinition], value: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.customer_create(
            actor=admin, name="华强建材", custom_fields={"region": "华南", "fleet": value}
        )
    assert caught.value.details == {"custom_fields.fleet": ["Enter a number."]}


# customer_update


def test_customer_update_records_each_change_old_to_new_in_one_event_and_one_entry(
    admin: User, zhang: Customer
) -> None:
    # given
    audit_before = AuditEvent.objects.count()

    # when
    services.customer_update(
        actor=admin,
        customer=zhang,
        name="张伟明",
        city="广州",
        stage="customer",
        phones=["139 0000 1111", "138 0013 8000"],
    )

    # then
    changes = {
        "name": ["张伟", "张伟明"],
        "city": ["深圳", "广州"],
        "stage": ["lead", "customer"],
        "phones": [["+8613800138000"], ["+8613900001111", "+8613800138000"]],
    }
    assert AuditEvent.objects.count() == audit_before + 1
    [event] = events("customer.update")
    assert (event.actor, event.target_id, event.changes) == (admin, str(zhang.pk), changes)
    assert list(zhang.timeline.filter(kind="customer.changed").values_list("data", flat=True)) == [
        {"changes": changes}
    ]
    zhang.refresh_from_db()
    assert (zhang.name, zhang.city, zhang.stage) == ("张伟明", "广州", "customer")


def test_customer_update_without_a_change_writes_no_event_and_no_entry(admin: User, zhang: Customer) -> None:
    # given
    before = (AuditEvent.objects.count(), TimelineEntry.objects.count())

    # when the same values are sent again, written differently
    services.customer_update(
        actor=admin, customer=zhang, name=" 张伟 ", city="深圳", phones=["138-0013-8000"], street=""
    )

    # then
    assert (AuditEvent.objects.count(), TimelineEntry.objects.count()) == before


def test_customer_update_leaves_lists_alone_unless_given(admin: User, zhang: Customer) -> None:
    services.customer_update(actor=admin, customer=zhang, city="广州")
    assert list(zhang.phones.values_list("number", flat=True)) == ["+8613800138000"]
    assert list(zhang.emails.values_list("address", flat=True)) == ["zhang.wei@example.com"]


def test_customer_update_with_an_invalid_field_changes_nothing(admin: User, zhang: Customer) -> None:
    # given
    before = state()

    # when
    with pytest.raises(ValidationFailed) as caught:
        services.customer_update(actor=admin, customer=zhang, name="", phones=["abc"], city="广州")

    # then
    assert caught.value.details == {
        "name": ["This field is required."],
        "phones": ["“abc” is not a valid phone number."],
    }
    assert state() == before


def test_customer_update_to_a_used_member_number_is_a_conflict_and_changes_nothing(
    admin: User, zhang: Customer
) -> None:
    # given
    services.customer_create(actor=admin, name="王芳", member_no="M002")
    before = state()

    # when
    with pytest.raises(Conflict):
        services.customer_update(actor=admin, customer=zhang, member_no="M002", city="广州")

    # then
    assert state() == before


def test_customer_update_may_keep_its_own_member_number(admin: User) -> None:
    customer = services.customer_create(actor=admin, name="张伟", member_no="M001")
    services.customer_update(actor=admin, customer=customer, member_no="M001", city="广州")
    customer.refresh_from_db()
    assert (customer.member_no, customer.city) == ("M001", "广州")


def test_customer_update_changes_and_removes_custom_field_values(
    admin: User, custom: dict[str, CustomFieldDefinition]
) -> None:
    # given
    customer = services.customer_create(
        actor=admin, name="华强建材", custom_fields={"region": "华南", "fleet": 12, "grade": "A"}
    )

    # when
    services.customer_update(actor=admin, customer=customer, custom_fields={"fleet": "15", "grade": None})

    # then
    customer.refresh_from_db()
    assert customer.custom_fields == {"region": "华南", "fleet": 15}
    [event] = events("customer.update")
    assert event.changes["custom_fields.fleet"] == [12, 15]


def test_customer_update_records_the_removal_of_a_custom_field_value(
    admin: User, custom: dict[str, CustomFieldDefinition]
) -> None:
    # given
    customer = services.customer_create(
        actor=admin, name="华强建材", custom_fields={"region": "华南", "grade": "A"}
    )

    # when
    services.customer_update(actor=admin, customer=customer, custom_fields={"grade": None})

    # then
    [event] = events("customer.update")
    assert event.changes == {"custom_fields.grade": ["A", None]}
    assert customer.timeline.filter(kind="customer.changed").count() == 1


def test_customer_update_cannot_empty_a_required_custom_field(
    admin: User, custom: dict[str, CustomFieldDefinition]
) -> None:
    customer = services.customer_create(actor=admin, name="华强建材", custom_fields={"region": "华南"})
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.customer_update(actor=admin, customer=customer, custom_fields={"region": ""})
    assert caught.value.details == {"custom_fields.region": ["This field is required."]}
    assert state() == before


def test_customer_update_replaces_tags(admin: User, zhang: Customer) -> None:
    # given
    services.tag_create(actor=admin, name="VIP")
    services.tag_create(actor=admin, name="车队")
    services.customer_update(actor=admin, customer=zhang, tags=["VIP"])

    # when
    services.customer_update(actor=admin, customer=zhang, tags=["车队"])

    # then
    assert list(zhang.tags.values_list("name", flat=True)) == ["车队"]
    assert events("customer.update")[-1].changes == {"tags": [["VIP"], ["车队"]]}


def test_customer_update_of_a_customer_outside_scope_is_not_found(
    make_user: Callable[..., User], zhang: Customer
) -> None:
    # given a sales person who does not own the customer
    other = make_user("sales")
    before = state()

    # when
    with pytest.raises(NotFound):
        services.customer_update(actor=other, customer=zhang, name="改名")

    # then
    assert state() == before


def test_customer_update_works_on_the_stored_row_not_a_stale_instance(admin: User, zhang: Customer) -> None:
    # given a stale copy, read before another change
    stale = Customer.objects.get(pk=zhang.pk)
    services.customer_update(actor=admin, customer=zhang, city="广州")

    # when
    services.customer_update(actor=admin, customer=stale, name="张伟明")

    # then the first change is kept and the second records the true old value
    zhang.refresh_from_db()
    assert (zhang.name, zhang.city) == ("张伟明", "广州")
    assert events("customer.update")[-1].changes == {"name": ["张伟", "张伟明"]}


# customer_assign and customer_tag: bulk actions on a queryset


def test_customer_assign_changes_each_customer_once_and_skips_unchanged(
    manager: User, make_user: Callable[..., User], team_a: Team
) -> None:
    # given three customers, one of them already the new owner's
    mate = make_user("sales", team=team_a)
    a = services.customer_create(actor=manager, name="甲")
    b = services.customer_create(actor=manager, name="乙")
    c = services.customer_create(actor=manager, name="丙", owner=mate)
    audit_before = AuditEvent.objects.count()

    # when
    changed = services.customer_assign(
        actor=manager, customers=Customer.objects.filter(pk__in=[a.pk, b.pk, c.pk]), owner=mate, team=None
    )

    # then
    assert changed == 2
    assert AuditEvent.objects.count() == audit_before + 2
    assignments = events("customer.assign")
    assert sorted(e.target_id for e in assignments) == sorted([str(a.pk), str(b.pk)])
    assert all(e.changes == {"owner": [manager.username, mate.username]} for e in assignments)
    assert set(Customer.objects.values_list("owner", flat=True)) == {mate.pk}
    assert TimelineEntry.objects.filter(kind="customer.changed").count() == 2


def test_customer_assign_needs_customer_assign(
    sales: User, zhang: Customer, make_user: Callable[..., User]
) -> None:
    other = make_user("sales")
    before = state()
    with pytest.raises(PermissionDenied):
        services.customer_assign(
            actor=sales, customers=Customer.objects.filter(pk=zhang.pk), owner=other, team=None
        )
    assert state() == before


def test_customer_assign_to_a_team_only_clears_the_owner(admin: User, zhang: Customer, team_b: Team) -> None:
    changed = services.customer_assign(
        actor=admin, customers=Customer.objects.filter(pk=zhang.pk), owner=None, team=team_b
    )
    zhang.refresh_from_db()
    assert (changed, zhang.owner, zhang.team) == (1, None, team_b)


def test_customer_assign_leaves_customers_outside_the_actors_scope_alone(
    manager: User, make_user: Callable[..., User], team_b: Team
) -> None:
    # given a customer of another team
    stranger = make_user("sales", team=team_b)
    theirs = services.customer_create(actor=stranger, name="外组客户")

    # when the manager's queryset includes it
    services.customer_assign(actor=manager, customers=Customer.objects.all(), owner=manager, team=None)

    # then it keeps its owner
    theirs.refresh_from_db()
    assert theirs.owner == stranger


def test_customer_tag_leaves_customers_outside_the_actors_scope_alone(
    sales: User, make_user: Callable[..., User], admin: User
) -> None:
    stranger = make_user("sales")
    theirs = services.customer_create(actor=stranger, name="别人的客户")
    tag = services.tag_create(actor=admin, name="VIP")
    services.customer_tag(actor=sales, customers=Customer.objects.all(), tag=tag)
    assert list(theirs.tags.all()) == []


def test_customer_tag_adds_a_tag_to_each_untagged_customer_with_one_event_each(
    sales: User, admin: User
) -> None:
    # given three customers, one already tagged
    vip = services.tag_create(actor=admin, name="VIP")
    a = services.customer_create(actor=sales, name="甲")
    b = services.customer_create(actor=sales, name="乙", tags=["VIP"])
    c = services.customer_create(actor=sales, name="丙")
    audit_before = AuditEvent.objects.count()

    # when
    changed = services.customer_tag(actor=sales, customers=selectors.customer_scope(actor=sales), tag=vip)

    # then
    assert changed == 2
    assert AuditEvent.objects.count() == audit_before + 2
    assert sorted(e.target_id for e in events("customer.tag")) == sorted([str(a.pk), str(c.pk)])
    assert all(e.data == {"tag": "VIP"} and e.actor == sales for e in events("customer.tag"))
    assert set(vip.customers.all()) == {a, b, c}
    assert sorted(
        TimelineEntry.objects.filter(kind="customer.tagged").values_list("customer_id", flat=True)
    ) == (sorted([a.pk, c.pk]))


def test_customer_tag_removes_a_tag_from_the_tagged_only(sales: User, admin: User) -> None:
    # given
    vip = services.tag_create(actor=admin, name="VIP")
    a = services.customer_create(actor=sales, name="甲", tags=["VIP"])
    services.customer_create(actor=sales, name="乙")

    # when
    changed = services.customer_tag(
        actor=sales, customers=selectors.customer_scope(actor=sales), tag=vip, add=False
    )

    # then
    assert changed == 1
    assert [e.target_id for e in events("customer.untag")] == [str(a.pk)]
    assert vip.customers.count() == 0
    assert TimelineEntry.objects.filter(kind="customer.untagged").count() == 1


def test_customer_tag_with_nothing_to_change_writes_nothing(sales: User, admin: User) -> None:
    vip = services.tag_create(actor=admin, name="VIP")
    services.customer_create(actor=sales, name="甲", tags=["VIP"])
    before = state()
    assert services.customer_tag(actor=sales, customers=selectors.customer_scope(actor=sales), tag=vip) == 0
    assert state() == before


# customer_delete


def test_customer_delete_removes_everything_and_keeps_a_copy_in_the_audit_log(
    admin: User, company: Customer
) -> None:
    # given a company with a contact, an asset, a consent and a note
    services.contact_create(actor=admin, customer=company, name="李建国")
    services.asset_create(actor=admin, customer=company, kind="site", address="深圳市南山区1号")
    services.consent_record(actor=admin, customer=company, purpose="marketing", granted=True, method="paper")
    services.note_add(actor=admin, customer=company, body="来电咨询")
    pk = company.pk

    # when
    services.customer_delete(actor=admin, customer=company)

    # then
    assert not Customer.objects.filter(pk=pk).exists()
    assert (Contact.objects.count(), Asset.objects.count(), Consent.objects.count()) == (0, 0, 0)
    assert TimelineEntry.objects.filter(customer_id=pk).count() == 0
    [event] = events("customer.delete")
    assert (event.actor, event.target_id, event.target_label) == (admin, str(pk), "华强建材")
    assert event.changes["name"] == ["华强建材", None]
    assert event.changes["kind"] == ["company", None]
    assert event.changes["owner"][1] is None


def test_customer_delete_needs_customer_delete(sales: User, zhang: Customer) -> None:
    before = state()
    with pytest.raises(PermissionDenied):
        services.customer_delete(actor=sales, customer=zhang)
    assert state() == before


def test_customer_delete_outside_scope_is_not_found(
    make_user: Callable[..., User], team_b: Team, zhang: Customer
) -> None:
    other_manager = make_user("manager", team=team_b)
    before = state()
    with pytest.raises(NotFound):
        services.customer_delete(actor=other_manager, customer=zhang)
    assert state() == before


# contacts


def test_contact_create_adds_a_contact_to_a_company(sales: User, company: Customer) -> None:
    # when
    contact = services.contact_create(
        actor=sales,
        customer=company,
        name=" 李建国 ",
        title="采购经理",
        phone="137-1111-2222",
        email="li@Example.com",
        is_primary=True,
    )

    # then
    contact.refresh_from_db()
    assert (contact.name, contact.title, contact.phone, contact.email, contact.is_primary) == (
        "李建国",
        "采购经理",
        "+8613711112222",
        "li@example.com",
        True,
    )
    [event] = events("contact.create")
    assert event.data == {"customer": company.pk}
    assert event.changes["phone"] == [None, "+8613711112222"]
    assert company.timeline.filter(kind="contact.added").get().data == {"name": "李建国"}


def test_contact_create_on_a_person_is_refused(sales: User, zhang: Customer) -> None:
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.contact_create(actor=sales, customer=zhang, name="李建国")
    assert caught.value.details == {"customer": ["Contacts belong to company customers."]}
    assert state() == before


def test_contact_create_collects_every_error(sales: User, company: Customer) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.contact_create(
            actor=sales, customer=company, name="", phone="12", email="nope", title="职" * 101, fax="1"
        )
    assert caught.value.details == {
        "fax": ["Unknown field."],
        "title": ["Enter at most 100 characters."],
        "name": ["This field is required."],
        "phone": ["“12” is not a valid phone number."],
        "email": ["“nope” is not a valid email address."],
    }
    assert Contact.objects.count() == 0


def test_only_one_contact_is_primary(sales: User, company: Customer) -> None:
    # given
    first = services.contact_create(actor=sales, customer=company, name="李建国", is_primary=True)
    second = services.contact_create(actor=sales, customer=company, name="赵敏")

    # when
    services.contact_update(actor=sales, contact=second, is_primary=True)

    # then
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)


def test_contact_update_records_changes_and_skips_no_change(sales: User, company: Customer) -> None:
    # given
    contact = services.contact_create(actor=sales, customer=company, name="李建国", title="采购")

    # when
    services.contact_update(actor=sales, contact=contact, title="采购经理", name="李建国")
    services.contact_update(actor=sales, contact=contact, title="采购经理")

    # then
    [event] = events("contact.update")
    assert event.changes == {"title": ["采购", "采购经理"]}
    assert company.timeline.filter(kind="contact.changed").count() == 1


def test_contact_delete_records_and_removes(sales: User, company: Customer) -> None:
    contact = services.contact_create(actor=sales, customer=company, name="李建国")
    services.contact_delete(actor=sales, contact=contact)
    assert Contact.objects.count() == 0
    assert [(e.target_label, e.data) for e in events("contact.delete")] == [
        ("李建国", {"customer": company.pk})
    ]
    assert company.timeline.filter(kind="contact.removed").count() == 1


def test_contact_services_outside_scope_are_not_found(
    admin: User, company: Customer, make_user: Callable[..., User]
) -> None:
    contact = services.contact_create(actor=admin, customer=company, name="李建国")
    other = make_user("sales")
    before = state()
    for call in (
        lambda: services.contact_create(actor=other, customer=company, name="赵敏"),
        lambda: services.contact_update(actor=other, contact=contact, name="赵敏"),
        lambda: services.contact_delete(actor=other, contact=contact),
    ):
        with pytest.raises(NotFound):
            call()
    assert state() == before


# assets


def test_asset_create_normalises_plate_and_vin(sales: User, zhang: Customer) -> None:
    # when
    asset = services.asset_create(
        actor=sales,
        customer=zhang,
        plate="粤b·12345",
        vin="lsvau2180n2183294",
        mileage_km="12,000",
        model="朗逸",
    )

    # then
    asset.refresh_from_db()
    assert (asset.kind, asset.plate, asset.vin, asset.mileage_km, asset.model) == (
        "vehicle",
        "粤B12345",
        "LSVAU2180N2183294",
        12000,
        "朗逸",
    )
    assert str(asset) == "粤B12345"
    assert [e.data for e in events("asset.create")] == [{"customer": zhang.pk}]
    assert zhang.timeline.filter(kind="asset.added").get().data == {"asset": "粤B12345", "kind": "vehicle"}


@pytest.mark.parametrize(
    ("fields", "details"),
    [
        ({"plate": "粤"}, {"plate": ["Enter a licence plate such as 粤B12345."]}),
        ({"plate": "粤B123456789"}, {"plate": ["Enter a licence plate such as 粤B12345."]}),
        ({"vin": "LSVAU2180N218329"}, {"vin": ["A VIN has 17 letters and digits, without I, O and Q."]}),
        ({"vin": "LSVAU2180N218329O"}, {"vin": ["A VIN has 17 letters and digits, without I, O and Q."]}),
        ({"plate": "粤B12345", "mileage_km": "-5"}, {"mileage_km": ["Enter a whole number of kilometres."]}),
        ({"plate": "粤B12345", "mileage_km": "far"}, {"mileage_km": ["Enter a whole number of kilometres."]}),
        ({}, {"plate": ["A vehicle needs a licence plate or a VIN."]}),
        ({"plate": "粤B12345", "colour": "red"}, {"colour": ["Unknown field."]}),
        (
            {"plate": "粤B12345", "site_stage": "roof"},
            {"site_stage": ["“roof” is not one of the allowed values."]},
        ),
    ],
)
def test_asset_create_refuses_wrong_vehicle_data(
    sales: User, zhang: Customer, fields: dict[str, Any], details: dict[str, Any]
) -> None:
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.asset_create(actor=sales, customer=zhang, **fields)
    assert caught.value.details == details
    assert state() == before


def test_asset_create_of_a_site_needs_an_address(sales: User, company: Customer) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.asset_create(actor=sales, customer=company, kind="site")
    assert caught.value.details == {"address": ["A building site needs an address."]}
    site = services.asset_create(
        actor=sales, customer=company, kind="site", address="深圳市南山区1号", site_stage="foundation"
    )
    assert (site.kind, site.address, site.site_stage, site.plate) == (
        "site",
        "深圳市南山区1号",
        "foundation",
        "",
    )


def test_asset_create_refuses_an_unknown_kind(sales: User, zhang: Customer) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.asset_create(actor=sales, customer=zhang, kind="boat", name="船")
    assert caught.value.details == {"kind": ["“boat” is not one of the allowed values."]}


def test_asset_create_refuses_a_mileage_no_vehicle_has(sales: User, zhang: Customer) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.asset_create(actor=sales, customer=zhang, plate="粤B12345", mileage_km=10**10)
    assert list(caught.value.details) == ["mileage_km"]


def test_asset_update_records_changes(sales: User, zhang: Customer) -> None:
    # given
    asset = services.asset_create(actor=sales, customer=zhang, plate="粤B12345", mileage_km=1000)

    # when
    services.asset_update(actor=sales, asset=asset, mileage_km=2500, plate="粤B12345")

    # then
    asset.refresh_from_db()
    assert asset.mileage_km == 2500
    [event] = events("asset.update")
    assert event.changes == {"mileage_km": [1000, 2500]}
    assert zhang.timeline.filter(kind="asset.changed").count() == 1


def test_asset_update_may_clear_the_plate_of_a_vehicle_with_a_vin(sales: User, zhang: Customer) -> None:
    asset = services.asset_create(actor=sales, customer=zhang, plate="粤B12345", vin="LSVAU2180N2183294")
    services.asset_update(actor=sales, asset=asset, plate="")
    asset.refresh_from_db()
    assert (asset.plate, asset.vin) == ("", "LSVAU2180N2183294")


def test_asset_delete_records_and_removes(sales: User, zhang: Customer) -> None:
    asset = services.asset_create(actor=sales, customer=zhang, plate="粤B12345")
    services.asset_delete(actor=sales, asset=asset)
    assert Asset.objects.count() == 0
    assert [(e.target_label, e.data) for e in events("asset.delete")] == [
        ("粤B12345", {"customer": zhang.pk})
    ]
    assert zhang.timeline.filter(kind="asset.removed").get().data == {"asset": "粤B12345"}


def test_asset_services_outside_scope_are_not_found(
    admin: User, zhang: Customer, make_user: Callable[..., User]
) -> None:
    asset = services.asset_create(actor=admin, customer=zhang, plate="粤B12345")
    other = make_user("sales")
    before = state()
    for call in (
        lambda: services.asset_create(actor=other, customer=zhang, plate="粤B54321"),
        lambda: services.asset_update(actor=other, asset=asset, plate="粤B54321"),
        lambda: services.asset_delete(actor=other, asset=asset),
    ):
        with pytest.raises(NotFound):
            call()
    assert state() == before


# consent and notes


def test_consent_record_keeps_history_and_the_newest_is_in_force(sales: User, zhang: Customer) -> None:
    # given a grant two days ago, then a withdrawal by SMS reply today
    now = timezone.now()
    grant = services.consent_record(
        actor=sales,
        customer=zhang,
        purpose="marketing",
        channel="sms",
        granted=True,
        method="paper",
        recorded_at=now - timedelta(days=2),
        note="门店登记表",
    )
    withdrawal = services.consent_record(
        actor=sales, customer=zhang, purpose="marketing", channel="sms", granted=False, method="sms"
    )
    # and a back-dated record entered last, which must not override the newer decision
    services.consent_record(
        actor=sales,
        customer=zhang,
        purpose="marketing",
        channel="sms",
        granted=True,
        method="import",
        recorded_at=now - timedelta(days=30),
    )

    # when
    rows = selectors.consent_current(actor=sales, customer=zhang)

    # then
    in_force = {(r["purpose"], r["channel"]): r["record"] for r in rows}
    assert in_force[("marketing", "sms")] == withdrawal
    assert in_force[("marketing", "email")] is None
    assert len(rows) == len(Consent.Purpose.choices) * len(Consent.Channel.choices)
    history = list(selectors.consent_history(actor=sales, customer=zhang))
    assert history[0] == withdrawal and history[1] == grant and len(history) == 3
    assert grant.recorded_by == sales and grant.note == "门店登记表"
    assert [e.data for e in events("consent.record")][1] == {
        "purpose": "marketing",
        "channel": "sms",
        "granted": False,
        "method": "sms",
    }
    assert zhang.timeline.filter(kind="consent.recorded").count() == 3


def test_consent_record_refuses_wrong_values_and_the_future(sales: User, zhang: Customer) -> None:
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.consent_record(
            actor=sales,
            customer=zhang,
            purpose="spam",
            channel="fax",
            granted=True,
            method="telepathy",
            recorded_at=timezone.now() + timedelta(days=1),
            note="字" * 301,
        )
    assert caught.value.details == {
        "purpose": ["“spam” is not one of the allowed values."],
        "channel": ["“fax” is not one of the allowed values."],
        "method": ["“telepathy” is not one of the allowed values."],
        "recorded_at": ["Consent cannot be recorded in the future."],
        "note": ["Enter at most 300 characters."],
    }
    assert state() == before


def test_note_add_puts_the_note_on_the_timeline(sales: User, zhang: Customer) -> None:
    services.note_add(actor=sales, customer=zhang, body="  客户来电询问保养套餐  ")
    assert zhang.timeline.filter(kind="note").get().data == {"body": "客户来电询问保养套餐"}
    assert [e.data for e in events("customer.note")] == [{"length": 10}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("字" * 5001, "Enter at most 5000 characters."),
    ],
)
def test_note_add_refuses_an_empty_or_huge_note(
    sales: User, zhang: Customer, body: str, message: str
) -> None:
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.note_add(actor=sales, customer=zhang, body=body)
    assert caught.value.details == {"body": [message]}
    assert state() == before


# tags and custom field definitions


def test_tag_create_update_delete(admin: User, zhang: Customer) -> None:
    # create
    tag = services.tag_create(actor=admin, name=" VIP ", color="#ff0000")
    assert (tag.name, tag.color) == ("VIP", "#ff0000")
    assert events("tag.create")[0].changes == {"name": [None, "VIP"], "color": [None, "#ff0000"]}

    # update
    services.tag_update(actor=admin, tag=tag, name="大客户", color="#ff0000")
    tag.refresh_from_db()
    assert tag.name == "大客户"
    assert events("tag.update")[0].changes == {"name": ["VIP", "大客户"]}

    # delete: it leaves the customers that had it
    services.customer_update(actor=admin, customer=zhang, tags=["大客户"])
    services.tag_delete(actor=admin, tag=tag)
    assert Tag.objects.count() == 0
    assert list(zhang.tags.all()) == []
    assert events("tag.delete")[0].data == {"customers": 1}


def test_tag_create_refuses_a_duplicate_and_bad_values(admin: User) -> None:
    services.tag_create(actor=admin, name="VIP")
    before = state()
    with pytest.raises(Conflict) as conflict:
        services.tag_create(actor=admin, name="VIP")
    assert conflict.value.details == {"name": "VIP"}
    with pytest.raises(ValidationFailed) as invalid:
        services.tag_create(actor=admin, name="", color="red")
    assert invalid.value.details == {
        "name": ["This field is required."],
        "color": ["Enter a colour such as #2563eb."],
    }
    with pytest.raises(ValidationFailed) as long:
        services.tag_create(actor=admin, name="标" * 51)
    assert long.value.details == {"name": ["Enter at most 50 characters."]}
    assert state() == before


def test_tag_update_to_another_tags_name_is_a_conflict(admin: User) -> None:
    services.tag_create(actor=admin, name="VIP")
    other = services.tag_create(actor=admin, name="车队")
    before = state()
    with pytest.raises(Conflict):
        services.tag_update(actor=admin, tag=other, name="VIP", color="#2563eb")
    assert state() == before


def test_custom_field_create_makes_a_key_from_the_given_one_or_a_numbered_one(admin: User) -> None:
    a = services.custom_field_create(actor=admin, key="Car Model", label="车型", type="text")
    b = services.custom_field_create(actor=admin, key="客户等级", label="客户等级", type="text")
    assert (a.key, b.key) == ("car_model", "field_2")
    assert events("customfield.create")[0].changes == {
        "key": [None, "car_model"],
        "label": [None, "车型"],
        "type": [None, "text"],
    }


def test_custom_field_create_without_a_key_never_conflicts(admin: User) -> None:
    services.custom_field_create(actor=admin, key="field_2", label="甲", type="text")
    services.custom_field_create(actor=admin, label="乙", type="text")


def test_custom_field_create_refuses_bad_definitions(admin: User) -> None:
    services.custom_field_create(actor=admin, key="fleet", label="车队规模", type="number")
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.custom_field_create(actor=admin, label="", type="colour", size=3)
    assert caught.value.details == {
        "size": ["Unknown field."],
        "label": ["This field is required."],
        "type": ["“colour” is not one of the allowed values."],
    }
    with pytest.raises(ValidationFailed) as choice:
        services.custom_field_create(actor=admin, label="等级", type="choice", choices=[" ", ""])
    assert choice.value.details == {"choices": ["A choice field needs at least one choice."]}
    with pytest.raises(Conflict):
        services.custom_field_create(actor=admin, key="fleet", label="车队", type="number")
    assert state() == before


def test_custom_field_create_reads_choices_from_text(admin: User) -> None:
    field = services.custom_field_create(actor=admin, label="等级", type="choice", choices="A，B, C\nA")
    assert field.choices == ["A", "B", "C"]


def test_custom_field_update_records_changes(admin: User) -> None:
    field = services.custom_field_create(actor=admin, key="fleet", label="车队规模", type="number")
    services.custom_field_update(actor=admin, definition=field, label="车队数量", required=True, position="3")
    field.refresh_from_db()
    assert (field.label, field.required, field.position, field.key) == ("车队数量", True, 3, "fleet")
    assert events("customfield.update")[0].changes == {
        "label": ["车队规模", "车队数量"],
        "required": [False, True],
        "position": [0, 3],
    }


# The role table decides every write: each role may do what ROLES grants, and nothing else.


ACTIONS: dict[str, tuple[str, Callable[[User, dict[str, Any]], Any]]] = {
    "customer_create": ("customer.create", lambda a, c: services.customer_create(actor=a, name="新客户")),
    "customer_update": (
        "customer.change",
        lambda a, c: services.customer_update(actor=a, customer=c["customer"], name="改名"),
    ),
    "contact_create": (
        "customer.change",
        lambda a, c: services.contact_create(actor=a, customer=c["customer"], name="赵敏"),
    ),
    "contact_update": (
        "customer.change",
        lambda a, c: services.contact_update(actor=a, contact=c["contact"], title="经理"),
    ),
    "contact_delete": (
        "customer.change",
        lambda a, c: services.contact_delete(actor=a, contact=c["contact"]),
    ),
    "asset_create": (
        "customer.change",
        lambda a, c: services.asset_create(actor=a, customer=c["customer"], kind="site", address="深圳1号"),
    ),
    "asset_update": (
        "customer.change",
        lambda a, c: services.asset_update(actor=a, asset=c["asset"], name="工地"),
    ),
    "asset_delete": ("customer.change", lambda a, c: services.asset_delete(actor=a, asset=c["asset"])),
    "customer_delete": (
        "customer.delete",
        lambda a, c: services.customer_delete(actor=a, customer=c["customer"]),
    ),
    "customer_assign": (
        "customer.assign",
        lambda a, c: services.customer_assign(
            actor=a, customers=Customer.objects.filter(pk=c["customer"].pk), owner=c["mate"], team=None
        ),
    ),
    "note_add": (
        "customer.note",
        lambda a, c: services.note_add(actor=a, customer=c["customer"], body="备注"),
    ),
    "consent_record": (
        "consent.change",
        lambda a, c: services.consent_record(
            actor=a, customer=c["customer"], purpose="marketing", granted=True, method="verbal"
        ),
    ),
    "customer_tag": (
        "tag.apply",
        lambda a, c: services.customer_tag(
            actor=a, customers=Customer.objects.filter(pk=c["customer"].pk), tag=c["tag"]
        ),
    ),
    "tag_create": ("tag.manage", lambda a, c: services.tag_create(actor=a, name="新标签")),
    "tag_update": (
        "tag.manage",
        lambda a, c: services.tag_update(actor=a, tag=c["tag"], name="改", color="#000000"),
    ),
    "tag_delete": ("tag.manage", lambda a, c: services.tag_delete(actor=a, tag=c["tag"])),
    "custom_field_create": (
        "customfield.manage",
        lambda a, c: services.custom_field_create(actor=a, key="k", label="字段", type="text"),
    ),
    "custom_field_update": (
        "customfield.manage",
        lambda a, c: services.custom_field_update(actor=a, definition=c["field"], label="新名"),
    ),
}


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_role_may_do_what_the_role_table_grants_and_nothing_else(
    admin: User, make_user: Callable[..., User], team_a: Team, role: str, action: str
) -> None:
    # given a company the actor owns in its team (so every role's scope includes it), with a contact,
    # an asset, a tag and a custom field
    actor = make_user(role, team=team_a)
    customer = services.customer_create(
        actor=admin, name="华强建材", kind="company", owner=actor, team=team_a
    )
    ctx = {
        "customer": customer,
        "contact": services.contact_create(actor=admin, customer=customer, name="李建国"),
        "asset": services.asset_create(actor=admin, customer=customer, kind="site", address="深圳南山1号"),
        "tag": services.tag_create(actor=admin, name="VIP"),
        "field": services.custom_field_create(actor=admin, key="fleet", label="车队规模", type="number"),
        "mate": make_user("sales", team=team_a),
    }
    perm, call = ACTIONS[action]
    before = state()

    # when / then
    if perm in ROLES[role]["perms"]:
        call(actor, ctx)
        assert AuditEvent.objects.count() > before["counts"]["audit.AuditEvent"]
        assert AuditEvent.objects.latest("id").actor == actor
    else:
        with pytest.raises(PermissionDenied) as caught:
            call(actor, ctx)
        assert caught.value.details == {"permission": perm}
        assert state() == before


def test_an_inactive_user_may_not_write(make_user: Callable[..., User]) -> None:
    admin = make_user("admin")
    admin.is_active = False
    with pytest.raises(PermissionDenied):
        services.customer_create(actor=admin, name="张伟")
    assert Customer.objects.count() == 0


# Where a write came from


def test_audit_events_carry_the_origin_of_the_write(admin: User, zhang: Customer) -> None:
    # when
    with origin("cli", ip="10.1.2.3", user_agent="guanxi import"):
        services.customer_update(actor=admin, customer=zhang, city="广州")
        services.note_add(actor=admin, customer=zhang, body="备注")
    services.customer_update(actor=admin, customer=zhang, city="深圳")

    # then
    rows = list(
        AuditEvent.objects.filter(action__in=["customer.update", "customer.note"])
        .order_by("id")
        .values_list("action", "via", "ip", "user_agent")
    )
    assert rows == [
        ("customer.update", "cli", "10.1.2.3", "guanxi import"),
        ("customer.note", "cli", "10.1.2.3", "guanxi import"),
        ("customer.update", "system", None, ""),
    ]


def test_bulk_audit_events_carry_the_origin_too(admin: User, zhang: Customer) -> None:
    tag = services.tag_create(actor=admin, name="VIP")
    with origin("api", ip="::1"):
        services.customer_tag(actor=admin, customers=Customer.objects.filter(pk=zhang.pk), tag=tag)
    [event] = events("customer.tag")
    assert (event.via, event.ip) == ("api", "::1")
