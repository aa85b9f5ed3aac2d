"""Pages where an administrator shapes the customer data model: tags and custom fields."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.errors import Conflict, DomainError
from guanxi.core.http import AuthedRequest
from guanxi.core.permissions import ALL, scope_of
from guanxi.core.web import apply_errors, requires
from guanxi.customers import selectors, services
from guanxi.customers.forms_config import CustomFieldCreateForm, CustomFieldEditForm, TagForm
from guanxi.customers.models import CustomFieldDefinition, Tag


def _show_errors(form: Form, exc: DomainError) -> None:
    """Like apply_errors, but a Conflict's message goes on the field it names (its details hold the value)."""
    if isinstance(exc, Conflict) and isinstance(exc.details, dict):
        fields = [name for name in exc.details if name in form.fields]
        form.add_error(fields[0] if fields else None, exc.message)
        return
    apply_errors(form, exc)


# Tags


def _tags_page(
    request: AuthedRequest,
    *,
    create_form: TagForm | None = None,
    failed: tuple[int, TagForm] | None = None,
    confirm: int | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = []
    confirm_row = None
    for tag in selectors.tag_list_with_counts(actor=request.user):
        if failed and failed[0] == tag.pk:
            form, open_ = failed[1], True
        else:
            form, open_ = TagForm(initial={"name": tag.name, "color": tag.color}, prefix=f"t{tag.pk}"), False
        row = {"tag": tag, "form": form, "open": open_}
        rows.append(row)
        if tag.pk == confirm:
            confirm_row = row
    context: dict[str, Any] = {
        "nav": "tags",
        "rows": rows,
        "create_form": create_form or TagForm(),
        "confirm": confirm_row,
        "counts_all": scope_of(request.user) == ALL,
    }
    return render(request, "customers/tags.html", context, status=status)


@requires("tag.manage")
def tag_list(request: AuthedRequest) -> HttpResponse:
    return _tags_page(request)


@requires("tag.manage")
@require_POST
def tag_create(request: AuthedRequest) -> HttpResponse:
    form = TagForm(request.POST)
    if form.is_valid():
        try:
            tag = services.tag_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Tag “%(name)s” created.") % {"name": tag.name})
            return redirect("tag-list")
    return _tags_page(request, create_form=form, status=422)


@requires("tag.manage")
@require_POST
def tag_update(request: AuthedRequest, pk: int) -> HttpResponse:
    tag = selectors.tag_get(actor=request.user, tag_id=pk)
    form = TagForm(request.POST, prefix=f"t{tag.pk}")
    if form.is_valid():
        try:
            services.tag_update(actor=request.user, tag=tag, **form.cleaned_data)
        except DomainError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Tag “%(name)s” saved.") % {"name": tag.name})
            return redirect("tag-list")
    return _tags_page(request, failed=(tag.pk, form), status=422)


@requires("tag.manage")
def tag_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation, POST deletes."""
    tag: Tag = selectors.tag_get(actor=request.user, tag_id=pk)
    if request.method != "POST":
        return _tags_page(request, confirm=tag.pk)
    services.tag_delete(actor=request.user, tag=tag)
    messages.success(request, _("Tag “%(name)s” deleted.") % {"name": tag.name})
    return redirect("tag-list")


# Custom fields


def _next_position(definitions: list[CustomFieldDefinition]) -> int:
    return max((d.position for d in definitions), default=0) + 10


def _fields_page(
    request: AuthedRequest,
    form: Form | None = None,
    *,
    editing: CustomFieldDefinition | None = None,
    status: int = 200,
) -> HttpResponse:
    definitions = list(selectors.custom_field_list(actor=request.user, include_inactive=True))
    if form is None:
        form = CustomFieldCreateForm(initial={"position": _next_position(definitions)})
    context = {
        "nav": "customfields",
        "definitions": definitions,
        "form": form,
        "editing": editing,
        "choice_type": CustomFieldDefinition.Type.CHOICE,
    }
    return render(request, "customers/custom_fields.html", context, status=status)


@requires("customfield.manage")
def custom_field_list(request: AuthedRequest) -> HttpResponse:
    """GET lists the fields with a form to add one; POST adds one."""
    if request.method != "POST":
        return _fields_page(request)
    form = CustomFieldCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if data["type"] != CustomFieldDefinition.Type.CHOICE:
            data["choices"] = ""
        try:
            definition = services.custom_field_create(actor=request.user, **data)
        except DomainError as exc:
            _show_errors(form, exc)
        else:
            messages.success(
                request,
                _("Custom field “%(label)s” added with the key %(key)s.")
                % {"label": definition.label, "key": definition.key},
            )
            return redirect("customfield-list")
    return _fields_page(request, form, status=422)


@requires("customfield.manage")
def custom_field_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    definition = selectors.custom_field_get(actor=request.user, field_id=pk)
    initial = {
        "label": definition.label,
        "choices": "\n".join(str(c) for c in definition.choices),
        "required": definition.required,
        "help_text": definition.help_text,
        "position": definition.position,
        "active": definition.active,
    }
    form = CustomFieldEditForm(request.POST or None, initial=initial)
    if request.method != "POST":
        return _fields_page(request, form, editing=definition)
    if form.is_valid():
        data = form.cleaned_data
        if definition.type != CustomFieldDefinition.Type.CHOICE:
            data.pop("choices")
        try:
            services.custom_field_update(actor=request.user, definition=definition, **data)
        except DomainError as exc:
            definition.refresh_from_db()
            _show_errors(form, exc)
        else:
            messages.success(request, _("Custom field “%(label)s” saved.") % {"label": definition.label})
            return redirect("customfield-list")
    return _fields_page(request, form, editing=definition, status=422)
