"""What the business sells (products) and where (stores). Orders (sales) point at both."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# Units offered as suggestions when a product is entered; any other text is allowed too.
UNIT_SUGGESTIONS = ("升", "件", "个", "台", "套", "箱", "桶", "吨", "千克", "m²", "m³", "米", "次", "小时")


class Product(models.Model):
    """An item or service sold: a fuel grade, a tile, a car model, a maintenance package."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True, db_index=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    # Unknown cost stays empty rather than 0, so a margin is never computed from a cost nobody entered.
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["category", "name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(
                condition=models.Q(cost__isnull=True) | models.Q(cost__gte=0),
                name="product_cost_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Store(models.Model):
    """One physical site of the business: a fuel station, a showroom, a shop."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    city = models.CharField(_("city"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["code", "id"]
        verbose_name = _("store")
        verbose_name_plural = _("stores")

    def __str__(self) -> str:
        return self.name
