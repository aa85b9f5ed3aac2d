"""Importing leads (issue 5): a fair's sign-up sheet, an ad platform's export, a list kept in Excel.

The "leads" target: name, phone, email, WeChat ID, company, city, source, interest and message. Each
good row is captured by `leads.services.lead_create`, the service the lead pages and the API use, so the
same rules apply: phones become E.164, a row needs a mobile, an email or a WeChat ID, a row whose phone or
email belongs to an open lead is merged into it (the repeat of a person in the same file too), a lead
without an owner goes by the assignment rules, and every lead has its audit event.

Source: a Customer.Source key (walk_in, referral, …), its label in English or Chinese, or a common word
for it (朋友介绍, 展会, 官网…); an empty cell is "import"; any other word is kept as "other", with the
file's own word under "source" in the lead's more details, so no lead is lost over an unknown channel.

Running the same file again creates nobody twice: a row that would add nothing to its open lead (every
field it fills is filled already, its message is in the lead's already) is skipped, not merged again, so
the lead's "times captured" and messages do not grow with each run. leads.services matches on phone and
email only; a row with neither is matched here by its WeChat ID: skipped when it adds nothing, merged
through the open lead's own phone or email, or, when that lead has neither, rejected with the reason.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.errors import DomainError
from guanxi.customers.models import Customer
from guanxi.customers.services.bulk import RowOutcome
from guanxi.imports.cleaning import (
    BadValue,
    ValueCleaner,
    cell_text,
    choice_cleaner,
    first_phone_cleaner,
    text_cleaner,
)
from guanxi.imports.cleaning.values import clean_emails
from guanxi.imports.mapping import SOURCE_WORDS, Target, TargetField, target_register
from guanxi.imports.readers import Cell
from guanxi.leads.models import OPEN_STATUSES, Lead
from guanxi.leads.services import lead_create
from guanxi.users.models import User

# The fields a merge fills when the open lead's are empty (as leads.services.capture.FILLABLE).
FILLABLE = ("company", "phone", "email", "wechat_id", "city", "interest", "source")


def _email(value: Cell) -> str:
    addresses = clean_emails(value)
    return addresses[0].lower() if addresses else ""


def _source() -> ValueCleaner:
    """(key, the file's word when it is none of the sources, else "")."""
    known = choice_cleaner(Customer.Source.choices, SOURCE_WORDS)

    def clean(value: Cell) -> tuple[str, str]:
        try:
            return known(value), ""
        except BadValue:
            return Customer.Source.OTHER.value, cell_text(value).strip()[:100]

    return clean


LEADS = target_register(
    Target(
        key="leads",
        label=gettext_lazy("Leads"),
        extra={"permission": "lead.create"},
        fields=(
            TargetField(
                "name",
                gettext_lazy("Name"),
                lambda: text_cleaner(200),
                required=True,
                headers=(
                    "姓名",
                    "客户姓名",
                    "联系人",
                    "联系人姓名",
                    "名字",
                    "name",
                    "fullname",
                    "contactname",
                ),
            ),
            TargetField(
                "phone",
                gettext_lazy("Mobile"),
                first_phone_cleaner,
                headers=(
                    "手机",
                    "手机号",
                    "手机号码",
                    "联系电话",
                    "电话",
                    "电话号码",
                    "mobile",
                    "phone",
                    "tel",
                    "cellphone",
                ),
            ),
            TargetField(
                "email",
                gettext_lazy("Email"),
                lambda: _email,
                headers=("邮箱", "电子邮件", "电子邮箱", "email", "mail", "emailaddress"),
            ),
            TargetField(
                "wechat_id",
                gettext_lazy("WeChat ID"),
                lambda: text_cleaner(64),
                headers=("微信", "微信号", "微信id", "wechat", "wechatid", "weixin"),
            ),
            TargetField(
                "company",
                gettext_lazy("Company"),
                lambda: text_cleaner(200),
                headers=("公司", "单位", "公司名称", "单位名称", "company", "companyname", "organization"),
            ),
            TargetField(
                "city",
                gettext_lazy("City"),
                lambda: text_cleaner(30),
                repeats=True,
                headers=("城市", "所在城市", "city"),
            ),
            TargetField(
                "source",
                gettext_lazy("Source"),
                _source,
                repeats=True,
                headers=("来源", "渠道", "来源渠道", "线索来源", "source", "channel", "leadsource"),
            ),
            TargetField(
                "interest",
                gettext_lazy("Interested in"),
                lambda: text_cleaner(200),
                headers=("意向", "意向产品", "感兴趣", "interest", "interestedin", "product"),
            ),
            TargetField(
                "message",
                gettext_lazy("Message"),
                lambda: text_cleaner(5000, multiline=True),
                multiple=True,
                headers=("留言", "备注", "咨询内容", "message", "note", "notes", "remark", "comment"),
            ),
        ),
    )
)


# --- writing a batch --------------------------------------------------------------------------------------


class _OpenLeads:
    """The open leads a batch's phones and emails name, kept up to date as the batch captures."""

    def __init__(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        phones = {v["phone"] for _n, v in rows if v.get("phone")}
        emails = {v["email"] for _n, v in rows if v.get("email")}
        wechats = {v["wechat_id"] for _n, v in rows if v.get("wechat_id")}
        self.by_phone: dict[str, Lead] = {}
        self.by_email: dict[str, Lead] = {}
        self.by_wechat: dict[str, Lead] = {}
        if phones or emails or wechats:
            found = Lead.objects.filter(
                Q(phone__in=phones) | Q(email__in=emails) | Q(wechat_id__in=wechats),
                status__in=OPEN_STATUSES,
            ).order_by("-id")  # the oldest last, so it wins, as leads.services matches the oldest
            for lead in found:
                self.add(lead)

    def add(self, lead: Lead) -> None:
        for found, key in ((self.by_phone, "phone"), (self.by_email, "email"), (self.by_wechat, "wechat_id")):
            if getattr(lead, key):
                found[getattr(lead, key)] = lead

    def find(self, values: dict[str, Any]) -> Lead | None:
        """The open lead with the row's phone or email (the oldest, as leads.services); for a row with
        neither, the one with its WeChat ID."""
        matches = [
            lead
            for lead in (
                self.by_phone.get(values.get("phone", "")),
                self.by_email.get(values.get("email", "")),
            )
            if lead is not None
        ]
        if matches:
            return min(matches, key=lambda lead: lead.pk)
        if values.get("phone") or values.get("email"):
            return None
        return self.by_wechat.get(values.get("wechat_id", ""))


def _adds_nothing(lead: Lead, fields: dict[str, Any]) -> bool:
    """A capture of `fields` would change nothing of `lead` (a row imported before)."""
    if any(fields.get(key) and not getattr(lead, key) for key in FILLABLE):
        return False
    message = fields.get("message") or ""
    return not message or message in lead.message


def leads_import_rows(*, actor: User, rows: list[tuple[int, dict[str, Any]]]) -> list[RowOutcome]:
    """Capture the leads of a batch of cleaned rows; every row ends created, merged (into an open lead
    with its phone or email), skipped (it adds nothing to its open lead) or rejected with its reasons.
    The caller holds the transaction; each capture is its own savepoint (lead_create is atomic)."""
    open_leads = _OpenLeads(rows)
    outcomes: list[RowOutcome] = []
    for number, values in rows:
        source, source_word = values.get("source") or (Customer.Source.IMPORT.value, "")
        fields = {
            key: values[key]
            for key in ("phone", "email", "wechat_id", "company", "city", "interest", "message")
            if values.get(key)
        }
        fields["source"] = source
        existing = open_leads.find(values)
        if existing is not None and _adds_nothing(existing, fields):
            outcomes.append(RowOutcome(number, "skipped"))
            continue
        if existing is not None and not (fields.get("phone") or fields.get("email")):
            # Found by WeChat ID, which leads.services does not match on: merge through the lead's own
            # mobile or email, else refuse rather than make the person twice.
            if not (existing.phone or existing.email):
                message = _("An open lead, %(name)s, has this WeChat ID: add what is new to it there.")
                outcomes.append(
                    RowOutcome(number, "rejected", None, {"wechat_id": [message % {"name": existing.name}]})
                )
                continue
            fields.update(phone=existing.phone, email=existing.email)
        try:
            lead = lead_create(
                actor=actor,
                name=values.get("name", ""),
                extra={"source": source_word} if source_word else None,
                **fields,
            )
        except DomainError as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            errors = {str(k): [str(m) for m in v] for k, v in details.items()} or {"name": [exc.message]}
            outcomes.append(RowOutcome(number, "rejected", None, errors))
            continue
        open_leads.add(lead)
        outcomes.append(RowOutcome(number, "merged" if getattr(lead, "merged", False) else "created"))
    return outcomes
