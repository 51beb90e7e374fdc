"""Effective-dated billing attributes: write a version from a date, keep today's copy on the account.

A version runs from ``valid_from`` until the next one starts.  A new version may start
on any date after the last one began (back-dated changes included: a re-bill of the
past then uses it); a date before an existing later version is refused, because the
later version would silently keep the old values.  The only exception is a suspension's
scheduled resumption, which an early resumption replaces.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import audit
from powercis.core.context import Actor
from powercis.core.errors import ValidationFailed

from ..models import VERSIONED_FIELDS, Account, AccountChange, AccountVersion
from ..selectors import in_force
from ..signals import notify_accounts_changed


#: what a suspension and its resumption change; other changes made meanwhile outlast the suspension
SUSPENSION_FIELDS = ("status", "running_capacity")


def values_of(obj) -> dict:
    """The versioned attributes of an account or version, with ``customer`` as an id."""
    return {f: getattr(obj, f"{f}_id" if f == "customer" else f) for f in VERSIONED_FIELDS}


def _as_model_kwargs(values: dict) -> dict:
    return {("customer_id" if k == "customer" else k): v for k, v in values.items()}


def first_version(account: Account) -> AccountVersion:
    """The version an account starts with, from its connection date; its values are the account's."""
    return AccountVersion.objects.create(account=account, valid_from=account.opened_on,
                                         **_as_model_kwargs(values_of(account)))


def check_effective_date(account: Account, on: dt.date) -> None:
    """A change may take effect from the connection date on, and not before a change already recorded."""
    if on < account.opened_on:
        raise ValidationFailed(fields={"effective_date": [
            _("The account was connected on %(date)s; a change cannot take effect before that.")
            % {"date": account.opened_on}]})
    later = account.versions.filter(valid_from__gt=on, scheduled_resumption=False).order_by("valid_from").first()
    if later is not None:
        raise ValidationFailed(fields={"effective_date": [
            _("A change already takes effect on %(date)s; a change dated before it cannot be recorded.")
            % {"date": later.valid_from}]})


def write_version(account: Account, on: dt.date, changes: dict, *, change: AccountChange | None = None,
                  scheduled_resumption: bool = False) -> AccountVersion:
    """Make ``changes`` hold from ``on``; returns the version that starts then.

    The caller holds a lock on the account and has checked permissions.
    """
    check_effective_date(account, on)
    # a scheduled resumption after this date stays: it restores the account at its planned end,
    # and takes over the changes except those a suspension makes
    carried = {k: v for k, v in changes.items() if k not in SUSPENSION_FIELDS}
    if carried:
        for resumption in account.versions.filter(valid_from__gt=on, scheduled_resumption=True):
            for name, value in _as_model_kwargs(carried).items():
                setattr(resumption, name, value)
            resumption.save()
    current = account.versions.filter(in_force(on)).first()
    if current is None:
        raise ValidationFailed(fields={"effective_date": [_("The account has no attributes in force on that date.")]})
    if current.valid_from == on:
        for name, value in _as_model_kwargs(changes).items():
            setattr(current, name, value)
        current.change = change or current.change
        current.scheduled_resumption = scheduled_resumption
        current.save()
        return current
    values = {**values_of(current), **changes}
    nxt = account.versions.filter(valid_from__gt=on).order_by("valid_from").first()
    current.valid_to = on
    current.save(update_fields=["valid_to"])
    return AccountVersion.objects.create(
        account=account, valid_from=on, valid_to=nxt.valid_from if nxt else None, change=change,
        scheduled_resumption=scheduled_resumption, **_as_model_kwargs(values))


def drop_scheduled_resumptions(account: Account, after: dt.date) -> int:
    """Remove resumptions a suspension scheduled after ``after`` (an early resumption replaces them)."""
    dropped = 0
    for version in account.versions.filter(valid_from__gt=after, scheduled_resumption=True).order_by("-valid_from"):
        previous = account.versions.filter(valid_from__lt=version.valid_from).order_by("-valid_from").first()
        if previous is not None:
            previous.valid_to = version.valid_to
            previous.save(update_fields=["valid_to"])
        version.delete()
        dropped += 1
    return dropped


def refresh_current(actor: Actor, account: Account, *, today: dt.date | None = None, ref: str = "",
                    reason: str = "") -> bool:
    """Copy the version in force today onto the account; audited with ``ref``. Returns whether anything changed."""
    today = today or timezone.localdate()
    version = account.versions.filter(in_force(today)).first()
    if version is None:
        return False
    wanted = values_of(version)
    if values_of(account) == wanted:
        return False
    before = audit.snapshot(account)
    for name, value in _as_model_kwargs(wanted).items():
        setattr(account, name, value)
    account.save()
    audit.record_update(actor, account, before, ref=ref, reason=reason)
    notify_accounts_changed([account.pk])
    return True


@transaction.atomic
def roll_forward(actor: Actor, *, today: dt.date | None = None, lookback_days: int = 31) -> int:
    """Apply versions that took effect since ``lookback_days`` ago to their accounts (the daily job).

    Only accounts with such a version are touched, so the job costs what changed, not
    the size of the archive.  Returns the number of accounts updated.
    """
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=lookback_days)
    due = (AccountVersion.objects.filter(valid_from__gt=since, valid_from__lte=today)
           .values_list("account_id", "change_id").distinct())
    updated = 0
    for account_id, change_id in due:
        account = Account.objects.select_for_update().get(pk=account_id)
        ref = f"approval-doc:customers.account_change:{change_id}" if change_id else "version"
        updated += refresh_current(actor, account, today=today, ref=ref,
                                   reason=_("Change in force from its effective date"))
    return updated
