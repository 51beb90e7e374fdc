"""The append-only, hash-chained audit trail and the alerts raised on it.

Every record carries ``hash = SHA-256(prev_hash + canonical JSON of its content)``,
``seq`` numbers are contiguous, and :class:`AuditChainHead` holds the last ``seq`` and
hash.  Altering a record breaks its hash; removing one leaves a gap or breaks the
next link; truncating the tail disagrees with the head.  ``powercis audit verify``
checks all three.  Database triggers (migration 0002) refuse UPDATE and DELETE on
the table, so tampering needs deliberate DBA action, which the chain then exposes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditCategory(models.TextChoices):
    CHANGE = "change", _("Master data change")
    ACTION = "action", _("Business action")
    ACCESS = "access", _("Access to personal data")
    SECURITY = "security", _("Security event")


class AuditRecord(models.Model):
    seq = models.BigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("time"), db_index=True)
    category = models.CharField(_("category"), max_length=10, choices=AuditCategory.choices)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_name = models.CharField(_("user name"), max_length=140, blank=True)
    post_code = models.CharField(_("post"), max_length=40, blank=True)
    acting_org_id = models.BigIntegerField(_("acting org"), null=True, blank=True)
    company_id = models.BigIntegerField(_("company"), null=True, blank=True, db_index=True)
    org_path = models.CharField(_("org path"), max_length=255, blank=True, db_index=True)
    source_ip = models.CharField(_("source address"), max_length=45, blank=True)
    channel = models.CharField(_("channel"), max_length=10, blank=True)
    request_id = models.CharField(_("request id"), max_length=40, blank=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    ref = models.CharField(_("work order or approval"), max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["actor", "at"], name="core_audit_actor_at"),
            models.Index(fields=["object_type", "object_id"], name="core_audit_object"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("audit records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit records are append-only")


class AuditChainHead(models.Model):
    """One row: the last sequence number and hash.  Writers lock it to extend the chain in order."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)


class AlertKind(models.TextChoices):
    UNREFERENCED_CHANGE = "unreferenced_change", _("Billing-relevant field changed without a work order or approval")
    OFF_HOURS = "off_hours", _("Change outside working hours")
    CHANGE_VOLUME = "change_volume", _("Too many changes by one person in a day")


class AuditAlertRule(models.Model):
    """A configurable rule that flags abnormal changes (seed 2.2(4): 对流程不正常的修订要有日志提示)."""

    company = models.ForeignKey("core.Org", verbose_name=_("company"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=32, choices=AlertKind.choices)
    name = models.CharField(_("name"), max_length=100)
    params = models.JSONField(_("parameters"), default=dict)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("audit alert rule")
        verbose_name_plural = _("audit alert rules")
        ordering = ["company_id", "kind", "id"]

    def __str__(self) -> str:
        return self.name

    def audit_fields(self) -> list[str]:
        return ["kind", "name", "params", "is_active"]


class AuditAlert(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    rule = models.ForeignKey(AuditAlertRule, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("rule"))
    record = models.ForeignKey(AuditRecord, on_delete=models.PROTECT, related_name="+", verbose_name=_("audit record"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    company_id = models.BigIntegerField(db_index=True)
    org_path = models.CharField(max_length=255, blank=True)
    day = models.DateField(_("day"), db_index=True)
    message = models.CharField(_("message"), max_length=300)
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit alert")
        verbose_name_plural = _("audit alerts")
        ordering = ["-created_at", "-id"]
