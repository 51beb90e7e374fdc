"""Reading fixtures built through the real services: a route with metered accounts, a plan, reads."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from powercis.core.models import Org
from powercis.metering import services as metering
from tests import archive_factory as make

_seq = itertools.count(1)


def metered_account(org_code: str = "HZ010101", *, route: str = "", registers=("total", "peak", "flat", "valley"),
                    install_reads: dict | None = None, installed_on: dt.date = dt.date(2026, 1, 5), order: int = 0,
                    industrial: bool = False, **account_fields):
    """An account with a settlement metering point and an installed meter; returns (account, point, meter)."""
    n = next(_seq)
    org = Org.objects.get(code=org_code)
    maker = make.industrial_account if industrial else make.account
    account = maker(org_code, reading_route_code=route, **account_fields)
    point = metering.create_point(make.system(), org=org, code=f"MP{n:07d}{account.pk}",
                                  voltage_level=account.voltage_level, account=account, route_order=order or n)
    meter = metering.register_meter(make.system(), org=org, asset_no=f"{330000000000 + n * 7919 + account.pk:012d}",
                                    registers=list(registers))
    reads = install_reads or {r: "0" for r in registers}
    metering.install_meter(make.system(), point, meter, on=installed_on, reads=reads)
    return account, point, meter


def route(org_code: str = "HZ010101", *, code: str | None = None, reader=None, method: str = "manual",
          read_day: int = 25, **fields):
    from powercis.reading.services import routes

    return routes.create_route(make.system(), org=Org.objects.get(code=org_code),
                               code=code or f"R{next(_seq):05d}", name="测试抄表段", reader=reader,
                               read_day=read_day, method=method, **fields)


def D(text: str) -> Decimal:
    return Decimal(text)
