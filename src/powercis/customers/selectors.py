"""Read queries of the customer archive, each restricted to the user's data scope."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from powercis.core import authz

from .models import Account, AccountChange, AccountVersion, Customer, SupplyContract

VIEW_PERMS = ("customers.view", "customers.edit", "customers.change_request", "customers.change_approve")


def visible_accounts(user, perms=VIEW_PERMS) -> QuerySet:
    return authz.restrict_any(Account.objects.select_related("customer", "org"), user, perms, path_field="org_path")


def visible_customers(user, perms=VIEW_PERMS) -> QuerySet:
    return authz.restrict_any(Customer.objects.select_related("org"), user, perms, path_field="org_path")


def visible_changes(user) -> QuerySet:
    return authz.restrict_any(AccountChange.objects.select_related("account", "org", "created_by"), user,
                              ("customers.change_request", "customers.change_approve", "customers.view"),
                              path_field="account__org_path")


def visible_contracts(user) -> QuerySet:
    return authz.restrict_any(SupplyContract.objects.select_related("account", "org"), user,
                              ("customers.view", "customers.manage_contracts"), path_field="org_path")


def in_force(on: dt.date) -> Q:
    """Versions valid on ``on``: started on or before it and not ended by it."""
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gt=on))


def account_as_of(account: Account | int, on: dt.date) -> AccountVersion | None:
    """The billing attributes in force on ``on`` (None before the account was connected)."""
    account_id = account.pk if isinstance(account, Account) else account
    return AccountVersion.objects.filter(in_force(on), account_id=account_id).select_related("customer").first()


def versions_of(account: Account) -> QuerySet:
    return account.versions.select_related("customer", "change").order_by("valid_from")


def expiring_contracts(user, within_days: int = 60, today: dt.date | None = None) -> QuerySet:
    """Contracts in force that expire within ``within_days`` (already expired ones first)."""
    today = today or timezone.localdate()
    limit = today + dt.timedelta(days=within_days)
    return (visible_contracts(user).filter(status=SupplyContract.Status.ACTIVE, expires_on__lte=limit)
            .order_by("expires_on", "contract_no"))
