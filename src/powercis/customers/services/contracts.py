"""Supply contracts (供用电合同): sign a contract, renew or amend it as a new version, terminate it."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from powercis.core import audit, authz
from powercis.core.context import Actor
from powercis.core.errors import ValidationFailed
from powercis.core.services.base import validated

from ..models import Account, SupplyContract


def _check_dates(signed_on: dt.date, valid_from: dt.date, expires_on: dt.date) -> None:
    if expires_on <= valid_from:
        raise ValidationFailed(fields={"expires_on": [_("The expiry date must be after the start date.")]})
    if signed_on > valid_from:
        raise ValidationFailed(fields={"signed_on": [_("A contract is signed before it takes effect.")]})


@transaction.atomic
def sign_contract(actor: Actor, account: Account, *, contract_no: str, kind: str, signed_on: dt.date,
                  valid_from: dt.date, expires_on: dt.date, customer_signatory: str = "", terms: str = "",
                  reason: str = "") -> SupplyContract:
    """Record a new contract (version 1) for an account."""
    grant = authz.require(actor, "customers.manage_contracts", account.org)
    if SupplyContract.objects.filter(company_id=account.company_id, contract_no=contract_no).exists():
        raise ValidationFailed(fields={"contract_no": [
            _("The contract number %(no)s is already in use; renew it as a new version instead.") % {"no": contract_no}]})
    _check_dates(signed_on, valid_from, expires_on)
    contract = SupplyContract(account=account, org=account.org, company_id=account.company_id,
                              contract_no=contract_no, version=1, kind=kind, signed_on=signed_on,
                              valid_from=valid_from, expires_on=expires_on, customer_signatory=customer_signatory,
                              terms=terms, created_by=actor.user)
    validated(contract, exclude=["org_path", "created_by"])
    contract.save()
    audit.record_create(actor, contract, org=account.org, grant=grant, reason=reason)
    return contract


@transaction.atomic
def renew_contract(actor: Actor, contract: SupplyContract, *, signed_on: dt.date, valid_from: dt.date,
                   expires_on: dt.date, terms: str | None = None, customer_signatory: str | None = None,
                   reason: str = "") -> SupplyContract:
    """A renewal or amendment: the next version supersedes the one in force, which stays as it was signed."""
    contract = SupplyContract.objects.select_for_update().select_related("account__org").get(pk=contract.pk)
    grant = authz.require(actor, "customers.manage_contracts", contract.org)
    if contract.status != SupplyContract.Status.ACTIVE:
        raise ValidationFailed(_("Only the version in force can be renewed."))
    _check_dates(signed_on, valid_from, expires_on)
    if valid_from <= contract.valid_from:
        raise ValidationFailed(fields={"valid_from": [_("The new version must start after the current one.")]})
    nxt = SupplyContract(
        account=contract.account, org=contract.org, company_id=contract.company_id, contract_no=contract.contract_no,
        version=contract.version + 1, kind=contract.kind, signed_on=signed_on, valid_from=valid_from,
        expires_on=expires_on, terms=contract.terms if terms is None else terms,
        customer_signatory=contract.customer_signatory if customer_signatory is None else customer_signatory,
        supersedes=contract, created_by=actor.user)
    before = audit.snapshot(contract)
    contract.status = SupplyContract.Status.SUPERSEDED
    contract.save(update_fields=["status"])
    audit.record_update(actor, contract, before, grant=grant, reason=reason)
    validated(nxt, exclude=["org_path", "created_by", "supersedes"])
    nxt.save()
    audit.record_create(actor, nxt, org=contract.org, grant=grant, reason=reason)
    return nxt


@transaction.atomic
def terminate_contract(actor: Actor, contract: SupplyContract, *, reason: str) -> SupplyContract:
    contract = SupplyContract.objects.select_for_update().get(pk=contract.pk)
    grant = authz.require(actor, "customers.manage_contracts", contract.org)
    if not (reason or "").strip():
        raise ValidationFailed(fields={"reason": [_("Say why the contract ends.")]})
    if contract.status != SupplyContract.Status.ACTIVE:
        raise ValidationFailed(_("Only the version in force can be terminated."))
    before = audit.snapshot(contract)
    contract.status = SupplyContract.Status.TERMINATED
    contract.save(update_fields=["status"])
    audit.record_update(actor, contract, before, grant=grant, reason=reason)
    return contract
