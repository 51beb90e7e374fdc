"""Benchmark: a month-end of meter reading at N accounts — reading plans and validation before billing.

Builds a scratch database with the synthetic utility (``powercis demo --accounts N``, the
function ``synthetic.services.generate``), then the reads of three months with
``synthetic.readings.generate_month``: two months of history without injected anomalies
(each generated and validated, as a running installation has them: the spike check
compares with the interval before the last, so two earlier reads are needed), and the
current month with anomalies.  Timed, for the current month:

* ``reading.engine.plans.generate_plans`` for every route of the company (plans and
  tasks from the archive, COPY);
* ``reading.engine.validate.run_validation`` over all the month's plans (effective reads,
  history, every check, exceptions and task states written).

The month's reads are generated between the two (not timed: in production they arrive
during the month).  Then validation is run a second time (the rerun a reviewer's button
or the nightly job does) and timed too.  Prints the seconds per phase and in total, the
exceptions by check, the validator's recall on the injected anomalies and the
exceptions on tasks without a label, and the machine.  Run from the repository root:

    .venv/bin/python benchmarks/reading_month.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/reading_month.py --database-url postgres://postgres@127.0.0.1:5432/postgres \\
        --accounts 100000
    .venv/bin/python benchmarks/reading_month.py --database-url postgres://postgres@127.0.0.1:5432/postgres \\
        --base-db bench_reading_base --runs 3
    .venv/bin/python benchmarks/reading_month.py --accounts 20000      # SQLite, a scratch file under /tmp

PostgreSQL: the scratch database ``bench_reading`` (``--scratch-db``) is created through
the ``postgres`` maintenance database and dropped at the end (``--keep`` keeps it).  With
``--base-db`` the utility and its two months of history are built once into that
database and kept; each of ``--runs`` runs then times a fresh copy of it
(``CREATE DATABASE … TEMPLATE``), so repeated runs measure the same starting point.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import memory_gib
from org_subtree import cpu_model, database_version, scratch_database

TARGET_SECONDS = 60


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="",
                        help="postgres://user@host:port/db of the server to use (default: SQLite under /tmp)")
    parser.add_argument("--scratch-db", default="bench_reading", help="PostgreSQL database to create and drop")
    parser.add_argument("--accounts", type=int, default=1_000_000, help="accounts (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 27),
                        help="reference date of the synthetic utility and 'now' of the runs")
    parser.add_argument("--period", default="2026-10", help="the month timed (YYYY-MM); the two before are history")
    parser.add_argument("--anomaly-rate", type=float, default=0.02)
    parser.add_argument("--keep", action="store_true", help="keep the scratch PostgreSQL database of the last run")
    parser.add_argument("--base-db", default="",
                        help="PostgreSQL: keep the utility and its history in this database (built if missing) and "
                             "time each run on a fresh copy of it")
    parser.add_argument("--runs", type=int, default=1, help="timed runs (with --base-db), median reported")
    return parser.parse_args()


def build(args: argparse.Namespace) -> None:
    """Migrate, load the demo company, generate the utility and the two months of history (not timed)."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from powercis.core.context import Actor
    from powercis.core.demo import load_demo
    from powercis.reading.engine.plans import add_months
    from powercis.reading.engine.validate import run_validation
    from powercis.reading.models import ReadingPlan
    from powercis.synthetic.readings import generate_month
    from powercis.synthetic.services import generate

    period = dt.datetime.strptime(args.period, "%Y-%m").date()
    now = timezone.make_aware(dt.datetime.combine(args.as_of, dt.time(12)))
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    company = load_demo().company
    generate(Actor.as_system("benchmark"), company=company, accounts=args.accounts, seed=args.seed, as_of=args.as_of,
             rebuild_search=False)
    print(f"synthetic utility of {args.accounts:,} accounts in {time.perf_counter() - started:.1f} s (not counted)")
    for back in (2, 1):
        month = add_months(period, -back)
        mark = time.perf_counter()
        report = generate_month(company_id=company.pk, period=month, seed=args.seed, anomaly_rate=0, now=now)
        plans = list(ReadingPlan.objects.filter(company=company, period=month).values_list("pk", flat=True))
        validated = run_validation(plan_ids=plans, now=now)
        print(f"history {month:%Y-%m}: {report.rows_written:,} reads ({report.reads_written:,} register values), "
              f"{report.tasks:,} tasks, "
              f"{validated.exceptions_opened:,} exceptions; {time.perf_counter() - mark:.1f} s (not counted)")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def timed(args: argparse.Namespace) -> dict:
    """Plans and validation of the benchmark month, with the month's reads generated in between."""
    import django
    import polars as pl
    from django.db import connection
    from django.utils import timezone

    from powercis.core.models import Org
    from powercis.reading.engine.plans import generate_plans
    from powercis.reading.engine.validate import run_validation
    from powercis.reading.models import ReadException
    from powercis.synthetic.readings import generate_month

    period = dt.datetime.strptime(args.period, "%Y-%m").date()
    now = timezone.make_aware(dt.datetime.combine(args.as_of, dt.time(12)))
    company = Org.objects.get(code="HZ")
    load = os.getloadavg()[0]
    mark = time.perf_counter()
    plans = generate_plans(company_id=company.pk, period=period, now=now)
    plan_seconds = time.perf_counter() - mark
    mark = time.perf_counter()
    month = generate_month(company_id=company.pk, period=period, seed=args.seed + 1, anomaly_rate=args.anomaly_rate,
                           now=now)
    reads_seconds = time.perf_counter() - mark
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # as the nightly statistics job would have done after the month's reads
            cursor.execute("ANALYZE reading_registerread")
            cursor.execute("ANALYZE reading_readingtask")
    mark = time.perf_counter()
    validation = run_validation(plan_ids=plans.plan_ids, now=now)
    validate_seconds = time.perf_counter() - mark
    mark = time.perf_counter()
    rerun = run_validation(plan_ids=plans.plan_ids, now=now)
    rerun_seconds = time.perf_counter() - mark
    total = plan_seconds + validate_seconds

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {memory_gib():.0f} GiB RAM; "
          f"Python {platform.python_version()}, Django {django.get_version()}, Polars {pl.__version__}; "
          f"{database_version()}; load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    print(f"period {period:%Y-%m}: {plans.plans_created:,} plans, {plans.tasks_created:,} tasks; "
          f"{month.rows_written:,} reads of the month ({month.reads_written:,} register values; "
          f"{reads_seconds:.1f} s to generate, not counted)")
    print()
    print("| phase | seconds |")
    print("| --- | ---: |")
    print(f"| generate_plans ({plans.plans_created:,} plans, {plans.tasks_created:,} tasks) | {plan_seconds:.1f} |")
    for phase, seconds in validation.seconds.items():
        if phase != "total":
            print(f"| validation: {phase} | {seconds:.1f} |")
    print(f"| run_validation, all phases ({validation.tasks_checked:,} tasks) | {validate_seconds:.1f} |")
    print(f"| **plans + validation** | **{total:.1f}** |")
    print(f"| run_validation again (rerun) | {rerun_seconds:.1f} |")
    print()
    verdict = "within" if total <= TARGET_SECONDS else "OVER"
    print(f"plans + validation {total:.1f} s for {args.accounts:,} accounts: {verdict} the {TARGET_SECONDS} s target "
          f"({validation.tasks_checked / total:,.0f} tasks/s)")
    print(f"validation: {validation.remote_reads_applied:,} remote reads taken, {validation.exceptions_opened:,} "
          f"exceptions; tasks passed {validation.tasks_passed:,}, with exceptions {validation.tasks_with_exceptions:,}; "
          f"rerun opened {rerun.exceptions_opened:,}")
    print()
    exceptions = pl.DataFrame(list(ReadException.objects.filter(plan_id__in=plans.plan_ids, status="open")
                                   .values("task_id", "rule", "severity")),
                              schema={"task_id": pl.Int64, "rule": pl.Utf8, "severity": pl.Utf8})
    labels = month.labels
    found = labels.join(exceptions.rename({"rule": "expected"}), on=["task_id", "expected"], how="semi")
    unlabelled = exceptions.join(labels.select("task_id"), on="task_id", how="anti")
    by_rule = exceptions.group_by("rule", "severity").len().sort("rule")
    fp = dict(unlabelled.group_by("rule").len().iter_rows())
    print("| check | severity | exceptions | of which on tasks without an injected anomaly |")
    print("| --- | --- | ---: | ---: |")
    for rule, severity, count in by_rule.iter_rows():
        print(f"| {rule} | {severity} | {count:,} | {fp.get(rule, 0):,} |")
    print()
    print("| injected | labelled | found by the expected check |")
    print("| --- | ---: | ---: |")
    hits = dict(found.group_by("anomaly").len().iter_rows())
    for anomaly, count in labels.group_by("anomaly").len().sort("anomaly").iter_rows():
        print(f"| {anomaly} | {count:,} | {hits.get(anomaly, 0):,} |")
    print(f"recall {found.height:,} / {labels.height:,} = {found.height / max(labels.height, 1):.2%}; "
          f"exceptions on unlabelled tasks: {unlabelled.height:,} "
          f"({unlabelled['task_id'].n_unique():,} tasks, "
          f"{unlabelled['task_id'].n_unique() / max(validation.tasks_checked, 1):.2%} of the tasks)")
    return {"plans": plan_seconds, "validation": validate_seconds, "total": total, "rerun": rerun_seconds}


