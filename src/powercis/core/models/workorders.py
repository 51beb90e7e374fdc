"""Work orders (工单): field work that one part of the system asks staff to do.

Reading asks for re-reads and on-site checks of zero-consumption meters; later parts ask
for inspections, meter changes, disconnections and reconnections.  The order names what
it is about by account and metering point number and by ``source_ref`` (the record that
raised it, ``app.model:id``), so that this module depends on nothing above core; the
field-work part of the system builds dispatch, the phone client and the map on it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .scoped import OrgScopedModel


class WorkOrder(OrgScopedModel):
    class Kind(models.TextChoices):
        REREAD = "reread", _("Re-read")
        FIELD_CHECK = "field_check", _("On-site check")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("work order number"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    title = models.CharField(_("title"), max_length=200)
    detail = models.TextField(_("detail"), blank=True)
    account_no = models.CharField(_("account number"), max_length=32, blank=True)
    metering_point_code = models.CharField(_("metering point number"), max_length=32, blank=True)
    source_ref = models.CharField(_("raised by"), max_length=60, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), on_delete=models.PROTECT,
                                 related_name="work_orders", null=True, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="core_workorder_uniq")]
        indexes = [models.Index(fields=["status", "org_path"], name="core_workorder_scope")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"
