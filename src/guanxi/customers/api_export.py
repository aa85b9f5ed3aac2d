"""Export endpoints: customer lists as CSV, XLSX and vCard, in the reader's scope and masking."""

from __future__ import annotations

from typing import Any

from django.http.response import HttpResponseBase
from ninja import Field, Query, Router

from guanxi.core.http import ApiRequest
from guanxi.customers.exports import CSV, MAX_VCARD_IDS, VCARD, XLSX, XLSX_TYPE, CustomerExport
from guanxi.customers.schemas import BodyIn, CustomerQuery, Id

router = Router(tags=["export"])


class VcardIn(BodyIn):
    ids: list[Id] = Field(..., min_length=1, max_length=MAX_VCARD_IDS)


def _file(content_type: str, description: str) -> dict[str, Any]:
    """The OpenAPI description of a file download (ninja documents JSON responses only)."""
    return {
        "responses": {
            200: {
                "description": description,
                "content": {content_type: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


def _list_export(request: ApiRequest, filters: CustomerQuery, format: str) -> HttpResponseBase:
    options = filters.model_dump()
    sort = options.pop("sort")
    options["custom"] = {key[3:]: value for key, value in request.GET.items() if key.startswith("cf_")}
    return CustomerExport(actor=request.auth, format=format, filters=options, sort=sort).response()


@router.get(
    "/customers/export.csv",
    summary="Export customers as CSV",
    openapi_extra=_file("text/csv", "UTF-8 with a byte order mark, one row per customer, streamed."),
)
def customer_export_csv(request: ApiRequest, filters: Query[CustomerQuery]) -> HttpResponseBase:
    """Every customer the list would return for the same `q`, filters (also `cf_<key>=<value>`) and `sort`,
    with personal data masked for roles that see it masked. Needs `customer.export`."""
    return _list_export(request, filters, CSV)


@router.get(
    "/customers/export.xlsx",
    summary="Export customers as an Excel workbook",
    openapi_extra=_file(XLSX_TYPE, "One worksheet, one row per customer."),
)
def customer_export_xlsx(request: ApiRequest, filters: Query[CustomerQuery]) -> HttpResponseBase:
    """The same rows and columns as the CSV export, as an .xlsx workbook. Needs `customer.export`."""
    # Built before it is sent, so at most XLSX_REQUEST_MAX_ROWS customers: more is refused with 422
    # export_too_large (details: rows, limit), before anything is read; the CSV export streams any number.
    # (Not in the docstring yet: it is the OpenAPI description, snapshotted in tests/openapi.json.)
    return _list_export(request, filters, XLSX)


@router.post(
    "/customers/export.vcf",
    summary="Export customers as vCards",
    openapi_extra=_file("text/vcard", "vCard 3.0, UTF-8, one card per customer."),
)
def customer_export_vcards(request: ApiRequest, payload: VcardIn) -> HttpResponseBase:
    """The customers with these `ids` that the reader may see (others are left out), as one .vcf file.
    Needs `customer.export`."""
    return CustomerExport(actor=request.auth, format=VCARD, ids=payload.ids).response()
