"""Customer endpoints: thin shells over customers.selectors and customers.services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from ninja import Query, Router, Status

from guanxi.core.http import ApiRequest
from guanxi.customers import selectors, services
from guanxi.customers.schemas import (
    AssetIn,
    AssetOut,
    AssetPatch,
    BulkAssignIn,
    BulkResult,
    BulkTagIn,
    ConsentIn,
    ConsentOut,
    ContactIn,
    ContactOut,
    ContactPatch,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    CustomerQuery,
    CustomFieldIn,
    CustomFieldOut,
    CustomFieldPatch,
    NoteIn,
    TagIn,
    TagOut,
    TimelineOut,
)
from guanxi.users import selectors as user_selectors

router = Router(tags=["customers"])
MAX_OFFSET = 1_000_000_000


class CustomerFilters(CustomerQuery):
    limit: int = 25
    offset: int = 0


def _assignment(actor: Any, owner_id: int | None, team_id: int | None) -> dict[str, Any]:
    owner = user_selectors.user_get(actor=actor, user_id=owner_id) if owner_id else None
    team = user_selectors.team_get(actor=actor, team_id=team_id) if team_id else None
    return {"owner": owner, "team": team}


@router.get("/customers", response=CustomerPage, summary="List and search customers")
def customer_list(request: ApiRequest, filters: Query[CustomerFilters]) -> dict[str, Any]:
    """`q` finds by name, pinyin, initials, 4+ phone digits, email, plate or company name.
    Filter by custom fields with `cf_<key>=<value>`."""
    limit = max(1, min(filters.limit, settings.GUANXI_API_MAX_LIMIT))
    offset = max(0, min(filters.offset, MAX_OFFSET))
    custom = {key[3:]: value for key, value in request.GET.items() if key.startswith("cf_")}
    options = filters.model_dump(exclude={"limit", "offset"})
    window = offset + limit + 1
    customers = selectors.customer_list(actor=request.auth, custom=custom, window=window, **options)
    items = list(customers[offset:window])
    return {
        "items": items[:limit],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(items) > limit else None,
    }


@router.post("/customers", response={201: CustomerOut}, summary="Create a customer")
def customer_create(request: ApiRequest, payload: CustomerIn) -> Status[Any]:
    data = payload.model_dump()
    data.update(_assignment(request.auth, data.pop("owner_id"), data.pop("team_id")))
    customer = services.customer_create(actor=request.auth, **data)
    return Status(201, selectors.customer_get(actor=request.auth, customer_id=customer.pk))


@router.get("/customers/{customer_id}", response=CustomerOut, summary="One customer")
def customer_get(request: ApiRequest, customer_id: int) -> Any:
    return selectors.customer_get(actor=request.auth, customer_id=customer_id)


@router.patch("/customers/{customer_id}", response=CustomerOut, summary="Change a customer")
def customer_update(request: ApiRequest, customer_id: int, payload: CustomerPatch) -> Any:
    customer = selectors.customer_get(actor=request.auth, customer_id=customer_id)
    data = payload.model_dump(exclude_unset=True)
    owner_id, team_id = data.pop("owner_id", None), data.pop("team_id", None)
    with transaction.atomic():  # the field changes and the assignment stand or fall together
        _customer_patch(request, customer, data, owner_id, team_id)
    return selectors.customer_get(actor=request.auth, customer_id=customer_id)


def _customer_patch(
    request: ApiRequest, customer: Any, data: dict[str, Any], owner_id: int | None, team_id: int | None
) -> None:
    if data:
        services.customer_update(actor=request.auth, customer=customer, **data)
    if owner_id is not None or team_id is not None:
        services.customer_assign(
            actor=request.auth,
            customers=selectors.customer_scope(actor=request.auth).filter(pk=customer.pk),
            **_assignment(request.auth, owner_id, team_id),
        )


@router.delete("/customers/{customer_id}", response={204: None}, summary="Delete a customer")
def customer_delete(request: ApiRequest, customer_id: int) -> Status[None]:
    customer = selectors.customer_get(actor=request.auth, customer_id=customer_id)
    services.customer_delete(actor=request.auth, customer=customer)
    return Status(204, None)


@router.get("/customers/{customer_id}/timeline", response=list[TimelineOut], summary="A customer's timeline")
def customer_timeline(
    request: ApiRequest, customer_id: int, limit: int = 50, before_id: int | None = None
) -> Any:
    customer = selectors.customer_get(actor=request.auth, customer_id=customer_id)
    return selectors.customer_timeline(
        actor=request.auth, customer=customer, limit=max(1, min(limit, 200)), before_id=before_id
    )


@router.post("/customers/{customer_id}/notes", response={201: None}, summary="Add a note to the timeline")
def note_add(request: ApiRequest, customer_id: int, payload: NoteIn) -> Status[None]:
    customer = selectors.customer_get(actor=request.auth, customer_id=customer_id)
    services.note_add(actor=request.auth, customer=customer, body=payload.body)
    return Status(201, None)


@router.post("/customers/bulk/tag", response=BulkResult, summary="Tag or untag many customers")
def customer_bulk_tag(request: ApiRequest, payload: BulkTagIn) -> dict[str, int]:
    customers = selectors.customer_scope(actor=request.auth).filter(pk__in=payload.ids)
    tags = selectors.tag_list(actor=request.auth).filter(name=payload.tag)
    tag = tags.first() or services.tag_create(actor=request.auth, name=payload.tag)
    changed = services.customer_tag(actor=request.auth, customers=customers, tag=tag, add=not payload.remove)
    return {"changed": changed}


@router.post("/customers/bulk/assign", response=BulkResult, summary="Give many customers an owner and team")
def customer_bulk_assign(request: ApiRequest, payload: BulkAssignIn) -> dict[str, int]:
    customers = selectors.customer_scope(actor=request.auth).filter(pk__in=payload.ids)
    changed = services.customer_assign(
        actor=request.auth,
        customers=customers,
        **_assignment(request.auth, payload.owner_id, payload.team_id),
    )
    return {"changed": changed}


@router.get("/customers/{customer_id}/contacts", response=list[ContactOut], summary="A company's contacts")
def contact_list(request: ApiRequest, customer_id: int) -> Any:
    customer = selectors.customer_get(actor=request.auth, customer_id=customer_id)
    return selectors.contact_list(actor=request.auth, customer=customer)


@router.post("/customers/{customer_id}/contacts", response={201: ContactOut}, summary="Add a contact")
def contact_create(request: ApiRequest, customer_id: int, payload: ContactIn) -> Status[Any]:
    customer = selectors.customer_get(actor=request.auth, customer_id=customer_id)
    contact = services.contact_create(actor=request.auth, customer=customer, **payload.model_dump())
    return Status(201, selectors.contact_get(actor=request.auth, contact_id=contact.pk))


@router.patch("/contacts/{contact_id}", response=ContactOut, summary="Change a contact")
def contact_update(request: ApiRequest, contact_id: int, payload: ContactPatch) -> Any:
    contact = selectors.contact_get(actor=request.auth, contact_id=contact_id)
    services.contact_update(actor=request.auth, contact=contact, **payload.model_dump(exclude_unset=True))
    return selectors.contact_get(actor=request.auth, contact_id=contact_id)


@router.delete("/contacts/{contact_id}", response={204: None}, summary="Remove a contact")
def contact_delete(request: ApiRequest, contact_id: int) -> Status[None]:
    contact = selectors.contact_get(actor=request.auth, contact_id=contact_id)
    services.contact_delete(actor=request.auth, contact=contact)
    return Status(204, None)


@router.get("/customers/{customer_id}/assets", response=list[AssetOut], summary="A customer's assets")
def asset_list(request: ApiRequest, customer_id: int) -> Any:
    customer = selectors.customer_get(actor=request.auth, customer_id=customer_id)
    return selectors.asset_list(actor=request.auth, customer=customer)


@router.post("/customers/{customer_id}/assets", response={201: AssetOut}, summary="Add an asset")
def asset_create(request: ApiRequest, customer_id: int, payload: AssetIn) -> Status[Any]:
    customer = selectors.customer_get(actor=request.auth, customer_id=customer_id)
    return Status(201, services.asset_create(actor=request.auth, customer=customer, **payload.model_dump()))


@router.patch("/assets/{asset_id}", response=AssetOut, summary="Change an asset")
def asset_update(request: ApiRequest, asset_id: int, payload: AssetPatch) -> Any:
    asset = selectors.asset_get(actor=request.auth, asset_id=asset_id)
    return services.asset_update(actor=request.auth, asset=asset, **payload.model_dump(exclude_unset=True))


@router.delete("/assets/{asset_id}", response={204: None}, summary="Remove an asset")
def asset_delete(request: ApiRequest, asset_id: int) -> Status[None]:
    asset = selectors.asset_get(actor=request.auth, asset_id=asset_id)
    services.asset_delete(actor=request.auth, asset=asset)
    return Status(204, None)


@router.get("/customers/{customer_id}/consents", response=list[ConsentOut], summary="Consent history")
def consent_list(request: ApiRequest, customer_id: int) -> Any:
    customer = selectors.customer_get(actor=request.auth, customer_id=customer_id)
    return selectors.consent_history(actor=request.auth, customer=customer)


@router.post("/customers/{customer_id}/consents", response={201: ConsentOut}, summary="Record consent")
def consent_record(request: ApiRequest, customer_id: int, payload: ConsentIn) -> Status[Any]:
    customer = selectors.customer_get(actor=request.auth, customer_id=customer_id)
    return Status(201, services.consent_record(actor=request.auth, customer=customer, **payload.model_dump()))


@router.get("/tags", response=list[TagOut], summary="Tags", tags=["tags"])
def tag_list(request: ApiRequest) -> Any:
    return selectors.tag_list(actor=request.auth)


@router.post("/tags", response={201: TagOut}, summary="Create a tag", tags=["tags"])
def tag_create(request: ApiRequest, payload: TagIn) -> Status[Any]:
    return Status(201, services.tag_create(actor=request.auth, **payload.model_dump()))


@router.patch("/tags/{tag_id}", response=TagOut, summary="Rename or recolour a tag", tags=["tags"])
def tag_update(request: ApiRequest, tag_id: int, payload: TagIn) -> Any:
    tag = selectors.tag_get(actor=request.auth, tag_id=tag_id)
    return services.tag_update(actor=request.auth, tag=tag, **payload.model_dump())


@router.delete("/tags/{tag_id}", response={204: None}, summary="Delete a tag", tags=["tags"])
def tag_delete(request: ApiRequest, tag_id: int) -> Status[None]:
    services.tag_delete(actor=request.auth, tag=selectors.tag_get(actor=request.auth, tag_id=tag_id))
    return Status(204, None)


@router.get(
    "/custom-fields",
    response=list[CustomFieldOut],
    summary="Custom field definitions",
    tags=["custom fields"],
)
def custom_field_list(request: ApiRequest, include_inactive: bool = False) -> Any:
    return selectors.custom_field_list(actor=request.auth, include_inactive=include_inactive)


@router.post(
    "/custom-fields", response={201: CustomFieldOut}, summary="Define a custom field", tags=["custom fields"]
)
def custom_field_create(request: ApiRequest, payload: CustomFieldIn) -> Status[Any]:
    return Status(201, services.custom_field_create(actor=request.auth, **payload.model_dump()))


@router.patch(
    "/custom-fields/{field_id}",
    response=CustomFieldOut,
    summary="Change a custom field",
    tags=["custom fields"],
)
def custom_field_update(request: ApiRequest, field_id: int, payload: CustomFieldPatch) -> Any:
    definition = selectors.custom_field_get(actor=request.auth, field_id=field_id)
    return services.custom_field_update(
        actor=request.auth, definition=definition, **payload.model_dump(exclude_unset=True)
    )
