"""What the lead services share: cleaning input, matching customers and open leads, scoring, locking."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from guanxi.core.errors import Errors, NotFound, ValidationFailed
from guanxi.core.permissions import scope_q
from guanxi.core.phone import phone_normalize
from guanxi.customers.models import Contact, Customer, CustomerEmail, CustomerPhone
from guanxi.leads import scoring
from guanxi.leads.models import OPEN_STATUSES, Lead
from guanxi.users.models import User

TEXT_LIMITS = {
    "name": 200,
    "company": 200,
    "wechat_id": 64,
    "city": 30,
    "interest": 200,
    "message": 5000,
}
EMAIL_MAX_LENGTH = 254
EXTRA_MAX_KEYS = 30
EXTRA_MAX_VALUE = 500
# The lead fields a capture or an edit may set (beside store, owner, team and extra).
FIELDS = (*TEXT_LIMITS, "phone", "email", "source")


def actor_or_none(actor: Any) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def clean_phone(value: Any, errors: Errors) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        return phone_normalize(text)
    except ValidationFailed:
        errors.add("phone", _("“%(value)s” is not a valid phone number.") % {"value": text[:40]})
        return ""


def clean_email(value: Any, errors: Errors) -> str:
    """Lower-case, so the same address always matches the same lead."""
    address = str(value or "").strip().lower()
    if not address:
        return ""
    if len(address) > EMAIL_MAX_LENGTH:
        errors.add("email", _("Enter at most %(limit)d characters.") % {"limit": EMAIL_MAX_LENGTH})
        return ""
    try:
        validate_email(address)
    except DjangoValidationError:
        errors.add("email", _("“%(value)s” is not a valid email address.") % {"value": address[:80]})
        return ""
    return address


def clean_extra(value: Any, errors: Errors) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or len(value) > EXTRA_MAX_KEYS:
        errors.add("extra", _("Send at most %(limit)d name: text pairs.") % {"limit": EXTRA_MAX_KEYS})
        return {}
    cleaned = {}
    for key, item in value.items():
        key, text = str(key).strip()[:50], str("" if item is None else item).strip()
        if len(text) > EXTRA_MAX_VALUE or "\x00" in text:
            errors.add(f"extra.{key}", _("Enter at most %(limit)d characters.") % {"limit": EXTRA_MAX_VALUE})
        elif key:
            cleaned[key] = text
    return cleaned


def clean_fields(fields: dict[str, Any], errors: Errors, *, creating: bool) -> dict[str, Any]:
    """The given lead fields, trimmed and checked; on create a name and a way to reach them are needed."""
    for key in sorted(set(fields) - set(FIELDS)):
        errors.add(key, _("Unknown field."))
    cleaned: dict[str, Any] = {}
    for key, limit in TEXT_LIMITS.items():
        if key in fields:
            value = str(fields[key] or "").strip()
            if "\x00" in value:
                errors.add(key, _("Null characters are not allowed."))
            elif len(value) > limit:
                errors.add(key, _("Enter at most %(limit)d characters.") % {"limit": limit})
            cleaned[key] = value
    if "phone" in fields:
        cleaned["phone"] = clean_phone(fields["phone"], errors)
    if "email" in fields:
        cleaned["email"] = clean_email(fields["email"], errors)
    if "source" in fields:
        source = str(fields["source"] or "")
        if source and source not in Customer.Source.values:
            errors.add("source", _("“%(value)s” is not one of the allowed values.") % {"value": source[:30]})
            source = ""
        cleaned["source"] = source
    if ("name" in cleaned or creating) and not cleaned.get("name"):
        errors.add("name", _("This field is required."))
    reachable = cleaned.get("phone") or cleaned.get("email") or cleaned.get("wechat_id")
    if creating and not reachable and "phone" not in errors.details and "email" not in errors.details:
        errors.add("phone", _("Give a way to reach them: a mobile, an email or a WeChat ID."))
    return cleaned


def open_lead_matching(
    phone: str, email: str, *, exclude: int | None = None, lock: bool = False
) -> Lead | None:
    """The oldest open lead with this phone or email (any owner: dedup does not stop at scope)."""
    match = Q()
    if phone:
        match |= Q(phone=phone)
    if email:
        match |= Q(email=email)
    if not match:
        return None
    leads = Lead.objects.filter(match, status__in=OPEN_STATUSES)
    if exclude:
        leads = leads.exclude(pk=exclude)
    if lock:
        leads = leads.select_for_update(of=("self",))
    return leads.order_by("id").first()


def customer_ids_matching(phone: str, email: str) -> list[int]:
    """Customers with this phone or email (their own or a contact's), oldest first."""
    ids: set[int] = set()
    if phone:
        ids.update(CustomerPhone.objects.filter(number=phone).values_list("customer_id", flat=True))
        ids.update(Contact.objects.filter(phone=phone).values_list("customer_id", flat=True))
    if email:
        ids.update(
            CustomerEmail.objects.annotate(lower=Lower("address"))
            .filter(lower=email)
            .values_list("customer_id", flat=True)
        )
        ids.update(
            Contact.objects.annotate(lower=Lower("email"))
            .filter(lower=email)
            .values_list("customer_id", flat=True)
        )
    return sorted(ids)


def customer_matching(phone: str, email: str) -> Customer | None:
    ids = customer_ids_matching(phone, email)
    return Customer.objects.filter(pk=ids[0]).first() if ids else None


def rescore(lead: Lead) -> bool:
    """Recompute the stored score and reasons; True when they changed (saved with a plain UPDATE)."""
    activities = lead.activities.count() if lead.pk else 0
    fields = {key: getattr(lead, key) for key in FIELDS}
    points, reasons = scoring.score(fields, captures=lead.captures, activities=activities)
    if points == lead.score and reasons == lead.score_reasons:
        return False
    lead.score, lead.score_reasons = points, reasons
    if lead.pk:
        Lead.objects.filter(pk=lead.pk).update(score=points, score_reasons=reasons)
    return True


def lock(actor: Any, lead: Lead) -> Lead:
    """The lead as stored, locked for the transaction; NotFound outside the actor's scope."""
    try:
        return (
            Lead.objects.select_for_update(of=("self",))
            .select_related("owner", "team", "store", "customer")
            .filter(scope_q(actor))
            .get(pk=lead.pk)
        )
    except Lead.DoesNotExist as exc:
        raise NotFound(_("Lead not found.")) from exc


def snapshot(lead: Lead) -> dict[str, Any]:
    data = {key: getattr(lead, key) for key in FIELDS}
    data.update(
        status=lead.status,
        store=lead.store.name if lead.store_id and lead.store else None,
        owner=lead.owner.username if lead.owner_id and lead.owner else None,
        team=lead.team.name if lead.team_id and lead.team else None,
        customer=lead.customer_id,
    )
    return data
