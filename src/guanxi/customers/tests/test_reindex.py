"""`guanxi reindex`: search columns rebuilt from what is stored; only the changed rows are written."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.audit.models import AuditEvent
from guanxi.customers import selectors, services
from guanxi.customers.models import Customer
from guanxi.customers.services._common import customer_search_parts
from guanxi.customers.services.reindex import customer_reindex_all, customer_search_parts_many
from guanxi.users.models import User


@pytest.fixture
def customers(admin: User) -> list[Customer]:
    zhang = services.customer_create(
        actor=admin,
        name="张伟",
        phones=["138 0013 8000", "021-62345678"],
        emails=["zhang.wei@example.com"],
        member_no="M20240001",
        wechat_id="wxid_zw1988",
        external_ids={"erp": "C-77"},
    )
    services.asset_create(actor=admin, customer=zhang, plate="粤B·12345", vin="LSVAU2180N2183294")
    services.asset_create(actor=admin, customer=zhang, plate="粤A54321")
    company = services.customer_create(actor=admin, name="深圳华强建材有限公司", kind="company")
    services.contact_create(
        actor=admin, customer=company, name="李建国", phone="13711112222", email="li@example.com"
    )
    services.contact_create(actor=admin, customer=company, name="曾小贤", is_primary=True)
    bare = services.customer_create(actor=admin, name="王芳")
    return [zhang, company, bare]


def _columns() -> dict[int, tuple[str, str]]:
    return {
        pk: (text, keys)
        for pk, text, keys in Customer.objects.values_list("pk", "search_text", "search_keys")
    }


def test_search_parts_of_many_customers_are_those_of_each_one(customers: list[Customer]) -> None:
    many = customer_search_parts_many(list(Customer.objects.all()))
    assert many == {c.pk: customer_search_parts(c) for c in customers}


def test_search_parts_of_many_customers_cost_four_queries(
    customers: list[Customer], django_assert_num_queries: Any
) -> None:
    rows = list(Customer.objects.all())
    with django_assert_num_queries(4):  # phones, emails, assets, contacts
        customer_search_parts_many(rows)


def test_reindex_rebuilds_stale_columns_and_writes_only_those(admin: User, customers: list[Customer]) -> None:
    # given: what the services stored, then two rows left in an older normalisation
    current = _columns()
    zhang, company, _bare = customers
    Customer.objects.filter(pk=zhang.pk).update(search_text="zhangwei", search_keys="")
    Customer.objects.filter(pk=company.pk).update(search_text="", search_keys="")
    assert not selectors.customer_list(actor=admin, q="b12345").exists()

    # when
    stats = customer_reindex_all(actor=None, batch_size=2)

    # then
    assert (stats.customers, stats.changed) == (3, 2)
    assert _columns() == current
    assert list(selectors.customer_list(actor=admin, q="b12345")) == [zhang]
    assert list(selectors.customer_list(actor=admin, q="ljg")) == [company]
    event = AuditEvent.objects.get(action="customer.reindex")
    assert (event.actor, event.actor_label) == (None, "system")
    assert (event.data["customers"], event.data["changed"]) == (3, 2)


def test_reindex_again_changes_nothing(customers: list[Customer]) -> None:
    customer_reindex_all(actor=None)
    assert customer_reindex_all(actor=None).changed == 0


def test_reindex_command_reports_what_it_did(customers: list[Customer]) -> None:
    Customer.objects.filter(pk=customers[2].pk).update(search_text="")
    out, err = StringIO(), StringIO()
    call_command("reindex", batch=2, stdout=out, stderr=err)
    assert "Reindexed 3 customers" in out.getvalue()
    assert "1 changed, 2 already current." in out.getvalue()
    assert "3/3 customers" in err.getvalue()
    assert AuditEvent.objects.get(action="customer.reindex").via == "cli"


def test_reindex_command_refuses_an_empty_batch(db: Any) -> None:
    with pytest.raises(CommandError, match="--batch must be 1 or more"):
        call_command("reindex", batch=0, stdout=StringIO(), stderr=StringIO())
