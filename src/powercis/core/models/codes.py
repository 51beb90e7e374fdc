"""Code tables (数据字典): bilingual lists such as usage categories and voltage levels, one set per company."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .posts import BilingualLabelMixin


class CodeTable(BilingualLabelMixin, models.Model):
    company = models.ForeignKey("core.Org", verbose_name=_("company"), on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=40)
    label_zh = models.CharField(_("Chinese name"), max_length=60)
    label_en = models.CharField(_("English name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    parent_table = models.CharField(
        _("parent table"), max_length=40, blank=True,
        help_text=_("When set, items' parent codes refer to this table instead of their own."),
    )

    class Meta:
        verbose_name = _("code table")
        verbose_name_plural = _("code tables")
        ordering = ["company_id", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="core_codetable_uniq")]

    def __str__(self) -> str:
        return self.label


class CodeItem(BilingualLabelMixin, models.Model):
    table = models.ForeignKey(CodeTable, on_delete=models.PROTECT, related_name="items", verbose_name=_("code table"))
    code = models.CharField(_("code"), max_length=40)
    label_zh = models.CharField(_("Chinese label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=150)
    parent_code = models.CharField(_("parent code"), max_length=40, blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("code item")
        verbose_name_plural = _("code items")
        ordering = ["table_id", "sort_order", "code"]
        constraints = [models.UniqueConstraint(fields=["table", "code"], name="core_codeitem_uniq")]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    def audit_fields(self) -> list[str]:
        return ["code", "label_zh", "label_en", "parent_code", "sort_order", "is_active"]
