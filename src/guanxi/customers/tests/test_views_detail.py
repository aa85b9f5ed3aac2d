"""The customer 360 page: what it shows to whom, the actions on it, and its constant query count."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import Client
from django.urls import NoReverseMatch, clear_url_caches, include, path, reverse
from django.utils import timezone

from guanxi.audit.models import AuditEvent
from guanxi.customers import services
from guanxi.customers.models import Asset, Consent, Contact, Customer, CustomFieldDefinition, TimelineEntry
from guanxi.users.models import Team, User

HX = {"HTTP_HX_REQUEST": "true"}
CLEAR, MASKED = "138 0013 8000", "138****8000"

# URL names base.html and the page link to that other pages provide.
LINKED_NAMES = {
    "home": [],
    "login": [],
    "logout": [],
    "profile": [],
    "customer-list": [],
    "search-suggest": [],
    "tag-list": [],
    "customfield-list": [],
    "user-list": [],
    "audit-list": [],
    "customer-edit": [1],
}


@pytest.fixture(autouse=True)
def linked_pages(settings: Any) -> Iterator[None]:
    """Stand-ins for linked pages not (yet) in the URL conf; once all exist this adds nothing."""
    missing = []
    for name, args in LINKED_NAMES.items():
        try:
            reverse(name, args=args)
        except NoReverseMatch:
            missing.append(name)
    if not missing:
        yield
        return
    module = types.ModuleType("guanxi_detail_test_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("", include(django_settings.ROOT_URLCONF)),
        *(
            path(f"__linked__/{name}/" + "<int:pk>/" * len(LINKED_NAMES[name]), _stub, name=name)
            for name in missing
        ),
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()
    yield
    clear_url_caches()


def _stub(request: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("linked page")


@pytest.fixture
def sales(make_user: Callable[..., User]) -> User:
    return make_user("sales", username="li.na")


@pytest.fixture
def person(sales: User, make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(
        sales, name="张伟", phones=["13800138000"], emails=["zhang.wei@example.com"], street="深南大道1号"
    )


@pytest.fixture
def company(sales: User, make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(sales, name="华建建材有限公司", kind="company")


def detail_url(customer: Customer) -> str:
    return reverse("customer-detail", args=[customer.pk])


def _counts(customer: Customer) -> tuple[int, int]:
    return TimelineEntry.objects.filter(customer=customer).count(), AuditEvent.objects.count()


def _text(response: HttpResponse) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------------------------------
# Who sees what


def test_page_renders_for_owner(
    client_for: Callable[[User], Client], admin: User, sales: User, person: Customer
) -> None:
    services.tag_create(actor=admin, name="VIP")
    services.customer_update(actor=sales, customer=person, stage="customer", tags=["VIP"])

    response = client_for(sales).get(detail_url(person))

    assert response.status_code == 200
    html = _text(response)
    assert "张伟" in html
    assert CLEAR in html
    assert "zhang.wei@example.com" in html
    assert 'class="badge stage-customer"' in html
    assert "Created the customer" in html
    assert "Lifecycle stage:" in html
    assert '<span class="old">Lead</span> → <span class="new">Customer</span>' in html
    assert "No consent recorded yet." in html
    assert "No vehicles or sites yet." in html


def test_another_sales_users_customer_is_not_found(
    client_for: Callable[[User], Client], make_user: Callable[..., User], person: Customer
) -> None:
    other = make_user("sales")

    response = client_for(other).get(detail_url(person))

    assert response.status_code == 404
    assert "张伟" not in _text(response)


def test_a_customer_of_another_team_is_not_found_for_a_manager(
    client_for: Callable[[User], Client], make_user: Callable[..., User], team_b: Team, person: Customer
) -> None:
    manager_b = make_user("manager", team=team_b)
    manager_a = make_user("manager")

    assert client_for(manager_b).get(detail_url(person)).status_code == 404
    assert client_for(manager_a).get(detail_url(person)).status_code == 200


def test_unknown_customer_is_not_found(client_for: Callable[[User], Client], admin: User) -> None:
    assert client_for(admin).get(reverse("customer-detail", args=[999999])).status_code == 404


def test_viewer_sees_masked_phones_also_in_the_timeline(
    client_for: Callable[[User], Client], make_user: Callable[..., User], sales: User, person: Customer
) -> None:
    services.customer_update(
        actor=sales,
        customer=person,
        phones=["13800138000", "13900139000"],
        emails=["wei@example.org"],
        wechat_id="wxid_zhangwei",
        street="福田路2号",
        birthday="1990-05-01",
    )
    viewer = make_user("viewer")

    response = client_for(viewer).get(detail_url(person))

    html = _text(response)
    assert response.status_code == 200
    assert MASKED in html
    assert "139****9000" in html
    for clear in ("13800138000", CLEAR, "139 0013 9000", "13900139000", "zhang.wei@", "wei@example.org"):
        assert clear not in html
    assert "wxid_zhangwei" not in html
    assert "深南大道" not in html and "福田路" not in html
    assert "1990-05-01" not in html
    assert "****-05-01" in html


def test_viewer_sees_no_action_forms(
    client_for: Callable[[User], Client], make_user: Callable[..., User], company: Customer
) -> None:
    html = _text(client_for(make_user("viewer")).get(detail_url(company)))

    for form_url in (
        "customer-note-add",
        "customer-consent-add",
        "customer-contact-add",
        "customer-asset-add",
    ):
        assert reverse(form_url, args=[company.pk]) not in html
    assert reverse("customer-delete", args=[company.pk]) not in html


def test_custom_field_labels_and_values(
    client_for: Callable[[User], Client], admin: User, sales: User
) -> None:
    CustomFieldDefinition.objects.create(key="fleet_size", label="Fleet size", type="number")
    CustomFieldDefinition.objects.create(key="vat_invoice", label="Needs VAT invoice", type="boolean")
    customer = services.customer_create(
        actor=sales, name="顺丰物流", kind="company", custom_fields={"fleet_size": 12, "vat_invoice": "yes"}
    )
    services.customer_update(actor=sales, customer=customer, custom_fields={"fleet_size": 15})

    html = _text(client_for(admin).get(detail_url(customer)))

    assert "<dt>Fleet size</dt><dd>15</dd>" in html
    assert "<dt>Needs VAT invoice</dt><dd>Yes</dd>" in html
    assert 'Fleet size:</span> <span class="old">12</span> → <span class="new">15</span>' in html


def test_unknown_timeline_kinds_render_generically(
    client_for: Callable[[User], Client], sales: User, person: Customer
) -> None:
    TimelineEntry.objects.create(
        customer=person,
        occurred_at=timezone.now(),
        kind="order.placed",
        actor=sales,
        data={"order_no": "SO-1001", "phone": "+8613800138000", "changes": {"total": ["0", "88.00"]}},
    )

    html = _text(client_for(sales).get(detail_url(person)))

    assert "<code>order.placed</code>" in html
    assert "order_no: SO-1001" in html
    assert f"phone: {CLEAR}" in html
    assert '<span class="old">0</span> → <span class="new">88.00</span>' in html


def test_an_entry_that_does_not_fit_its_renderer_still_shows(
    client_for: Callable[[User], Client], sales: User, person: Customer
) -> None:
    TimelineEntry.objects.create(
        customer=person, occurred_at=timezone.now(), kind="customer.tagged", actor=sales, data={}
    )

    response = client_for(sales).get(detail_url(person))

    assert response.status_code == 200
    assert "<code>customer.tagged</code>" in _text(response)


# ---------------------------------------------------------------------------------------------------
# The timeline


def _pad_timeline(customer: Customer, actor: User, count: int) -> None:
    start = timezone.now() - timedelta(days=count)
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            customer=customer,
            occurred_at=start + timedelta(hours=i),
            kind="note" if i % 2 else "customer.changed",
            actor=actor,
            data={"body": f"第{i}次回访"}
            if i % 2
            else {"changes": {"phones": [["+8613800138000"], ["+8613800138000", f"+861390013{i:04d}"]]}},
        )
        for i in range(count)
    )


def test_timeline_shows_the_newest_50_and_loads_older(
    client_for: Callable[[User], Client], sales: User, person: Customer
) -> None:
    _pad_timeline(person, sales, 119)
    client = client_for(sales)

    html = _text(client.get(detail_url(person)))
    newest = list(TimelineEntry.objects.filter(customer=person).order_by("-occurred_at", "-id"))

    assert html.count('<li class="tl-') == 50
    assert f"before_id={newest[49].pk}" in html

    older = client.get(reverse("customer-timeline", args=[person.pk]), {"before_id": newest[49].pk}, **HX)

    assert older.status_code == 200
    assert _text(older).count('<li class="tl-') == 50
    assert f"before_id={newest[99].pk}" in _text(older)
    last = client.get(reverse("customer-timeline", args=[person.pk]), {"before_id": newest[99].pk}, **HX)
    assert _text(last).count('<li class="tl-') == 20
    assert "Load older entries" not in _text(last)
    assert "第1次回访" in _text(last)
    assert "Created the customer" in html  # written last, so newest, although its id is the smallest


def test_timeline_without_htmx_goes_to_the_page(
    client_for: Callable[[User], Client], sales: User, person: Customer
) -> None:
    response = client_for(sales).get(reverse("customer-timeline", args=[person.pk]), {"before_id": 5})

    assert response.status_code == 302
    assert response["Location"] == detail_url(person) + "?before_id=5#timeline"


def test_the_page_runs_a_constant_number_of_queries(
    client_for: Callable[[User], Client],
    admin: User,
    sales: User,
    make_customer: Callable[..., Customer],
    django_assert_num_queries: Any,
) -> None:
    services.tag_create(actor=admin, name="VIP")
    services.tag_create(actor=admin, name="车队")
    small = make_customer(sales, name="小客户", kind="company")
    big = make_customer(
        sales, name="大客户", kind="company", phones=["13800138000", "13900139000"], tags=["VIP", "车队"]
    )
    for i in range(5):
        services.contact_create(actor=sales, customer=big, name=f"联系人{i}", phone=f"1370013700{i}")
        services.asset_create(actor=sales, customer=big, plate=f"粤B1234{i}", model="比亚迪汉")
    services.consent_record(
        actor=sales, customer=big, purpose="marketing", channel="sms", granted=True, method="paper"
    )
    _pad_timeline(big, sales, 120 - TimelineEntry.objects.filter(customer=big).count())
    assert TimelineEntry.objects.filter(customer=small).count() == 1
    assert TimelineEntry.objects.filter(customer=big).count() == 120
    client = client_for(sales)

    # session, user, customer (+owner, team), phones, emails, tags, contacts, assets, custom fields,
    # timeline (+actors), consent (+recorded by), purchase summary (one aggregate; favourites only with
    # orders, see sales' test of the page with orders), analytics (the metrics; recommendations only
    # once the customer has metrics), the selling in progress: opportunities, quotes, leads (one each)
    with django_assert_num_queries(16):
        assert client.get(detail_url(small)).status_code == 200
    with django_assert_num_queries(16):
        assert client.get(detail_url(big)).status_code == 200


# ---------------------------------------------------------------------------------------------------
# Actions: each with and without htmx, each writing a timeline entry and an audit event


def _assert_done(response: HttpResponse, customer: Customer, htmx: bool, section: str) -> None:
    if htmx:
        assert response.status_code == 200
        assert response["HX-Trigger"] == "timeline-changed"
        assert f'id="{section}"' in _text(response)
        assert "<html" not in _text(response)
    else:
        assert response.status_code == 302
        assert response["Location"] == f"{detail_url(customer)}#{section}"


@pytest.mark.parametrize("htmx", [True, False])
def test_add_note(client_for: Callable[[User], Client], sales: User, person: Customer, htmx: bool) -> None:
    entries, events = _counts(person)

    response = client_for(sales).post(
        reverse("customer-note-add", args=[person.pk]),
        {"body": "电话回访\n<b>满意</b>"},
        **(HX if htmx else {}),
    )

    _assert_done(response, person, htmx, "note-form")
    entry = TimelineEntry.objects.filter(customer=person).first()
    assert entry is not None and entry.kind == "note" and entry.data == {"body": "电话回访\n<b>满意</b>"}
    assert _counts(person) == (entries + 1, events + 1)
    assert AuditEvent.objects.filter(action="customer.note", target_id=str(person.pk)).count() == 1
    page = _text(client_for(sales).get(detail_url(person)))
    assert "电话回访<br>&lt;b&gt;满意&lt;/b&gt;" in page


@pytest.mark.parametrize("htmx", [True, False])
def test_empty_note_is_refused(
    client_for: Callable[[User], Client], sales: User, person: Customer, htmx: bool
) -> None:
    before = _counts(person)

    response = client_for(sales).post(
        reverse("customer-note-add", args=[person.pk]), {"body": "  "}, **(HX if htmx else {})
    )

    assert response.status_code == (200 if htmx else 422)
    assert "errorlist" in _text(response)
    assert _counts(person) == before


@pytest.mark.parametrize("htmx", [True, False])
def test_record_consent(
    client_for: Callable[[User], Client], sales: User, person: Customer, htmx: bool
) -> None:
    entries, events = _counts(person)

    response = client_for(sales).post(
        reverse("customer-consent-add", args=[person.pk]),
        {
            "purpose": "marketing",
            "channel": "sms",
            "decision": "withdrawn",
            "method": "sms",
            "note": "回复TD",
        },
        **(HX if htmx else {}),
    )

    _assert_done(response, person, htmx, "consent")
    consent = Consent.objects.get(customer=person)
    assert (consent.purpose, consent.channel, consent.granted, consent.method) == (
        "marketing",
        "sms",
        False,
        "sms",
    )
    assert consent.recorded_by == sales
    assert abs((timezone.now() - consent.recorded_at).total_seconds()) < 60
    assert _counts(person) == (entries + 1, events + 1)
    page = _text(client_for(sales).get(detail_url(person)))
    assert '<span class="badge no">Withdrawn</span>' in page
    assert "Consent withdrawn:" in page and "How: SMS reply" in page


def test_consent_in_the_future_is_refused(
    client_for: Callable[[User], Client], sales: User, person: Customer
) -> None:
    later = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    response = client_for(sales).post(
        reverse("customer-consent-add", args=[person.pk]),
        {
            "purpose": "marketing",
            "channel": "any",
            "decision": "granted",
            "method": "paper",
            "recorded_at": later,
        },
        **HX,
    )

    assert response.status_code == 200
    assert "Consent cannot be recorded in the future." in _text(response)
    assert not Consent.objects.filter(customer=person).exists()


@pytest.mark.parametrize("htmx", [True, False])
def test_add_contact(
    client_for: Callable[[User], Client], sales: User, company: Customer, htmx: bool
) -> None:
    entries, events = _counts(company)

    response = client_for(sales).post(
        reverse("customer-contact-add", args=[company.pk]),
        {
            "name": "王经理",
            "title": "采购",
            "phone": "139 0013 9000",
            "email": "wang@huajian.cn",
            "is_primary": "on",
        },
        **(HX if htmx else {}),
    )

    _assert_done(response, company, htmx, "contacts")
    contact = Contact.objects.get(customer=company)
    assert (contact.name, contact.phone, contact.is_primary) == ("王经理", "+8613900139000", True)
    assert _counts(company) == (entries + 1, events + 1)
    if htmx:
        assert "王经理" in _text(response) and "139 0013 9000" in _text(response)


@pytest.mark.parametrize("htmx", [True, False])
def test_contact_with_a_bad_phone_is_refused(
    client_for: Callable[[User], Client], sales: User, company: Customer, htmx: bool
) -> None:
    before = _counts(company)

    response = client_for(sales).post(
        reverse("customer-contact-add", args=[company.pk]),
        {"name": "王经理", "phone": "12345"},
        **(HX if htmx else {}),
    )

    assert response.status_code == (200 if htmx else 422)
    html = _text(response)
    assert "“12345” is not a valid phone number." in html
    assert 'value="12345"' in html
    assert not Contact.objects.filter(customer=company).exists()
    assert _counts(company) == before


@pytest.mark.parametrize("htmx", [True, False])
def test_edit_contact(
    client_for: Callable[[User], Client], sales: User, company: Customer, htmx: bool
) -> None:
    contact = services.contact_create(actor=sales, customer=company, name="王经理", phone="13900139000")
    entries, events = _counts(company)
    client = client_for(sales)
    url = reverse("contact-edit", args=[contact.pk])

    form = client.get(url, **(HX if htmx else {}))

    assert form.status_code == 200
    assert 'value="139 0013 9000"' in _text(form)
    assert ("<html" in _text(form)) is not htmx

    response = client.post(
        url, {"name": "王总", "title": "总经理", "phone": "13900139000"}, **(HX if htmx else {})
    )

    _assert_done(response, company, htmx, "contacts")
    contact.refresh_from_db()
    assert (contact.name, contact.title, contact.phone) == ("王总", "总经理", "+8613900139000")
    assert _counts(company) == (entries + 1, events + 1)
    entry = TimelineEntry.objects.filter(customer=company).first()
    assert entry is not None and entry.kind == "contact.changed"
    assert set(entry.data["changes"]) == {"name", "title"}


def test_edit_contact_with_a_bad_phone_changes_nothing(
    client_for: Callable[[User], Client], sales: User, company: Customer
) -> None:
    contact = services.contact_create(actor=sales, customer=company, name="王经理", phone="13900139000")
    before = _counts(company)

    response = client_for(sales).post(
        reverse("contact-edit", args=[contact.pk]), {"name": "王总", "phone": "abc"}, **HX
    )

    assert response.status_code == 200
    assert "is not a valid phone number" in _text(response)
    contact.refresh_from_db()
    assert (contact.name, contact.phone) == ("王经理", "+8613900139000")
    assert _counts(company) == before


@pytest.mark.parametrize("htmx", [True, False])
def test_remove_contact(
    client_for: Callable[[User], Client], sales: User, company: Customer, htmx: bool
) -> None:
    contact = services.contact_create(actor=sales, customer=company, name="王经理")
    entries, events = _counts(company)

    response = client_for(sales).post(reverse("contact-delete", args=[contact.pk]), **(HX if htmx else {}))

    _assert_done(response, company, htmx, "contacts")
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert _counts(company) == (entries + 1, events + 1)


@pytest.mark.parametrize("htmx", [True, False])
def test_add_vehicle(client_for: Callable[[User], Client], sales: User, person: Customer, htmx: bool) -> None:
    entries, events = _counts(person)

    response = client_for(sales).post(
        reverse("customer-asset-add", args=[person.pk]),
        {
            "kind": "vehicle",
            "plate": "粤b·12345",
            "vin": "lsvaa4182e2123456",
            "model": "大众帕萨特",
            "mileage_km": "52000",
            "address": "ignored for a vehicle",
        },
        **(HX if htmx else {}),
    )

    _assert_done(response, person, htmx, "assets")
    asset = Asset.objects.get(customer=person)
    assert (asset.kind, asset.plate, asset.vin, asset.mileage_km, asset.address) == (
        "vehicle",
        "粤B12345",
        "LSVAA4182E2123456",
        52000,
        "",
    )
    assert _counts(person) == (entries + 1, events + 1)


@pytest.mark.parametrize("htmx", [True, False])
def test_vehicle_without_plate_or_vin_is_refused(
    client_for: Callable[[User], Client], sales: User, person: Customer, htmx: bool
) -> None:
    before = _counts(person)

    response = client_for(sales).post(
        reverse("customer-asset-add", args=[person.pk]),
        {"kind": "vehicle", "plate": "", "vin": "", "model": "大众帕萨特"},
        **(HX if htmx else {}),
    )

    assert response.status_code == (200 if htmx else 422)
    assert "A vehicle needs a licence plate or a VIN." in _text(response)
    assert not Asset.objects.filter(customer=person).exists()
    assert _counts(person) == before


def test_add_building_site(client_for: Callable[[User], Client], sales: User, company: Customer) -> None:
    response = client_for(sales).post(
        reverse("customer-asset-add", args=[company.pk]),
        {
            "kind": "site",
            "name": "前海壹号",
            "address": "深圳市南山区前海路1号",
            "site_stage": "structure",
            "plate": "粤B99999",
        },
        **HX,
    )

    assert response.status_code == 200
    asset = Asset.objects.get(customer=company)
    assert (asset.kind, asset.name, asset.site_stage, asset.plate) == ("site", "前海壹号", "structure", "")
    assert "前海壹号" in _text(response) and "Structure" in _text(response)


@pytest.mark.parametrize("htmx", [True, False])
def test_edit_asset(client_for: Callable[[User], Client], sales: User, person: Customer, htmx: bool) -> None:
    asset = services.asset_create(actor=sales, customer=person, plate="粤B12345", mileage_km=1000)
    entries, events = _counts(person)
    client = client_for(sales)
    url = reverse("asset-edit", args=[asset.pk])

    assert 'value="粤B12345"' in _text(client.get(url, **(HX if htmx else {})))
    response = client.post(
        url, {"kind": "vehicle", "plate": "粤B12345", "mileage_km": "2500"}, **(HX if htmx else {})
    )

    _assert_done(response, person, htmx, "assets")
    asset.refresh_from_db()
    assert asset.mileage_km == 2500
    assert _counts(person) == (entries + 1, events + 1)
    page = _text(client.get(detail_url(person)))
    assert 'Mileage (km):</span> <span class="old">1000</span> → <span class="new">2500</span>' in page


def test_edit_asset_without_plate_or_vin_changes_nothing(
    client_for: Callable[[User], Client], sales: User, person: Customer
) -> None:
    asset = services.asset_create(actor=sales, customer=person, plate="粤B12345")
    before = _counts(person)

    response = client_for(sales).post(
        reverse("asset-edit", args=[asset.pk]), {"kind": "vehicle", "plate": ""}, **HX
    )

    assert "A vehicle needs a licence plate or a VIN." in _text(response)
    asset.refresh_from_db()
    assert asset.plate == "粤B12345"
    assert _counts(person) == before


@pytest.mark.parametrize("htmx", [True, False])
def test_remove_asset(
    client_for: Callable[[User], Client], sales: User, person: Customer, htmx: bool
) -> None:
    asset = services.asset_create(actor=sales, customer=person, plate="粤B12345")
    entries, events = _counts(person)

    response = client_for(sales).post(reverse("asset-delete", args=[asset.pk]), **(HX if htmx else {}))

    _assert_done(response, person, htmx, "assets")
    assert not Asset.objects.filter(pk=asset.pk).exists()
    assert _counts(person) == (entries + 1, events + 1)


def test_delete_customer(
    client_for: Callable[[User], Client], make_user: Callable[..., User], person: Customer
) -> None:
    client = client_for(make_user("manager"))

    confirm = client.get(reverse("customer-delete", args=[person.pk]))
    assert confirm.status_code == 200 and "张伟" in _text(confirm)
    assert Customer.objects.filter(pk=person.pk).exists()

    response = client.post(reverse("customer-delete", args=[person.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("customer-list")
    assert not Customer.objects.filter(pk=person.pk).exists()
    assert AuditEvent.objects.filter(action="customer.delete", target_id=str(person.pk)).count() == 1


def test_delete_customer_with_htmx_redirects(
    client_for: Callable[[User], Client], admin: User, person: Customer
) -> None:
    response = client_for(admin).post(reverse("customer-delete", args=[person.pk]), **HX)

    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("customer-list")
    assert not Customer.objects.filter(pk=person.pk).exists()


# ---------------------------------------------------------------------------------------------------
# Denied: 403 without the permission, 404 outside the scope; nothing changes


@pytest.mark.parametrize(
    ("role", "url_name", "data"),
    [
        ("viewer", "customer-note-add", {"body": "hi"}),
        ("marketing", "customer-note-add", {"body": "hi"}),
        (
            "viewer",
            "customer-consent-add",
            {"purpose": "marketing", "decision": "granted", "method": "paper"},
        ),
        (
            "marketing",
            "customer-consent-add",
            {"purpose": "marketing", "decision": "granted", "method": "paper"},
        ),
        ("viewer", "customer-contact-add", {"name": "王经理"}),
        ("viewer", "customer-asset-add", {"kind": "vehicle", "plate": "粤B12345"}),
        ("sales", "customer-delete", {}),
        ("viewer", "customer-delete", {}),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_roles_without_the_permission_get_403(
    client_for: Callable[[User], Client],
    make_user: Callable[..., User],
    company: Customer,
    role: str,
    url_name: str,
    data: dict[str, Any],
    htmx: bool,
) -> None:
    before = (_counts(company), Contact.objects.count(), Asset.objects.count(), Consent.objects.count())

    response = client_for(make_user(role)).post(
        reverse(url_name, args=[company.pk]), data, **(HX if htmx else {})
    )

    assert response.status_code == 403
    assert Customer.objects.filter(pk=company.pk).exists()
    assert (
        _counts(company),
        Contact.objects.count(),
        Asset.objects.count(),
        Consent.objects.count(),
    ) == before


def test_viewer_may_not_edit_or_remove_contacts_and_assets(
    client_for: Callable[[User], Client], make_user: Callable[..., User], sales: User, company: Customer
) -> None:
    contact = services.contact_create(actor=sales, customer=company, name="王经理")
    asset = services.asset_create(actor=sales, customer=company, kind="site", address="前海路1号")
    before = _counts(company)
    client = client_for(make_user("viewer"))

    assert client.get(reverse("contact-edit", args=[contact.pk])).status_code == 403
    assert client.post(reverse("contact-edit", args=[contact.pk]), {"name": "X"}).status_code == 403
    assert client.post(reverse("contact-delete", args=[contact.pk])).status_code == 403
    assert (
        client.post(reverse("asset-edit", args=[asset.pk]), {"kind": "site", "address": "X"}).status_code
        == 403
    )
    assert client.post(reverse("asset-delete", args=[asset.pk])).status_code == 403

    contact.refresh_from_db()
    asset.refresh_from_db()
    assert (contact.name, asset.address) == ("王经理", "前海路1号")
    assert _counts(company) == before


def test_actions_on_a_customer_out_of_scope_are_not_found(
    client_for: Callable[[User], Client], make_user: Callable[..., User], sales: User, company: Customer
) -> None:
    contact = services.contact_create(actor=sales, customer=company, name="王经理")
    asset = services.asset_create(actor=sales, customer=company, kind="site", address="前海路1号")
    before = _counts(company)
    client = client_for(make_user("sales"))

    assert client.post(reverse("customer-note-add", args=[company.pk]), {"body": "hi"}).status_code == 404
    assert client.post(reverse("contact-edit", args=[contact.pk]), {"name": "X"}).status_code == 404
    assert client.post(reverse("contact-delete", args=[contact.pk])).status_code == 404
    assert client.post(reverse("asset-delete", args=[asset.pk])).status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists() and Asset.objects.filter(pk=asset.pk).exists()
    assert _counts(company) == before


def test_actions_need_post(client_for: Callable[[User], Client], sales: User, person: Customer) -> None:
    assert client_for(sales).get(reverse("customer-note-add", args=[person.pk])).status_code == 405


def test_signed_out_visitors_go_to_the_login_page(person: Customer) -> None:
    response = Client().get(detail_url(person))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_removing_a_contact_or_asset_without_javascript_asks_first(
    client_for: Callable[[User], Client], sales: User, company: Customer
) -> None:
    contact = services.contact_create(actor=sales, customer=company, name="王经理")
    asset = services.asset_create(actor=sales, customer=company, kind="site", address="前海路1号")
    client = client_for(sales)

    contact_page = client.get(reverse("contact-delete", args=[contact.pk]))
    asset_page = client.get(reverse("asset-delete", args=[asset.pk]))

    assert contact_page.status_code == 200 and "Remove the contact “王经理”?" in _text(contact_page)
    assert asset_page.status_code == 200 and "Remove the asset “前海路1号”?" in _text(asset_page)
    assert Contact.objects.filter(pk=contact.pk).exists() and Asset.objects.filter(pk=asset.pk).exists()
