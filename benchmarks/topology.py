"""Benchmark: topology fault check, topology browser and map layers at 1,000,000 accounts on PostgreSQL.

Fills a scratch PostgreSQL database (created and dropped here) with the demo company and a
synthetic grid written with COPY: per supply station 4 substations with 12 feeders each,
one transformer area per ``--per-area`` accounts with its assessment metering point and
meter, and the accounts (customer, account, settlement metering point) placed around their
area; a few faults of every kind are planted (0.1 % of settlement points on no area, 1 % of
areas without an assessment point, 0.5 % with two, 0.5 % on no feeder, 1 % of assessment
points without a meter, two feeders without substation).  Then it times, as the demo
account manager of 临江县 (scope: the county and below, half of the accounts), the
functions the pages call:

- ``checks.fault_counts`` (one COUNT per fault kind) and the first worklist page (UNION,
  ORDER BY, LIMIT 50, with the paginator's COUNT);
- ``geojson.accounts`` for the whole county (the cap is reached: 5,000 features) and for a
  street-sized view, ``geojson.areas`` for the county, ``geojson.feeders`` — each including
  ``json.dumps`` of the answer, as the view sends it;
- the browser: substations with counts, areas of a feeder with their account counts, and the
  first page of an area's accounts.

Run from the repository root:

    .venv/bin/python benchmarks/topology.py --database-url postgres://postgres@127.0.0.1:5432/postgres

``--accounts`` (default 1,000,000), ``--per-area`` (200), ``--repeat`` (7), ``--keep`` leaves the
database ``bench_topology`` for ``--reuse`` (timings only).  The schema is the migrated one, with the
coordinate indexes and the (kind, area) index of metering points that the map and the checks use.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from org_subtree import cpu_model, create_scratch_postgres, database_version, drop_scratch_postgres
from search import write_rows

DATABASE = "bench_topology"
#: supply station → centre of its territory (lon, lat)
STATIONS = {"HZ010101": (114.30, 30.60), "HZ010102": (114.45, 30.65), "HZ010201": (114.60, 30.55),
            "HZ020101": (114.80, 30.70)}
SUBSTATIONS_PER_STATION, FEEDERS_PER_SUBSTATION = 4, 12


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server URL (any database)")
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--per-area", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true")
    return parser.parse_args()


def square(lon: float, lat: float, d: float) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d],
                                                            [lon - d, lat + d], [lon - d, lat - d]]]})


def fill(total: int, per_area: int, seed: int) -> None:
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from powercis.core.models import Org
    from powercis.customers.models import Account, Customer
    from powercis.grid.models import Feeder, Substation, TransformerArea
    from powercis.metering.models import Meter, MeteringPoint, MeterInstallation

    rng = random.Random(seed)
    orgs = {o.code: o for o in Org.objects.filter(code__in=STATIONS)}
    company_id = orgs["HZ010101"].company_id
    substations, feeders, areas, points, meters, installs = [], [], [], [], [], []
    area_places = []  # (area id, station code, lon, lat)
    per_station = total // len(STATIONS)
    point_id = total  # settlement points take ids 1..total (the account's id); assessment points follow
    for s_index, (code, (clon, clat)) in enumerate(STATIONS.items()):
        org = orgs[code]
        scope = (company_id, org.pk, org.path)
        station_feeders = []
        for k in range(SUBSTATIONS_PER_STATION):
            sid = len(substations) + 1
            slon, slat = clon + rng.uniform(-0.05, 0.05), clat + rng.uniform(-0.05, 0.05)
            substations.append((sid, *scope, f"SS{sid:04d}", f"变电站{sid}", "AC110KV", slon, slat))
            for _f in range(FEEDERS_PER_SUBSTATION):
                fid = len(feeders) + 1
                route = [[slon, slat]] + [[slon + rng.uniform(-0.08, 0.08), slat + rng.uniform(-0.08, 0.08)]
                                          for _ in range(4)]
                feeders.append((fid, *scope, sid, f"FD{fid:05d}", f"线路{fid}", "AC10KV",
                                json.dumps({"type": "LineString", "coordinates": route})))
                station_feeders.append(fid)
        for _a in range(max(1, per_station // per_area)):
            aid = len(areas) + 1
            lon, lat = clon + rng.uniform(-0.08, 0.08), clat + rng.uniform(-0.08, 0.08)
            feeder = None if rng.random() < 0.005 else rng.choice(station_feeders)
            areas.append((aid, *scope, feeder, f"TA{aid:06d}", f"台区{aid}", "public", "400", square(lon, lat, 0.002),
                          lon, lat))
            area_places.append((aid, code, lon, lat))
            roll = rng.random()
            for _p in range(0 if roll < 0.01 else 2 if roll < 0.015 else 1):
                point_id += 1
                points.append((point_id, *scope, f"MPT{point_id:09d}", "assessment", None, aid, "AC10KV", "120",
                               lon, lat))
                if rng.random() >= 0.01:
                    meters.append((point_id, *scope, f"AM{point_id:012d}", "installed"))
                    installs.append((point_id, point_id, point_id, dt.date(2020, 1, 1)))
    feeders[0] = feeders[0][:4] + (None,) + feeders[0][5:]  # two feeders leave no recorded substation
    feeders[1] = feeders[1][:4] + (None,) + feeders[1][5:]
    with transaction.atomic():
        write_rows(Substation, ("id", "company_id", "org_id", "org_path", "code", "name", "voltage_level",
                                "longitude", "latitude"), substations)
        write_rows(Feeder, ("id", "company_id", "org_id", "org_path", "substation_id", "code", "name",
                            "voltage_level", "geometry"), feeders)
        write_rows(TransformerArea, ("id", "company_id", "org_id", "org_path", "feeder_id", "code", "name",
                                     "ownership", "capacity_kva", "geometry", "longitude", "latitude"), areas)
        point_columns = ("id", "company_id", "org_id", "org_path", "code", "kind", "account_id",
                         "transformer_area_id", "voltage_level", "multiplier", "longitude", "latitude")
        write_rows(MeteringPoint, point_columns, points)
        write_rows(Meter, ("id", "company_id", "org_id", "org_path", "asset_no", "status"), meters)
        write_rows(MeterInstallation, ("id", "metering_point_id", "meter_id", "installed_on"), installs)
    by_station: dict[str, list] = {}
    for place in area_places:
        by_station.setdefault(place[1], []).append(place)
    chunk = 100_000
    for start in range(0, total, chunk):
        customers, accounts, settlement = [], [], []
        for n in range(start + 1, min(start + chunk, total) + 1):
            code = list(STATIONS)[(n - 1) * len(STATIONS) // total]
            org = orgs[code]
            scope = (company_id, org.pk, org.path)
            aid, _c, alon, alat = rng.choice(by_station[code])
            lon, lat = alon + rng.uniform(-0.0015, 0.0015), alat + rng.uniform(-0.0015, 0.0015)
            placed = rng.random() >= 0.02
            customers.append((n, *scope, f"C{n:010d}", f"客户{n}", "LV_R"))
            accounts.append((n, *scope, n, f"{n:010d}", f"客户{n}", f"幸福路{n}号", "RES_T", "AC220V",
                             dt.date(2015, 1, 1), lon if placed else None, lat if placed else None))
            settlement.append((n, *scope, f"MP{n:010d}", "settlement", n, None if rng.random() < 0.001 else aid,
                               "AC220V", "1", lon, lat))
        with transaction.atomic():
            write_rows(Customer, ("id", "company_id", "org_id", "org_path", "customer_no", "name", "customer_type"),
                       customers)
            write_rows(Account, ("id", "company_id", "org_id", "org_path", "customer_id", "account_no", "name",
                                 "service_address", "usage_category", "voltage_level", "opened_on", "longitude",
                                 "latitude"), accounts)
            write_rows(MeteringPoint, point_columns, settlement)
        print(f"  {min(start + chunk, total):,} accounts", file=sys.stderr)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(
                no_style(), [Substation, Feeder, TransformerArea, MeteringPoint, Meter, MeterInstallation, Customer,
                             Account]):
            cursor.execute(sql)
        cursor.execute("ANALYZE")


def timed(fn, repeat: int):
    fn()  # warm-up: plans and caches as in a running server
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        result = fn()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return result, statistics.median(samples), max(samples)


def measure(repeat: int) -> None:
    from django.core.paginator import Paginator

    from powercis.core import authz
    from powercis.core.models import Staff
    from powercis.customers.models import Account
    from powercis.grid.models import Feeder, TransformerArea
    from powercis.topology import checks, geojson, selectors

    user = Staff.objects.get(username="custmgr")
    authz.grants(user)
    county = geojson.extent(user)
    area = TransformerArea.objects.filter(org__code="HZ010101", feeder__isnull=False).order_by("pk").first()
    street = (area.longitude - 0.002, area.latitude - 0.002, area.longitude + 0.002, area.latitude + 0.002)
    feeder = Feeder.objects.get(pk=area.feeder_id)

    def worklist_page():
        rows, _counts = checks.worklist(user)
        page = Paginator(rows, 50).page(1)
        return page.paginator.count, len(list(page))

    def area_page():
        page = Paginator(selectors.accounts_on_area(user, area), 50).page(1)
        return page.paginator.count, len(list(page))

    def layer(builder, box):
        data = builder(user, box)
        json.dumps(data, ensure_ascii=False)
        return len(data["features"]), data["truncated"]

    cases = [
        ("checks.fault_counts (6 COUNTs)", lambda: sum(checks.fault_counts(user).values())),
        ("fault worklist page: the counts + page 1 of 50", worklist_page),
        ("geojson.accounts, whole county (capped)", lambda: layer(geojson.accounts, county)),
        ("geojson.accounts, street view (~400 m)", lambda: layer(geojson.accounts, street)),
        ("geojson.areas, whole county", lambda: layer(geojson.areas, county)),
        ("geojson.feeders, no bbox", lambda: layer(geojson.feeders, None)),
        ("browser: substations with counts", lambda: len(list(selectors.substations(user)))),
        ("browser: areas of a feeder with account counts", lambda: len(list(selectors.areas(user, feeder)))),
        ("area page: accounts, page 1 + COUNT", area_page),
    ]
    print(f"scope: {user.username} (HZ0101 and below): "
          f"{authz.restrict_any(Account.objects.all(), user, ('customers.view',), 'org_path').count():,} accounts")
    print(f"\n| what | result | median ms | max ms |  ({repeat} runs after one warm-up)")
    print("| --- | --- | ---: | ---: |")
    for label, fn in cases:
        result, median, worst = timed(fn, repeat)
        print(f"| {label} | {result} | {median:.1f} | {worst:.1f} |")


def main() -> None:
    args = parse_args()
    url = create_scratch_postgres(args.database_url, DATABASE) if not args.reuse else \
        args.database_url.rsplit("/", 1)[0] + f"/{DATABASE}"
    os.environ["POWERCIS_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powercis.settings")
    os.environ.setdefault("POWERCIS_VAR_DIR", "/tmp/powercis-bench-topology")
    import django

    django.setup()
    try:
        if not args.reuse:
            from django.core.management import call_command

            from powercis.core.demo import load_demo

            started = time.perf_counter()
            call_command("migrate", verbosity=0)
            load_demo()
            fill(args.accounts, args.per_area, args.seed)
            print(f"filled {args.accounts:,} accounts in {time.perf_counter() - started:.0f} s")
        print(f"machine: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}; "
              f"Django {django.get_version()}; {database_version()}; load average {os.getloadavg()[0]:.2f}")
        measure(args.repeat)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_scratch_postgres(args.database_url, DATABASE)


if __name__ == "__main__":
    main()