def use_database(url: str) -> None:
    """Point the Django connection at another database of the same server (between runs)."""
    import dj_database_url
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = dj_database_url.parse(url)["NAME"]


def main() -> None:
    args = parse_args()
    postgres = args.database_url.startswith(("postgres://", "postgresql://"))
    if not (postgres and args.base_db):
        with scratch_database(args.database_url, args.scratch_db):
            import django

            django.setup()
            build(args)
            timed(args)
        return
    # PostgreSQL with a kept base: build it once, then time each run on a fresh copy of it
    from org_subtree import create_scratch_postgres, drop_scratch_postgres, maintenance_connection

    os.environ["DJANGO_SETTINGS_MODULE"] = "powercis.settings"
    os.environ.setdefault("POWERCIS_VAR_DIR", "/tmp/powercis-bench-reading")
    base_url = urlsplit(args.database_url)._replace(path=f"/{args.base_db}").geturl()
    with maintenance_connection(args.database_url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.base_db]).fetchone()
    if not exists:
        os.environ["POWERCIS_DATABASE_URL"] = create_scratch_postgres(args.database_url, args.base_db)
    else:
        os.environ["POWERCIS_DATABASE_URL"] = base_url
        print(f"using the kept base database {args.base_db} (utility and history already built)")
    import django

    django.setup()
    if not exists:
        build(args)
    figures = []
    for run in range(args.runs):
        use_database(args.database_url)
        with maintenance_connection(args.database_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.scratch_db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.scratch_db}" TEMPLATE "{args.base_db}"')
        use_database(urlsplit(args.database_url)._replace(path=f"/{args.scratch_db}").geturl())
        print(f"\n=== run {run + 1} of {args.runs} (a copy of {args.base_db})")
        figures.append(timed(args))
        use_database(base_url)
        if not args.keep:
            drop_scratch_postgres(args.database_url, args.scratch_db)
    if args.runs > 1:
        print()
        for key in ("plans", "validation", "total", "rerun"):
            values = sorted(f[key] for f in figures)
            print(f"{key}: runs {', '.join(f'{f[key]:.1f}' for f in figures)}; median {statistics.median(values):.1f} s")


if __name__ == "__main__":
    main()
