"""Customers, accounts and contacts: create and maintain the records; billing attributes change only by approval.

An account is opened with its first version of billing attributes (valid from its
connection date); afterwards those attributes change only through an account change
(``services.changes``), so that each change is approved, dated and traceable.  The
fields this module edits are the ones that do not affect a bill.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from powercis.core import audit, authz, codelists
from powercis.core.context import Actor
from powercis.core.errors import ValidationFailed
from powercis.core.models import Org
from powercis.core.services.base import apply_changes, validated

from ..models import Account, AccountStatus, CapacityBasis, Customer, CustomerContact
from ..signals import notify_accounts_changed
from .versions import first_version

NUMBER = re.compile(r"^[A-Za-z0-9-]{1,32}$")
PHONE = re.compile(r"^[0-9+\- ]{0,30}$")

CUSTOMER_EDITABLE = {"name", "customer_type", "certificate_type", "certificate_no", "mobile", "phone", "email",
                     "address", "is_active"}
ACCOUNT_EDITABLE = {"service_address", "industry_class", "importance_level", "is_key_account", "payment_method",
                    "reading_route_code", "longitude", "latitude"}
CODE_TABLES = {
    "customer_type": "customer_type", "usage_category": "usage_category", "voltage_level": "voltage_level",
    "pf_standard": "pf_standard", "metering_mode": "metering_mode", "industry_class": "industry_class",
    "importance_level": "importance_level", "payment_method": "payment_method",
}


def check_codes(company_id: int, values: dict) -> None:
    codelists.check(company_id, {k: (CODE_TABLES[k], v) for k, v in values.items() if k in CODE_TABLES})


def _check_number(field: str, value: str) -> None:
    if not NUMBER.fullmatch(value or ""):
        raise ValidationFailed(fields={field: [_("Use 1 to 32 letters, digits or '-'.")]})


def _check_phones(values: dict) -> None:
    bad = {k: [_("Use digits, spaces, '+' and '-' only.")] for k in ("mobile", "phone")
           if k in values and not PHONE.fullmatch(values[k] or "")}
    if bad:
        raise ValidationFailed(fields=bad)


@transaction.atomic
def create_customer(actor: Actor, *, org: Org, customer_no: str, name: str, customer_type: str, reason: str = "",
                    **fields) -> Customer:
    grant = authz.require(actor, "customers.edit", org)
    _check_number("customer_no", customer_no)
    company_id = org.company_id or org.pk
    if Customer.objects.filter(company_id=company_id, customer_no=customer_no).exists():
        raise ValidationFailed(fields={"customer_no": [
            _("The customer number %(no)s is already in use.") % {"no": customer_no}]})
    unknown = sorted(set(fields) - CUSTOMER_EDITABLE)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed here.")] for k in unknown})
    check_codes(company_id, {"customer_type": customer_type})
    _check_phones(fields)
    customer = Customer(org=org, company_id=company_id, customer_no=customer_no, name=name,
                        customer_type=customer_type, **fields)
    validated(customer, exclude=["org_path"])
    customer.save()
    audit.record_create(actor, customer, org=org, grant=grant, reason=reason)
    return customer


@transaction.atomic
def update_customer(actor: Actor, customer: Customer, *, reason: str = "", **changes) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    grant = authz.require(actor, "customers.edit", customer.org)
    if "customer_type" in changes:
        check_codes(customer.company_id, {"customer_type": changes["customer_type"]})
    _check_phones(changes)
    apply_changes(actor, customer, changes, allowed=CUSTOMER_EDITABLE, grant=grant, reason=reason,
                  exclude_validation=["org_path"])
    notify_accounts_changed(customer.accounts.values_list("pk", flat=True))
    return customer


def check_capacities(values: dict) -> None:
    errors = {}
    for name in ("contract_capacity", "running_capacity"):
        value = values.get(name)
        if value is not None and Decimal(value) < 0:
            errors[name] = [_("A capacity cannot be negative.")]
    contract, running = values.get("contract_capacity"), values.get("running_capacity")
    if contract is not None and running is not None and Decimal(running) > Decimal(contract):
        errors["running_capacity"] = [_("The running capacity cannot exceed the contract capacity.")]
    if values.get("capacity_basis") in (CapacityBasis.CAPACITY, CapacityBasis.DEMAND) and not Decimal(
            contract or 0) > 0:
        errors["contract_capacity"] = [_("A capacity or demand charge needs a contract capacity.")]
    if errors:
        raise ValidationFailed(fields=errors)


@transaction.atomic
def open_account(actor: Actor, *, customer: Customer, org: Org, account_no: str, service_address: str,
                 opened_on: dt.date, usage_category: str, voltage_level: str, name: str = "", tariff_code: str = "",
                 contract_capacity=Decimal("0"), running_capacity=None, capacity_basis: str = CapacityBasis.NONE,
                 pf_standard: str = "NONE", metering_mode: str = "LL", reason: str = "", **fields) -> Account:
    """Record a connected account with its first billing attributes, valid from ``opened_on``."""
    grant = authz.require(actor, "customers.edit", org)
    _check_number("account_no", account_no)
    company_id = org.company_id or org.pk
    if customer.company_id != company_id:
        raise ValidationFailed(fields={"customer": [_("The customer belongs to another company.")]})
    if Account.objects.filter(company_id=company_id, account_no=account_no).exists():
        raise ValidationFailed(fields={"account_no": [
            _("The account number %(no)s is already in use.") % {"no": account_no}]})
    unknown = sorted(set(fields) - ACCOUNT_EDITABLE)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed here.")] for k in unknown})
    contract_capacity = Decimal(contract_capacity or 0)
    running_capacity = contract_capacity if running_capacity is None else Decimal(running_capacity)
    values = dict(usage_category=usage_category, voltage_level=voltage_level, pf_standard=pf_standard,
                  metering_mode=metering_mode, **{k: v for k, v in fields.items() if k in CODE_TABLES})
    check_codes(company_id, values)
    check_capacities({"contract_capacity": contract_capacity, "running_capacity": running_capacity,
                       "capacity_basis": capacity_basis})
    account = Account(
        org=org, company_id=company_id, customer=customer, account_no=account_no, name=name or customer.name,
        service_address=service_address, opened_on=opened_on, tariff_code=tariff_code,
        contract_capacity=contract_capacity, running_capacity=running_capacity, capacity_basis=capacity_basis,
        status=AccountStatus.NORMAL, **values, **{k: v for k, v in fields.items() if k not in CODE_TABLES})
    validated(account, exclude=["org_path"])
    account.save()
    first_version(account)
    audit.record_create(actor, account, org=org, grant=grant, reason=reason)
    notify_accounts_changed([account.pk])
    return account


@transaction.atomic
def update_account(actor: Actor, account: Account, *, reason: str = "", **changes) -> Account:
    """Edit the attributes that do not affect a bill; billing attributes change through an account change."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    grant = authz.require(actor, "customers.edit", account.org)
    check_codes(account.company_id, changes)
    apply_changes(actor, account, changes, allowed=ACCOUNT_EDITABLE, grant=grant, reason=reason,
                  exclude_validation=["org_path"])
    notify_accounts_changed([account.pk])
    return account


@transaction.atomic
def add_contact(actor: Actor, customer: Customer, *, name: str, role: str = CustomerContact.Role.ELECTRICAL,
                mobile: str = "", phone: str = "", email: str = "", reason: str = "") -> CustomerContact:
    grant = authz.require(actor, "customers.edit", customer.org)
    _check_phones({"mobile": mobile, "phone": phone})
    contact = CustomerContact(customer=customer, name=name, role=role, mobile=mobile, phone=phone, email=email)
    validated(contact)
    contact.save()
    audit.record_create(actor, contact, org=customer.org, grant=grant, reason=reason)
    notify_accounts_changed(customer.accounts.values_list("pk", flat=True))  # contacts' phone tails are searchable
    return contact


@transaction.atomic
def remove_contact(actor: Actor, contact: CustomerContact, *, reason: str = "") -> Customer:
    """Remove a contact person; returns the customer."""
    grant = authz.require(actor, "customers.edit", contact.customer.org)
    before = audit.snapshot(contact)
    org = contact.customer.org
    audit.record_delete(actor, contact, before, org=org, grant=grant, reason=reason)  # while it still has its id
    contact.delete()
    notify_accounts_changed(contact.customer.accounts.values_list("pk", flat=True))
    return contact.customer
