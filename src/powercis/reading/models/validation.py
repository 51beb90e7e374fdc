"""Validation before billing (数据审核): the thresholds in force per org, and the exceptions found.

Thresholds are set per org and dated (metering-audit.md §7: provinces and their
subsidiaries set them locally, and they change): the profile that applies to a read is
the latest one valid on the read's period, of the org itself or its nearest ancestor;
keys a profile does not set fall back to the documented defaults in
``reading.thresholds``.

An exception is one check failed by one read (or one missing read) of one task.  It is
worked in the exception worklist: confirmed as genuine, corrected (a new read; the
original is kept), sent for a re-read (a work order), or replaced by an estimate.  Its
``detail`` holds the numbers the check compared, so that the worklist can say why.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from powercis.core.models import OrgScopedModel


class ValidationProfile(models.Model):
    org = models.ForeignKey("core.Org", verbose_name=_("org"), on_delete=models.PROTECT, related_name="+")
    #: blank: every account of the org; a code of the ``usage_category`` table: the accounts of that category and
    #: of the categories below it (``reading.thresholds`` says which profile wins)
    usage_category = models.CharField(_("usage category"), max_length=16, blank=True)
    valid_from = models.DateField(_("valid from"))
    #: threshold key → value (as JSON: numbers as strings where they are decimals)
    values = models.JSONField(_("thresholds"), default=dict)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("validation thresholds")
        verbose_name_plural = _("validation thresholds")
        ordering = ["org_id", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["org", "usage_category", "valid_from"],
                                               name="reading_profile_uniq")]

    def __str__(self) -> str:
        return f"{self.org} {self.usage_category} {self.valid_from}".replace("  ", " ")


class Check(models.TextChoices):
    ZERO = "zero", _("Zero consumption")
    ZERO_STREAK = "zero_streak", _("Zero consumption several cycles in a row")
    SPIKE = "spike", _("Sudden increase against last period")
    DROP = "drop", _("Sudden decrease against last period")
    YOY_SPIKE = "yoy_spike", _("Sudden increase against the same period last year")
    YOY_DROP = "yoy_drop", _("Sudden decrease against the same period last year")
    LOWER = "lower", _("Reading lower than the last one")
    ROLLOVER = "rollover", _("Register rolled over")
    IMPLAUSIBLE = "implausible", _("Consumption above what the supply can deliver")
    TOU_SUM = "tou_sum", _("Time-of-use registers do not add up to the total")
    MISSING = "missing", _("Reading missing")
    ESTIMATED = "estimated", _("Estimated reading")
    ESTIMATE_STREAK = "estimate_streak", _("Estimated too many cycles in a row")
    INTERVAL = "interval", _("Reading interval outside the cycle")
    DEMAND_OVER = "demand_over", _("Demand above contracted capacity")
    REVERSE = "reverse", _("Reverse energy without generation")
    METER_CHANGE = "meter_change", _("Meter changed in the period")
    REMOVAL_LOWER = "removal_lower", _("Removal reading lower than the last billed reading")
    UNREADABLE = "unreadable", _("Meter could not be read")


class Severity(models.TextChoices):
    BLOCK = "block", _("Must be resolved before billing")
    WARN = "warn", _("For information")


class Resolution(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed as correct")
    CORRECTED = "corrected", _("Corrected")
    REREAD = "reread", _("Re-read ordered")
    ESTIMATED = "estimated", _("Estimated")
    OVERRIDDEN = "overridden", _("Released by supervisor override")
    #: a warning still open when its plan was released: the release acknowledges it
    NOTED = "noted", _("Noted at release")


class ReadException(OrgScopedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    plan = models.ForeignKey("reading.ReadingPlan", verbose_name=_("reading plan"), on_delete=models.CASCADE,
                             related_name="exceptions")
    task = models.ForeignKey("reading.ReadingTask", verbose_name=_("reading task"), on_delete=models.CASCADE,
                             related_name="exceptions")
    metering_point = models.ForeignKey("metering.MeteringPoint", verbose_name=_("metering point"),
                                       on_delete=models.PROTECT, related_name="+")
    read = models.ForeignKey("reading.RegisterRead", verbose_name=_("register read"), on_delete=models.PROTECT,
                             related_name="+", null=True, blank=True)
    register = models.CharField(_("register"), max_length=8, blank=True)
    rule = models.CharField(_("check"), max_length=16, choices=Check.choices)
    severity = models.CharField(_("severity"), max_length=6, choices=Severity.choices, default=Severity.BLOCK)
    #: the numbers the check compared: previous, current, consumption, reference, ratio, limit …
    detail = models.JSONField(_("detail"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(_("resolution"), max_length=10, choices=Resolution.choices, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("resolved by"), on_delete=models.PROTECT,
                                    related_name="+", null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    work_order = models.ForeignKey("core.WorkOrder", verbose_name=_("work order"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)
    created_at = models.DateTimeField(_("found at"))

    class Meta:
        verbose_name = _("reading exception")
        verbose_name_plural = _("reading exceptions")
        ordering = ["plan_id", "task_id", "rule"]
        indexes = [
            models.Index(fields=["plan", "status"], name="reading_exc_plan"),
            models.Index(fields=["task", "status"], name="reading_exc_task"),
            models.Index(fields=["status", "org_path"], name="reading_exc_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} {self.metering_point_id}"
