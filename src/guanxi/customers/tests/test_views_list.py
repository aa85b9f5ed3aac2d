"""The sign-in and home pages, the customer list (filters, sort, pages, bulk actions), create and edit."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from guanxi.audit.models import AuditEvent
from guanxi.customers import services
from guanxi.customers.models import Customer, Tag
from guanxi.customers.selectors import customer_new_count, customer_stage_counts
from guanxi.users.models import User

pytestmark = pytest.mark.django_db

LIST = "/customers/"


def _messages(response: Any) -> list[str]:
    """The messages a followed redirect showed."""
    return [str(m) for m in response.context["messages"]]


# ---- Sign-in and home -------------------------------------------------------------------------------


def test_login_page_renders_for_a_signed_out_visitor(client_for: Any) -> None:
    response = client_for(None).get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Guanxi CRM" in body and "关系" in body
    assert 'name="username"' in body and 'name="password"' in body
    assert reverse("set_language") in body


def test_login_signs_in_and_a_signed_in_user_is_sent_home(client_for: Any, make_user: Any) -> None:
    from conftest import PASSWORD

    user = make_user("sales")
    client = client_for(None)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("login")).url == reverse("home")


def test_wrong_password_shows_an_error(client_for: Any, make_user: Any) -> None:
    user = make_user("sales")
    response = client_for(None).post(reverse("login"), {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_logout_signs_out(client_for: Any, admin: User) -> None:
    client = client_for(admin)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_pages_need_sign_in(client_for: Any) -> None:
    client = client_for(None)
    for url in (reverse("home"), LIST, reverse("customer-create"), reverse("search-suggest") + "?q=zw"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


def test_home_shows_figures_for_the_readers_scope(
    client_for: Any, make_user: Any, make_customer: Any
) -> None:
    sales = make_user("sales")
    other = make_user("sales")
    make_customer(sales, name="王芳", stage="at_risk")
    make_customer(sales, name="李娜")
    make_customer(other, name="刘洋")
    response = client_for(sales).get(reverse("home"))
    assert response.status_code == 200
    assert response.context["total"] == 2
    assert response.context["new_this_month"] == 2
    assert response.context["at_risk"] == 1
    assert [c.name for c in response.context["recent"]] == ["李娜", "王芳"]
    body = response.content.decode()
    assert "王芳" in body and "刘洋" not in body


def test_stage_counts_and_new_count_selectors(make_user: Any, make_customer: Any, admin: User) -> None:
    from django.utils import timezone

    make_customer(admin, name="甲", stage="loyal")
    make_customer(admin, name="乙", stage="loyal")
    make_customer(admin, name="丙")
    counts = customer_stage_counts(actor=admin)
    assert counts["loyal"] == 2 and counts["lead"] == 1 and counts["churned"] == 0
    assert customer_new_count(actor=admin, since=timezone.now() - timezone.timedelta(hours=1)) == 3
    assert customer_new_count(actor=admin, since=timezone.now() + timezone.timedelta(hours=1)) == 0


# ---- The list ---------------------------------------------------------------------------------------


def test_list_is_a_full_page_and_its_results_under_htmx(
    client_for: Any, admin: User, make_customer: Any
) -> None:
    make_customer(admin, name="张伟", phones=["13800138000"])
    client = client_for(admin)

    full = client.get(LIST)
    assert full.status_code == 200
    assert b"<html" in full.content and b'id="filters"' in full.content and "张伟" in full.content.decode()

    partial = client.get(LIST, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert b"<html" not in partial.content and b'id="filters"' not in partial.content
    assert "张伟" in partial.content.decode() and "138 0013 8000" in partial.content.decode()
    assert "HX-Request" in partial["Vary"]


def test_list_query_count_does_not_grow_with_rows(
    client_for: Any, admin: User, make_customer: Any, django_assert_max_num_queries: Any
) -> None:
    services.tag_create(actor=admin, name="VIP")
    for i in range(12):
        make_customer(admin, name=f"客户{i}", phones=[f"1380013{8000 + i}"], tags=["VIP"])
    client = client_for(admin)
    with django_assert_max_num_queries(12):
        response = client.get(LIST, headers={"HX-Request": "true"})
    assert response.content.decode().count('name="ids"') == 12


def test_list_filters_by_stage(client_for: Any, admin: User, make_customer: Any) -> None:
    make_customer(admin, name="线索甲", stage="lead")
    make_customer(admin, name="老客乙", stage="loyal")
    response = client_for(admin).get(LIST, {"stage": "loyal"})
    assert [c.name for c in response.context["page"].items] == ["老客乙"]


def test_list_filters_by_tag(client_for: Any, admin: User, make_customer: Any) -> None:
    vip = services.tag_create(actor=admin, name="VIP", color="#b91c1c")
    make_customer(admin, name="贵宾", tags=["VIP"])
    make_customer(admin, name="普通")
    response = client_for(admin).get(LIST, {"tag": vip.pk})
    assert [c.name for c in response.context["page"].items] == ["贵宾"]
    assert 'style="background: #b91c1c"' in response.content.decode()


def test_list_filters_by_custom_fields(client_for: Any, admin: User, make_customer: Any) -> None:
    services.custom_field_create(actor=admin, key="fuel", label="Fuel", type="choice", choices=["92", "95"])
    services.custom_field_create(actor=admin, key="fleet", label="Fleet", type="boolean")
    make_customer(admin, name="九二", custom_fields={"fuel": "92", "fleet": True})
    make_customer(admin, name="九五", custom_fields={"fuel": "95", "fleet": False})
    client = client_for(admin)
    assert [c.name for c in client.get(LIST, {"cf_fuel": "95"}).context["page"].items] == ["九五"]
    assert [c.name for c in client.get(LIST, {"cf_fleet": "true"}).context["page"].items] == ["九二"]
    assert [c.name for c in client.get(LIST, {"cf_fleet": "false"}).context["page"].items] == ["九五"]
    body = client.get(LIST).content.decode()
    assert 'name="cf_fuel"' in body and 'name="cf_fleet"' in body


def test_list_sorts(client_for: Any, admin: User, make_customer: Any) -> None:
    for name in ("Bob", "Alice", "Carol"):
        make_customer(admin, name=name)
    client = client_for(admin)
    names = [c.name for c in client.get(LIST, {"sort": "name"}).context["page"].items]
    assert names == ["Alice", "Bob", "Carol"]
    names = [c.name for c in client.get(LIST, {"sort": "-name"}).context["page"].items]
    assert names == ["Carol", "Bob", "Alice"]
    names = [c.name for c in client.get(LIST, {"sort": "oldest"}).context["page"].items]
    assert names == ["Bob", "Alice", "Carol"]
    names = [c.name for c in client.get(LIST, {"sort": "nonsense"}).context["page"].items]
    assert names == ["Carol", "Alice", "Bob"]


def test_list_pages_without_counting(client_for: Any, admin: User, make_customer: Any, settings: Any) -> None:
    settings.GUANXI_PAGE_SIZE = 2
    for name in ("一", "二", "三"):
        make_customer(admin, name=name)
    client = client_for(admin)
    first = client.get(LIST, {"stage": "lead"})
    assert first.context["page"].has_next and not first.context["page"].has_previous
    assert "page=2" in first.content.decode() and "stage=lead" in first.content.decode()
    second = client.get(LIST, {"stage": "lead", "page": 2})
    assert not second.context["page"].has_next and second.context["page"].has_previous
    assert [c.name for c in second.context["page"].items] == ["一"]


def test_list_says_when_nothing_matches(client_for: Any, admin: User, make_customer: Any) -> None:
    make_customer(admin, name="张伟")
    response = client_for(admin).get(LIST, {"q": "不存在的人"})
    assert "No customers match" in response.content.decode()


def test_list_masks_phones_for_a_viewer(client_for: Any, make_user: Any, make_customer: Any) -> None:
    sales = make_user("sales")
    viewer = make_user("viewer")
    make_customer(sales, name="张伟", phones=["13800138000"])
    body = client_for(viewer).get(LIST).content.decode()
    assert "张伟" in body and "138****8000" in body and "138 0013 8000" not in body
    assert 'name="ids"' not in body  # a viewer has no bulk action
    assert reverse("customer-create") not in body


# ---- Bulk actions -----------------------------------------------------------------------------------


def test_bulk_tag_and_untag(client_for: Any, admin: User, make_customer: Any) -> None:
    vip = services.tag_create(actor=admin, name="VIP")
    a, b = make_customer(admin, name="甲"), make_customer(admin, name="乙")
    client = client_for(admin)
    bulk = reverse("customer-bulk")

    data = {"ids": [a.pk, b.pk], "action": "tag", "tag": vip.pk, "next": "stage=lead"}
    response = client.post(bulk, data, follow=True)
    assert response.redirect_chain == [(LIST + "?stage=lead", 302)]
    assert set(vip.customers.values_list("pk", flat=True)) == {a.pk, b.pk}
    assert _messages(response) == ["2 customers tagged “VIP”."]
    assert AuditEvent.objects.filter(action="customer.tag").count() == 2

    response = client.post(bulk, {"ids": [a.pk], "action": "untag", "tag": vip.pk}, follow=True)
    assert list(vip.customers.values_list("pk", flat=True)) == [b.pk]
    assert _messages(response) == ["“VIP” removed from 1 customer."]


def test_bulk_assign_moves_owner_and_team(
    client_for: Any, admin: User, make_user: Any, make_customer: Any, team_b: Any
) -> None:
    seller = make_user("sales", team=team_b)
    a, b = make_customer(admin, name="甲"), make_customer(admin, name="乙")
    response = client_for(admin).post(
        reverse("customer-bulk"), {"ids": [a.pk, b.pk], "action": "assign", "owner": seller.pk}, follow=True
    )
    assert response.redirect_chain == [(LIST, 302)]
    for customer in Customer.objects.filter(pk__in=[a.pk, b.pk]):
        assert customer.owner_id == seller.pk and customer.team_id == team_b.pk
    assert _messages(response) == [f"2 customers assigned to {seller.display_name}."]


def test_bulk_cannot_reach_customers_outside_the_scope(
    client_for: Any, make_user: Any, make_customer: Any
) -> None:
    me, other = make_user("sales"), make_user("sales")
    mine, theirs = make_customer(me, name="我的"), make_customer(other, name="别人的")
    vip = Tag.objects.get(pk=services.tag_create(actor=make_user("admin"), name="VIP").pk)
    client = client_for(me)

    response = client.post(
        reverse("customer-bulk"), {"ids": [theirs.pk], "action": "tag", "tag": vip.pk}, follow=True
    )
    assert _messages(response) == ["0 customers tagged “VIP”."]
    assert not vip.customers.exists()

    response = client.post(
        reverse("customer-bulk"),
        {"ids": [mine.pk, theirs.pk], "action": "assign", "owner": me.pk},
        follow=True,
    )
    assert response.status_code == 200
    assert _messages(response) == ["You are not allowed to do this."]
    theirs.refresh_from_db()
    assert theirs.owner_id == other.pk
    assert not AuditEvent.objects.filter(action__in=["customer.tag", "customer.assign"]).exists()


def test_bulk_without_a_selection_changes_nothing(client_for: Any, admin: User) -> None:
    response = client_for(admin).post(reverse("customer-bulk"), {"action": "tag", "tag": 1}, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert _messages(response) == ["Select at least one customer first."]


# ---- Create and edit --------------------------------------------------------------------------------


def _form_data(**overrides: Any) -> dict[str, Any]:
    data = {"kind": "person", "name": "陈静", "stage": "lead", "gender": "", "source": "walk_in"}
    data.update(overrides)
    return data


def test_create_stores_messy_phones_as_e164(client_for: Any, admin: User) -> None:
    services.tag_create(actor=admin, name="VIP")
    vip = Tag.objects.get(name="VIP")
    phones = "138-0013-8000\n+86 139 1234 5678\r\n021-62345678"
    response = client_for(admin).post(
        reverse("customer-create"),
        _form_data(phones=phones, emails="Chen@Example.COM", tags=[vip.pk], new_tags="车队, 加油卡"),
    )
    customer = Customer.objects.get(name="陈静")
    assert response.status_code == 302 and response.url == reverse("customer-detail", args=[customer.pk])
    assert list(customer.phones.values_list("number", flat=True)) == [
        "+8613800138000",
        "+8613912345678",
        "+862162345678",
    ]
    assert list(customer.emails.values_list("address", flat=True)) == ["Chen@example.com"]
    assert sorted(customer.tags.values_list("name", flat=True)) == sorted(["VIP", "车队", "加油卡"])
    assert customer.owner_id == admin.pk and customer.source == "walk_in"


def test_create_with_errors_rerenders_with_422_and_creates_nothing(client_for: Any, admin: User) -> None:
    client = client_for(admin)
    response = client.post(reverse("customer-create"), _form_data(phones="12345\n13800138000"))
    assert response.status_code == 422
    assert "“12345” is not a valid phone number." in response.content.decode()
    assert "13800138000" in response.content.decode()  # what was typed stays in the form

    # One answer lists every problem, not the first.
    response = client.post(reverse("customer-create"), _form_data(name="", phones="12345", emails="nope"))
    assert response.status_code == 422
    body = response.content.decode()
    assert "This field is required." in body and "“12345” is not a valid phone number." in body
    assert "“nope” is not a valid email address." in body
    assert not Customer.objects.exists()


def test_create_checks_custom_fields(client_for: Any, admin: User) -> None:
    services.custom_field_create(
        actor=admin, key="plate_count", label="Vehicles", type="number", required=True, help_text="How many"
    )
    client = client_for(admin)
    page = client.get(reverse("customer-create")).content.decode()
    assert 'name="cf_plate_count"' in page and "How many" in page
    response = client.post(reverse("customer-create"), _form_data(cf_plate_count="many"))
    assert response.status_code == 422 and "Enter a number." in response.content.decode()
    assert not Customer.objects.exists()
    client.post(reverse("customer-create"), _form_data(cf_plate_count="3"))
    assert Customer.objects.get().custom_fields == {"plate_count": 3}


def test_create_of_a_taken_member_number_shows_the_conflict(
    client_for: Any, admin: User, make_customer: Any
) -> None:
    make_customer(admin, name="甲", member_no="M001")
    response = client_for(admin).post(reverse("customer-create"), _form_data(member_no="M001"))
    assert response.status_code == 409
    assert "Member number M001 is already used." in response.content.decode()
    assert Customer.objects.count() == 1


def test_sales_user_sees_no_owner_field(client_for: Any, make_user: Any) -> None:
    body = client_for(make_user("sales")).get(reverse("customer-create")).content.decode()
    assert 'name="owner"' not in body and 'name="new_tags"' not in body


def test_edit_prefills_and_records_changes(
    client_for: Any, admin: User, make_user: Any, make_customer: Any, team_b: Any
) -> None:
    seller = make_user("sales", team=team_b)
    customer = make_customer(admin, name="张伟", phones=["+8613800138000"], stage="lead")
    client = client_for(admin)
    url = reverse("customer-edit", args=[customer.pk])

    page = client.get(url).content.decode()
    assert "138 0013 8000" in page and 'value="张伟"' in page

    response = client.post(
        url, _form_data(name="张伟强", phones="138 0013 8000", stage="customer", owner=seller.pk)
    )
    assert response.status_code == 302 and response.url == reverse("customer-detail", args=[customer.pk])
    customer.refresh_from_db()
    assert (customer.name, customer.stage) == ("张伟强", "customer")
    assert (customer.owner_id, customer.team_id) == (seller.pk, team_b.pk)
    assert list(customer.phones.values_list("number", flat=True)) == ["+8613800138000"]
    update = AuditEvent.objects.get(action="customer.update", target_id=str(customer.pk))
    assert "name" in update.changes and "stage" in update.changes
    assert AuditEvent.objects.filter(action="customer.assign", target_id=str(customer.pk)).exists()


def test_edit_with_errors_changes_nothing(client_for: Any, admin: User, make_customer: Any) -> None:
    customer = make_customer(admin, name="张伟", phones=["13800138000"])
    response = client_for(admin).post(
        reverse("customer-edit", args=[customer.pk]), _form_data(name="新名字", phones="not a phone")
    )
    assert response.status_code == 422
    customer.refresh_from_db()
    assert customer.name == "张伟"


def test_edit_is_refused_outside_the_scope_and_without_permission(
    client_for: Any, make_user: Any, make_customer: Any
) -> None:
    owner, stranger, viewer = make_user("sales"), make_user("sales"), make_user("viewer")
    customer = make_customer(owner, name="张伟")
    url = reverse("customer-edit", args=[customer.pk])
    assert client_for(stranger).get(url).status_code == 404
    assert client_for(viewer).get(url).status_code == 403
    assert client_for(stranger).post(url, _form_data(name="x")).status_code == 404
    customer.refresh_from_db()
    assert customer.name == "张伟"


# ---- Search suggestions -----------------------------------------------------------------------------


def test_search_suggest_lists_matches(client_for: Any, admin: User, make_customer: Any) -> None:
    customer = make_customer(admin, name="张伟", phones=["13800138000"], city="深圳")
    make_customer(admin, name="李娜")
    client = client_for(admin)
    body = client.get(reverse("search-suggest"), {"q": "zw"}).content.decode()
    assert "张伟" in body and "李娜" not in body
    assert reverse("customer-detail", args=[customer.pk]) in body
    assert "138 0013 8000" in body and "深圳" in body
    assert f"{LIST}?q=zw" in body
    assert client.get(reverse("search-suggest"), {"q": " "}).content == b""


def test_search_suggest_masks_phones_for_a_viewer(
    client_for: Any, make_user: Any, make_customer: Any
) -> None:
    make_customer(make_user("sales"), name="张伟", phones=["13800138000"])
    body = client_for(make_user("viewer")).get(reverse("search-suggest"), {"q": "8000"}).content.decode()
    assert "张伟" in body and "138****8000" in body and "138 0013 8000" not in body


def test_city_suggestions_load_on_demand_with_the_cities_in_scope(
    client_for: Any, admin: User, make_user: Any, make_customer: Any
) -> None:
    sales = make_user("sales")
    make_customer(admin, name="张伟", city="广州")
    make_customer(sales, name="李娜", city="深圳")

    page = client_for(sales).get(LIST).content.decode()
    assert 'hx-get="/customers/cities"' in page
    assert '<option value="深圳">' not in page  # not read with every list page

    assert client_for(sales).get("/customers/cities").content.decode() == '<option value="深圳">'
    assert client_for(admin).get("/customers/cities").content.decode() == (
        '<option value="广州"><option value="深圳">'
    )
