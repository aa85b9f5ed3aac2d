"""Customer reads: the scope of each role, masking of personal data, filters and query counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.customers import selectors, services
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.users.models import Team, User


@pytest.fixture
def world(admin: User, make_user: Callable[..., User], team_a: Team, team_b: Team) -> dict[str, Any]:
    """One user of each role in team A; customers owned by each of them, by a team mate and by team B."""
    users = {
        role: make_user(role, team=team_a) for role in ("manager", "sales", "service", "marketing", "viewer")
    }
    users["admin"] = admin
    mate = make_user("sales", team=team_a)
    stranger = make_user("sales", team=team_b)
    own = {
        role: services.customer_create(actor=admin, name=f"{role}的客户", owner=user, team=team_a)
        for role, user in users.items()
    }
    # the manager also owns a customer kept in team B: a manager sees their own wherever they are
    own_elsewhere = services.customer_create(
        actor=admin, name="经理在B组的客户", owner=users["manager"], team=team_b
    )
    mates = services.customer_create(actor=admin, name="同组客户", owner=mate, team=team_a)
    strangers = services.customer_create(actor=admin, name="B组客户", owner=stranger, team=team_b)
    return {"users": users, "own": own, "own_elsewhere": own_elsewhere, "mate": mates, "stranger": strangers}


TEAM_A = {
    "admin的客户",
    "manager的客户",
    "sales的客户",
    "service的客户",
    "marketing的客户",
    "viewer的客户",
    "同组客户",
}
EVERYONE = TEAM_A | {"经理在B组的客户", "B组客户"}


@pytest.mark.parametrize(
    ("role", "names"),
    [
        ("admin", EVERYONE),
        ("manager", TEAM_A | {"经理在B组的客户"}),
        ("sales", {"sales的客户"}),
        ("service", TEAM_A),
        ("marketing", EVERYONE),
        ("viewer", TEAM_A),
    ],
)
def test_customer_list_shows_the_scope_of_the_role(world: dict[str, Any], role: str, names: set[str]) -> None:
    # when
    result = selectors.customer_list(actor=world["users"][role])

    # then
    assert {c.name for c in result} == names


@pytest.mark.parametrize(
    ("role", "outside"),
    [("manager", "stranger"), ("sales", "mate"), ("service", "stranger"), ("viewer", "stranger")],
)
def test_customer_get_outside_scope_is_not_found(world: dict[str, Any], role: str, outside: str) -> None:
    with pytest.raises(NotFound) as caught:
        selectors.customer_get(actor=world["users"][role], customer_id=world[outside].pk)
    assert caught.value.status == 404


@pytest.mark.parametrize("customer_id", [0, -1, 10**6, 2**63, "abc", None])
def test_customer_get_of_a_missing_or_malformed_id_is_not_found(admin: User, customer_id: Any) -> None:
    with pytest.raises(NotFound):
        selectors.customer_get(actor=admin, customer_id=customer_id)


def test_reading_customers_needs_customer_view(make_user: Callable[..., User]) -> None:
    # given a user whose role grants nothing (e.g. a role removed in a later version)
    user = make_user("viewer")
    user.role = "retired"

    # then
    with pytest.raises(PermissionDenied):
        selectors.customer_list(actor=user)
    with pytest.raises(PermissionDenied):
        selectors.customer_scope(actor=user)


def test_an_inactive_user_reads_nothing(admin: User, make_customer: Any) -> None:
    make_customer(admin)
    admin.is_active = False
    with pytest.raises(PermissionDenied):
        selectors.customer_list(actor=admin)


# Personal data: in clear for roles that may see it, masked for the others.


@pytest.fixture
def zhang(admin: User, team_a: Team) -> Customer:
    customer = services.customer_create(
        actor=admin,
        name="张伟",
        kind="company",
        phones=["138 0013 8000"],
        emails=["zhang.wei@example.com"],
        wechat_id="wxid_abc123",
        province="广东省",
        city="深圳市",
        district="福田区",
        street="深南大道1号",
        birthday="1988-05-17",
        team=team_a,
    )
    services.contact_create(
        actor=admin,
        customer=customer,
        name="李建国",
        phone="13711112222",
        email="li@example.com",
        wechat_id="li_wx",
    )
    return customer


CLEAR = {
    "phone.value": "+8613800138000",
    "phone.display": "138 0013 8000",
    "email": "zhang.wei@example.com",
    "wechat": "wxid_abc123",
    "street": "深南大道1号",
    "address": "广东省深圳市福田区深南大道1号",
    "birthday": "1988-05-17",
    "contact.phone": "137 1111 2222",
    "contact.value_phone": "+8613711112222",
    "contact.email": "li@example.com",
    "contact.wechat": "li_wx",
}
MASKED = {
    "phone.value": "138****8000",
    "phone.display": "138****8000",
    "email": "z***@example.com",
    "wechat": "w***",
    "street": "深***",
    "address": "广东省深圳市福田区深***",
    "birthday": "****-05-17",
    "contact.phone": "137****2222",
    "contact.value_phone": "137****2222",
    "contact.email": "l***@example.com",
    "contact.wechat": "l***",
}


def shown(customer: Customer) -> dict[str, str]:
    phone = customer.phones.all()[0]
    contact = customer.contacts.all()[0]
    return {
        "phone.value": phone.value,
        "phone.display": phone.display,
        "email": customer.emails.all()[0].display,
        "wechat": customer.display_wechat_id,
        "street": customer.display_street,
        "address": customer.address,
        "birthday": customer.display_birthday,
        "contact.phone": contact.display_phone,
        "contact.value_phone": contact.value_phone,
        "contact.email": contact.display_email,
        "contact.wechat": contact.display_wechat_id,
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", CLEAR),
        ("manager", CLEAR),
        ("sales", CLEAR),
        ("service", CLEAR),
        ("marketing", MASKED),
        ("viewer", MASKED),
    ],
)
def test_personal_data_is_clear_or_masked_by_role(
    zhang: Customer,
    make_user: Callable[..., User],
    team_a: Team,
    admin: User,
    role: str,
    expected: dict[str, str],
) -> None:
    # given a reader who can see the customer (sales only sees their own)
    reader = make_user(role, team=team_a)
    if role == "sales":
        services.customer_assign(
            actor=admin, customers=Customer.objects.filter(pk=zhang.pk), owner=reader, team=None
        )

    # when read through the detail selector and the list selector
    detail = selectors.customer_get(actor=reader, customer_id=zhang.pk)
    listed = selectors.customer_list(actor=reader).get(pk=zhang.pk)
    contact = selectors.contact_get(actor=reader, contact_id=zhang.contacts.get().pk)

    # then
    assert shown(detail) == expected
    assert listed.phones.all()[0].display == expected["phone.display"]
    assert listed.emails.all()[0].display == expected["email"]
    assert contact.display_phone == expected["contact.phone"]
    assert [c.display_email for c in selectors.contact_list(actor=reader, customer=zhang)] == [
        expected["contact.email"]
    ]


def test_rows_read_without_a_selector_are_masked(zhang: Customer) -> None:
    # a model instance read directly has no pii_clear mark, so it shows the safe form
    customer = Customer.objects.get(pk=zhang.pk)
    assert customer.phones.get().display == "138****8000"
    assert customer.display_street == "深***"


# Filters and sorting


def test_customer_list_filters(admin: User, make_user: Callable[..., User], team_b: Team) -> None:
    # given
    other = make_user("sales", team=team_b)
    vip = services.tag_create(actor=admin, name="VIP")
    services.custom_field_create(actor=admin, key="grade", label="等级", type="choice", choices=["A", "B"])
    a = services.customer_create(
        actor=admin,
        name="甲",
        stage="customer",
        source="referral",
        city="深圳",
        tags=["VIP"],
        custom_fields={"grade": "A"},
    )
    b = services.customer_create(actor=admin, name="乙", kind="company", city="广州", owner=other)
    c = services.customer_create(actor=admin, name="丙", stage="customer", custom_fields={"grade": "B"})

    def names(**filters: Any) -> list[str]:
        return [x.name for x in selectors.customer_list(actor=admin, **filters)]

    # then
    assert names() == ["丙", "乙", "甲"]
    assert names(stage="customer") == ["丙", "甲"]
    assert names(tag=vip.pk) == ["甲"]
    assert names(owner=other.pk) == ["乙"]
    assert names(team=team_b.pk) == ["乙"]
    assert names(source="referral") == ["甲"]
    assert names(city="深圳") == ["甲"]
    assert names(kind="company") == ["乙"]
    assert names(kind="person") == ["丙", "甲"]
    assert names(custom={"grade": "B"}) == ["丙"]
    assert names(custom={"grade": ""}) == ["丙", "乙", "甲"]
    assert names(stage="customer", custom={"grade": "A"}) == ["甲"]
    assert names(sort="oldest") == ["甲", "乙", "丙"]
    assert names(sort="name") == sorted(["甲", "乙", "丙"])
    assert names(sort="no-such-sort") == ["丙", "乙", "甲"]
    assert names(stage="no-such-stage") == []
    assert {a, b, c} == set(selectors.customer_list(actor=admin))


def test_customer_cities_lists_the_cities_in_scope(admin: User, make_user: Callable[..., User]) -> None:
    sales = make_user("sales")
    services.customer_create(actor=sales, name="甲", city="深圳")
    services.customer_create(actor=sales, name="乙", city="深圳")
    services.customer_create(actor=admin, name="丙", city="广州")
    services.customer_create(actor=admin, name="丁")
    assert selectors.customer_cities(actor=sales) == ["深圳"]
    assert selectors.customer_cities(actor=admin) == ["广州", "深圳"]


def test_contact_and_asset_reads_outside_scope_are_not_found(
    admin: User, make_user: Callable[..., User]
) -> None:
    # given
    company = services.customer_create(actor=admin, name="华强建材", kind="company")
    contact = services.contact_create(actor=admin, customer=company, name="李建国")
    asset = services.asset_create(actor=admin, customer=company, plate="粤B12345")
    sales = make_user("sales")

    # then
    assert selectors.contact_get(actor=admin, contact_id=contact.pk) == contact
    assert selectors.asset_get(actor=admin, asset_id=asset.pk) == asset
    with pytest.raises(NotFound):
        selectors.contact_get(actor=sales, contact_id=contact.pk)
    with pytest.raises(NotFound):
        selectors.asset_get(actor=sales, asset_id=asset.pk)
    assert list(selectors.contact_list(actor=sales, customer=company)) == []
    assert list(selectors.asset_list(actor=sales, customer=company)) == []
    with pytest.raises(NotFound):
        selectors.contact_get(actor=admin, contact_id=10**6)
    with pytest.raises(NotFound):
        selectors.asset_get(actor=admin, asset_id=10**6)


def test_tag_and_custom_field_reads(admin: User) -> None:
    vip = services.tag_create(actor=admin, name="VIP")
    fleet = services.custom_field_create(actor=admin, key="fleet", label="车队", type="number", position=2)
    old = services.custom_field_create(actor=admin, key="old", label="旧", type="text", position=1)
    services.custom_field_update(actor=admin, definition=old, active=False)
    assert list(selectors.tag_list(actor=admin)) == [vip]
    assert selectors.tag_get(actor=admin, tag_id=vip.pk) == vip
    assert list(selectors.custom_field_list(actor=admin)) == [fleet]
    assert list(selectors.custom_field_list(actor=admin, include_inactive=True)) == [old, fleet]
    assert selectors.custom_field_get(actor=admin, field_id=old.pk) == old
    with pytest.raises(NotFound):
        selectors.tag_get(actor=admin, tag_id=10**6)
    with pytest.raises(NotFound):
        selectors.custom_field_get(actor=admin, field_id=10**6)


def test_tag_counts_count_only_the_customers_in_scope(
    admin: User, make_user: Callable[..., User], team_b: Team
) -> None:
    manager = make_user("manager")
    services.tag_create(actor=admin, name="VIP")
    services.customer_create(actor=manager, name="甲", tags=["VIP"])
    services.customer_create(actor=admin, name="乙", tags=["VIP"], owner=make_user("sales", team=team_b))
    assert [(t.name, t.customer_count) for t in selectors.tag_list_with_counts(actor=manager)] == [("VIP", 1)]
    assert [(t.name, t.customer_count) for t in selectors.tag_list_with_counts(actor=admin)] == [("VIP", 2)]
    with pytest.raises(PermissionDenied):
        selectors.tag_list_with_counts(actor=make_user("viewer"))


def test_stage_counts_cover_every_stage_in_scope(admin: User, make_user: Callable[..., User]) -> None:
    sales = make_user("sales")
    services.customer_create(actor=sales, name="甲", stage="customer")
    services.customer_create(actor=admin, name="乙", stage="loyal")
    counts = selectors.customer_stage_counts(actor=sales)
    assert counts == dict.fromkeys(Customer.Stage.values, 0) | {"customer": 1}
    assert sum(selectors.customer_stage_counts(actor=admin).values()) == 2


# Timeline and consent


def test_customer_timeline_is_newest_first_and_pages_on(admin: User) -> None:
    # given a customer with a creation entry and three notes
    customer = services.customer_create(actor=admin, name="张伟")
    for n in range(3):
        services.note_add(actor=admin, customer=customer, body=f"备注{n}")

    # when
    first = selectors.customer_timeline(actor=admin, customer=customer, limit=2)
    rest = selectors.customer_timeline(actor=admin, customer=customer, limit=2, before_id=first[-1].pk)

    # then
    assert [e.data.get("body", e.kind) for e in first] == ["备注2", "备注1"]
    assert [e.data.get("body", e.kind) for e in rest] == ["备注0", "customer.created"]


def test_customer_timeline_pages_by_time_when_entries_are_back_dated(admin: User) -> None:
    # given an entry imported later but dated earlier than the notes
    customer = services.customer_create(actor=admin, name="张伟")
    services.note_add(actor=admin, customer=customer, body="新")
    old = services.timeline_add(customer=customer, kind="order.imported", actor=admin)
    TimelineEntry.objects.filter(pk=old.pk).update(occurred_at=timezone.now() - timedelta(days=365))

    # when
    first = selectors.customer_timeline(actor=admin, customer=customer, limit=1)
    second = selectors.customer_timeline(actor=admin, customer=customer, limit=1, before_id=first[0].pk)
    third = selectors.customer_timeline(actor=admin, customer=customer, limit=1, before_id=second[0].pk)

    # then every entry comes once, in time order
    assert [e.kind for e in first + second + third] == ["note", "customer.created", "order.imported"]


# Query counts: a list or a detail costs the same whatever its size.


def _fill(actor: User, n: int) -> None:
    for i in range(n):
        services.customer_create(
            actor=actor,
            name=f"客户{i}",
            phones=[f"1380013{i:04d}", f"1390013{i:04d}"],
            emails=[f"c{i}@example.com"],
            tags=["VIP", "车队"],
        )


def _read_list(actor: User) -> list[tuple[Any, ...]]:
    return [
        (
            c.name,
            [p.display for p in c.phones.all()],
            [e.display for e in c.emails.all()],
            [t.name for t in c.tags.all()],
            c.owner.username if c.owner else None,
            c.team.name if c.team else None,
        )
        for c in selectors.customer_list(actor=actor)
    ]


@pytest.mark.parametrize("n", [3, 30])
def test_customer_list_costs_four_queries_whatever_its_length(
    admin: User, make_user: Callable[..., User], n: int, django_assert_num_queries: Any
) -> None:
    # given n customers with two phones, an email and two tags each, read by a masked and a clear role
    _fill(admin, n)
    viewer = make_user("viewer")

    # when / then: customers (with owner and team), phones, emails, tags
    with django_assert_num_queries(4):
        rows = _read_list(admin)
    assert len(rows) == n
    with django_assert_num_queries(4):
        masked = _read_list(viewer)
    assert masked[0][1][0].startswith("139****") or masked[0][1][0].startswith("138****")


@pytest.mark.parametrize("n", [3, 30])
def test_customer_list_with_search_and_filters_costs_four_queries(
    admin: User, n: int, django_assert_num_queries: Any
) -> None:
    _fill(admin, n)
    with django_assert_num_queries(4):
        rows = [
            (c.name, list(c.phones.all()), list(c.tags.all()))
            for c in selectors.customer_list(actor=admin, q="kh", stage="lead")
        ]
    assert len(rows) == n


@pytest.mark.parametrize("n", [3, 30])
def test_customer_get_costs_six_queries_whatever_it_holds(
    admin: User, n: int, django_assert_num_queries: Any
) -> None:
    # given a company with n phones... of contacts and assets
    company = services.customer_create(
        actor=admin, name="华强建材", kind="company", phones=["13800138000"], emails=["a@b.cn"], tags=["VIP"]
    )
    for i in range(n):
        services.contact_create(actor=admin, customer=company, name=f"联系人{i}", phone=f"1371111{i:04d}")
        services.asset_create(actor=admin, customer=company, plate=f"粤B{i:05d}")

    # when / then: customer (owner, team), phones, emails, tags, contacts, assets
    with django_assert_num_queries(6):
        customer = selectors.customer_get(actor=admin, customer_id=company.pk)
        seen = (
            [p.display for p in customer.phones.all()],
            [e.display for e in customer.emails.all()],
            [t.name for t in customer.tags.all()],
            [c.display_phone for c in customer.contacts.all()],
            [str(a) for a in customer.assets.all()],
            customer.owner.username if customer.owner else None,
        )
    assert (len(seen[3]), len(seen[4])) == (n, n)


@pytest.mark.parametrize("n", [3, 30])
def test_customer_timeline_is_one_query(admin: User, n: int, django_assert_num_queries: Any) -> None:
    customer = services.customer_create(actor=admin, name="张伟")
    for i in range(n):
        services.note_add(actor=admin, customer=customer, body=f"备注{i}")
    with django_assert_num_queries(1):
        entries = selectors.customer_timeline(actor=admin, customer=customer)
        actors = [e.actor.username for e in entries if e.actor]
    assert len(actors) == n + 1


def test_customer_timeline_paged_is_one_query(admin: User, django_assert_num_queries: Any) -> None:
    customer = services.customer_create(actor=admin, name="张伟")
    services.note_add(actor=admin, customer=customer, body="备注")
    last = customer.timeline.order_by("-id").first()
    assert last is not None
    with django_assert_num_queries(1):
        selectors.customer_timeline(actor=admin, customer=customer, before_id=last.pk)


@pytest.mark.parametrize("n", [1, 10])
def test_consent_current_is_one_query(admin: User, n: int, django_assert_num_queries: Any) -> None:
    customer = services.customer_create(actor=admin, name="张伟")
    for _ in range(n):
        services.consent_record(
            actor=admin, customer=customer, purpose="marketing", granted=True, method="paper"
        )
    with django_assert_num_queries(1):
        rows = selectors.consent_current(actor=admin, customer=customer)
        recorders = [r["record"].recorded_by.username for r in rows if r["record"]]
    assert recorders == [admin.username]
