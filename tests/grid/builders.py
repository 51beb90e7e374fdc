"""Grid records for tests: built through the grid services (metering points and meters through the ORM)."""

from __future__ import annotations

import datetime as dt
import itertools

from powercis.core.context import Actor
from powercis.core.models import DataScope, Org, Post, Staff

_seq = itertools.count(1)

GRID_EDITOR_PERMS = ("grid.view", "grid.edit", "customers.view")


def system() -> Actor:
    return Actor.as_system("test")


def grid_editor(username: str = "gridops", org_code: str = "HZ0101", perms=GRID_EDITOR_PERMS) -> Staff:
    """A staff member holding a post with ``perms`` over ``org_code`` and below (no demo post has grid.edit)."""
    from powercis.core.services import posts, staff

    org = Org.objects.get(code=org_code)
    company = Org.objects.get(pk=org.company_id or org.pk)
    post = Post.objects.filter(company=company, code="grid_maintainer").first() or posts.create_post(
        system(), company, code="grid_maintainer", label_zh="电网拓扑维护员", label_en="Grid maintainer",
        permissions=perms)
    member, _password = staff.create_staff(system(), username=username, full_name="拓扑维护", org=org,
                                           password="Powercis@2026", must_change_password=False)
    posts.bootstrap_grant(system(), staff=member, post=post, org=org, scope=DataScope.SUBTREE)
    return member


def box(lon: float, lat: float, d: float = 0.002) -> dict:
    """A square polygon around a point."""
    return {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d],
                                                [lon - d, lat + d], [lon - d, lat - d]]]}


def line(*points) -> dict:
    return {"type": "LineString", "coordinates": [list(p) for p in points]}


def substation(org_code: str = "HZ0101", *, actor: Actor | None = None, **fields):
    from powercis.grid import services

    n = next(_seq)
    values = {"code": f"SS{n:04d}", "name": f"测试变电站{n}", "voltage_level": "AC110KV", "longitude": 114.30,
              "latitude": 30.60}
    values.update(fields)
    return services.create_substation(actor or system(), org=Org.objects.get(code=org_code), **values)


def feeder(substation=None, org_code: str = "HZ0101", *, actor: Actor | None = None, **fields):
    from powercis.grid import services

    n = next(_seq)
    values = {"code": f"FD{n:04d}", "name": f"测试线{n}", "voltage_level": "AC10KV",
              "geometry": line((114.30, 30.60), (114.31, 30.61), (114.32, 30.61))}
    values.update(fields)
    return services.create_feeder(actor or system(), org=Org.objects.get(code=org_code), substation=substation,
                                  **values)


def area(feeder=None, org_code: str = "HZ0101", *, actor: Actor | None = None, at=(114.31, 30.61), **fields):
    from powercis.grid import services

    n = next(_seq)
    values = {"code": f"TA{n:04d}", "name": f"测试台区{n}", "capacity_kva": "400", "geometry": box(*at)}
    values.update(fields)
    return services.create_area(actor or system(), org=Org.objects.get(code=org_code), feeder=feeder, **values)


def metering_point(*, account=None, area=None, kind: str = "settlement", org_code: str | None = None, **fields):
    from powercis.metering.models import MeteringPoint

    org = account.org if account is not None and org_code is None else Org.objects.get(code=org_code or "HZ0101")
    n = next(_seq)
    values = {"code": f"MP{n:06d}", "voltage_level": "AC220V", **fields}
    return MeteringPoint.objects.create(org=org, company_id=org.company_id or org.pk, kind=kind, account=account,
                                        transformer_area=area, **values)


def install_meter(point, *, on: dt.date = dt.date(2024, 1, 1), removed_on: dt.date | None = None):
    from powercis.metering.models import Meter, MeterInstallation

    n = next(_seq)
    meter = Meter.objects.create(org=point.org, company_id=point.company_id, asset_no=f"M{n:010d}",
                                 status="installed", registers=["total"])
    return MeterInstallation.objects.create(metering_point=point, meter=meter, installed_on=on,
                                            removed_on=removed_on, install_reads={"total": "0"})
