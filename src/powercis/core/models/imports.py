"""Import batches: one row per uploaded file, for idempotency (DESIGN rule 4) and traceability.

A batch keeps the file it was validated from, so that committing it later re-validates
exactly what the user saw, and so that what was loaded can be produced again for an
audit.  A file (by SHA-256 of its bytes) commits at most once per entity and company;
the partial unique constraint makes that hold even for two commits racing each other.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        VALIDATED = "validated", _("Validated, ready to commit")
        FAILED = "failed", _("Refused: the file has errors")
        COMMITTED = "committed", _("Committed")

    company = models.ForeignKey("core.Org", verbose_name=_("company"), on_delete=models.PROTECT, related_name="+")
    org = models.ForeignKey("core.Org", verbose_name=_("target org"), on_delete=models.PROTECT, related_name="+")
    entity = models.CharField(_("data"), max_length=40)
    file_name = models.CharField(_("file name"), max_length=200)
    file_format = models.CharField(_("format"), max_length=8)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    #: each error as [row, column header, value, message id, message parameters]; rendered in the reader's language
    errors = models.JSONField(_("errors"), default=list, blank=True)
    #: rows written per table on commit, e.g. {"customers.account": 100, "customers.accountversion": 100}
    written = models.JSONField(_("rows written"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    #: the uploaded bytes; dropped when the file is refused (the error list is what the user needs then)
    content = models.BinaryField(null=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "entity", "sha256"], condition=Q(status="committed"),
                                    name="core_importbatch_commits_once"),
        ]
        indexes = [models.Index(fields=["created_by", "created_at"], name="core_importbatch_by_user")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.entity} {self.file_name}"
