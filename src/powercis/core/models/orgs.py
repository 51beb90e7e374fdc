"""The org tree (省公司 › 地市公司 › 县公司 › 供电所) with a materialised path for subtree queries.

Each org stores ``path``: the fixed-width ids of its ancestors and itself, e.g.
``000000001/000000004/000000019/``.  "This org and everything below it" is then a
single indexed prefix match (``path LIKE '000000001/000000004/%'``) on both SQLite
and PostgreSQL, however deep or wide the tree — no recursion per row.  A root org
is a company: one installation may serve several, each with its own posts, code
tables and rules.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

PATH_SEGMENT_WIDTH = 9


def path_segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT_WIDTH}d}/"


class OrgLevel(models.TextChoices):
    PROVINCE = "province", _("Provincial company")
    CITY = "city", _("Prefecture company")
    COUNTY = "county", _("County company")
    STATION = "station", _("Supply station")


LEVEL_RANK = {OrgLevel.PROVINCE: 1, OrgLevel.CITY: 2, OrgLevel.COUNTY: 3, OrgLevel.STATION: 4}


class OrgQuerySet(models.QuerySet):
    def subtree(self, org: "Org") -> "OrgQuerySet":
        """The org and all its descendants."""
        return self.filter(path__startswith=org.path)

    def ancestors_of(self, org: "Org") -> "OrgQuerySet":
        """The org's ancestors and itself, root first."""
        ids = [int(seg) for seg in org.path.split("/") if seg]
        return self.filter(pk__in=ids).order_by("depth")

    def companies(self) -> "OrgQuerySet":
        return self.filter(parent__isnull=True)


class Org(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=OrgLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent org"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    company = models.ForeignKey(
        "self", verbose_name=_("company"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    path = models.CharField(max_length=255, editable=False, db_index=True)
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgQuerySet.as_manager()

    class Meta:
        verbose_name = _("org")
        verbose_name_plural = _("orgs")
        # ``path`` has db_index: on PostgreSQL Django adds a varchar_pattern_ops index
        # beside the plain one, so LIKE 'prefix%' uses an index under any collation.
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.name}"

    @property
    def is_company(self) -> bool:
        return self.parent_id is None

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this org, itself included."""
        return [int(seg) for seg in self.path.split("/") if seg]

    def is_within(self, other: "Org") -> bool:
        """True when this org is ``other`` or lies below it."""
        return self.path.startswith(other.path)

    def audit_fields(self) -> list[str]:
        return ["code", "name", "name_en", "short_name", "level", "parent_id", "address", "phone", "sort_order", "is_active"]
