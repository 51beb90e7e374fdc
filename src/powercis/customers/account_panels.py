"""The customer archive's own sections of the account 360 page."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from powercis.core import authz, codelists, masking
from powercis.core.context import Actor
from powercis.core.models import AuditRecord

from . import selectors
from .models import Account
from .panels import Panel, register


def _labelled(account: Account, obj) -> list[tuple[str, str]]:
    """(label, display value) of the billing attributes, code fields shown with their code-table labels."""
    tables = {t: codelists.codes_of(account.company_id, t, active_only=False)
              for t in ("usage_category", "voltage_level", "pf_standard", "metering_mode")}

    def coded(table: str, code: str, with_code: bool = True) -> str:
        item = tables[table].get(code)
        label = item.label if item else code
        return f"{code} {label}" if with_code and item else label

    return [
        (_("Account name"), obj.name),
        (_("Usage category"), coded("usage_category", obj.usage_category)),
        (_("Voltage level"), coded("voltage_level", obj.voltage_level)),
        (_("Tariff code"), obj.tariff_code or "—"),
        (_("Contract capacity (kVA)"), obj.contract_capacity),
        (_("Running capacity (kVA)"), obj.running_capacity),
        (_("Capacity charge basis"), obj.get_capacity_basis_display()),
        (_("Power-factor standard"), coded("pf_standard", obj.pf_standard, with_code=False)),
        (_("Metering mode"), coded("metering_mode", obj.metering_mode, with_code=False)),
        (_("Status"), obj.get_status_display()),
    ]


def _attributes(request, account):
    as_of = parse_date(request.GET.get("as_of") or "") if request.GET.get("as_of") else None
    version = selectors.account_as_of(account, as_of) if as_of else None
    return {
        "today": timezone.localdate(), "as_of": as_of, "as_of_version": version,
        "current_rows": _labelled(account, account),
        "as_of_rows": _labelled(account, version) if version else [],
        "versions": selectors.versions_of(account),
        "other": [
            (_("Service address"), account.service_address),
            (_("Billing org"), account.org.name),
            (_("Industry class"), codelists.label(account.company_id, "industry_class", account.industry_class) or "—"),
            (_("Importance level"), codelists.label(account.company_id, "importance_level", account.importance_level)),
            (_("Key account"), _("Yes") if account.is_key_account else _("No")),
            (_("Payment method"), codelists.label(account.company_id, "payment_method", account.payment_method)),
            (_("Reading route"), account.reading_route_code or "—"),
            (_("Connected on"), account.opened_on),
            (_("Closed on"), account.closed_on or "—"),
        ],
        "can_edit": authz.authorize(request.user, "customers.edit", account.org),
    }


def _customer(request, account):
    customer = account.customer
    actor = Actor.from_request(request)
    reveal = request.GET.get("reveal", "")
    return {
        "customer": customer,
        "customer_type": codelists.label(account.company_id, "customer_type", customer.customer_type),
        "mobile": masking.show(actor, customer, "mobile", customer.org, reveal=reveal == "mobile"),
        "phone": masking.show(actor, customer, "phone", customer.org, reveal=reveal == "phone"),
        "certificate": masking.show(actor, customer, "certificate_no", customer.org, reveal=reveal == "certificate",
                                    masker=masking.mask_id_number),
        "contacts": [(c, masking.mask_phone(c.mobile), masking.mask_phone(c.phone)) for c in customer.contacts.all()],
    }


def _changes(request, account):
    return {
        "changes": account.changes.select_related("created_by").order_by("-created_at")[:50],
        "can_request": authz.authorize(request.user, "customers.change_request", account.org)
        and account.status != "CLOSED",
    }


def _contracts(request, account):
    return {
        "contracts": account.contracts.order_by("contract_no", "-version"),
        "can_manage": authz.authorize(request.user, "customers.manage_contracts", account.org),
        "soon": timezone.localdate() + dt.timedelta(days=60),
    }


def audit_history(account: Account, limit: int = 100):
    """Audit records of the account, its customer, its changes and its contracts, newest first."""
    condition = (Q(object_type="customers.account", object_id=str(account.pk))
                 | Q(object_type="customers.customer", object_id=str(account.customer_id))
                 | Q(object_type="customers.accountchange",
                     object_id__in=[str(i) for i in account.changes.values_list("pk", flat=True)])
                 | Q(object_type="customers.supplycontract",
                     object_id__in=[str(i) for i in account.contracts.values_list("pk", flat=True)]))
    return AuditRecord.objects.filter(condition).order_by("-seq")[:limit]


#: personal data in audit records is shown masked here; the full record is for auditors (core.view_audit)
PERSONAL_FIELDS = {"mobile": masking.mask_phone, "phone": masking.mask_phone, "certificate_no": masking.mask_id_number}


def _masked(field: str, value):
    masker = PERSONAL_FIELDS.get(field)
    return masker(str(value)) if masker and value else value


def _audit(request, account):
    rows = [(r, [(field, _masked(field, pair[0]), _masked(field, pair[1]))
                 for field, pair in (r.changes or {}).items() if isinstance(pair, list) and len(pair) == 2])
            for r in audit_history(account)]
    return {"rows": rows}


def register_panels() -> None:
    register(Panel("attributes", _("Attributes and their history"), "customers/panels/attributes.html", 10,
                   _attributes))
    register(Panel("customer", _("Customer and contacts"), "customers/panels/customer.html", 20, _customer))
    register(Panel("changes", _("Account changes"), "customers/panels/changes.html", 40, _changes))
    register(Panel("contracts", _("Supply contracts"), "customers/panels/contracts.html", 50, _contracts))
    register(Panel("audit", _("Change history (audit trail)"), "customers/panels/audit.html", 90, _audit))
