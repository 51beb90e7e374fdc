"""Benchmark: subtree and data-scope queries over an org tree of 10,000 orgs.

Builds 1 company › 15 cities › 10 counties each › the rest supply stations (one staff
member per org) in a scratch database, then times the two queries every list page and
every permission check rests on, for a city and for a county:

* ``Org.objects.subtree(org).count()`` — the org and everything below it;
* ``authz.restrict(Staff.objects.all(), user, "core.view_staff").count()`` — a table
  filtered to the data scope of a user holding a post with scope "org and below".

Prints p50/p95 in milliseconds and the machine.  Run from the repository root:

    .venv/bin/python benchmarks/org_subtree.py
    .venv/bin/python benchmarks/org_subtree.py --database-url postgres://postgres@127.0.0.1:5432/postgres

SQLite: a fresh file under /tmp, removed afterwards.  PostgreSQL: the URL names the
server and the login; the benchmark creates the scratch database ``powercis_bench``
(``--scratch-db``) through the ``postgres`` maintenance database and drops it at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="",
                        help="postgres://user@host:port/db of the server to use (default: SQLite under /tmp)")
    parser.add_argument("--scratch-db", default="powercis_bench", help="PostgreSQL database to create and drop")
    parser.add_argument("--orgs", type=int, default=10_000, help="orgs in the tree (default 10000)")
    parser.add_argument("--cities", type=int, default=15)
    parser.add_argument("--counties-per-city", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=200, help="timed repetitions per query (default 200)")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    return parser.parse_args()


# --- scratch database ---------------------------------------------------------


def maintenance_connection(server_url: str):
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(server_url)
    return psycopg.connect(dbname="postgres", user=db["USER"] or None, password=db["PASSWORD"] or None,
                           host=db["HOST"] or None, port=db["PORT"] or None, autocommit=True)


def create_scratch_postgres(server_url: str, name: str) -> str:
    with maintenance_connection(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


def drop_scratch_postgres(server_url: str, name: str) -> None:
    with maintenance_connection(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the tree -----------------------------------------------------------------


def build_tree(orgs: int, cities: int, counties_per_city: int):
    """Write the tree set-based: ids and materialised paths are computed here, then one bulk insert."""
    from django.core.management.color import no_style
    from django.db import connection
    from django.db.models import Max

    from powercis.core.context import Actor
    from powercis.core.models import Org, OrgLevel, Staff
    from powercis.core.models.orgs import path_segment
    from powercis.core.services import orgs as org_services

    company = org_services.create_company(Actor.as_system("bench"), code="BENCH", name="基准电力有限公司")
    next_id = Org.objects.aggregate(top=Max("id"))["top"] + 1
    rows: list[Org] = []

    def add(code: str, name: str, level: str, parent: Org) -> Org:
        nonlocal next_id
        org = Org(id=next_id, code=code, name=name, level=level, parent_id=parent.id, company_id=company.id,
                  path=parent.path + path_segment(next_id), depth=parent.depth + 1)
        next_id += 1
        rows.append(org)
        return org

    city_orgs = [add(f"C{c:02d}", f"第{c}地市供电公司", OrgLevel.CITY, company) for c in range(1, cities + 1)]
    county_orgs = [add(f"{city.code}{k:02d}", f"{city.name}第{k}县公司", OrgLevel.COUNTY, city)
                   for city in city_orgs for k in range(1, counties_per_city + 1)]
    for i in range(orgs - 1 - len(rows)):
        county = county_orgs[i % len(county_orgs)]
        add(f"{county.code}S{i:05d}", f"第{i}供电所", OrgLevel.STATION, county)
    Org.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Org]):
            cursor.execute(sql)
    Staff.objects.bulk_create(
        [Staff(username=f"s{org.id}", full_name=f"员工{org.id}", org_id=org.id, password="!") for org in rows],
        batch_size=2000,
    )
    return city_orgs[0], county_orgs[0]


def holder_of_subtree_grant(org, username: str):
    """A staff member holding the standard sysadmin post over ``org`` and below."""
    from powercis.core.context import Actor
    from powercis.core.models import DataScope, Post, Staff
    from powercis.core.services import posts as post_services
    from powercis.core.services import staff as staff_services

    system = Actor.as_system("bench")
    staff, _password = staff_services.create_staff(system, username=username, full_name=username, org=org,
                                                   password="Bench-Password-2026")
    post = Post.objects.get(company_id=org.company_id, code="sysadmin")
    post_services.bootstrap_grant(system, staff=staff, post=post, org=org, scope=DataScope.SUBTREE)
    return Staff.objects.get(pk=staff.pk)


# --- measuring ----------------------------------------------------------------


def timed(query, repeat: int) -> tuple[int, float, float]:
    """Run ``query`` ``repeat`` times after a warm-up; return its result and p50/p95 in ms."""
    for _ in range(10):
        result = query()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        result = query()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return result, cuts[49], cuts[94]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def database_version() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        return cursor.fetchone()[0].split(" on ")[0]


def run(args: argparse.Namespace) -> None:
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    from powercis.core import authz
    from powercis.core.models import Org, Staff

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    city, county = build_tree(args.orgs, args.cities, args.counties_per_city)
    users = {org.pk: holder_of_subtree_grant(org, f"bench_{org.level}") for org in (city, county)}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"tree of {Org.objects.count()} orgs and {Staff.objects.count()} staff built in "
          f"{time.perf_counter() - started:.1f} s")
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}; "
          f"Django {django.get_version()}; {database_version()}; load average {os.getloadavg()[0]:.2f}")
    print()
    print(f"| query | org | rows | p50 ms | p95 ms |  ({args.repeat} repetitions each)")
    print("| --- | --- | ---: | ---: | ---: |")
    for org in (city, county):
        user = users[org.pk]
        authz.grants(user)  # loaded once per request in the application too
        queries = {
            "Org.objects.subtree(org).count()": lambda org=org: Org.objects.subtree(org).count(),
            'authz.restrict(Staff.objects.all(), user, "core.view_staff").count()':
                lambda user=user: authz.restrict(Staff.objects.all(), user, "core.view_staff").count(),
        }
        for label, query in queries.items():
            rows, p50, p95 = timed(query, args.repeat)
            print(f"| `{label}` | {org.level} {org.code} | {rows} | {p50:.3f} | {p95:.3f} |")
    if args.explain:
        print()
        print(Org.objects.subtree(city).explain())
        print()
        print(authz.restrict(Staff.objects.all(), users[city.pk], "core.view_staff").explain())


@contextlib.contextmanager
def scratch_database(database_url: str, scratch_db: str):
    """Point powercis at a scratch database (``scratch_db`` on that PostgreSQL server, or SQLite); drop it after."""
    scratch_dir = Path(tempfile.mkdtemp(prefix="powercis-bench-", dir="/tmp"))
    os.environ["POWERCIS_VAR_DIR"] = str(scratch_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "powercis.settings"
    postgres = database_url.startswith(("postgres://", "postgresql://"))
    if postgres:
        os.environ["POWERCIS_DATABASE_URL"] = create_scratch_postgres(database_url, scratch_db)
    elif database_url:
        sys.exit("--database-url takes a postgres:// URL; SQLite always uses a scratch file")
    else:
        os.environ["POWERCIS_DATABASE_URL"] = f"sqlite:///{scratch_dir / 'bench.sqlite3'}"
    try:
        yield
    finally:
        if postgres:
            from django.db import connections

            connections.close_all()
            drop_scratch_postgres(database_url, scratch_db)
        shutil.rmtree(scratch_dir, ignore_errors=True)


def main() -> None:
    args = parse_args()
    with scratch_database(args.database_url, args.scratch_db):
        run(args)


if __name__ == "__main__":
    main()
