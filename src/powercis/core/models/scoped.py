"""Base for business records that belong to an org: company, org and a copy of the org's path.

Big tables (accounts, metering points, later bills and reads) are filtered by data
scope on every list; joining through the org table for that is slow at a million rows,
so each row carries ``org_path`` itself, indexed (docs/performance.md).  ``save`` keeps
it in step with ``org``; bulk writers set it themselves, and moving an org rewrites the
copies of the whole subtree (``core.services.orgs.move_org``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgScopedModel(models.Model):
    company = models.ForeignKey("core.Org", verbose_name=_("company"), on_delete=models.PROTECT, related_name="+")
    org = models.ForeignKey("core.Org", verbose_name=_("org"), on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False, db_index=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.org_id is not None:
            org = self.org
            self.org_path = org.path
            self.company_id = org.company_id or org.pk
        super().save(*args, **kwargs)


def org_scoped_models() -> list[type[models.Model]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, OrgScopedModel)]
