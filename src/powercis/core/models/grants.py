"""Post grant requests (岗位授权申请): granting a post is a document that another person approves."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .approvals import ApprovableDocument
from .posts import DataScope


class PostGrantRequest(ApprovableDocument):
    doc_type = "core.post_grant"

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="grant_requests"
    )
    post = models.ForeignKey("core.Post", verbose_name=_("post"), on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(_("data scope"), max_length=10, choices=DataScope.choices, default=DataScope.OWN)
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        verbose_name = _("post grant request")
        verbose_name_plural = _("post grant requests")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.staff} · {self.post} @ {self.org}"

    def audit_fields(self) -> list[str]:
        return ["staff_id", "post_id", "org_id", "scope", "reason", "approval_status"]
