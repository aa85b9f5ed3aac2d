"""Orders: the purchase history that the 360 page and the analytics read.

An order is never edited after it is booked. A refund is a record of its own (`Refund`, append-only);
the order caches the sum of its refunds in `refunded_total`, changed only by a conditional UPDATE inside
the refund's transaction, and its `status` follows. What a customer is worth is the sum of
`total - refunded_total` over their orders.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.catalog.models import Product, Store
from guanxi.customers.models import Customer

ZERO = Decimal("0.00")


class Order(models.Model):
    class Channel(models.TextChoices):
        STORE = "store", _("In store")
        PHONE = "phone", _("Phone")
        ONLINE = "online", _("Online")
        WECHAT = "wechat", _("WeChat")
        OTHER = "other", _("Other")

    class PaymentMethod(models.TextChoices):
        CASH = "cash", _("Cash")
        CARD = "card", _("Bank card")
        WECHAT_PAY = "wechat_pay", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")
        MEMBER_CARD = "member_card", _("Member card")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        COMPLETED = "completed", pgettext_lazy("order status", "Completed")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")

    # Orders are financial history: deleting a customer or a store that has orders is refused.
    # The (customer, ordered_at) and (store, ordered_at) indexes below serve their foreign keys too.
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    ordered_at = models.DateTimeField(_("ordered at"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.STORE)
    payment_method = models.CharField(
        _("payment method"), max_length=12, choices=PaymentMethod.choices, default=PaymentMethod.CASH
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.COMPLETED)
    # CNY. With lines, the sum of their totals.
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    refunded_total = models.DecimalField(_("refunded"), max_digits=12, decimal_places=2, default=ZERO)
    note = models.CharField(_("note"), max_length=500, blank=True)
    external_ref = models.CharField(_("external reference"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    # A client's key for one booking: the same key from the same user books once (sales.services).
    idempotency_key = models.CharField(max_length=100, blank=True, default="", db_default="", editable=False)

    # Set by order_create on the order it returns: True when the idempotency key had booked it before.
    replayed = False

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["customer", "ordered_at"], name="order_customer_time_idx"),
            models.Index(fields=["ordered_at"], name="order_time_idx"),
            models.Index(fields=["store", "ordered_at"], name="order_store_time_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_idempotency_key_unique",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded_total__gte=0) & Q(refunded_total__lte=F("total")),
                name="order_refunded_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def net_total(self) -> Decimal:
        """What the order is worth after its refunds."""
        return self.total - self.refunded_total


class OrderLine(models.Model):
    """One product on an order. Name, SKU and unit are copied at booking, so renaming a product later
    leaves past orders as they were sold."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    # An amount off the line (not a rate): 0.00 when none.
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, default=ZERO)
    total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_line_total_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity}"


class Refund(models.Model):
    """Money given back on an order, in full or in part. Append-only: a refund is never changed."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=300)
    refunded_at = models.DateTimeField(_("refunded at"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    idempotency_key = models.CharField(max_length=100, blank=True, default="", db_default="", editable=False)

    replayed = False

    class Meta:
        ordering = ["refunded_at", "id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="refund_idempotency_key_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order} −{self.amount}"
