"""Grid topology: substation → feeder (线路) → transformer area (台区) → (metering points of) accounts.

Communities and buildings place accounts on the map.  Shapes are GeoJSON geometries
(WGS 84 longitude/latitude) kept as JSON so that both databases hold them the same way;
the map draws them with Leaflet.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from powercis.core.models import OrgScopedModel


class GeoMixin(models.Model):
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)

    class Meta:
        abstract = True


class Substation(OrgScopedModel, GeoMixin):
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    voltage_level = models.CharField(_("voltage level"), max_length=16, help_text=_("Code of the supply voltage table."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("substation")
        verbose_name_plural = _("substations")
        ordering = ["company_id", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="grid_substation_uniq")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Feeder(OrgScopedModel):
    """A distribution line (线路) leaving a substation."""

    substation = models.ForeignKey(Substation, verbose_name=_("substation"), on_delete=models.PROTECT,
                                   related_name="feeders", null=True, blank=True)
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    voltage_level = models.CharField(_("voltage level"), max_length=16)
    geometry = models.JSONField(_("route (GeoJSON)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("feeder")
        verbose_name_plural = _("feeders")
        ordering = ["company_id", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="grid_feeder_uniq")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class TransformerArea(OrgScopedModel, GeoMixin):
    """A transformer area (台区): the low-voltage network behind one distribution transformer."""

    class Ownership(models.TextChoices):
        PUBLIC = "public", _("Public (公变)")
        PRIVATE = "private", _("Private (专变)")

    feeder = models.ForeignKey(Feeder, verbose_name=_("feeder"), on_delete=models.PROTECT, related_name="areas",
                               null=True, blank=True)
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    ownership = models.CharField(_("ownership"), max_length=8, choices=Ownership.choices, default=Ownership.PUBLIC)
    capacity_kva = models.DecimalField(_("capacity (kVA)"), max_digits=10, decimal_places=1, default=0)
    geometry = models.JSONField(_("outline (GeoJSON)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("transformer area")
        verbose_name_plural = _("transformer areas")
        ordering = ["company_id", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="grid_area_uniq")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Transformer(OrgScopedModel):
    """A distribution transformer; its nameplate losses feed the 变损 calculation (DL/T 686)."""

    area = models.ForeignKey(TransformerArea, verbose_name=_("transformer area"), on_delete=models.PROTECT,
                             related_name="transformers", null=True, blank=True)
    code = models.CharField(_("code"), max_length=32)
    model_name = models.CharField(_("model"), max_length=60, blank=True)
    capacity_kva = models.DecimalField(_("capacity (kVA)"), max_digits=10, decimal_places=1)
    no_load_loss_kw = models.DecimalField(_("no-load loss P0 (kW)"), max_digits=8, decimal_places=3, null=True, blank=True)
    load_loss_kw = models.DecimalField(_("load loss Pk (kW)"), max_digits=8, decimal_places=3, null=True, blank=True)
    no_load_current_pct = models.DecimalField(_("no-load current I0 (%)"), max_digits=6, decimal_places=3,
                                              null=True, blank=True)
    impedance_voltage_pct = models.DecimalField(_("impedance voltage Uk (%)"), max_digits=6, decimal_places=3,
                                                null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("transformer")
        verbose_name_plural = _("transformers")
        ordering = ["company_id", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="grid_transformer_uniq")]

    def __str__(self) -> str:
        return f"{self.code} {self.capacity_kva} kVA"


class Community(OrgScopedModel, GeoMixin):
    """A residential community or industrial park (小区/园区), the unit the map clusters accounts by."""

    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    geometry = models.JSONField(_("outline (GeoJSON)"), null=True, blank=True)
    #: db_default too, so that bulk COPY writers that do not name the column get active rows
    is_active = models.BooleanField(_("active"), default=True, db_default=True)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["company_id", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="grid_community_uniq")]

    def __str__(self) -> str:
        return self.name


class Building(OrgScopedModel, GeoMixin):
    community = models.ForeignKey(Community, verbose_name=_("community"), on_delete=models.PROTECT,
                                  related_name="buildings")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    geometry = models.JSONField(_("outline (GeoJSON)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True, db_default=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["company_id", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="grid_building_uniq")]

    def __str__(self) -> str:
        return f"{self.community.name} {self.name}" if self.community_id else self.name
