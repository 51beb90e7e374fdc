"""Customer (the legal party), account (户号), its effective-dated billing attributes, changes and contracts.

Effective dating (DESIGN rule 3): every attribute that affects billing lives in
:class:`AccountVersion` rows, each valid from a date until the next one.  The columns
of the same name on :class:`Account` are a copy of the version in force *today*, kept
so that lists, searches and month-end selections need no date logic; they are written
only by ``services.versions`` and refreshed daily for changes that were approved ahead
of their date.  "As of" questions always go to the versions (``selectors.account_as_of``).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from powercis.core.models import ApprovableDocument, OrgScopedModel


class CertificateType(models.TextChoices):
    ID_CARD = "id_card", _("Resident identity card")
    USCC = "uscc", _("Unified social credit code")
    PASSPORT = "passport", _("Passport")
    OTHER = "other", _("Other certificate")


class Customer(OrgScopedModel):
    customer_no = models.CharField(_("customer number"), max_length=32)
    name = models.CharField(_("name"), max_length=120)
    customer_type = models.CharField(_("customer type"), max_length=16, help_text=_("Code of the customer type table."))
    certificate_type = models.CharField(_("certificate type"), max_length=12, choices=CertificateType.choices,
                                        default=CertificateType.ID_CARD)
    certificate_no = models.CharField(_("certificate number"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["company_id", "customer_no"]
        constraints = [models.UniqueConstraint(fields=["company", "customer_no"], name="customers_customer_uniq")]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer_no})"


class CustomerContact(models.Model):
    class Role(models.TextChoices):
        ELECTRICAL = "electrical", _("Electrical contact")
        BILLING = "billing", _("Billing contact")
        LEGAL = "legal", _("Legal representative")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE,
                                 related_name="contacts")
    name = models.CharField(_("name"), max_length=60)
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.ELECTRICAL)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["customer_id", "id"]

    def __str__(self) -> str:
        return self.name


class AccountStatus(models.TextChoices):
    NORMAL = "NORMAL", _("Normal")
    SUSPENDED = "SUSPENDED", _("Suspended")
    CLOSED = "CLOSED", _("Closed")


class CapacityBasis(models.TextChoices):
    NONE = "none", _("No capacity charge (single-part)")
    CAPACITY = "capacity", _("By transformer capacity (kVA)")
    DEMAND = "demand", _("By maximum demand (kW)")


#: the effective-dated attributes: on every version, copied to Account for today
VERSIONED_FIELDS = (
    "customer", "name", "usage_category", "voltage_level", "tariff_code", "contract_capacity", "running_capacity",
    "capacity_basis", "pf_standard", "metering_mode", "status",
)


class BillingAttributes(models.Model):
    """The attributes a bill depends on; the code fields name items of the company's code tables."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("account name"), max_length=120)
    usage_category = models.CharField(_("usage category"), max_length=16)
    voltage_level = models.CharField(_("voltage level"), max_length=16)
    tariff_code = models.CharField(_("tariff code"), max_length=32, blank=True)
    contract_capacity = models.DecimalField(_("contract capacity (kVA)"), max_digits=10, decimal_places=1,
                                            default=Decimal("0"))
    running_capacity = models.DecimalField(_("running capacity (kVA)"), max_digits=10, decimal_places=1,
                                           default=Decimal("0"))
    capacity_basis = models.CharField(_("capacity charge basis"), max_length=8, choices=CapacityBasis.choices,
                                      default=CapacityBasis.NONE)
    pf_standard = models.CharField(_("power-factor standard"), max_length=8, default="NONE")
    metering_mode = models.CharField(_("metering mode"), max_length=4, default="LL")
    status = models.CharField(_("status"), max_length=10, choices=AccountStatus.choices, default=AccountStatus.NORMAL)

    class Meta:
        abstract = True


