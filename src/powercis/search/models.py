"""The archive search index: one denormalised row per account, so that a search reads one table and joins nothing.

The row is derived data: ``indexing.refresh`` rewrites it from the archive whenever
``customers.signals.accounts_changed`` names the account, and ``indexing.rebuild``
rewrites all of them.  It carries no foreign-key constraints, so a rebuild writes a
million rows without a million constraint checks; it inherits the org path of
:class:`~powercis.core.models.OrgScopedModel`, so the data-scope filter is the same
``org_path`` prefix as everywhere, and moving an org rewrites it with the others.

Phone numbers are never stored whole: ``phones`` holds them masked for display and
``keys`` only their last four digits.  The text indexes live in migrations 0002
(PostgreSQL: pg_trgm and GIN) and 0003 (SQLite: FTS5 tables kept in step by triggers),
see docs/decisions/0007-archive-search.md.  On SQLite a later migration that alters
this table rebuilds it, which drops the triggers: such a migration must create them
again (0003's ``CREATE``) and rebuild the index.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from powercis.core.models import OrgScopedModel


class AccountSearchEntry(OrgScopedModel):
    account = models.OneToOneField("customers.Account", verbose_name=_("account"), primary_key=True,
                                   on_delete=models.CASCADE, db_constraint=False, related_name="+")
    company = models.ForeignKey("core.Org", verbose_name=_("company"), on_delete=models.DO_NOTHING,
                                db_constraint=False, db_index=False, related_name="+")
    org = models.ForeignKey("core.Org", verbose_name=_("org"), on_delete=models.DO_NOTHING, db_constraint=False,
                            db_index=False, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    account_no = models.CharField(_("account number"), max_length=32)
    #: the account number as :func:`powercis.search.text.normalize` makes it: exact and prefix lookups
    account_key = models.CharField(max_length=32)
    name = models.CharField(_("account name"), max_length=120)
    #: the customer's name where it differs from the account's
    customer_name = models.CharField(_("customer"), max_length=120, blank=True)
    address = models.CharField(_("service address"), max_length=200)
    status = models.CharField(_("status"), max_length=10)
    #: asset numbers of the meters installed now on the account's metering points
    meters = models.JSONField(_("meters"), default=list)
    #: the customer's and the contacts' phone numbers, masked
    phones = models.JSONField(_("phones"), default=list)
    #: the normalised searchable fields, each wrapped in ``text.SEP`` (trigram index)
    search_text = models.TextField()
    #: space-separated words: character bigrams of the names and the address, the last four digits of each
    #: phone, and the meter asset numbers (exact lookups)
    keys = models.TextField(blank=True)

    class Meta:
        verbose_name = _("search index entry")
        verbose_name_plural = _("search index entries")
        indexes = [
            # exact account numbers, and prefixes as a range read in order (selectors._account_prefix)
            models.Index(fields=["account_key"], name="search_entry_account_key"),
        ]

    def __str__(self) -> str:
        return f"{self.account_no} {self.name}"
