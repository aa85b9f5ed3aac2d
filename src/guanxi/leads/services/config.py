"""Setting up how leads arrive: the assignment rules and the public web forms (`lead.assign`)."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record, changes_between
from guanxi.catalog.models import Store
from guanxi.core.errors import Conflict, Errors
from guanxi.core.permissions import ensure_can
from guanxi.customers.models import Customer
from guanxi.leads.models import LeadAssignmentRule, LeadForm
from guanxi.users.models import Team, User

UNSET: Any = object()
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,49}$")
ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$")
MAX_ORIGINS = 20


def _rule_snapshot(rule: LeadAssignmentRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "position": rule.position,
        "active": rule.active,
        "match_source": rule.match_source,
        "match_city": rule.match_city,
        "match_store": rule.match_store.name if rule.match_store_id and rule.match_store else None,
        "action": rule.action,
        "team": rule.team.name if rule.team_id and rule.team else None,
        "user": rule.user.username if rule.user_id and rule.user else None,
    }


def _clean_rule(rule: LeadAssignmentRule, errors: Errors) -> None:
    rule.name = " ".join(str(rule.name or "").split())
    rule.match_city = str(rule.match_city or "").strip()
    if not rule.name:
        errors.add("name", _("This field is required."))
    elif len(rule.name) > 100:
        errors.add("name", _("Enter at most %(limit)d characters.") % {"limit": 100})
    if len(rule.match_city) > 30:
        errors.add("match_city", _("Enter at most %(limit)d characters.") % {"limit": 30})
    if rule.match_source and rule.match_source not in Customer.Source.values:
        errors.add(
            "match_source", _("“%(value)s” is not one of the allowed values.") % {"value": rule.match_source}
        )
    if rule.action == LeadAssignmentRule.Action.ROUND_ROBIN:
        rule.user = None
        if rule.team is None:
            errors.add("team", _("Choose the team whose members take turns."))
    elif rule.action == LeadAssignmentRule.Action.USER:
        rule.team = None
        if rule.user is None:
            errors.add("user", _("Choose the user who gets these leads."))
        elif not rule.user.is_active:
            errors.add("user", _("This user is inactive."))
    else:
        errors.add("action", _("“%(value)s” is not one of the allowed values.") % {"value": rule.action})


@transaction.atomic
def rule_create(
    *,
    actor: User,
    name: str,
    action: str = LeadAssignmentRule.Action.ROUND_ROBIN,
    team: Team | None = None,
    user: User | None = None,
    match_source: str = "",
    match_city: str = "",
    match_store: Store | None = None,
    active: bool = True,
    position: int | None = None,
) -> LeadAssignmentRule:
    """A new assignment rule, last in order unless a position is given."""
    ensure_can(actor, "lead.assign")
    if position is None:
        top = LeadAssignmentRule.objects.aggregate(top=Max("position"))["top"]
        position = 0 if top is None else top + 1
    rule = LeadAssignmentRule(
        name=name,
        action=action,
        team=team,
        user=user,
        match_source=match_source or "",
        match_city=match_city,
        match_store=match_store,
        active=active,
        position=max(0, min(int(position), 32767)),
    )
    errors = Errors()
    _clean_rule(rule, errors)
    errors.raise_if_any()
    rule.save()
    audit_record(
        actor=actor, action="lead_rule.create", target=rule, changes=changes_between({}, _rule_snapshot(rule))
    )
    return rule


@transaction.atomic
def rule_update(*, actor: User, rule: LeadAssignmentRule, **fields: Any) -> LeadAssignmentRule:
    """Change a rule's fields (those given)."""
    ensure_can(actor, "lead.assign")
    rule = (
        LeadAssignmentRule.objects.select_for_update(of=("self",))
        .select_related("team", "user", "match_store")
        .get(pk=rule.pk)
    )
    before = _rule_snapshot(rule)
    allowed = {
        "name",
        "action",
        "team",
        "user",
        "match_source",
        "match_city",
        "match_store",
        "active",
        "position",
    }
    errors = Errors()
    for key in sorted(set(fields) - allowed):
        errors.add(key, _("Unknown field."))
    for key, value in fields.items():
        if key in allowed:
            setattr(rule, key, value if value is not None or key in {"team", "user", "match_store"} else "")
    _clean_rule(rule, errors)
    errors.raise_if_any()
    if before["team"] != _rule_snapshot(rule)["team"]:
        rule.last_user = None  # a new team starts its turns from its first member
    rule.save()
    changes = changes_between(before, _rule_snapshot(rule))
    if changes:
        audit_record(actor=actor, action="lead_rule.update", target=rule, changes=changes)
    return rule


@transaction.atomic
def rule_move(*, actor: User, rule: LeadAssignmentRule, up: bool) -> None:
    """Swap a rule with its neighbour above (or below); positions are renumbered 0, 1, 2… on the way."""
    ensure_can(actor, "lead.assign")
    rules = list(LeadAssignmentRule.objects.select_for_update().order_by("position", "id"))
    index = next((i for i, r in enumerate(rules) if r.pk == rule.pk), None)
    if index is None:
        return
    other = index - 1 if up else index + 1
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
    for position, item in enumerate(rules):
        if item.position != position:
            LeadAssignmentRule.objects.filter(pk=item.pk).update(position=position)
    audit_record(actor=actor, action="lead_rule.move", target=rule, data={"up": up})


