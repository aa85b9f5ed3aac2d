from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from guanxi.core.permissions import PERMISSIONS, can


def guanxi(request: HttpRequest) -> dict[str, Any]:
    """`perms_gx.<permission with _ for .>` for templates, e.g. perms_gx.customer_create."""
    user = request.user
    return {"perms_gx": {key.replace(".", "_"): can(user, key) for key in PERMISSIONS}}
