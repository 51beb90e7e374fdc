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


def register_read(*, metering_point_id: int, meter_id: int, read_at, values: dict, source: str = "handheld",
                  **fields):
    """One read as stored: one row for the meter and instant, a column per register given (the others empty)."""
    from powercis.reading.models import RegisterRead

    return RegisterRead.objects.create(metering_point_id=metering_point_id, meter_id=meter_id, read_at=read_at,
                                       source=source, recorded_at=fields.pop("recorded_at", read_at),
                                       **{r: Decimal(str(v)) for r, v in values.items()}, **fields)


def correction(original, at=None, **changed):
    """What a correction leaves (contract of reading.services): a new read of the next revision naming the original,
    with every register of the original and the changed ones, source ``correct``; the original superseded."""
    from django.utils import timezone

    from powercis.reading.models import RegisterRead

    RegisterRead.objects.filter(pk=original.pk).update(status="superseded")
    return register_read(metering_point_id=original.metering_point_id, meter_id=original.meter_id,
                         read_at=original.read_at, values={**original.registers(), **changed}, source="correct",
                         revision=original.revision + 1, corrects=original, task_id=original.task_id,
                         recorded_at=at or timezone.now())


def D(text: str) -> Decimal:
    return Decimal(text)
