"""Administration pages for users, teams and roles, and every user's own profile and API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.errors import Conflict, DomainError
from guanxi.core.http import AuthedRequest
from guanxi.core.permissions import PERMISSIONS, ROLES, SCOPE_LABELS, role_rules
from guanxi.core.web import apply_errors, requires
from guanxi.users import selectors, services
from guanxi.users.forms import PasswordChangeForm, TeamForm, TokenCreateForm, UserCreateForm, UserEditForm
from guanxi.users.models import ApiToken, User


def show_errors(form: Form, exc: DomainError) -> None:
    """Like apply_errors, but a Conflict's message goes on the field it names (its details hold the value)."""
    if isinstance(exc, Conflict) and isinstance(exc.details, dict):
        fields = [name for name in exc.details if name in form.fields]
        form.add_error(fields[0] if fields else None, exc.message)
        return
    apply_errors(form, exc)


def roles_reference() -> dict[str, Any]:
    """The roles table: each role's scope and personal-data rule, and which permissions each role has."""
    labels = dict(User.Role.choices)
    roles = [
        {
            "value": role,
            "label": labels.get(role, role),
            "scope_label": SCOPE_LABELS[rules["scope"]],
            "pii": rules["pii"],
        }
        for role, rules in ROLES.items()
    ]
    rows = [
        {"label": label, "cells": [perm in rules["perms"] for rules in ROLES.values()]}
        for perm, label in PERMISSIONS.items()
    ]
    return {"roles": roles, "rows": rows}


def _invalid(request: AuthedRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, context, status=422)


# Users and teams


@requires("user.manage")
def user_list(request: AuthedRequest) -> HttpResponse:
    users = selectors.user_list(actor=request.user, include_inactive=True).order_by("-is_active", "username")
    return render(
        request,
        "users/list.html",
        {
            "nav": "users",
            "users": users,
            "teams": selectors.team_list_with_counts(actor=request.user),
            "roles": roles_reference(),
        },
    )


@requires("user.manage")
def user_create(request: AuthedRequest) -> HttpResponse:
    teams = selectors.team_list(actor=request.user)
    form = UserCreateForm(request.POST or None, teams=teams)
    context = {"nav": "users", "form": form, "roles": roles_reference()}
    if request.method != "POST":
        return render(request, "users/user_form.html", context)
    if not form.is_valid():
        return _invalid(request, "users/user_form.html", context)
    data = form.cleaned_data
    try:
        user = services.user_create(
            actor=request.user,
            username=data["username"],
            password=data["password"],
            full_name=data["full_name"],
            email=data["email"],
            role=data["role"],
            team=data["team"],
        )
    except DomainError as exc:
        show_errors(form, exc)
        return _invalid(request, "users/user_form.html", context)
    messages.success(request, _("User “%(name)s” created.") % {"name": user.username})
    return redirect("user-list")


def _edit_initial(user: User) -> dict[str, Any]:
    return {
        "full_name": user.full_name,
        "email": user.email,
        "role": user.role,
        "team": user.team,
        "is_active": user.is_active,
    }


def _user_edit_context(
    request: AuthedRequest, user: User, form: UserEditForm, **extra: Any
) -> dict[str, Any]:
    return {
        "nav": "users",
        "form": form,
        "subject": user,
        "roles": roles_reference(),
        "tokens": selectors.token_list(actor=request.user, user=user),
        "token_form": extra.pop("token_form", None) or TokenCreateForm(),
        **extra,
    }


@requires("user.manage")
def user_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    user = selectors.user_get(actor=request.user, user_id=pk)
    teams = selectors.team_list(actor=request.user)
    form = UserEditForm(request.POST or None, initial=_edit_initial(user), teams=teams)
    if request.method != "POST":
        return render(request, "users/user_edit.html", _user_edit_context(request, user, form))
    if not form.is_valid():
        return _invalid(request, "users/user_edit.html", _user_edit_context(request, user, form))
    data = form.cleaned_data
    try:
        # One change: when the new password is refused, the other edits are not kept either.
        with transaction.atomic():
            services.user_update(
                actor=request.user,
                user=user,
                full_name=data["full_name"],
                email=data["email"],
                role=data["role"],
                team=data["team"],
                is_active=data["is_active"],
            )
            if data["password"]:
                services.user_set_password(actor=request.user, user=user, password=data["password"])
    except DomainError as exc:
        user.refresh_from_db()
        show_errors(form, exc)
        return _invalid(request, "users/user_edit.html", _user_edit_context(request, user, form))
    messages.success(request, _("User “%(name)s” saved.") % {"name": user.username})
    return redirect("user-list")


