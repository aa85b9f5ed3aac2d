"""Leads arriving: entered by hand or through the API, or posted to a public web form.

Rules enforced here and nowhere else:
- Phones are stored as E.164, emails in lower case.
- De-duplication on arrival: when an open lead (new, working, qualified) has the same phone or email, the
  new capture is merged into it (empty fields filled, the message appended, `captures` + 1, a
  "lead.capture_again" audit event) instead of making a second lead. The database holds one open lead per
  phone and per email, so two captures racing end the same way.
- A customer with that phone or email is linked (`lead.customer`), and the lead says so.
- Owner: one given must be the actor unless they may assign (`lead.assign`). A rep without that
  permission owns what they enter. Otherwise (an assigner, the web form) the assignment rules decide.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record, changes_between
from guanxi.catalog.models import Store
from guanxi.core.errors import Errors, NotFound
from guanxi.core.permissions import ROLES, can, ensure_can
from guanxi.leads.models import Lead, LeadAssignmentRule, LeadForm
from guanxi.leads.services._common import (
    actor_or_none,
    clean_extra,
    clean_fields,
    customer_matching,
    open_lead_matching,
    rescore,
    snapshot,
)
from guanxi.users.models import Team, User

# Who may receive leads from a round robin: active users whose role works leads.
WORKER_ROLES = sorted(role for role, rules in ROLES.items() if "lead.change" in rules["perms"])
FILLABLE = ("company", "phone", "email", "wechat_id", "city", "interest", "source")


def city_key(city: str) -> str:
    """深圳市, 深圳 and ' 深圳 ' are one city to a rule."""
    text = "".join(str(city or "").split()).lower()
    return text[:-1] if text.endswith("市") and len(text) > 1 else text


def _next_member(rule: LeadAssignmentRule) -> User | None:
    """The team member after the one who got the rule's last lead (by id, wrapping around).

    The rule's row is locked while its cursor moves (PostgreSQL: SELECT … FOR UPDATE; SQLite: writers
    take turns), so leads arriving together go to different members.
    """
    locked = LeadAssignmentRule.objects.select_for_update().get(pk=rule.pk)
    members = User.objects.filter(team=locked.team, is_active=True, role__in=WORKER_ROLES).order_by("id")
    member = members.filter(id__gt=locked.last_user_id).first() if locked.last_user_id else None
    member = member or members.first()
    if member is not None:
        LeadAssignmentRule.objects.filter(pk=rule.pk).update(
            last_user=member, assigned_count=F("assigned_count") + 1, updated_at=timezone.now()
        )
    return member


def rule_matches(rule: LeadAssignmentRule, *, source: str, city: str, store_id: int | None) -> bool:
    if rule.match_source and rule.match_source != source:
        return False
    if rule.match_city and city_key(rule.match_city) != city_key(city):
        return False
    return not (rule.match_store_id and rule.match_store_id != store_id)


def assign_by_rules(
    *, source: str, city: str, store_id: int | None
) -> tuple[User | None, Team | None, LeadAssignmentRule | None]:
    """The owner, team and rule the first matching active rule gives; a rule that has nobody to give the
    lead to (no active member, an inactive user) is passed over."""
    rules = (
        LeadAssignmentRule.objects.filter(active=True)
        .select_related("user", "team")
        .order_by("position", "id")
    )
    for rule in rules:
        if not rule_matches(rule, source=source, city=city, store_id=store_id):
            continue
        if rule.action == LeadAssignmentRule.Action.USER:
            if rule.user is not None and rule.user.is_active:
                LeadAssignmentRule.objects.filter(pk=rule.pk).update(
                    assigned_count=F("assigned_count") + 1, updated_at=timezone.now()
                )
                return rule.user, rule.user.team, rule
            continue
        if rule.team_id is not None and (member := _next_member(rule)) is not None:
            return member, rule.team, rule
    return None, None, None


def _append_message(old: str, new: str) -> str:
    if not new:
        return old
    if not old:
        return new
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    return f"{old}\n\n— {stamp} —\n{new}"[:5000]


def _merge(
    actor: Any,
    lead: Lead,
    data: dict[str, Any],
    store: Store | None,
    extra: dict[str, str],
    web_form: LeadForm | None,
) -> Lead:
    """Fold a new capture into the open lead `lead` (locked by the caller)."""
    before = snapshot(lead)
    filled = []
    for key in FILLABLE:
        value = data.get(key) or ""
        if value and not getattr(lead, key):
            # A phone or email held by another open lead stays out: it would make two leads one person.
            if key in ("phone", "email") and open_lead_matching(
                value if key == "phone" else "", value if key == "email" else "", exclude=lead.pk
            ):
                continue
            setattr(lead, key, value)
            filled.append(key)
    if store is not None and lead.store_id is None:
        lead.store = store
        filled.append("store")
    lead.message = _append_message(lead.message, data.get("message") or "")
    lead.extra = {**extra, **lead.extra}
    lead.captures += 1
    lead.last_captured_at = timezone.now()
    if lead.customer_id is None:
        lead.customer = customer_matching(lead.phone, lead.email)
    lead.save()
    rescore(lead)
    audit_record(
        actor=actor,
        action="lead.capture_again",
        target=lead,
        changes=changes_between(before, snapshot(lead)),
        data={
            "captures": lead.captures,
            "filled": filled,
            "form": web_form.slug if web_form else None,
            "message": bool(data.get("message")),
        },
    )
    lead.merged = True
    return lead


def _owner(
    actor: Any, owner: User | None, team: Team | None, data: dict[str, Any], store: Store | None
) -> dict[str, Any]:
    if owner is not None:
        if owner != actor:
            ensure_can(actor, "lead.assign")
        return {"owner": owner, "team": team or owner.team, "rule": None}
    if actor_or_none(actor) is not None and not can(actor, "lead.assign"):
        return {"owner": actor, "team": actor.team, "rule": None}
    ruled_owner, ruled_team, rule = assign_by_rules(
        source=data.get("source") or "", city=data.get("city") or "", store_id=store.pk if store else None
    )
    if rule is not None:
        return {"owner": ruled_owner, "team": ruled_team or team, "rule": rule}
    # No rule took it: it waits, unassigned, in the queue of the given team (or the entering manager's).
    fallback = team if team is not None else getattr(actor_or_none(actor), "team", None)
    return {"owner": None, "team": fallback, "rule": None}


def _capture(
    actor: Any,
    fields: dict[str, Any],
    *,
    store: Store | None,
    owner: User | None,
    team: Team | None,
    extra: Any,
    web_form: LeadForm | None,
) -> Lead:
    errors = Errors()
    data = clean_fields(fields, errors, creating=True)
    extra_clean = clean_extra(extra, errors)
    if owner is not None and not owner.is_active:
        errors.add("owner", _("This user is inactive."))
    errors.raise_if_any()
    phone, email = data.get("phone", ""), data.get("email", "")
    for _attempt in range(2):
        existing = open_lead_matching(phone, email, lock=True)
        if existing is not None:
            return _merge(actor, existing, data, store, extra_clean, web_form)
        try:
            # A savepoint: a capture that lost the race merges instead, and the rules' cursor moved for it
            # moves back.
            with transaction.atomic():
                assignment = _owner(actor, owner, team, data, store)
                lead = Lead(
                    **data,
                    store=store,
                    extra=extra_clean,
                    web_form=web_form,
                    customer=customer_matching(phone, email),
                    created_by=actor_or_none(actor),
                    last_captured_at=timezone.now(),
                    **assignment,
                )
                rescore(lead)
                lead.save()
        except IntegrityError:
            continue
        audit_record(
            actor=actor,
            action="lead.create",
            target=lead,
            changes=changes_between({}, snapshot(lead)),
            data={
                "form": web_form.slug if web_form else None,
                "rule": assignment["rule"].name if assignment["rule"] else None,
                "customer_match": lead.customer_id,
                "score": lead.score,
            },
        )
        lead.merged = False
        return lead
    raise IntegrityError("lead capture kept colliding")  # pragma: no cover: two lost races in a row


@transaction.atomic
def lead_create(
    *,
    actor: User,
    name: str,
    phone: str = "",
    email: str = "",
    company: str = "",
    wechat_id: str = "",
    city: str = "",
    source: str = "",
    interest: str = "",
    message: str = "",
    store: Store | None = None,
    owner: User | None = None,
    team: Team | None = None,
    extra: dict[str, Any] | None = None,
) -> Lead:
    """Enter a lead by hand or through the API. See the module's rules: the result may be an open lead
    that already existed (`lead.merged` is True), and may be linked to a customer (`lead.customer`)."""
    ensure_can(actor, "lead.create")
    fields = {
        "name": name,
        "phone": phone,
        "email": email,
        "company": company,
        "wechat_id": wechat_id,
        "city": city,
        "source": source,
        "interest": interest,
        "message": message,
    }
    return _capture(actor, fields, store=store, owner=owner, team=team, extra=extra, web_form=None)


@transaction.atomic
def lead_capture_web(*, form: LeadForm, fields: dict[str, Any], extra: dict[str, Any] | None = None) -> Lead:
    """A post to a public web form (no sign-in): only the fields the form shows are taken; the form gives
    the source, store and team; the assignment rules give the owner. The spam checks are the view's."""
    active = LeadForm.objects.select_related("store", "team").filter(pk=form.pk, active=True).first()
    if active is None:
        raise NotFound(_("This form is not taking entries."))
    form = active
    shown = {"name", *form.fields}
    taken = {key: value for key, value in fields.items() if key in shown}
    taken["source"] = form.source
    return _capture(None, taken, store=form.store, owner=None, team=form.team, extra=extra, web_form=form)
