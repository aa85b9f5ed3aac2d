"""Duplicate and merge endpoints: thin shells over customers.selectors and customers.services."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["duplicates"])
