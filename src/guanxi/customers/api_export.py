"""Export endpoints: customer lists as CSV, XLSX and vCard, in the reader's scope and masking."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["export"])
