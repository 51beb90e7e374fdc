"""Remote collection: the channels meters are read through and the record of each run.

A channel is a TCP endpoint — a serial server (串口服务器) on an RS-485 bus or a
concentrator passing DL/T 645 frames through — with the metering points behind it.
Its schedule is a time of day; a run reads every target's data identifiers and stores
the values as register reads of source ``remote`` in one delivery (``ReadBatch``), so a
run repeated the same day writes nothing twice.  The run keeps, per target, what failed
and why (timeout, error reply bits, bad frame): the collection success rate and the
troubleshooting list are built from it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from powercis.core.models import OrgScopedModel

#: forward active energy block (total + four TOU tariffs), reverse active total, forward max demand
DEFAULT_DIS = ["0001FF00", "00020000", "01010000"]


class CollectionChannel(OrgScopedModel):
    code = models.CharField(_("channel code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    host = models.CharField(_("host"), max_length=100)
    port = models.PositiveIntegerField(_("port"))
    protocol = models.CharField(_("protocol"), max_length=16, default="dlt645-2007")
    timeout_seconds = models.DecimalField(_("timeout (s)"), max_digits=5, decimal_places=1, default=3)
    retries = models.PositiveSmallIntegerField(_("retries"), default=2)
    #: data identifiers read from every meter, as 8 hex digits (DI3..DI0)
    data_ids = models.JSONField(_("data identifiers"), default=list)
    run_at = models.TimeField(_("daily run time"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    last_run_at = models.DateTimeField(_("last run at"), null=True, blank=True)

    class Meta:
        verbose_name = _("collection channel")
        verbose_name_plural = _("collection channels")
        ordering = ["company_id", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="reading_channel_uniq")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CollectionTarget(models.Model):
    channel = models.ForeignKey(CollectionChannel, verbose_name=_("channel"), on_delete=models.CASCADE,
                                related_name="targets")
    metering_point = models.ForeignKey("metering.MeteringPoint", verbose_name=_("metering point"),
                                       on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("collection target")
        verbose_name_plural = _("collection targets")
        ordering = ["channel_id", "id"]
        constraints = [models.UniqueConstraint(fields=["channel", "metering_point"], name="reading_target_uniq")]


class CollectionRun(models.Model):
    channel = models.ForeignKey(CollectionChannel, verbose_name=_("channel"), on_delete=models.PROTECT,
                                related_name="runs")
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    targets = models.PositiveIntegerField(_("meters"), default=0)
    succeeded = models.PositiveIntegerField(_("read"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    batch = models.ForeignKey("reading.ReadBatch", verbose_name=_("delivery"), on_delete=models.PROTECT,
                              related_name="+", null=True, blank=True)
    #: per failed target: address, data identifier, reason
    failures = models.JSONField(_("failures"), default=list, blank=True)
    triggered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.PROTECT,
                                     related_name="+", null=True, blank=True)

    class Meta:
        verbose_name = _("collection run")
        verbose_name_plural = _("collection runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel.code} {self.started_at:%Y-%m-%d %H:%M}"
