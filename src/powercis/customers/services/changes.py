"""Account changes (用电变更): taken as a request, approved by the marketing manager, applied from their date.

Each kind checks its own preconditions when the request is taken and again when it is
approved (the account may have changed in between); on approval the new billing
attributes are written as a version from the effective date (``services.versions``),
the account's current copy follows when that date has come, and every step is audited
with a reference to the change.  One change per account may be in approval at a time.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import audit, authz
from powercis.core.context import Actor
from powercis.core.errors import ValidationFailed
from powercis.core.models import ApprovalStatus
from powercis.core.services import approvals

from .. import closing
from ..models import Account, AccountChange, AccountStatus, CapacityBasis, ChangeKind, Customer
from ..selectors import account_as_of
from .records import check_capacities, check_codes
from .versions import check_effective_date, drop_scheduled_resumptions, refresh_current, values_of, write_version

RECLASSIFY_FIELDS = ("usage_category", "tariff_code", "voltage_level", "pf_standard", "capacity_basis",
                     "metering_mode")


def _decimal(values: dict, name: str, *, required: bool = True) -> Decimal | None:
    raw = values.get(name)
    if raw in (None, ""):
        if required:
            raise ValidationFailed(fields={name: [_("This field is required.")]})
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise ValidationFailed(fields={name: [_("Enter a number.")]}) from exc
    if not value.is_finite() or value < 0 or value >= Decimal("1e9"):
        raise ValidationFailed(fields={name: [_("Enter a number between 0 and 999,999,999.")]})
    return value.quantize(Decimal("0.1"))


def _reclassify(account, state, values, doc) -> dict:
    changes = {k: values[k] for k in RECLASSIFY_FIELDS if k in values and values[k] not in (None, "")}
    unknown = sorted(set(values) - set(RECLASSIFY_FIELDS))
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed here.")] for k in unknown})
    if "capacity_basis" in changes and changes["capacity_basis"] not in CapacityBasis.values:
        raise ValidationFailed(fields={"capacity_basis": [_("Choose a valid capacity charge basis.")]})
    check_codes(account.company_id, changes)
    if not any(changes[k] != state[k] for k in changes):
        raise ValidationFailed(_("The new values are the same as those in force on that date."))
    check_capacities({"contract_capacity": state["contract_capacity"],
                       "capacity_basis": changes.get("capacity_basis", state["capacity_basis"])})
    return changes


def _capacity(increase: bool):
    def build(account, state, values, doc) -> dict:
        new = _decimal(values, "contract_capacity")
        old = state["contract_capacity"]
        if increase and not new > old:
            raise ValidationFailed(fields={"contract_capacity": [
                _("A capacity increase needs a contract capacity above the current %(old)s kVA.") % {"old": old}]})
        if not increase and not new < old:
            raise ValidationFailed(fields={"contract_capacity": [
                _("A capacity reduction needs a contract capacity below the current %(old)s kVA.") % {"old": old}]})
        running = _decimal(values, "running_capacity", required=False)
        changes = {"contract_capacity": new, "running_capacity": new if running is None else running}
        if values.get("capacity_basis"):
            if values["capacity_basis"] not in CapacityBasis.values:
                raise ValidationFailed(fields={"capacity_basis": [_("Choose a valid capacity charge basis.")]})
            changes["capacity_basis"] = values["capacity_basis"]
        check_capacities({**changes, "capacity_basis": changes.get("capacity_basis", state["capacity_basis"])})
        return changes
    return build


def _suspend(account, state, values, doc) -> dict:
    if state["status"] != AccountStatus.NORMAL:
        raise ValidationFailed(_("Only an account in normal status can be suspended."))
    if doc.end_date is None:
        raise ValidationFailed(fields={"end_date": [_("A suspension needs its planned end date.")]})
    if doc.end_date <= doc.effective_date:
        raise ValidationFailed(fields={"end_date": [_("The end date must be after the start date.")]})
    running = state["running_capacity"]
    suspended = _decimal(values, "suspended_capacity", required=False)
    if suspended is None or suspended >= running:
        return {"status": AccountStatus.SUSPENDED, "running_capacity": Decimal("0.0")}
    if suspended <= 0:
        raise ValidationFailed(fields={"suspended_capacity": [_("Suspend a capacity above zero.")]})
    return {"running_capacity": running - suspended}


def _resume(account, state, values, doc) -> dict:
    if state["status"] != AccountStatus.SUSPENDED and state["running_capacity"] >= state["contract_capacity"]:
        raise ValidationFailed(_("The account is not suspended on that date."))
    return {"status": AccountStatus.NORMAL, "running_capacity": state["contract_capacity"]}


def _rename(account, state, values, doc) -> dict:
    name = (values.get("name") or "").strip()
    if not name:
        raise ValidationFailed(fields={"name": [_("This field is required.")]})
    if name == state["name"]:
        raise ValidationFailed(fields={"name": [_("The new name is the same as the current one.")]})
    return {"name": name[:120]}


def _transfer(account, state, values, doc) -> dict:
    try:
        customer = Customer.objects.get(pk=int(values.get("customer") or 0), company_id=account.company_id)
    except (Customer.DoesNotExist, TypeError, ValueError) as exc:
        raise ValidationFailed(fields={"customer": [_("Choose the new owner among this company's customers.")]}) from exc
    if customer.pk == state["customer"]:
        raise ValidationFailed(fields={"customer": [_("The account already belongs to this customer.")]})
    return {"customer": customer.pk, "name": (values.get("name") or customer.name)[:120]}


def _close(account, state, values, doc) -> dict:
    if state["status"] == AccountStatus.CLOSED:
        raise ValidationFailed(_("The account is already closed."))
    objections = closing.objections(account, doc.effective_date)
    if objections:
        raise ValidationFailed(" ".join(objections))
    return {"status": AccountStatus.CLOSED, "running_capacity": Decimal("0.0")}


BUILDERS = {
    ChangeKind.RECLASSIFY: _reclassify,
    ChangeKind.CAPACITY_INCREASE: _capacity(increase=True),
    ChangeKind.CAPACITY_REDUCTION: _capacity(increase=False),
    ChangeKind.SUSPEND: _suspend,
    ChangeKind.RESUME: _resume,
    ChangeKind.RENAME: _rename,
    ChangeKind.TRANSFER: _transfer,
    ChangeKind.CLOSE: _close,
}


def _state(account: Account, on: dt.date) -> dict:
    version = account_as_of(account, on)
    if version is None:
        raise ValidationFailed(fields={"effective_date": [
            _("The account was connected on %(date)s; a change cannot take effect before that.")
            % {"date": account.opened_on}]})
    return values_of(version)


def new_values(account: Account, doc: AccountChange) -> dict:
    """The versioned values the change sets, checked against what is in force on its date."""
    if account.status == AccountStatus.CLOSED and doc.kind != ChangeKind.CLOSE:
        raise ValidationFailed(_("The account is closed; a closed account cannot change."))
    check_effective_date(account, doc.effective_date)
    return BUILDERS[doc.kind](account, _state(account, doc.effective_date), doc.values or {}, doc)


def _jsonable(values: dict) -> dict:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}


@transaction.atomic
def request_change(actor: Actor, account: Account, *, kind: str, effective_date: dt.date, reason: str,
                   values: dict | None = None, end_date: dt.date | None = None, submit: bool = True) -> AccountChange:
    """Take a change request and (by default) send it for approval; checks it now and again on approval."""
    account = Account.objects.select_for_update().select_related("org").get(pk=account.pk)
    grant = authz.require(actor, "customers.change_request", account.org)
    if kind not in BUILDERS:
        raise ValidationFailed(fields={"kind": [_("Choose a valid kind of change.")]})
    if not (reason or "").strip():
        raise ValidationFailed(fields={"reason": [_("Say why the account changes.")]})
    pending = account.changes.filter(approval_status=ApprovalStatus.PENDING).first()
    if pending is not None:
        raise ValidationFailed(_("Change #%(id)s of this account is still in approval; decide or withdraw it first.")
                               % {"id": pending.pk})
    doc = AccountChange(account=account, org=account.org, created_by=actor.user, kind=kind,
                        effective_date=effective_date, end_date=end_date, values=_jsonable(values or {}),
                        reason=reason.strip()[:300])
    new_values(account, doc)
    doc.save()
    audit.record_create(actor, doc, org=account.org, grant=grant, reason=reason)
    if submit:
        approvals.submit(actor, doc)
    return doc


def apply_approved_change(actor: Actor, doc: AccountChange, request) -> None:
    """Write the approved change as versions from its date (called inside the approving transaction)."""
    account = Account.objects.select_for_update().get(pk=doc.account_id)
    changes = new_values(account, doc)
    ref = f"approval:{request.pk}"
    if doc.kind == ChangeKind.RESUME:
        drop_scheduled_resumptions(account, doc.effective_date)
    before_suspension = values_of(account_as_of(account, doc.effective_date))
    write_version(account, doc.effective_date, changes, change=doc)
    if doc.kind == ChangeKind.SUSPEND:
        restore = {k: before_suspension[k] for k in ("status", "running_capacity")}
        write_version(account, doc.end_date, restore, change=doc, scheduled_resumption=True)
    if doc.kind == ChangeKind.CLOSE:
        Account.objects.filter(pk=account.pk).update(closed_on=doc.effective_date)
        account.closed_on = doc.effective_date
    doc.applied_at = timezone.now()
    doc.applied_by = actor.user
    doc.save(update_fields=["applied_at", "applied_by"])
    audit.record(actor, action="account_change.apply", obj=account, org=account.org, ref=ref,
                 reason=doc.reason, changes={k: [before_suspension.get(k), v] for k, v in _jsonable(changes).items()})
    refresh_current(actor, account, ref=ref, reason=doc.reason)
