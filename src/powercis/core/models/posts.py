"""Permissions (business units), posts (岗位) that bundle them, and who holds which post where.

A permission is one business unit with a stable code (``billing.issue``); the catalogue
lives in code (``core/permission_catalog.py``) and is mirrored into this table so that
posts can reference it.  A post belongs to one company.  A staff member holds posts
through :class:`PostAssignment`, each in an org and with a data scope.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class BilingualLabelMixin:
    """``label`` returns the Chinese or English label following the active language."""

    label_zh: str
    label_en: str

    @property
    def label(self) -> str:
        lang = get_language() or settings.LANGUAGE_CODE
        if lang.startswith("en"):
            return self.label_en or self.label_zh
        return self.label_zh or self.label_en


class Permission(BilingualLabelMixin, models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)
    subsystem = models.CharField(_("subsystem"), max_length=32, db_index=True)
    label_zh = models.CharField(_("Chinese label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=150)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("permission")
        verbose_name_plural = _("permissions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class Post(BilingualLabelMixin, models.Model):
    company = models.ForeignKey("core.Org", verbose_name=_("company"), on_delete=models.PROTECT, related_name="posts")
    code = models.CharField(_("code"), max_length=40)
    label_zh = models.CharField(_("Chinese name"), max_length=60)
    label_en = models.CharField(_("English name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    permissions = models.ManyToManyField(Permission, verbose_name=_("permissions"), related_name="posts", blank=True)
    is_standard = models.BooleanField(_("standard post"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["company_id", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="core_post_company_code_uniq")]

    def __str__(self) -> str:
        return self.label

    def audit_fields(self) -> list[str]:
        return ["code", "label_zh", "label_en", "description", "is_active"]


class DataScope(models.TextChoices):
    OWN = "own", _("Own org only")
    SUBTREE = "subtree", _("Org and below")
    ALL = "all", _("All orgs")


class PostAssignment(models.Model):
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="assignments"
    )
    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.PROTECT, related_name="assignments")
    org = models.ForeignKey("core.Org", verbose_name=_("org"), on_delete=models.PROTECT, related_name="assignments")
    scope = models.CharField(_("data scope"), max_length=10, choices=DataScope.choices, default=DataScope.OWN)
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("granted by")
    )
    grant_request = models.ForeignKey(
        "core.PostGrantRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("post assignment")
        verbose_name_plural = _("post assignments")
        constraints = [
            models.UniqueConstraint(fields=["staff", "post", "org"], name="core_assignment_staff_post_org_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.staff} · {self.post} @ {self.org}"

    def audit_fields(self) -> list[str]:
        return ["staff_id", "post_id", "org_id", "scope"]


class SodRule(models.Model):
    """A pair of permissions that one person must never hold together (不相容岗位/职责分离)."""

    company = models.ForeignKey("core.Org", verbose_name=_("company"), on_delete=models.PROTECT, related_name="sod_rules")
    permission_a = models.ForeignKey(Permission, on_delete=models.PROTECT, related_name="+", verbose_name=_("permission A"))
    permission_b = models.ForeignKey(Permission, on_delete=models.PROTECT, related_name="+", verbose_name=_("permission B"))
    reason = models.CharField(_("reason"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("separation-of-duties rule")
        verbose_name_plural = _("separation-of-duties rules")
        constraints = [
            models.UniqueConstraint(fields=["company", "permission_a", "permission_b"], name="core_sod_pair_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.permission_a.code} ⟂ {self.permission_b.code}"

    def audit_fields(self) -> list[str]:
        return ["permission_a_id", "permission_b_id", "reason", "is_active"]