class Account(OrgScopedModel, BillingAttributes):
    """The billing account (用电户). ``org`` is the billing org; versioned attributes are today's copy."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="accounts")
    account_no = models.CharField(_("account number"), max_length=32)
    service_address = models.CharField(_("service address"), max_length=200)
    industry_class = models.CharField(_("industry class"), max_length=16, blank=True)
    importance_level = models.CharField(_("importance level"), max_length=16, default="NONE")
    is_key_account = models.BooleanField(_("key account"), default=False)
    payment_method = models.CharField(_("payment method"), max_length=16, default="COUNTER")
    reading_route_code = models.CharField(_("reading route"), max_length=32, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    opened_on = models.DateField(_("connected on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["company_id", "account_no"]
        constraints = [models.UniqueConstraint(fields=["company", "account_no"], name="customers_account_uniq")]
        indexes = [
            models.Index(fields=["org_path", "account_no"], name="customers_account_scope"),
            # the map asks for the accounts inside a bounding box
            models.Index(fields=["longitude", "latitude"], name="customers_account_lonlat"),
        ]

    def __str__(self) -> str:
        return f"{self.account_no} {self.name}"


class AccountVersion(BillingAttributes):
    """The billing attributes of an account from ``valid_from`` until ``valid_to`` (exclusive; open when null)."""

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="versions")
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    change = models.ForeignKey("AccountChange", verbose_name=_("change"), on_delete=models.PROTECT, null=True,
                               blank=True, related_name="versions")
    #: written by a suspension to restore the account at its planned end; an early resumption replaces it
    scheduled_resumption = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("account version")
        verbose_name_plural = _("account versions")
        ordering = ["account_id", "valid_from"]
        constraints = [models.UniqueConstraint(fields=["account", "valid_from"], name="customers_version_uniq")]

    def __str__(self) -> str:
        return f"{self.account_id} @ {self.valid_from}"


class ChangeKind(models.TextChoices):
    RECLASSIFY = "reclassify", _("Change of usage category or tariff (改类)")
    CAPACITY_INCREASE = "capacity_increase", _("Capacity increase (增容)")
    CAPACITY_REDUCTION = "capacity_reduction", _("Capacity reduction (减容)")
    SUSPEND = "suspend", _("Suspension (暂停)")
    RESUME = "resume", _("Resumption (恢复)")
    RENAME = "rename", _("Change of name (更名)")
    TRANSFER = "transfer", _("Change of owner (过户)")
    CLOSE = "close", _("Closing (销户)")


class AccountChange(ApprovableDocument):
    """An account change request (用电变更): proposed values and their effective date, applied on approval."""

    doc_type = "customers.account_change"

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(_("change"), max_length=20, choices=ChangeKind.choices)
    effective_date = models.DateField(_("effective date"))
    end_date = models.DateField(_("planned end date"), null=True, blank=True)
    #: the proposed values, by versioned field name (codes, decimals as strings, customer as an id)
    values = models.JSONField(_("new values"), default=dict)
    reason = models.CharField(_("reason"), max_length=300)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("applied by"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("account change")
        verbose_name_plural = _("account changes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.account.account_no}"


class SupplyContract(OrgScopedModel):
    """A supply contract (供用电合同); a renewal or amendment is a new version of the same contract number."""

    class Kind(models.TextChoices):
        HIGH_VOLTAGE = "hv", _("High-voltage supply contract")
        LOW_VOLTAGE = "lv", _("Low-voltage supply contract")
        RESIDENTIAL = "res", _("Residential supply contract")
        TEMPORARY = "temp", _("Temporary supply contract")
        WHOLESALE = "whs", _("Wholesale supply contract")

    class Status(models.TextChoices):
        ACTIVE = "active", _("In force")
        SUPERSEDED = "superseded", _("Superseded")
        TERMINATED = "terminated", _("Terminated")

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="contracts")
    contract_no = models.CharField(_("contract number"), max_length=40)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    kind = models.CharField(_("contract type"), max_length=6, choices=Kind.choices)
    signed_on = models.DateField(_("signed on"))
    valid_from = models.DateField(_("valid from"))
    expires_on = models.DateField(_("expires on"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    customer_signatory = models.CharField(_("signed for the customer by"), max_length=60, blank=True)
    terms = models.TextField(_("special terms"), blank=True)
    supersedes = models.OneToOneField("self", verbose_name=_("supersedes"), on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="superseded_by")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supply contract")
        verbose_name_plural = _("supply contracts")
        ordering = ["company_id", "contract_no", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["company", "contract_no", "version"], name="customers_contract_uniq"),
        ]
        indexes = [models.Index(fields=["status", "expires_on"], name="customers_contract_expiry")]

    def __str__(self) -> str:
        return f"{self.contract_no} v{self.version}"
