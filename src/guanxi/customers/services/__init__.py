"""Every write to customer data goes through one of these functions."""

from guanxi.customers.services._common import customer_reindex, timeline_add
from guanxi.customers.services.config import (
    custom_field_create,
    custom_field_update,
    tag_create,
    tag_delete,
    tag_update,
)
from guanxi.customers.services.customer import (
    customer_assign,
    customer_create,
    customer_delete,
    customer_tag,
    customer_update,
)
from guanxi.customers.services.details import (
    asset_create,
    asset_delete,
    asset_update,
    consent_record,
    contact_create,
    contact_delete,
    contact_update,
    note_add,
)
from guanxi.customers.services.export import customer_export_record
from guanxi.customers.services.merge import customer_merge

__all__ = [
    "asset_create",
    "asset_delete",
    "asset_update",
    "consent_record",
    "contact_create",
    "contact_delete",
    "contact_update",
    "custom_field_create",
    "custom_field_update",
    "customer_assign",
    "customer_create",
    "customer_delete",
    "customer_export_record",
    "customer_merge",
    "customer_reindex",
    "customer_tag",
    "customer_update",
    "note_add",
    "tag_create",
    "tag_delete",
    "tag_update",
    "timeline_add",
]
