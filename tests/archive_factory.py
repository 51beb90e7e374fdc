"""Build archive records for tests through the real services, as the system actor unless told otherwise."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from powercis.core.context import Actor
from powercis.core.models import Org

_seq = itertools.count(1)


def system() -> Actor:
    return Actor.as_system("test")


def customer(org_code: str = "HZ010101", *, actor: Actor | None = None, **fields):
    from powercis.customers.services import records

    n = next(_seq)
    defaults = {"name": f"测试客户{n}", "customer_type": "LV_R", "mobile": f"1380000{n:04d}",
                "certificate_no": f"42010219900101{n:04d}"}
    defaults.update(fields)
    return records.create_customer(actor or system(), org=Org.objects.get(code=org_code),
                                   customer_no=defaults.pop("customer_no", f"C{n:08d}"), **defaults)


def account(org_code: str = "HZ010101", *, actor: Actor | None = None, owner=None,
            opened_on: dt.date = dt.date(2024, 1, 1), **fields):
    from powercis.customers.services import records

    n = next(_seq)
    owner = owner or customer(org_code)
    defaults = {"usage_category": "RES_T", "voltage_level": "AC220V", "service_address": f"临江县城关镇幸福路{n}号",
                "tariff_code": "RES-T-220"}
    defaults.update(fields)
    return records.open_account(actor or system(), customer=owner, org=Org.objects.get(code=org_code),
                                account_no=defaults.pop("account_no", f"A{n:09d}"), opened_on=opened_on,
                                **defaults)


def industrial_account(org_code: str = "HZ010101", **fields):
    defaults = {"usage_category": "CI_2", "voltage_level": "AC10KV", "tariff_code": "CI2-10KV",
                "contract_capacity": Decimal("630"), "capacity_basis": "capacity", "pf_standard": "0.90",
                "metering_mode": "HL"}
    defaults.update(fields)
    return account(org_code, owner=customer(org_code, customer_type="HV", certificate_type="uscc"), **defaults)
