"""Metering points, meters, CT/PT and the dated history of what was installed where.

The multiplier (倍率) of a metering point is derived, never typed in: the product of the
ratios of the CT and PT installed on it (domain/billing-rules.md §6.1).  Because CT/PT
installations are dated, so is the multiplier: ``selectors.multiplier_as_of``.

Assets carry a ``status`` open for the full lifecycle (warehouse, verification,
rotation) that a later part of the system manages; here they are installed and removed.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from powercis.core.models import OrgScopedModel

#: register codes a meter may have: energy totals per TOU period, reactive, demand, reverse
REGISTERS = ("total", "sharp", "peak", "flat", "valley", "reactive", "demand", "reverse")
REGISTER_LABELS = {
    "total": _("Total"), "sharp": _("Sharp"), "peak": _("Peak"), "flat": _("Flat"), "valley": _("Valley"),
    "reactive": _("Reactive"), "demand": _("Maximum demand"), "reverse": _("Reverse active"),
}


class MeteringPoint(OrgScopedModel):
    class Kind(models.TextChoices):
        SETTLEMENT = "settlement", _("Settlement (结算)")
        ASSESSMENT = "assessment", _("Assessment (考核)")

    class Deduction(models.TextChoices):
        NONE = "none", _("None")
        FIXED_RATIO = "fixed_ratio", _("Fixed ratio (定比)")
        FIXED_QUANTITY = "fixed_quantity", _("Fixed quantity (定量)")

    code = models.CharField(_("metering point number"), max_length=32)
    name = models.CharField(_("name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.SETTLEMENT)
    account = models.ForeignKey("customers.Account", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="metering_points", null=True, blank=True)
    transformer_area = models.ForeignKey("grid.TransformerArea", verbose_name=_("transformer area"),
                                         on_delete=models.PROTECT, related_name="metering_points",
                                         null=True, blank=True)
    building = models.ForeignKey("grid.Building", verbose_name=_("building"), on_delete=models.PROTECT,
                                 related_name="metering_points", null=True, blank=True)
    position = models.CharField(_("position"), max_length=100, blank=True, help_text=_("Where the meter hangs."))
    voltage_level = models.CharField(_("voltage level"), max_length=16)
    multiplier = models.DecimalField(_("multiplier"), max_digits=12, decimal_places=2, default=Decimal("1"),
                                     editable=False)
    parent = models.ForeignKey("self", verbose_name=_("parent metering point"), on_delete=models.PROTECT,
                               related_name="children", null=True, blank=True)
    deduction = models.CharField(_("deduction from parent"), max_length=16, choices=Deduction.choices,
                                 default=Deduction.NONE)
    #: share of the parent's energy (0–1) for a fixed ratio, kWh per month for a fixed quantity
    deduction_value = models.DecimalField(_("deduction value"), max_digits=12, decimal_places=4,
                                          null=True, blank=True)
    deduction_checked_on = models.DateField(_("deduction last checked on"), null=True, blank=True)
    usage_category = models.CharField(_("usage category"), max_length=16, blank=True,
                                      help_text=_("Only when it differs from the account's, as for sub-metered lighting."))
    route_order = models.PositiveIntegerField(_("order in reading route"), default=0)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("metering point")
        verbose_name_plural = _("metering points")
        ordering = ["company_id", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="metering_point_uniq")]
        indexes = [
            # the map's bounding-box query and the topology checks' "assessment point of each area"
            models.Index(fields=["longitude", "latitude"], name="metering_point_lonlat"),
            models.Index(fields=["kind", "transformer_area"], name="metering_point_kind_area"),
        ]

    def __str__(self) -> str:
        return self.code


class AssetStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    INSTALLED = "installed", _("Installed")
    REMOVED = "removed", _("Removed, awaiting handling")
    SCRAPPED = "scrapped", _("Scrapped")


class Meter(OrgScopedModel):
    class Phase(models.TextChoices):
        SINGLE = "1P", _("Single-phase")
        THREE_3W = "3P3W", _("Three-phase three-wire")
        THREE_4W = "3P4W", _("Three-phase four-wire")

    asset_no = models.CharField(_("asset number"), max_length=32)
    phase = models.CharField(_("wiring"), max_length=4, choices=Phase.choices, default=Phase.SINGLE)
    meter_type = models.CharField(_("meter type"), max_length=40, default="smart",
                                  help_text=_("e.g. smart, electronic multi-function, prepayment"))
    accuracy_class = models.CharField(_("accuracy class"), max_length=8, default="2")
    manufacturer = models.CharField(_("manufacturer"), max_length=60, blank=True)
    model_name = models.CharField(_("model"), max_length=60, blank=True)
    rated_current = models.CharField(_("rated current"), max_length=20, blank=True)
    rated_voltage = models.CharField(_("rated voltage"), max_length=20, blank=True)
    constant = models.PositiveIntegerField(_("meter constant (imp/kWh)"), null=True, blank=True)
    registers = models.JSONField(_("registers"), default=list)
    digits = models.PositiveSmallIntegerField(_("integer digits"), default=6,
                                              help_text=_("The register rolls over at 10^digits."))
    decimals = models.PositiveSmallIntegerField(_("decimal places"), default=2)
    comm_address = models.CharField(_("communication address"), max_length=12, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=AssetStatus.choices, default=AssetStatus.IN_STOCK)
    manufactured_on = models.DateField(_("manufactured on"), null=True, blank=True)
    verified_on = models.DateField(_("last verified on"), null=True, blank=True)

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        ordering = ["company_id", "asset_no"]
        constraints = [models.UniqueConstraint(fields=["company", "asset_no"], name="metering_meter_uniq")]

    def __str__(self) -> str:
        return self.asset_no


class InstrumentTransformer(OrgScopedModel):
    class Kind(models.TextChoices):
        CT = "CT", _("Current transformer (CT)")
        PT = "PT", _("Voltage transformer (PT)")

    asset_no = models.CharField(_("asset number"), max_length=32)
    kind = models.CharField(_("kind"), max_length=2, choices=Kind.choices)
    primary_rating = models.DecimalField(_("primary rating"), max_digits=10, decimal_places=2)
    secondary_rating = models.DecimalField(_("secondary rating"), max_digits=8, decimal_places=2)
    accuracy_class = models.CharField(_("accuracy class"), max_length=8, default="0.2S")
    manufacturer = models.CharField(_("manufacturer"), max_length=60, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=AssetStatus.choices, default=AssetStatus.IN_STOCK)

    class Meta:
        verbose_name = _("instrument transformer")
        verbose_name_plural = _("instrument transformers")
        ordering = ["company_id", "asset_no"]
        constraints = [models.UniqueConstraint(fields=["company", "asset_no"], name="metering_it_uniq")]

    def __str__(self) -> str:
        return f"{self.asset_no} {self.kind} {self.ratio_text}"

    @property
    def ratio(self) -> Decimal:
        return self.primary_rating / self.secondary_rating

    @property
    def ratio_text(self) -> str:
        return f"{self.primary_rating.normalize():f}/{self.secondary_rating.normalize():f}"


class InstallationBase(models.Model):
    metering_point = models.ForeignKey(MeteringPoint, verbose_name=_("metering point"), on_delete=models.PROTECT,
                                       related_name="+")
    installed_on = models.DateField(_("installed on"))
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    work_order_ref = models.CharField(_("work order"), max_length=40, blank=True)
    installed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("installed by"),
                                     on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("removed by"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)

    class Meta:
        abstract = True


class MeterInstallation(InstallationBase):
    """A meter on a metering point from ``installed_on`` to ``removed_on``, with the register reads at each end."""

    metering_point = models.ForeignKey(MeteringPoint, verbose_name=_("metering point"), on_delete=models.PROTECT,
                                       related_name="meter_installations")
    meter = models.ForeignKey(Meter, verbose_name=_("meter"), on_delete=models.PROTECT, related_name="installations")
    #: register code → reading as a decimal string, e.g. {"total": "1234.56", "peak": "400.10"}
    install_reads = models.JSONField(_("reads at installation"), default=dict)
    removal_reads = models.JSONField(_("reads at removal"), default=dict, blank=True)

    class Meta:
        verbose_name = _("meter installation")
        verbose_name_plural = _("meter installations")
        ordering = ["metering_point_id", "installed_on", "id"]
        indexes = [models.Index(fields=["metering_point", "removed_on"], name="metering_inst_current")]

    def __str__(self) -> str:
        return f"{self.meter} @ {self.metering_point} {self.installed_on}"


class TransformerInstallation(InstallationBase):
    metering_point = models.ForeignKey(MeteringPoint, verbose_name=_("metering point"), on_delete=models.PROTECT,
                                       related_name="transformer_installations")
    transformer = models.ForeignKey(InstrumentTransformer, verbose_name=_("instrument transformer"),
                                    on_delete=models.PROTECT, related_name="installations")
    phase = models.CharField(_("phase"), max_length=2, blank=True)

    class Meta:
        verbose_name = _("CT/PT installation")
        verbose_name_plural = _("CT/PT installations")
        ordering = ["metering_point_id", "installed_on", "id"]

    def __str__(self) -> str:
        return f"{self.transformer} @ {self.metering_point} {self.installed_on}"
