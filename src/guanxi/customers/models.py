from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from guanxi.core.masking import mask_email, mask_text
from guanxi.core.phone import phone_display, phone_mask


class Masked:
    """Personal data shows in clear only where a selector marked the row `pii_clear` for its reader.

    Rows read any other way show masked values: the safe default.
    """

    @property
    def clear(self) -> bool:
        return bool(getattr(self, "pii_clear", False))


class MaskedReach(Masked):
    """A person's mobile, email and WeChat ID as the reader may see them (contacts, leads)."""

    phone: str
    email: str
    wechat_id: str

    @property
    def display_phone(self) -> str:
        if not self.phone:
            return ""
        return phone_display(self.phone) if self.clear else phone_mask(self.phone)

    @property
    def value_phone(self) -> str:
        """For machines: E.164, or the masked form."""
        return self.phone if self.clear or not self.phone else phone_mask(self.phone)

    @property
    def display_email(self) -> str:
        return self.email if self.clear or not self.email else mask_email(self.email)

    @property
    def display_wechat_id(self) -> str:
        return self.wechat_id if self.clear else mask_text(self.wechat_id)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("colour"), max_length=7, default="#2563eb")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class CustomFieldDefinition(models.Model):
    """A customer field an administrator adds in the UI; values live in Customer.custom_fields[key]."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        BOOLEAN = "boolean", _("Yes/no")

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label


# The search index over customers' search columns: SQLite FTS5 tables <prefix>_tri and <prefix>_keys
# (migration 0003, core.search).
SEARCH_INDEX = "customers_search"


class CustomerQuerySet(models.QuerySet["Customer"]):
    def persons(self) -> CustomerQuerySet:
        return self.filter(kind=Customer.Kind.PERSON)

    def companies(self) -> CustomerQuerySet:
        return self.filter(kind=Customer.Kind.COMPANY)


class Customer(Masked, models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    class Gender(models.TextChoices):
        UNKNOWN = "", _("Unknown")
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    class Stage(models.TextChoices):
        LEAD = "lead", _("Lead")
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")
        REPEAT = "repeat", _("Repeat customer")
        LOYAL = "loyal", _("Loyal customer")
        AT_RISK = "at_risk", _("At risk")
        CHURNED = "churned", _("Churned")

    class Source(models.TextChoices):
        WALK_IN = "walk_in", _("Walk-in")
        REFERRAL = "referral", _("Referral")
        PHONE = "phone", _("Phone call")
        WEB = "web", _("Web form")
        WECHAT = "wechat", _("WeChat")
        CAMPAIGN = "campaign", _("Campaign")
        EVENT = "event", _("Event or fair")
        PARTNER = "partner", _("Partner")
        IMPORT = "import", _("Import")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, default="", blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    member_no = models.CharField(_("member number"), max_length=40, null=True, blank=True, unique=True)
    external_ids = models.JSONField(_("codes in other systems"), default=dict, blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True, db_index=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    stage = models.CharField(_("lifecycle stage"), max_length=20, choices=Stage.choices, default=Stage.LEAD)
    notes = models.TextField(_("notes"), blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
    )
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Normalised search columns (guanxi.core.search), rebuilt by the services on every change.
    search_text = models.TextField(default="", blank=True, editable=False)
    search_keys = models.TextField(default="", blank=True, editable=False)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["owner", "id"]),
            models.Index(fields=["team", "id"]),
            models.Index(fields=["stage", "id"]),
            models.Index(fields=["name"]),
            models.Index(fields=["-updated_at"]),
            # The duplicate finder groups by WeChat ID; most customers have none.
            models.Index(fields=["wechat_id"], name="customer_wechat_idx", condition=~models.Q(wechat_id="")),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_company(self) -> bool:
        return self.kind == self.Kind.COMPANY

    @property
    def address(self) -> str:
        street = self.street if self.clear else mask_text(self.street)
        return "".join(part for part in (self.province, self.city, self.district, street) if part)

    @property
    def display_wechat_id(self) -> str:
        return self.wechat_id if self.clear else mask_text(self.wechat_id)

    @property
    def display_street(self) -> str:
        return self.street if self.clear else mask_text(self.street)

    @property
    def display_birthday(self) -> str:
        if not self.birthday:
            return ""
        return self.birthday.isoformat() if self.clear else f"****-{self.birthday:%m-%d}"


class CustomerPhone(Masked, models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("phone"), max_length=20, db_index=True)  # E.164
    label = models.CharField(_("label"), max_length=20, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["customer", "number"], name="customer_phone_unique")]
        verbose_name = _("phone")
        verbose_name_plural = _("phones")

    def __str__(self) -> str:
        return self.number

    @property
    def display(self) -> str:
        """For people: 138 0013 8000, or 138****8000 when masked."""
        return phone_display(self.number) if self.clear else phone_mask(self.number)

    @property
    def value(self) -> str:
        """For machines: E.164, or the masked form."""
        return self.number if self.clear else phone_mask(self.number)


class CustomerEmail(Masked, models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails")
    address = models.EmailField(_("email"), db_index=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["customer", "address"], name="customer_email_unique")]
        # Emails match case-insensitively when finding duplicates.
        indexes = [models.Index(Lower("address"), name="customer_email_lower_idx")]
        verbose_name = _("email")
        verbose_name_plural = _("emails")

    def __str__(self) -> str:
        return self.address

    @property
    def display(self) -> str:
        return self.address if self.clear else mask_email(self.address)


class Contact(MaskedReach, models.Model):
    """A person at a company customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)  # E.164
    email = models.EmailField(_("email"), blank=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name


class Asset(models.Model):
    """Something the customer owns that the business serves: a vehicle, a building site."""

    class Kind(models.TextChoices):
        VEHICLE = "vehicle", _("Vehicle")
        SITE = "site", _("Building site")
        OTHER = "other", _("Other")

    class SiteStage(models.TextChoices):
        PLANNING = "planning", _("Planning")
        FOUNDATION = "foundation", _("Foundation")
        STRUCTURE = "structure", _("Structure")
        FINISHING = "finishing", _("Finishing")
        COMPLETED = "completed", _("Completed")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="assets")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.VEHICLE)
    name = models.CharField(_("name"), max_length=100, blank=True)
    plate = models.CharField(_("licence plate"), max_length=16, blank=True, db_index=True)
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    mileage_km = models.PositiveIntegerField(_("mileage (km)"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    site_stage = models.CharField(_("site stage"), max_length=12, choices=SiteStage.choices, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    # When the vehicle is next due for service: the follow-up rules remind its owner (activities).
    next_service_on = models.DateField(_("next service due"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")

    def __str__(self) -> str:
        return self.plate or self.name or self.address or self.get_kind_display()


class Consent(models.Model):
    """One recorded consent decision. Append-only: the newest row per purpose and channel is in force."""

    class Purpose(models.TextChoices):
        MARKETING = "marketing", _("Marketing")
        PROFILING = "profiling", _("Profiling and analytics")

    class Channel(models.TextChoices):
        ANY = "any", _("Any channel")
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")
        WECHAT = "wechat", _("WeChat")

    class Method(models.TextChoices):
        PAPER = "paper", _("Signed paper form")
        VERBAL = "verbal", _("Verbal, in person or by phone")
        WEB = "web", _("Web or app form")
        SMS = "sms", _("SMS reply")
        WECHAT = "wechat", _("WeChat")
        IMPORT = "import", _("Imported")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.ANY)
    granted = models.BooleanField(_("granted"))
    method = models.CharField(_("how"), max_length=10, choices=Method.choices)
    recorded_at = models.DateTimeField(_("when"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["customer", "purpose", "channel", "-recorded_at"])]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} / {self.get_channel_display()}: {self.granted}"


class TimelineEntry(models.Model):
    """One thing that happened to a customer, for the 360 page.

    Every app that touches a customer (orders, activities, tickets, points) appends entries here with its
    own `kind`, so the timeline is one indexed query whatever its length.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="timeline")
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    kind = models.CharField(_("kind"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "-occurred_at", "-id"])]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class CustomerMerge(models.Model):
    """A customer merged into another: keeps the merged record traceable after it is deleted.

    `merged_id` is the deleted customer's id (the 360 page of that id leads to the survivor); `snapshot`
    holds its fields and child rows as they were. When a survivor is merged again, its merge records move
    to the new survivor, so every earlier id leads to the record that holds its history now.
    """

    survivor = models.ForeignKey(
        Customer,
        verbose_name=_("merged into"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="merges",
    )
    merged_id = models.PositiveBigIntegerField(_("merged customer id"), unique=True)
    merged_name = models.CharField(_("merged customer"), max_length=200)
    snapshot = models.JSONField(_("merged data"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")

    def __str__(self) -> str:
        return f"{self.merged_name} (#{self.merged_id}) → {self.survivor_id}"


class CustomerDuplicate(models.Model):
    """A pair the duplicate finder found (customers.duplicates.customer_duplicates_refresh): `a` the older.

    Rewritten whole by each run, in the background: finding the pairs reads every customer (about 30 s at
    a million, docs/adr/0005-duplicate-finder.md). No foreign-key constraint, so deleting or merging a
    customer costs nothing here: readers join the customers, and a pair whose customer is gone drops out.
    """

    a = models.ForeignKey(
        Customer, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    b = models.ForeignKey(Customer, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    reasons = models.JSONField(_("reasons"), default=list)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["a", "b"], name="customer_duplicate_unique")]
        indexes = [models.Index(fields=["-score", "-b", "-a"], name="customer_duplicate_rank_idx")]
        verbose_name = _("duplicate pair")
        verbose_name_plural = _("duplicate pairs")

    def __str__(self) -> str:
        return f"{self.a_id} ~ {self.b_id} ({self.score})"