@requires("user.manage")
def team_create(request: AuthedRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    context = {"nav": "users", "form": form, "team": None}
    if request.method != "POST":
        return render(request, "users/team_form.html", context)
    if not form.is_valid():
        return _invalid(request, "users/team_form.html", context)
    try:
        team = services.team_create(actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        show_errors(form, exc)
        return _invalid(request, "users/team_form.html", context)
    messages.success(request, _("Team “%(name)s” created.") % {"name": team.name})
    return redirect("user-list")


@requires("user.manage")
def team_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    team = selectors.team_get(actor=request.user, team_id=pk)
    form = TeamForm(request.POST or None, initial={"name": team.name, "description": team.description})
    context = {"nav": "users", "form": form, "team": team}
    if request.method != "POST":
        return render(request, "users/team_form.html", context)
    if not form.is_valid():
        return _invalid(request, "users/team_form.html", context)
    try:
        services.team_update(actor=request.user, team=team, **form.cleaned_data)
    except DomainError as exc:
        team.refresh_from_db()
        show_errors(form, exc)
        return _invalid(request, "users/team_form.html", context)
    messages.success(request, _("Team “%(name)s” saved.") % {"name": team.name})
    return redirect("user-list")


# Profile, own password and API tokens


def _profile_context(request: AuthedRequest, **forms: Form) -> dict[str, Any]:
    user = request.user
    rules = role_rules(user)
    return {
        "nav": "profile",
        "scope_label": SCOPE_LABELS.get(rules["scope"], rules["scope"]),
        "sees_pii": rules["pii"],
        "permissions": [label for perm, label in PERMISSIONS.items() if perm in rules["perms"]],
        "tokens": selectors.token_list(actor=user, user=user),
        "token_form": forms.get("token_form") or TokenCreateForm(),
        "password_form": forms.get("password_form") or PasswordChangeForm(user=user),
    }


@requires(None)
def profile(request: AuthedRequest) -> HttpResponse:
    return render(request, "users/profile.html", _profile_context(request))


@requires(None)
@require_POST
def password_change(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = PasswordChangeForm(request.POST, user=user)
    if form.is_valid():
        try:
            services.user_set_password(actor=user, user=user, password=form.cleaned_data["password"])
        except DomainError as exc:
            show_errors(form, exc)
        else:
            update_session_auth_hash(request, user)  # stay signed in on this device
            messages.success(request, _("Your password was changed."))
            return redirect("profile")
    return _invalid(request, "users/profile.html", _profile_context(request, password_form=form))


def _token_created(request: AuthedRequest, token: ApiToken, secret: str, back: str) -> HttpResponse:
    """The one page that shows the secret: it is not stored anywhere, so it cannot be shown again."""
    response = render(
        request,
        "users/token_created.html",
        {
            "nav": "users" if token.user_id != request.user.pk else "profile",
            "token": token,
            "secret": secret,
            "back": back,
            "api_base": request.build_absolute_uri("/api/v1/").rstrip("/"),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@requires(None)
@require_POST
def token_create(request: AuthedRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        return _invalid(request, "users/profile.html", _profile_context(request, token_form=form))
    token, secret = services.token_create(
        actor=request.user, user=request.user, name=form.cleaned_data["name"]
    )
    return _token_created(request, token, secret, reverse("profile"))


@requires("user.manage")
@require_POST
def user_token_create(request: AuthedRequest, pk: int) -> HttpResponse:
    user = selectors.user_get(actor=request.user, user_id=pk)
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        teams = selectors.team_list(actor=request.user)
        edit = UserEditForm(initial=_edit_initial(user), teams=teams)
        context = _user_edit_context(request, user, edit, token_form=form)
        return _invalid(request, "users/user_edit.html", context)
    token, secret = services.token_create(actor=request.user, user=user, name=form.cleaned_data["name"])
    return _token_created(request, token, secret, reverse("user-edit", args=[user.pk]))


@requires(None)
@require_POST
def token_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    token = selectors.token_get(actor=request.user, token_id=pk)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("profile")
