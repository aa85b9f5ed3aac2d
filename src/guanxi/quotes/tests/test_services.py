"""Quote services: create (also from an opportunity), edit a draft, versions, send by email to a real
SMTP server with the PDF attached, accept into an order (once), reject, expiry, and who may do what."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from guanxi.audit.models import AuditEvent
from guanxi.catalog.models import Product
from guanxi.channels.models import EmailMessage
from guanxi.channels.testing import LocalSMTPServer
from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.opportunities import services as opportunity_services
from guanxi.quotes import services
from guanxi.quotes.models import Quote, QuoteLine, local_today
from guanxi.quotes.tests.conftest import DRAFT_TOTALS
from guanxi.sales.models import Order
from guanxi.users.models import User

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def travel(monkeypatch: pytest.MonkeyPatch) -> Callable[[date, time], None]:
    """travel(day, at): the clock (django.utils.timezone.now, which localdate reads too) stands still
    at that Shanghai time."""

    def go(day: date, at: time = time(10, 0)) -> None:
        moment = datetime.combine(day, at, tzinfo=SHANGHAI)
        monkeypatch.setattr("django.utils.timezone.now", lambda: moment)

    return go


def totals(quote: Quote) -> dict[str, Decimal]:
    quote.refresh_from_db()
    return {key: getattr(quote, key) for key in DRAFT_TOTALS}


def test_a_quote_gets_a_readable_number_lines_copied_and_totals(
    draft: Quote, seller: User, buyer: Customer, tile: Product
) -> None:
    assert re.fullmatch(rf"Q-{local_today().year}-\d{{6}}", draft.number)
    assert (draft.version, draft.status, draft.currency) == (1, "draft", "CNY")
    assert (draft.owner, draft.team_id, draft.created_by) == (seller, seller.team_id, seller)
    assert draft.valid_until == local_today() + timedelta(days=30)
    assert totals(draft) == DRAFT_TOTALS
    first = draft.lines.all()[0]
    assert (first.name, first.sku, first.unit, first.unit_price) == (
        "抛釉瓷砖 800×800",
        "TILE-800",
        "片",
        D("45.80"),
    )
    assert (first.amount, first.discount_amount, first.total, first.tax_amount) == (
        D("5496.00"),
        D("274.80"),
        D("5221.20"),
        D("600.67"),
    )
    event = AuditEvent.objects.get(action="quote.create")
    assert event.target_id == str(draft.pk) and event.data["total"] == "8209.20"
    entry = TimelineEntry.objects.get(customer=buyer, kind="quote.created")
    assert entry.data["quote_id"] == draft.pk and entry.data["reference"] == draft.number


def test_numbers_count_up_within_the_year(seller: User, buyer: Customer, travel: Any) -> None:
    first = services.quote_create(actor=seller, customer=buyer)
    second = services.quote_create(actor=seller, customer=buyer)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1
    travel(date(2031, 1, 1), time(0, 30))  # half past midnight in Shanghai, still 2030 in UTC
    assert services.quote_create(actor=seller, customer=buyer).number == "Q-2031-000001"


def test_a_quote_from_an_opportunity_takes_its_customer_and_products(
    seller: User, buyer: Customer, tile: Product, paint: Product
) -> None:
    opportunity = opportunity_services.opportunity_create(
        actor=seller,
        customer=buyer,
        name="样板房翻新",
        lines=[{"product_id": tile.pk, "quantity": "200", "unit_price": "42.00"}, {"product_id": paint.pk}],
    )
    quote = services.quote_create(actor=seller, opportunity=opportunity)
    assert (quote.customer, quote.opportunity, quote.title) == (buyer, opportunity, "样板房翻新")
    lines = list(quote.lines.values_list("product_id", "quantity", "unit_price", "tax_rate"))
    assert lines == [(tile.pk, D("200"), D("42.00"), D("13.00")), (paint.pk, D("1"), D("520.00"), D("13.00"))]
    assert quote.grand_total == D("8920.00")


def test_bad_lines_are_reported_each_by_field(seller: User, buyer: Customer, tile: Product) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.quote_create(
            actor=seller,
            customer=buyer,
            lines=[
                {"product_id": tile.pk, "quantity": "0"},
                {"product_id": tile.pk, "discount_percent": "120", "tax_rate": "abc"},
                {"product_id": 999999},
            ],
            valid_until=local_today() - timedelta(days=1),
        )
    assert set(caught.value.details) == {
        "lines.0.quantity",
        "lines.1.discount_percent",
        "lines.1.tax_rate",
        "lines.2.product_id",
        "valid_until",
    }
    assert Quote.objects.count() == 0


def test_lines_change_and_the_totals_follow(draft: Quote, seller: User, tile: Product) -> None:
    line = services.quote_line_add(
        actor=seller, quote=draft, product=tile, quantity="3", discount_percent="15"
    )
    assert (line.position, line.unit_price, line.total) == (2, D("45.80"), D("116.79"))  # 137.40 − 20.61
    assert totals(draft)["grand_total"] == D("8325.99")
    services.quote_line_update(
        actor=seller, quote=draft, line=line, unit_price="33.33", discount_percent="15"
    )
    line.refresh_from_db()
    assert (line.amount, line.discount_amount, line.total, line.tax_amount) == (
        D("99.99"),
        D("15.00"),
        D("84.99"),
        D("9.78"),
    )
    assert totals(draft)["grand_total"] == D("8294.19")
    services.quote_line_remove(actor=seller, quote=draft, line=line)
    assert totals(draft) == DRAFT_TOTALS
    actions = list(AuditEvent.objects.filter(target_id=str(draft.pk)).values_list("action", flat=True))
    assert {"quote.line_add", "quote.line_update", "quote.line_remove"} <= set(actions)


def test_only_a_draft_changes(draft: Quote, seller: User, tile: Product) -> None:
    services.quote_reject(actor=seller, quote=draft, reason="预算不够")
    with pytest.raises(services.QuoteNotEditable):
        services.quote_line_add(actor=seller, quote=draft, product=tile)
    with pytest.raises(services.QuoteNotEditable):
        services.quote_update(actor=seller, quote=draft, title="改")
    assert totals(draft) == DRAFT_TOTALS


def test_a_new_version_copies_the_quote_and_supersedes_it(draft: Quote, seller: User, tile: Product) -> None:
    services.quote_update(actor=seller, quote=draft, notes="含送货上门")
    second = services.quote_new_version(actor=seller, quote=draft)
    draft.refresh_from_db()
    assert draft.status == "superseded"
    assert (second.number, second.version, second.status, second.notes) == (
        draft.number,
        2,
        "draft",
        "含送货上门",
    )
    assert second.reference == f"{draft.number} v2"
    assert totals(second) == DRAFT_TOTALS
    assert second.lines.count() == 2 and QuoteLine.objects.filter(quote=draft).count() == 2
    # the old version stays as it was, and nothing changes it any more
    services.quote_line_add(actor=seller, quote=second, product=tile)
    assert totals(draft) == DRAFT_TOTALS
    for refused in (services.quote_new_version, services.quote_accept):
        with pytest.raises(services.QuoteNotCurrent):
            refused(actor=seller, quote=draft)
    third = services.quote_new_version(actor=seller, quote=second)
    assert (
        third.version == 3
        and Quote.objects.filter(number=draft.number).exclude(status="superseded").count() == 1
    )


def test_sending_emails_the_pdf_to_a_real_smtp_server(
    draft: Quote,
    seller: User,
    smtp_server: LocalSMTPServer,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.GUANXI_COMPANY_NAME = "广州美家建材有限公司"
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.quote_send(
            actor=seller, quote=draft, to=["王建国 <wang@pengcheng.example>"], idempotency_key="k1"
        )
    assert sent.status == "sent" and sent.sent_at is not None
    assert sent.sent_to == "王建国 <wang@pengcheng.example>"
    [delivery] = smtp_server.deliveries
    mail = delivery.message
    assert delivery.rcpt_tos == ["wang@pengcheng.example"]
    assert draft.number in mail["Subject"] and "广州美家建材有限公司" in mail["Subject"]
    assert mail["Reply-To"] == "li.na@example.com"
    body = smtp_server.text(mail)
    assert "王建国" in body and "¥8,209.20" in body and "李娜" in body
    [(name, content, kind)] = smtp_server.attachments(mail)
    assert (name, kind) == (f"{draft.number}-v1.pdf", "application/pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "深圳市鹏程装饰工程有限公司" in text and "¥8,209.20" in text
    assert TimelineEntry.objects.filter(kind="quote.sent", data__quote_id=draft.pk).count() == 1

    # the same key again (a double click) sends nothing more
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(actor=seller, quote=draft, to=["wang@pengcheng.example"], idempotency_key="k1")
    assert len(smtp_server.deliveries) == 1 and EmailMessage.objects.count() == 1
    assert AuditEvent.objects.filter(action="quote.send").count() == 1


def test_sending_refuses_bad_addresses_and_empty_or_expired_quotes(
    draft: Quote, seller: User, buyer: Customer, travel: Any
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.quote_send(actor=seller, quote=draft, to=["not-an-address"])
    assert "to" in caught.value.details
    empty = services.quote_create(actor=seller, customer=buyer)
    with pytest.raises(services.QuoteEmpty):
        services.quote_send(actor=seller, quote=empty, to=["a@example.com"])
    travel(draft.valid_until + timedelta(days=1))
    with pytest.raises(services.QuoteExpired):
        services.quote_send(actor=seller, quote=draft, to=["a@example.com"])
    draft.refresh_from_db()
    assert draft.status == "draft" and EmailMessage.objects.count() == 0


def test_accepting_books_one_order_with_the_same_total(draft: Quote, seller: User, buyer: Customer) -> None:
    accepted = services.quote_accept(actor=seller, quote=draft)
    order = accepted.order
    assert accepted.status == "accepted" and accepted.accepted_at is not None and order is not None
    assert order.customer == buyer and order.total == D("8209.20") == accepted.grand_total
    assert order.external_ref == draft.number
    lines = list(order.lines.values_list("sku", "quantity", "unit_price", "discount", "total"))
    assert lines == [
        ("TILE-800", D("120"), D("45.80"), D("274.80"), D("5221.20")),
        ("PAINT-18L", D("6"), D("498.00"), D("0.00"), D("2988.00")),
    ]
    again = services.quote_accept(actor=seller, quote=draft)
    assert again.replayed and again.order_id == order.pk
    assert Order.objects.count() == 1
    assert AuditEvent.objects.filter(action="quote.accept").count() == 1
    assert TimelineEntry.objects.filter(kind="quote.accepted").count() == 1
    with pytest.raises(services.QuoteClosed):
        services.quote_reject(actor=seller, quote=draft)
    with pytest.raises(services.QuoteClosed):
        services.quote_new_version(actor=seller, quote=draft)


def test_an_expired_quote_reads_expired_and_cannot_be_accepted(
    draft: Quote, seller: User, travel: Any
) -> None:
    travel(draft.valid_until + timedelta(days=1), time(0, 1))
    draft.refresh_from_db()
    assert draft.shown_status == "expired" and draft.status == "draft"
    assert list(Quote.objects.shown_as("expired")) == [draft]
    assert list(Quote.objects.shown_as("draft")) == []
    assert Quote.objects.with_status().get().shown == "expired"
    with pytest.raises(services.QuoteExpired):
        services.quote_accept(actor=seller, quote=draft)
    assert Order.objects.count() == 0
    # a new version is valid again from today
    renewed = services.quote_new_version(actor=seller, quote=draft)
    assert renewed.valid_until == local_today() + timedelta(days=30)
    assert services.quote_accept(actor=seller, quote=renewed).status == "accepted"
    # on its last day a quote is still valid
    other = services.quote_new_version
    assert other is not None


def test_a_quote_is_valid_through_its_last_day(draft: Quote, seller: User, travel: Any) -> None:
    travel(draft.valid_until, time(23, 59))
    draft.refresh_from_db()
    assert draft.shown_status == "draft"
    assert services.quote_accept(actor=seller, quote=draft).status == "accepted"


def test_rejecting_keeps_the_reason_once(draft: Quote, seller: User) -> None:
    services.quote_reject(actor=seller, quote=draft, reason="选了别家  的方案")
    services.quote_reject(actor=seller, quote=draft, reason="again")
    draft.refresh_from_db()
    assert (draft.status, draft.reject_reason) == ("rejected", "选了别家 的方案")
    assert AuditEvent.objects.filter(action="quote.reject").count() == 1
    with pytest.raises(services.QuoteClosed):
        services.quote_accept(actor=seller, quote=draft)


def test_scope_and_permissions(
    draft: Quote, make_user: Callable[..., User], team_b: Any, tile: Product
) -> None:
    stranger = make_user("sales", username="stranger")
    viewer = make_user("viewer")
    manager = make_user("manager")
    other_manager = make_user("manager", team=team_b)
    for refused in (
        lambda actor: services.quote_update(actor=actor, quote=draft, title="x"),
        lambda actor: services.quote_line_add(actor=actor, quote=draft, product=tile),
        lambda actor: services.quote_new_version(actor=actor, quote=draft),
        lambda actor: services.quote_accept(actor=actor, quote=draft),
        lambda actor: services.quote_reject(actor=actor, quote=draft),
        lambda actor: services.quote_send(actor=actor, quote=draft, to=["a@example.com"]),
    ):
        with pytest.raises(NotFound):
            refused(stranger)  # another rep's quote does not exist for them
        with pytest.raises(NotFound):
            refused(other_manager)  # nor for another team's manager
        with pytest.raises(PermissionDenied):
            refused(viewer)  # a viewer reads quotes, but prepares none
    with pytest.raises(NotFound):
        services.quote_create(actor=stranger, customer=draft.customer)
    draft.refresh_from_db()
    assert (draft.status, draft.title) == ("draft", "南山样板房装修材料")
    # the rep's manager (same team) may work on it
    assert services.quote_update(actor=manager, quote=draft, title="改过").title == "改过"


def test_a_quote_may_be_made_for_a_team_mate_by_their_manager_only(
    buyer: Customer, seller: User, make_user: Callable[..., User], team_b: Any
) -> None:
    manager = make_user("manager")
    admin = make_user("admin", team=None)
    quote = services.quote_create(actor=manager, customer=buyer, owner=seller)
    assert (quote.owner, quote.team_id, quote.created_by) == (seller, seller.team_id, manager)
    stranger = make_user("sales", team=team_b)
    with pytest.raises(ValidationFailed) as caught:
        services.quote_create(actor=manager, customer=buyer, owner=stranger)
    assert "owner" in caught.value.details
    with pytest.raises(ValidationFailed):
        services.quote_create(actor=seller, customer=buyer, owner=make_user("sales"))
    assert services.quote_create(actor=admin, customer=buyer, owner=stranger).team_id == team_b.pk
