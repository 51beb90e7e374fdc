"""Consumption shapes derived from real smart-meter data, each account's link to one, and the record of a generation.

:class:`LoadProfile` rows are few (one per source household of the SGSC trial, see
``profiles.py``) and shared by every company; :class:`AccountLoad` ties an account to a
profile with a scale factor and a jitter seed, so that a later reading generator can
synthesise interval or register reads for any period without storing them here.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LoadProfile(models.Model):
    """A normalised daily load shape per month and day type, and the monthly energy, of one real household.

    Months are northern-hemisphere calendar months: the source is Australian, so its
    months are shifted by six (its July, mid-winter, becomes January).  ``shapes`` holds
    for ``workday`` and ``weekend`` twelve lists (January first) of 48 half-hour shares in
    parts per 100,000 that add up to exactly 100,000.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    source = models.CharField(_("source"), max_length=200)
    source_customer = models.CharField(_("source customer"), max_length=32)
    days = models.PositiveIntegerField(_("complete days used"))
    monthly_kwh = models.JSONField(_("energy per month (kWh)"), help_text=_("Twelve decimal strings, January first."))
    mean_monthly_kwh = models.DecimalField(_("mean monthly energy (kWh)"), max_digits=10, decimal_places=3)
    daytime_share = models.DecimalField(_("workday share 08:00–18:00"), max_digits=5, decimal_places=4)
    shapes = models.JSONField(_("half-hourly shapes"))

    class Meta:
        verbose_name = _("load profile")
        verbose_name_plural = _("load profiles")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class AccountLoad(models.Model):
    """How much and in which shape an account consumes: its profile's monthly energy × ``scale``, jittered by seed.

    ``scale`` refers to the account's energy on the primary side (what it is billed for,
    before the metering point's multiplier divides it down to register units).
    """

    account = models.OneToOneField("customers.Account", verbose_name=_("account"), primary_key=True,
                                   on_delete=models.CASCADE, related_name="synthetic_load")
    profile = models.ForeignKey(LoadProfile, verbose_name=_("load profile"), on_delete=models.PROTECT,
                                related_name="+")
    scale = models.DecimalField(_("scale factor"), max_digits=14, decimal_places=6)
    jitter_seed = models.BigIntegerField(_("jitter seed"))

    class Meta:
        verbose_name = _("account load")
        verbose_name_plural = _("account loads")

    def __str__(self) -> str:
        return f"{self.account_id} × {self.scale} {self.profile_id}"


class GenerationRun(models.Model):
    """One generation into a company; its presence makes ``powercis demo`` leave the company's data alone."""

    company = models.OneToOneField("core.Org", verbose_name=_("company"), on_delete=models.PROTECT, related_name="+")
    accounts = models.PositiveIntegerField(_("accounts"))
    seed = models.BigIntegerField(_("seed"))
    as_of = models.DateField(_("reference date"))
    counts = models.JSONField(_("rows written per table"), default=dict)
    digest = models.CharField(_("digest of the generated rows"), max_length=64)
    seconds = models.DecimalField(_("seconds"), max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(_("generated at"), auto_now_add=True)

    class Meta:
        verbose_name = _("generation run")
        verbose_name_plural = _("generation runs")

    def __str__(self) -> str:
        return f"{self.company_id}: {self.accounts} accounts, seed {self.seed}"
