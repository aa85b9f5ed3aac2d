"""Demo data: realistic rows of each vertical, exact search columns, and the idempotent first-start set-up."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.validators import validate_email
from django.db.models import Count

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import PermissionDenied
from guanxi.core.phone import phone_normalize
from guanxi.core.search import search_document
from guanxi.customers import selectors
from guanxi.customers.demo import demo_load, demo_setup
from guanxi.customers.demo.words import TRADES
from guanxi.customers.models import Asset, Contact, Customer, CustomerEmail, CustomerPhone, Tag, TimelineEntry
from guanxi.customers.services._common import customer_search_parts
from guanxi.users.models import Team, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def sales_people(make_user: Callable[..., User], team_a: Team, team_b: Team) -> list[User]:
    return [
        make_user("sales", team=team_a),
        make_user("sales", team=team_b),
        make_user("manager", team=team_b),
    ]


def _found(admin: User, q: str, customer: Customer) -> bool:
    return selectors.customer_list(actor=admin, q=q).filter(pk=customer.pk).exists()


@pytest.mark.parametrize("vertical", ["fuel", "building", "auto"])
def test_demo_loads_realistic_searchable_customers(
    vertical: str, admin: User, sales_people: list[User]
) -> None:
    stats = demo_load(actor=None, vertical=vertical, customers=200, seed=11, batch_size=64)

    customers = list(Customer.objects.all())
    assert len(customers) == stats.customers == 200
    # assets fit the vertical
    kinds = set(Asset.objects.values_list("kind", flat=True))
    assert kinds == ({Asset.Kind.SITE} if vertical == "building" else {Asset.Kind.VEHICLE})
    for asset in Asset.objects.all():
        if asset.kind == Asset.Kind.VEHICLE:
            assert 7 <= len(asset.plate) <= 8 and asset.plate[0] in "粤沪京津渝浙苏川鄂湘陕鲁闽豫冀辽云皖桂"
            assert len(asset.vin) == 17 and not set(asset.vin) & set("IOQ")
            assert asset.model
        else:
            assert asset.name and asset.address and asset.site_stage
    # phones are valid and stored as E.164, emails are valid
    numbers = [*CustomerPhone.objects.values_list("number", flat=True)]
    numbers += [p for p in Contact.objects.values_list("phone", flat=True) if p]
    assert numbers
    assert all(phone_normalize(n) == n and n.startswith("+86") for n in numbers)
    for address in CustomerEmail.objects.values_list("address", flat=True):
        validate_email(address)
    # member numbers are unique; companies (with contacts) exist; people have a gender and a birthday
    member_numbers = [c.member_no for c in customers if c.member_no]
    assert 80 <= len(member_numbers) <= 160 and len(set(member_numbers)) == len(member_numbers)
    companies = [c for c in customers if c.kind == Customer.Kind.COMPANY]
    assert companies and all(c.contacts.exists() for c in companies)
    assert all(c.birthday and c.city and c.province for c in customers if c.kind == Customer.Kind.PERSON)
    # owners are the sales people and managers, each with their team
    owned = {(c.owner_id, c.team_id) for c in customers if c.owner_id}
    assert owned <= {(u.pk, u.team_id) for u in sales_people}
    # tags of the vertical, at most three per customer; a creation entry per customer on the timeline
    assert set(Tag.objects.values_list("name", flat=True)) == set(TRADES[vertical].tags)
    most = Customer.objects.annotate(n=Count("tags")).order_by("-n").values_list("n", flat=True).first()
    assert most is not None and 1 <= most <= 3
    assert TimelineEntry.objects.filter(kind="customer.created").count() == 200
    assert TimelineEntry.objects.filter(kind="note").exists()
    # one audit event sums the load up
    event = AuditEvent.objects.get(action="demo.load")
    assert event.via == "system" and event.data["customers"] == 200 and event.data["vertical"] == vertical

    # the search columns are exactly those the services compute
    for customer in customers:
        assert (customer.search_text, customer.search_keys) == search_document(
            customer_search_parts(customer)
        )

    person = next(c for c in customers if c.kind == Customer.Kind.PERSON and c.phones.exists())
    initials = search_document(customer_search_parts(person))[0].split("|")[2]
    mobile = person.phones.first()
    assert mobile is not None
    assert _found(admin, initials, person)
    assert _found(admin, mobile.number[-8:-4], person)
    if vertical != "building":
        owner_of_vehicle = Asset.objects.filter(kind=Asset.Kind.VEHICLE).select_related("customer").first()
        assert owner_of_vehicle is not None
        assert _found(admin, owner_of_vehicle.plate[1:], owner_of_vehicle.customer)


def test_demo_is_reproducible_from_its_seed(admin: User, sales_people: list[User]) -> None:
    demo_load(actor=None, vertical="auto", customers=30, seed=5)
    demo_load(actor=None, vertical="auto", customers=30, seed=5, batch_size=7)

    names = list(Customer.objects.order_by("id").values_list("name", flat=True))
    assert names[:30] == names[30:]
    members = [m for m in Customer.objects.values_list("member_no", flat=True) if m]
    assert len(set(members)) == len(members)


def test_demo_without_owners_leaves_customers_unowned(admin: User) -> None:
    demo_load(actor=None, vertical="fuel", customers=20, seed=1)

    assert not Customer.objects.filter(owner__isnull=False).exists()


def test_demo_refuses_a_user_who_may_not_manage_users(sales_people: list[User]) -> None:
    with pytest.raises(PermissionDenied):
        demo_load(actor=sales_people[0], vertical="fuel", customers=5)
    assert not Customer.objects.exists() and not AuditEvent.objects.filter(action="demo.load").exists()


def test_demo_command_loads_and_reports(admin: User, sales_people: list[User]) -> None:
    out, err = StringIO(), StringIO()
    call_command("demo", vertical="building", customers=40, seed=2, stdout=out, stderr=err)

    assert Customer.objects.count() == 40
    assert "Loaded 40 building customers (seed 2)" in out.getvalue()
    assert "40/40 customers" in err.getvalue()
    assert AuditEvent.objects.get(action="demo.load").via == "cli"


def test_setup_demo_creates_the_organisation_once(data_dir: Path, settings: Any) -> None:
    settings.GUANXI_DEMO_VERTICAL = "auto"
    out = StringIO()
    call_command("setup_demo", customers=60, stdout=out, stderr=StringIO())

    login = (data_dir / "demo-login.txt").read_text(encoding="utf-8")
    password = login.split("password:")[1].strip()
    assert f"Demo login: admin / {password}" in out.getvalue()
    admin = User.objects.get(username="admin")
    assert admin.role == User.Role.ADMIN and admin.check_password(password)
    assert set(Team.objects.values_list("name", flat=True)) == {"华南一组", "华东二组"}
    roles = list(User.objects.values_list("role", flat=True))
    assert {r: roles.count(r) for r in set(roles)} == {
        "admin": 1,
        "manager": 2,
        "sales": 4,
        "service": 2,
        "viewer": 2,
        "marketing": 1,
    }
    assert User.objects.get(username="sales_hn1").check_password(password)
    assert Customer.objects.count() == 60 and Asset.objects.filter(kind=Asset.Kind.VEHICLE).exists()
    counts = (User.objects.count(), Customer.objects.count(), AuditEvent.objects.count())

    again = StringIO()
    call_command("setup_demo", stdout=again, stderr=StringIO())

    assert (User.objects.count(), Customer.objects.count(), AuditEvent.objects.count()) == counts
    assert f"Demo login: admin / {password}" in again.getvalue()
    assert demo_setup(vertical="auto") is None


def test_setup_demo_points_to_changepassword_when_the_admin_password_changed(
    data_dir: Path,
) -> None:
    call_command("setup_demo", customers=0, stdout=StringIO(), stderr=StringIO())
    admin = User.objects.get(username="admin")
    admin.set_password("Another-pass-4417")
    admin.save()

    out = StringIO()
    call_command("setup_demo", stdout=out, stderr=StringIO())

    assert "Demo login" not in out.getvalue()
    assert "guanxi changepassword admin" in out.getvalue()


def test_setup_demo_with_guanxi_demo_0_creates_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUANXI_DEMO", "0")
    out = StringIO()
    call_command("setup_demo", stdout=out, stderr=StringIO())

    assert not User.objects.exists() and not Customer.objects.exists()
    assert not (data_dir / "demo-login.txt").exists()
    assert "guanxi createsuperuser" in out.getvalue()
