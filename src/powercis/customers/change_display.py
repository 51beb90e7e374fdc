"""How an account change reads to people: each changed attribute with its value before and after."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from powercis.core import codelists

from .models import Account, AccountChange, Customer
from .selectors import account_as_of
from .services.versions import values_of

CODE_TABLE_OF = {"usage_category": "usage_category", "voltage_level": "voltage_level", "pf_standard": "pf_standard",
                 "metering_mode": "metering_mode"}


def display_value(account: Account, field: str, value) -> str:
    if value in (None, ""):
        return "—"
    if field in CODE_TABLE_OF:
        return f"{value} {codelists.label(account.company_id, CODE_TABLE_OF[field], value)}"
    if field == "customer":
        customer = Customer.objects.filter(pk=value).first()
        return f"{customer.customer_no} {customer.name}" if customer else str(value)
    if field == "capacity_basis":
        from .models import CapacityBasis

        return str(CapacityBasis(value).label) if value in CapacityBasis.values else str(value)
    return str(value)


def change_rows(doc: AccountChange) -> list[tuple[str, str, str]]:
    """(attribute, value in force on the effective date, proposed value) for each value of the change."""
    account = doc.account
    # once applied, the version from the effective date is the change's own: compare with the one it replaced
    on = doc.effective_date - dt.timedelta(days=1) if doc.applied_at else doc.effective_date
    version = account_as_of(account, on)
    before = values_of(version) if version else {}
    labels = {f.name: str(f.verbose_name) for f in Account._meta.fields}
    labels["suspended_capacity"] = _("Capacity suspended (kVA)")
    return [(labels.get(k, k), display_value(account, k, before.get(k)), display_value(account, k, v))
            for k, v in (doc.values or {}).items()]