@transaction.atomic
def rule_delete(*, actor: User, rule: LeadAssignmentRule) -> None:
    ensure_can(actor, "lead.assign")
    rule = LeadAssignmentRule.objects.select_related("team", "user", "match_store").get(pk=rule.pk)
    snapshot = _rule_snapshot(rule)
    audit_record(actor=actor, action="lead_rule.delete", target=rule, changes=changes_between(snapshot, {}))
    rule.delete()


def _form_snapshot(form: LeadForm) -> dict[str, Any]:
    return {
        "slug": form.slug,
        "title": form.title,
        "intro": form.intro,
        "fields": list(form.fields),
        "source": form.source,
        "store": form.store.name if form.store_id and form.store else None,
        "team": form.team.name if form.team_id and form.team else None,
        "thank_you": form.thank_you,
        "allowed_origins": form.allowed_origins,
        "active": form.active,
    }


def _clean_form(form: LeadForm, errors: Errors) -> None:
    form.slug = str(form.slug or "").strip().lower()
    form.title = " ".join(str(form.title or "").split())
    form.intro = str(form.intro or "").strip()
    form.thank_you = str(form.thank_you or "").strip()
    if not SLUG.match(form.slug):
        errors.add("slug", _("Use 2–50 lower-case letters, digits and hyphens, such as “spring-fair”."))
    for key, limit in (("title", 100), ("intro", 1000), ("thank_you", 500)):
        if key == "title" and not form.title:
            errors.add("title", _("This field is required."))
        elif len(getattr(form, key)) > limit:
            errors.add(key, _("Enter at most %(limit)d characters.") % {"limit": limit})
    fields = [str(f) for f in (form.fields or [])]
    unknown = [f for f in fields if f not in LeadForm.Field.values]
    if unknown:
        errors.add("fields", _("“%(value)s” is not one of the allowed values.") % {"value": unknown[0]})
    # In the order of the choices, so the form reads the same whichever way it was set up.
    form.fields = [f for f in LeadForm.Field.values if f in fields]
    if not {"phone", "email"} & set(form.fields):
        errors.add("fields", _("Show the mobile or the email field, or nobody can be called back."))
    origins = [line.strip().rstrip("/").lower() for line in str(form.allowed_origins or "").splitlines()]
    origins = list(dict.fromkeys(origin for origin in origins if origin))
    bad = [origin for origin in origins if not ORIGIN.match(origin)]
    if bad:
        errors.add(
            "allowed_origins",
            _("“%(value)s” is not a site address such as https://www.example.com.") % {"value": bad[0][:100]},
        )
    elif len(origins) > MAX_ORIGINS:
        errors.add("allowed_origins", _("List at most %(limit)d sites.") % {"limit": MAX_ORIGINS})
    form.allowed_origins = "\n".join(origins)
    if form.source not in Customer.Source.values:
        errors.add("source", _("“%(value)s” is not one of the allowed values.") % {"value": form.source})


@transaction.atomic
def form_create(
    *,
    actor: User,
    slug: str,
    title: str,
    fields: list[str],
    intro: str = "",
    source: str = Customer.Source.WEB,
    store: Store | None = None,
    team: Team | None = None,
    thank_you: str = "",
    allowed_origins: str = "",
    active: bool = True,
) -> LeadForm:
    """A new public web form; its address is /leads/form/<slug>/."""
    ensure_can(actor, "lead.assign")
    form = LeadForm(
        slug=slug,
        title=title,
        intro=intro,
        fields=list(fields),
        source=source or Customer.Source.WEB,
        store=store,
        team=team,
        thank_you=thank_you,
        allowed_origins=allowed_origins,
        active=active,
        created_by=actor,
    )
    errors = Errors()
    _clean_form(form, errors)
    errors.raise_if_any()
    if LeadForm.objects.filter(slug=form.slug).exists():
        raise Conflict(
            _("Another form has the address “%(slug)s”.") % {"slug": form.slug}, details={"slug": [form.slug]}
        )
    try:
        with transaction.atomic():
            form.save()
    except IntegrityError as exc:
        raise Conflict(details={"slug": [form.slug]}) from exc
    audit_record(
        actor=actor, action="lead_form.create", target=form, changes=changes_between({}, _form_snapshot(form))
    )
    return form


@transaction.atomic
def form_update(*, actor: User, form: LeadForm, **fields: Any) -> LeadForm:
    ensure_can(actor, "lead.assign")
    form = LeadForm.objects.select_for_update(of=("self",)).select_related("store", "team").get(pk=form.pk)
    before = _form_snapshot(form)
    allowed = {
        "slug",
        "title",
        "intro",
        "fields",
        "source",
        "store",
        "team",
        "thank_you",
        "allowed_origins",
        "active",
    }
    errors = Errors()
    for key in sorted(set(fields) - allowed):
        errors.add(key, _("Unknown field."))
    for key, value in fields.items():
        if key in allowed:
            setattr(form, key, value)
    _clean_form(form, errors)
    errors.raise_if_any()
    if LeadForm.objects.filter(slug=form.slug).exclude(pk=form.pk).exists():
        raise Conflict(
            _("Another form has the address “%(slug)s”.") % {"slug": form.slug}, details={"slug": [form.slug]}
        )
    form.save()
    changes = changes_between(before, _form_snapshot(form))
    if changes:
        audit_record(actor=actor, action="lead_form.update", target=form, changes=changes)
    return form
