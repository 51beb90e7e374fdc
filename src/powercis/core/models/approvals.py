"""Approval workflow state: one request per submission, and an append-only list of its transitions.

Document types (``core/workflow.py``) declare their steps; a document model inherits
:class:`ApprovableDocument`.  While a request is pending the document is locked
against edits; each transition is also written to the audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApprovalStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("In approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ApprovableDocument(models.Model):
    """Base for any document that needs approval (post grants now; adjustments, tariff changes later)."""

    org = models.ForeignKey("core.Org", verbose_name=_("org"), on_delete=models.PROTECT, related_name="+")
    approval_status = models.CharField(
        _("approval status"), max_length=12, choices=ApprovalStatus.choices, default=ApprovalStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    #: the document type code registered in core.workflow; its services call
    #: ``services.approvals.ensure_editable`` before any change
    doc_type: str = ""

    class Meta:
        abstract = True


class ApprovalRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("In approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    doc_type = models.CharField(_("document type"), max_length=64, db_index=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    document = GenericForeignKey("content_type", "object_id")
    company = models.ForeignKey("core.Org", on_delete=models.PROTECT, related_name="+", verbose_name=_("company"))
    org = models.ForeignKey("core.Org", on_delete=models.PROTECT, related_name="+", verbose_name=_("org"))
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    step_index = models.PositiveSmallIntegerField(_("current step"), default=0)
    step_count = models.PositiveSmallIntegerField(_("steps"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("document created by")
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by")
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["status", "doc_type", "step_index"], name="core_appr_status_step"),
            models.Index(fields=["content_type", "object_id"], name="core_appr_document"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def current_step(self):
        """The step waiting for a decision (a ``workflow.Step``), or None once the request is closed."""
        from ..workflow import get

        return get(self.doc_type).steps[self.step_index] if self.is_open else None

    @property
    def current_post_code(self) -> str:
        """The post that decides the current step ("" when closed)."""
        step = self.current_step
        return step.post if step else ""


class ApprovalAction(models.Model):
    class Kind(models.TextChoices):
        SUBMIT = "submit", _("Submitted")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        WITHDRAW = "withdraw", _("Withdrawn")

    request = models.ForeignKey(ApprovalRequest, on_delete=models.PROTECT, related_name="actions")
    step_index = models.PositiveSmallIntegerField()
    step_name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(_("action"), max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    post_code = models.CharField(_("post"), max_length=40, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("approval action")
        verbose_name_plural = _("approval actions")
        ordering = ["at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("approval actions are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("approval actions are append-only")
