"""The sales pages: the counter (with and without htmx), the order list and page, refunds, and what the
customer 360 page shows of the purchases."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from guanxi.catalog.models import Product, Store
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.sales import services
from guanxi.sales.models import Order, Refund
from guanxi.users.models import User

HX = {"HTTP_HX_REQUEST": "true"}
COUNTER = "/sales/counter/"


def text(response: HttpResponse) -> str:
    return response.content.decode()


def key_of(html: str) -> str:
    found = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html)
    assert found, "the form carries an idempotency key"
    return found.group(1)


def booking(customer: Customer, key: str, **fields: Any) -> dict[str, Any]:
    return {
        "customer": customer.pk,
        "idempotency_key": key,
        "payment_method": "cash",
        "channel": "store",
        **fields,
    }


def test_the_counter_page_offers_stores_products_and_a_fresh_key(
    client_for: Callable[[User], Client], seller: User, store: Store, fuel: Product
) -> None:
    response = client_for(seller).get(COUNTER)
    html = text(response)
    assert response.status_code == 200
    assert "南山加油站" in html and "92号汽油" in html
    assert 'id="counter-q"' in html and "autofocus" in html
    first = key_of(html)
    assert key_of(text(client_for(seller).get(COUNTER))) != first
    # the only store is chosen already
    assert re.search(rf'<option value="{store.pk}" selected>', html)


def test_customer_search_finds_by_plate_and_phone_within_scope(
    client_for: Callable[[User], Client],
    seller: User,
    buyer: Customer,
    make_user: Callable[..., User],
    make_customer: Callable[..., Customer],
) -> None:
    make_customer(make_user("sales"), name="张伟", phones=["13700137000"])  # a namesake the seller cannot see
    client = client_for(seller)
    url = reverse("order-counter-customers")
    by_plate = text(client.get(url, {"q": "粤B12345"}))
    assert f'data-pick="{buyer.pk}"' in by_plate and "粤B12345" in by_plate and "138 0013 8000" in by_plate
    by_phone = text(client.get(url, {"q": "8000"}))
    assert by_phone.count("data-pick=") == 1
    by_name = text(client.get(url, {"q": "张伟"}))
    assert by_name.count("data-pick=") == 1
    assert "No customer matches" in text(client.get(url, {"q": "不存在的人"}))
    assert client.get(url, {"q": ""}).content == b""


def test_the_chip_shows_the_customer_and_their_spend(
    client_for: Callable[[User], Client], seller: User, buyer: Customer
) -> None:
    services.order_create(actor=seller, customer=buyer, amount="1234.5")
    html = text(client_for(seller).get(reverse("order-counter-customer", args=[buyer.pk]), **HX))
    assert "张伟" in html and "粤B12345" in html and "¥1,234.50 in 1 order" in html
    assert "<html" not in html


def test_booking_with_htmx_confirms_and_gives_a_fresh_form_remembering_store_and_payment(
    client_for: Callable[[User], Client], seller: User, buyer: Customer, store: Store, make_user: Any
) -> None:
    client = client_for(seller)
    key = key_of(text(client.get(COUNTER)))

    response = client.post(
        COUNTER, booking(buyer, key, amount="300", store=store.pk, payment_method="wechat_pay"), **HX
    )

    html = text(response)
    assert response.status_code == 200
    order = Order.objects.get()
    assert (order.total, order.store, order.payment_method, order.created_by) == (
        Decimal("300.00"),
        store,
        "wechat_pay",
        seller,
    )
    assert f"Order #{order.pk} booked" in html and "¥300.00" in html
    assert "<html" not in html and 'id="counter"' in html
    assert key_of(html) != key  # ready for the next customer
    assert '<input type="hidden" name="customer" id="id_customer">' in html  # no customer chosen
    assert 'class="counter-chip"' not in html
    assert re.search(r'value="wechat_pay"[^>]*checked', html)
    # and the next visit remembers the store and payment method
    page = text(client.get(COUNTER))
    assert re.search(rf'<option value="{store.pk}" selected>', page)
    assert re.search(r'value="wechat_pay"[^>]*checked', page)


def test_a_double_submit_books_once(
    client_for: Callable[[User], Client], seller: User, buyer: Customer
) -> None:
    client = client_for(seller)
    key = key_of(text(client.get(COUNTER)))
    client.post(COUNTER, booking(buyer, key, amount="50"), **HX)
    again = client.post(COUNTER, booking(buyer, key, amount="50"), **HX)
    assert Order.objects.count() == 1
    assert "was booked already; nothing was booked twice" in text(again)


def test_booking_without_htmx_redirects_to_a_confirmation(
    client_for: Callable[[User], Client], seller: User, buyer: Customer, fuel: Product
) -> None:
    client = client_for(seller)
    data = booking(buyer, "a" * 32, line_product=[str(fuel.pk), ""], line_quantity=["10", ""])
    data.update(line_price=["", ""], line_discount=["1", ""])
    response = client.post(COUNTER, data)
    order = Order.objects.get()
    assert order.total == Decimal("77.90")  # 10 × 7.89 − 1.00
    assert response.status_code == 302 and response["Location"] == f"{COUNTER}?saved={order.pk}"
    page = text(client.get(response["Location"]))
    assert f"Order #{order.pk} booked" in page and "¥77.90" in page


def test_errors_come_back_on_the_form_with_the_customer_kept(
    client_for: Callable[[User], Client], seller: User, buyer: Customer, fuel: Product
) -> None:
    client = client_for(seller)
    no_customer = client.post(
        COUNTER, {"idempotency_key": "k", "amount": "10", "payment_method": "cash", "channel": "store"}
    )
    assert no_customer.status_code == 422
    assert "Find the customer and choose them first." in text(no_customer)

    bad_amount = client.post(COUNTER, booking(buyer, "k", amount="12.345"), **HX)
    html = text(bad_amount)
    assert bad_amount.status_code == 200  # htmx swaps only 2xx answers
    assert "The order was not booked" in html and "Enter at most 2 decimal places." in html
    assert 'class="counter-chip"' in html and "张伟" in html  # the chosen customer stays

    bad_line = client.post(
        COUNTER,
        booking(
            buyer, "k", line_product=[str(fuel.pk)], line_quantity=["0"], line_price=[""], line_discount=[""]
        ),
    )
    assert bad_line.status_code == 422
    assert "Enter a quantity greater than 0." in text(bad_line)
    assert Order.objects.count() == 0


def test_the_counter_is_closed_to_roles_without_order_create(
    client_for: Callable[[User], Client], make_user: Callable[..., User], buyer: Customer
) -> None:
    viewer = make_user("viewer")
    client = client_for(viewer)
    assert client.get(COUNTER).status_code == 403
    assert client.post(COUNTER, booking(buyer, "k", amount="10")).status_code == 403
    assert Order.objects.count() == 0


def test_the_order_list_filters_and_totals_a_date_range(
    client_for: Callable[[User], Client], seller: User, admin: User, buyer: Customer, store: Store
) -> None:
    a = services.order_create(actor=seller, customer=buyer, amount="10", store=store)
    b = services.order_create(actor=seller, customer=buyer, amount="20")
    services.order_refund(actor=admin, order=b, amount="5", reason="少找零")
    client = client_for(seller)
    html = text(client.get(reverse("order-list")))
    assert f"#{a.pk}" in html and f"#{b.pk}" in html and "Partially refunded" in html
    assert "Net" in html and "ord-totals" not in html  # no totals over the whole history
    today = a.ordered_at.astimezone().date().isoformat()
    dated = text(client.get(reverse("order-list"), {"date_from": today, "date_to": today}))
    assert "¥30.00" in dated and "¥25.00" in dated and "ord-totals" in dated
    by_store = text(client.get(reverse("order-list"), {"store": store.pk}))
    assert f"#{a.pk}" in by_store and f"#{b.pk}" not in by_store
    mine = text(client.get(reverse("order-list"), {"customer": buyer.pk}))
    assert "Orders of 张伟" in mine


def test_the_order_page_and_a_refund(
    client_for: Callable[[User], Client], manager: User, seller: User, buyer: Customer, fuel: Product
) -> None:
    order = services.order_create(
        actor=seller, customer=buyer, lines=[{"product_id": fuel.pk, "quantity": "35.27"}]
    )
    client = client_for(manager)
    page = text(client.get(reverse("order-detail", args=[order.pk])))
    assert "92号汽油" in page and "35.27 升" in page and "¥278.28" in page and "Refund this order" in page

    response = client.post(
        reverse("order-refund", args=[order.pk]),
        {"amount": "28.28", "reason": "油品投诉", "idempotency_key": "r1"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.refunded_total, order.status) == (Decimal("28.28"), "partially_refunded")
    page = text(client.get(reverse("order-detail", args=[order.pk])))
    assert "油品投诉" in page and "−¥28.28" in page and "¥250.00" in page

    too_much = client.post(reverse("order-refund", args=[order.pk]), {"amount": "300", "reason": "x"})
    assert too_much.status_code == 422 and "At most ¥250.00 is left to refund" in text(too_much)
    assert Refund.objects.count() == 1
    # a seller sees the order but may not refund it
    assert "Refund this order" not in text(client_for(seller).get(reverse("order-detail", args=[order.pk])))
    assert (
        client_for(seller).post(reverse("order-refund", args=[order.pk]), {"reason": "x"}).status_code == 403
    )


# ---------------------------------------------------------------------------------------------------
# The customer 360 page


def test_the_360_page_shows_the_purchase_summary_and_orders_on_the_timeline(
    client_for: Callable[[User], Client],
    manager: User,
    seller: User,
    buyer: Customer,
    fuel: Product,
    store: Store,
) -> None:
    order = services.order_create(
        actor=seller, customer=buyer, store=store, lines=[{"product_id": fuel.pk, "quantity": "40"}]
    )
    services.order_create(actor=seller, customer=buyer, amount="84.40", payment_method="alipay")
    services.order_refund(actor=manager, order=order, amount="15.60", reason="加错油号")

    html = text(client_for(seller).get(reverse("customer-detail", args=[buyer.pk])))

    summary = html[html.index('id="purchases"') :]
    assert "¥384.40" in summary  # 315.60 + 84.40 − 15.60
    assert "Lifetime spend" in summary and "Average order" in summary and "¥192.20" in summary
    assert "Favourite products" in summary and "92号汽油" in summary and "40 升" in summary
    assert f"?customer={buyer.pk}" in summary
    assert "Bought for <strong>¥315.60</strong> at <strong>南山加油站</strong>" in html
    assert f'href="/sales/orders/{order.pk}/"' in html
    assert "Refunded <strong>¥15.60</strong> of order" in html and "加错油号" in html
    assert "Alipay" in html


def test_the_360_page_with_many_orders_runs_a_constant_number_of_queries(
    client_for: Callable[[User], Client],
    seller: User,
    buyer: Customer,
    fuel: Product,
    wash: Product,
    make_customer: Callable[..., Customer],
    django_assert_num_queries: Any,
) -> None:
    small = make_customer(seller, name="小客户")
    services.order_create(actor=seller, customer=small, amount="5")
    for i in range(30):
        services.order_create(
            actor=seller,
            customer=buyer,
            lines=[
                {"product_id": fuel.pk, "quantity": str(10 + i)},
                {"product_id": wash.pk, "quantity": "1"},
            ],
        )
    client = client_for(seller)
    # the customer page's 16 (customers/tests/test_views_detail.py) and the favourites, as both have orders
    with django_assert_num_queries(17):
        assert client.get(reverse("customer-detail", args=[small.pk])).status_code == 200
    with django_assert_num_queries(17):
        assert client.get(reverse("customer-detail", args=[buyer.pk])).status_code == 200


def test_a_timeline_entry_in_an_unexpected_shape_still_shows(
    client_for: Callable[[User], Client], seller: User, buyer: Customer
) -> None:
    TimelineEntry.objects.create(
        customer=buyer, occurred_at=buyer.created_at, kind="order.created", data={"total": "1"}
    )
    response = client_for(seller).get(reverse("customer-detail", args=[buyer.pk]))
    assert response.status_code == 200 and "<code>order.created</code>" in text(response)


@pytest.mark.parametrize("role", ["admin", "manager", "sales", "service", "marketing", "viewer"])
def test_the_navigation_shows_what_the_role_may_use(
    role: str, client_for: Callable[[User], Client], make_user: Callable[..., User]
) -> None:
    html = text(client_for(make_user(role)).get("/"))
    assert (f'href="{COUNTER}"' in html) is (role in ("admin", "manager", "sales"))
    assert ('href="/sales/orders/"' in html) is True
    assert ('href="/catalog/products/"' in html) is (role in ("admin", "manager"))
