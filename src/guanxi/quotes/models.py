"""Quotes (报价单): a priced offer to a customer, with product lines, valid until a date, in versions.

Money (CNY, Decimal throughout, never a float):
- Prices are **tax-inclusive** (含税价), as Chinese retail prices must be shown and as the orders a quote
  becomes are booked: the grand total is what the customer pays, and the VAT is the part of it shown as
  "of which VAT". An accepted quote therefore books an order of exactly its grand total.
- A line's discount is a **percentage** of the line (10 = 10 % off, i.e. 九折), 0 to 100 with at most
  2 decimals; the order it becomes carries the discount as the amount it came to.
- Each line is rounded on its own, half up to the cent (`ROUND_HALF_UP`, as a till rounds):
  amount = quantity × unit price; discount = amount × discount % / 100; total = amount − discount;
  VAT included = total × rate / (100 + rate); net = total − VAT.
  The quote's totals are sums of those rounded line figures (never rounded again), so the lines always
  add up to the totals printed under them.

Versions: quotes with the same `number` are one family; `version` counts 1, 2, … A new version copies
the current one, which becomes `superseded`; at most one version of a family is not superseded.

Expiry is computed, not stored: a draft or sent quote whose `valid_until` has passed (in the configured
time zone, Asia/Shanghai) reads as `expired` (`Quote.shown_status`, and `QuoteQuerySet.with_status` for
filters), so no job has to run at midnight for a quote to stop being acceptable.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.catalog.models import Product
from guanxi.customers.models import Contact, Customer, CustomerEmail, CustomerPhone

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
# China's VAT rates: 13 % goods, 9 % transport / building / farm goods, 6 % services, 3 % / 1 % small-scale.
DEFAULT_TAX_RATE = Decimal("13.00")
TAX_RATES = (Decimal("13"), Decimal("9"), Decimal("6"), Decimal("3"), Decimal("1"), Decimal("0"))


def _cents(number: Decimal) -> Decimal:
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineFigures:
    """One line's money, each figure rounded half up to the cent (see the module's rules)."""

    amount: Decimal
    discount: Decimal
    total: Decimal
    tax: Decimal

    @property
    def net(self) -> Decimal:
        """The line total without its VAT."""
        return self.total - self.tax


def line_figures(
    *, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, tax_rate: Decimal
) -> LineFigures:
    amount = _cents(quantity * unit_price)
    discount = _cents(amount * discount_percent / HUNDRED)
    total = amount - discount
    tax = _cents(total * tax_rate / (HUNDRED + tax_rate))
    return LineFigures(amount=amount, discount=discount, total=total, tax=tax)


def local_today() -> datetime.date:
    return timezone.localdate()


class QuoteQuerySet(models.QuerySet["Quote"]):
    def expired_q(self, today: datetime.date | None = None) -> Q:
        return Q(status__in=Quote.OPEN_STATUSES, valid_until__lt=today or local_today())

    def with_status(self, today: datetime.date | None = None) -> QuoteQuerySet:
        """Annotate `shown` with the status a reader sees: expired for an open quote past its date."""
        return self.annotate(
            shown=Case(
                When(self.expired_q(today), then=Value(Quote.Status.EXPIRED)),
                default=F("status"),
                output_field=models.CharField(),
            )
        )

    def for_document(self, *, clear: bool) -> QuoteQuerySet:
        """Everything a quote page or PDF shows: customer (phones, emails), contact, lines, people, order.
        `clear`: whether the reader sees personal data in clear (else masked, as everywhere)."""
        pii = Value(clear, output_field=models.BooleanField())
        lookups: list[Any] = [
            models.Prefetch("customer__phones", queryset=CustomerPhone.objects.annotate(pii_clear=pii)),
            models.Prefetch("customer__emails", queryset=CustomerEmail.objects.annotate(pii_clear=pii)),
            models.Prefetch("lines", queryset=QuoteLine.objects.order_by("position", "id")),
        ]
        related = ("customer", "contact", "owner", "created_by", "opportunity", "order")
        return self.select_related(*related).prefetch_related(*lookups)

    def shown_as(self, status: str, today: datetime.date | None = None) -> QuoteQuerySet:
        """Quotes a reader sees with `status` (expired ones are no longer shown as draft or sent)."""
        if status == Quote.Status.EXPIRED:
            return self.filter(self.expired_q(today))
        if status in Quote.OPEN_STATUSES:
            return self.filter(status=status).exclude(self.expired_q(today))
        return self.filter(status=status)


class Quote(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("quote status", "Draft")
        SENT = "sent", pgettext_lazy("quote status", "Sent")
        ACCEPTED = "accepted", pgettext_lazy("quote status", "Accepted")
        REJECTED = "rejected", pgettext_lazy("quote status", "Rejected")
        # Never stored: how a draft or sent quote reads once its validity date has passed.
        EXPIRED = "expired", pgettext_lazy("quote status", "Expired")
        SUPERSEDED = "superseded", pgettext_lazy("quote status", "Superseded")

    OPEN_STATUSES = (Status.DRAFT, Status.SENT)

    number = models.CharField(_("quote number"), max_length=20, db_index=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(_("subject"), max_length=200, blank=True)
    # A quote is part of the customer's commercial history: deleting a customer with quotes is refused.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="quotes"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
    )
    valid_until = models.DateField(_("valid until"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY", editable=False)
    notes = models.TextField(_("notes"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    # Cached sums of the lines' rounded figures, rewritten by the services whenever a line changes.
    subtotal = models.DecimalField(_("subtotal"), max_digits=14, decimal_places=2, default=ZERO)
    discount_total = models.DecimalField(_("discount"), max_digits=14, decimal_places=2, default=ZERO)
    tax_total = models.DecimalField(_("VAT included"), max_digits=14, decimal_places=2, default=ZERO)
    grand_total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=ZERO)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_quotes",
    )
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_to = models.CharField(_("sent to"), max_length=500, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    reject_reason = models.CharField(_("reason"), max_length=300, blank=True)
    # The order an accepted quote became.
    order = models.ForeignKey(
        "sales.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = QuoteQuerySet.as_manager()

    # Set by quote_accept on the quote it returns: True when it had been accepted before.
    replayed = False

    class Meta:
        ordering = ["-id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        indexes = [
            models.Index(fields=["owner", "id"], name="quote_owner_idx"),
            models.Index(fields=["team", "id"], name="quote_team_idx"),
            models.Index(fields=["customer", "id"], name="quote_customer_idx"),
            models.Index(fields=["status", "valid_until"], name="quote_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number", "version"], name="quote_number_version_unique"),
            # One version of a family is current: every other one is superseded.
            models.UniqueConstraint(
                fields=["number"], condition=~Q(status="superseded"), name="quote_one_current_version"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="quote_version_positive"),
            models.CheckConstraint(condition=Q(grand_total__gte=0), name="quote_total_not_negative"),
        ]

    def __str__(self) -> str:
        return self.reference

    def mark_clear(self, clear: bool) -> Quote:
        """Let the customer's and contact's personal data show in clear for this reader (or masked)."""
        self.customer.pii_clear = clear  # type: ignore[attr-defined]
        if self.contact is not None:
            self.contact.pii_clear = clear  # type: ignore[attr-defined]
        return self

    @property
    def reference(self) -> str:
        """Q-2026-000123 for a first version, Q-2026-000123 v2 after."""
        return self.number if self.version == 1 else f"{self.number} v{self.version}"

    @property
    def net_total(self) -> Decimal:
        """The grand total without its VAT."""
        return self.grand_total - self.tax_total

    @property
    def is_expired(self) -> bool:
        return self.status in self.OPEN_STATUSES and self.valid_until < local_today()

    @property
    def shown_status(self) -> str:
        return str(self.Status.EXPIRED) if self.is_expired else str(self.status)

    def get_shown_status_display(self) -> str:
        return str(self.Status(self.shown_status).label)

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT and not self.is_expired


class QuoteLine(models.Model):
    """One product on a quote. Name, SKU and unit are copied from the catalogue when the line is added,
    so a product renamed later leaves the quote as it was offered. Figures: see the module's rules."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    # Tax-inclusive, CNY.
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=ZERO)
    tax_rate = models.DecimalField(
        _("VAT rate (%)"), max_digits=5, decimal_places=2, default=DEFAULT_TAX_RATE
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    discount_amount = models.DecimalField(_("discount"), max_digits=14, decimal_places=2, default=ZERO)
    total = models.DecimalField(_("line total"), max_digits=14, decimal_places=2)
    tax_amount = models.DecimalField(_("VAT included"), max_digits=14, decimal_places=2, default=ZERO)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="quote_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="quote_line_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="quote_line_discount_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name="quote_line_tax_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity}"

    @property
    def net(self) -> Decimal:
        return self.total - self.tax_amount

    def figures(self) -> LineFigures:
        return line_figures(
            quantity=self.quantity,
            unit_price=self.unit_price,
            discount_percent=self.discount_percent,
            tax_rate=self.tax_rate,
        )


class QuoteCounter(models.Model):
    """The last quote number given out in a year: Q-<year>-<6 digits>, counted by a conditional UPDATE."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("quote counter")
        verbose_name_plural = _("quote counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
