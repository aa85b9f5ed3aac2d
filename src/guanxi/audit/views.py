"""The audit log page: read-only, filterable, newest first."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from guanxi.audit import selectors
from guanxi.audit.models import AuditEvent
from guanxi.core.http import AuthedRequest
from guanxi.core.web import paginate, requires

PER_PAGE = 50
LONG_CHANGES = 3  # more changed fields than this fold into <details>
LONG_VALUE = 60

ACTION_LABELS: dict[str, Promise] = {
    "customer.create": _("Customer created"),
    "customer.update": _("Customer edited"),
    "customer.delete": _("Customer deleted"),
    "customer.assign": _("Customer reassigned"),
    "customer.tag": _("Customer tags changed"),
    "customer.note": _("Note added"),
    "customer.merge": _("Customers merged"),
    "customer.export": _("Customers exported"),
    "customer.reindex": _("Search index rebuilt"),
    "import.create": _("File uploaded for import"),
    "import.start": _("Import started"),
    "import.finish": _("Import finished"),
    "import.cancel": _("Import cancelled"),
    "contact.create": _("Contact added"),
    "contact.update": _("Contact edited"),
    "contact.delete": _("Contact deleted"),
    "asset.create": _("Asset added"),
    "asset.update": _("Asset edited"),
    "asset.delete": _("Asset deleted"),
    "consent.record": _("Consent recorded"),
    "tag.create": _("Tag created"),
    "tag.update": _("Tag edited"),
    "tag.delete": _("Tag deleted"),
    "customfield.create": _("Custom field created"),
    "customfield.update": _("Custom field edited"),
    "user.create": _("User created"),
    "user.update": _("User edited"),
    "user.password": _("Password set"),
    "team.create": _("Team created"),
    "team.update": _("Team edited"),
    "token.create": _("API token created"),
    "token.revoke": _("API token revoked"),
}
VIA_LABELS: dict[str, Promise] = {
    "web": _("Web"),
    "api": _("API"),
    "cli": _("Command line"),
    "task": _("Background task"),
    "system": _("System"),
}
# Targets that have a page of their own: target type → URL name taking the target's id.
TARGET_PAGES = {
    "customers.customer": "customer-detail",
    "users.user": "user-edit",
    "users.team": "team-edit",
    "customers.customfielddefinition": "customfield-edit",
}


def _guanxi_models() -> list[tuple[str, str]]:
    """(target type, label) of every Guanxi model, for the target type filter."""
    return sorted(
        (
            (model._meta.label_lower, str(capfirst(model._meta.verbose_name)))
            for model in apps.get_models()
            if model.__module__.startswith("guanxi.") and model is not AuditEvent
        ),
        key=lambda pair: pair[1],
    )


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(
        label=_("Actor"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"placeholder": _("user name"), "class": "audit-text"}),
    )
    target_type = forms.ChoiceField(label=_("Target type"), required=False)
    target_id = forms.CharField(
        label=_("Target id"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"size": 8, "class": "audit-text"}),
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, action_names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups = sorted({name.split(".", 1)[0] for name in action_names if "." in name})
        choices: list[Any] = [("", _("All actions"))]
        if groups:
            choices.append((_("Everything about…"), [(f"{group}.", f"{group}.*") for group in groups]))
        if action_names:
            choices.append(
                (
                    _("One action"),
                    [(name, f"{ACTION_LABELS.get(name, name)} ({name})") for name in action_names],
                )
            )
        wanted = str(self.data.get("action", "")) if self.is_bound else ""
        if wanted and wanted not in action_names and wanted.rstrip(".") not in groups:
            choices.append((wanted, wanted))  # a bookmarked filter for actions that have not happened yet
        cast(forms.ChoiceField, self.fields["action"]).choices = choices
        cast(forms.ChoiceField, self.fields["target_type"]).choices = [
            ("", _("All types")),
            *_guanxi_models(),
        ]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _model_of(target_type: str) -> Any:
    try:
        return apps.get_model(target_type) if target_type else None
    except (LookupError, ValueError):
        return None


def _field_label(model: Any, key: str) -> str:
    if model is not None:
        try:
            return str(capfirst(model._meta.get_field(key).verbose_name))
        except FieldDoesNotExist:
            pass
    return key


def _short(value: Any) -> str:
    """A stored value as one line of text; empty stays empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(_short(v) for v in value)
    return str(value)


def _target_url(event: AuditEvent) -> str:
    name = TARGET_PAGES.get(event.target_type)
    if not name or not event.target_id.isdigit():
        return ""
    try:
        return reverse(name, args=[int(event.target_id)])
    except NoReverseMatch:
        return ""


def _row(event: AuditEvent) -> dict[str, Any]:
    model = _model_of(event.target_type)
    changes = [
        {"field": _field_label(model, key), "old": _short(pair[0]), "new": _short(pair[1])}
        for key, pair in (event.changes or {}).items()
        if isinstance(pair, (list, tuple)) and len(pair) == 2
    ]
    long = len(changes) > LONG_CHANGES or any(
        len(c["old"]) > LONG_VALUE or len(c["new"]) > LONG_VALUE for c in changes
    )
    return {
        "event": event,
        "action_label": ACTION_LABELS.get(event.action, event.action),
        "via_label": VIA_LABELS.get(event.via, event.via),
        "target_model": capfirst(model._meta.verbose_name) if model is not None else event.target_type,
        "target_url": _target_url(event),
        "changes": changes,
        "long": long,
        "field_names": ", ".join(c["field"] for c in changes),
        "data": [(key, _short(value)) for key, value in (event.data or {}).items()],
    }


@requires("audit.view")
def audit_list(request: AuthedRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, action_names=selectors.audit_action_names())
    filters: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()  # show what is wrong, filter by what is right
        data = getattr(form, "cleaned_data", {})
        until = data.get("until")
        filters = {
            "action": data.get("action") or "",
            "actor_username": (data.get("actor") or "").strip(),
            "target_type": data.get("target_type") or "",
            "target_id": (data.get("target_id") or "").strip(),
            "since": _day_start(data["since"]) if data.get("since") else None,
            "until": _day_start(until + timedelta(days=1)) if until else None,
        }
    page = paginate(request, selectors.audit_list(actor=request.user, **filters), PER_PAGE)
    context = {
        "nav": "audit",
        "form": form,
        "page": page,
        "rows": [_row(event) for event in page.items],
        "filtered": any(filters.values()),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return render(request, "audit/list.html#audit-table", context)
    return render(request, "audit/list.html", context)
