"""Benchmark: generate the synthetic county utility (``powercis demo --accounts N``) into a fresh database.

Creates a scratch database, migrates it, loads the demo company, then times
``powercis.synthetic.services.generate`` — the function ``powercis demo`` calls — for N
accounts (default 1,000,000): building the rows (Polars/NumPy), reserving ids, COPY per
table, dropping and recreating indexes and constraints (bulk mode), ANALYZE, and the
search index rebuild.  Then checks the result stays searchable: the archive search a
county clerk uses, for account numbers and names of generated accounts.  Prints the
rows per table, the time per phase, the total and the machine.  Run from the repository root:

    .venv/bin/python benchmarks/generate.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/generate.py --database-url postgres://postgres@127.0.0.1:5432/postgres --no-bulk
    .venv/bin/python benchmarks/generate.py --accounts 100000          # SQLite, a scratch file under /tmp

PostgreSQL: the URL names the server and the login; the scratch database ``bench_gen``
(``--scratch-db``) is created through the ``postgres`` maintenance database and dropped
at the end.  The reference date is fixed (``--as-of``), so runs generate the same rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from org_subtree import cpu_model, database_version, scratch_database

TARGET_SECONDS = 300


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="",
                        help="postgres://user@host:port/db of the server to use (default: SQLite under /tmp)")
    parser.add_argument("--scratch-db", default="bench_gen", help="PostgreSQL database to create and drop")
    parser.add_argument("--accounts", type=int, default=1_000_000, help="accounts to generate (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 27))
    bulk = parser.add_mutually_exclusive_group()
    bulk.add_argument("--bulk", dest="bulk", action="store_true", default=None,
                      help="force the bulk mode (drop and recreate indexes and constraints around COPY)")
    bulk.add_argument("--no-bulk", dest="bulk", action="store_false", help="keep indexes and constraints in place")
    parser.add_argument("--queries", type=int, default=40, help="searches timed after generation (default 40)")
    parser.add_argument("--skip-search", action="store_true",
                        help="leave the search index alone (to compare write modes; the total then excludes it)")
    return parser.parse_args()


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def searches(args: argparse.Namespace) -> list[tuple[str, float, int]]:
    """(query, ms, hits) of searches by the HZ0101 billing clerk for generated account numbers and names."""
    from powercis.core.models import Staff
    from powercis.customers.models import Account
    from powercis.search.selectors import search

    clerk = Staff.objects.get(username="clerk")
    rng = random.Random(args.seed)
    visible = Account.objects.filter(org_path__startswith=clerk.org.path)
    total = visible.count()
    picks = [visible.order_by("pk")[rng.randrange(total)] for _ in range(args.queries // 2)] if total else []
    queries = [a.account_no for a in picks] + [a.name[:2] for a in picks]
    timings = []
    for query in queries:
        started = time.perf_counter()
        result = search(clerk, query)
        timings.append((query, (time.perf_counter() - started) * 1000, len(result.hits)))
    return timings


def run(args: argparse.Namespace) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    import polars

    from powercis.core.context import Actor
    from powercis.core.demo import load_demo
    from powercis.synthetic.services import generate

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    company = load_demo().company
    print(f"migrated and loaded the demo company in {time.perf_counter() - started:.1f} s (not counted)")

    started = time.perf_counter()
    result = generate(Actor.as_system("benchmark"), company=company, accounts=args.accounts, seed=args.seed,
                      as_of=args.as_of, bulk=args.bulk, rebuild_search=not args.skip_search)
    total = time.perf_counter() - started

    report = result.report
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {memory_gib():.0f} GiB RAM; "
          f"Python {platform.python_version()}, Django {django.get_version()}, Polars {polars.__version__}; "
          f"{database_version()}; load average {os.getloadavg()[0]:.2f}")
    print(f"generated {args.accounts:,} accounts, seed {args.seed}, as of {args.as_of}; "
          f"bulk mode {'on' if report.bulk_mode else 'off'}; digest {result.run.digest[:16]}")
    print()
    print("| table | rows |")
    print("| --- | ---: |")
    for label, rows in report.rows.items():
        print(f"| {label} | {rows:,} |")
    print(f"| **all** | **{sum(report.rows.values()):,}** |")
    print()
    print("| phase | seconds |")
    print("| --- | ---: |")
    print(f"| build rows (Polars/NumPy) and digest | {result.seconds['build']:.1f} |")
    for phase, seconds in report.seconds.items():
        print(f"| {phase} | {seconds:.1f} |")
    print(f"| write, all phases above | {result.seconds['write']:.1f} |")
    print(f"| commit (deferred constraint checks) | {result.seconds['commit']:.1f} |")
    if args.skip_search:
        print("| search index rebuild | skipped |")
    else:
        print(f"| search index rebuild ({result.search_rows or 0:,} rows) | {result.seconds['search index']:.1f} |")
    print(f"| **total** | **{total:.1f}** |")
    print()
    verdict = "within" if total <= TARGET_SECONDS else "OVER"
    print(f"total {total:.1f} s for {args.accounts:,} accounts: {verdict} the {TARGET_SECONDS} s target "
          f"({args.accounts / total:,.0f} accounts/s)")
    timings = [] if args.skip_search else searches(args)
    if timings:
        ms = sorted(t for _q, t, _n in timings)
        cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
        found = sum(1 for _q, _t, n in timings if n)
        print(f"searchable: {len(timings)} searches by the HZ0101 clerk (account numbers, 2-character names), "
              f"{found} with hits; p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms, max {ms[-1]:.1f} ms")


def main() -> None:
    args = parse_args()
    with scratch_database(args.database_url, args.scratch_db):
        run(args)


if __name__ == "__main__":
    main()
