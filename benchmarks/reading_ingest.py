"""Benchmark: register read ingest end to end — file → parsed → resolved → checked → committed.

Builds a scratch database with the synthetic county utility (``--accounts``, default
100,000: about 101,000 installed meters and 290,000 registers), then writes delivery
files of daily frozen reads — ``--days`` days (default 10) of every register of every
installed meter, with a few per cent of bad rows (unknown meters, registers that do not
exist, values that are not numbers, dates in the future) and a slice of the previous
delivery sent again (duplicates) — and times ``reading.ingest.ingest_file`` on each, as
the upload page, the API and ``powercis reads ingest`` call it, from the file on disk to
the committed transaction.  Each run delivers new days, so the table grows as it would.
Values are plausible (consumption within the accounts' capacity, TOU registers adding up
to the total) so that the arrival checks run over every row without flagging them.

Then measures the physical limit on the same machine: the binary COPY of one delivery's
accepted rows into a table of the same columns without any index (and with only the
table's indexes, no foreign keys), which is what any ingest into this schema has to pay.

With ``--concurrent N`` each delivery is split by meter into N files, as head-ends deliver
per region, and the N files are ingested at the same time by N worker processes, each with
its own connection and transaction (as N uploads, API calls or ``powercis reads ingest``
runs would be); the rate is then all the reads of the N files over the time from the first
start to the last commit.  One delivery alone leaves a core idle for much of its time: the
server is idle while the engine works on the delivery in Polars, the engine while the
server writes it.

Prints the machine, the PostgreSQL settings that matter, per-run figures (reads/s), the
median per format, the time per phase and the limits.  Run from the repository root:

    .venv/bin/python benchmarks/reading_ingest.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/reading_ingest.py --database-url postgres://postgres@127.0.0.1:5432/postgres \
        --concurrent 2
    .venv/bin/python benchmarks/reading_ingest.py --accounts 5000 --days 5          # SQLite, a scratch file

PostgreSQL: the URL names the server and login; the scratch database ``bench_ingest``
(``--scratch-db``) is created, migrated, filled and dropped at the end.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import memory_gib
from org_subtree import cpu_model, database_version, scratch_database

TARGET = 300_000
FIRST_DAY = dt.date(2026, 7, 1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="",
                        help="postgres://user@host:port/db of the server to use (default: SQLite under /tmp)")
    parser.add_argument("--scratch-db", default="bench_ingest", help="PostgreSQL database to create and drop")
    parser.add_argument("--accounts", type=int, default=100_000, help="synthetic accounts (default 100,000)")
    parser.add_argument("--days", type=int, default=10, help="days per delivery file (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="deliveries per format (default 3); the median is quoted")
    parser.add_argument("--formats", default="parquet,csv", help="comma-separated: parquet, csv, json, xlsx")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bad-share", type=float, default=0.02, help="share of bad rows added (default 0.02)")
    parser.add_argument("--skip-limit", action="store_true", help="do not measure the physical COPY limit")
    parser.add_argument("--concurrent", type=int, default=1,
                        help="split each delivery by meter into this many files ingested at the same time by as "
                             "many processes (default 1: one file, in this process)")
    return parser.parse_args()


def server_settings() -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        return ""
    names = ("shared_buffers", "max_wal_size", "synchronous_commit", "wal_level", "work_mem",
             "maintenance_work_mem")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
                       [list(names)])
        return ", ".join(f"{n}={v}" for n, v in cursor.fetchall())


# --- the archive's meters and plausible reads -----------------------------------------------


def series(seed: int):
    """One row per installed register: ids, asset number, and a daily increment within the account's capacity."""
    import numpy as np
    import polars as pl

    from powercis.reading.engine import frames

    meters = frames.query(
        [("meter_id", "m.id", "int"), ("asset_no", "m.asset_no", "str"), ("registers", "m.registers", "json"),
         ("digits", "m.digits", "int"),
         ("point_id", "mi.metering_point_id", "int"), ("installed_on", "mi.installed_on", "date"),
         ("multiplier", "mp.multiplier", "dec"), ("contract", "a.contract_capacity", "dec"),
         ("running", "a.running_capacity", "dec")],
        "FROM metering_meterinstallation mi JOIN metering_meter m ON m.id = mi.meter_id"
        " JOIN metering_meteringpoint mp ON mp.id = mi.metering_point_id"
        " LEFT JOIN customers_account a ON a.id = mp.account_id"
        " WHERE mi.removed_on IS NULL AND mi.installed_on < %s", [FIRST_DAY])
    rng = np.random.default_rng(seed)
    n = meters.height
    capacity = np.maximum(meters["contract"].cast(pl.Float64).fill_null(0).to_numpy(),
                          meters["running"].cast(pl.Float64).fill_null(0).to_numpy())
    cap_kwh = np.where(capacity > 0, capacity * 24, 200.0)
    kwh = np.minimum(rng.uniform(3, 15, n) * np.where(capacity > 50, capacity / 10, 1), cap_kwh * 0.3)
    multiplier = meters["multiplier"].cast(pl.Float64).fill_null(1).to_numpy()
    # register increment per day in hundredths (the meters show 2 decimals), at least 0.01
    step = np.maximum((kwh / multiplier * 100).astype(np.int64), 1)
    meters = meters.with_columns(step=pl.Series(step))
    return meters.with_columns(pl.col("registers").str.json_decode(pl.List(pl.Utf8))).explode("registers").rename(
        {"registers": "register"})


def delivery(registers, first_day: dt.date, days: int, *, bad_share: float, previous_day: dt.date | None,
             seed: int):
    """The delivery's rows (meter, register, read_at, value as text) and the accepted part with ids, for COPY."""
    import numpy as np
    import polars as pl

    day_index = pl.DataFrame({"day": pl.date_range(first_day, first_day + dt.timedelta(days=days - 1), eager=True)})
    # each register advances by its own whole number of hundredths a day, so every register only goes up and the
    # TOU registers add up to the total exactly: sharp 5 %, peak 30 % (35 % where the meter has no sharp
    # register), valley 25 %, flat the rest
    has_sharp = registers.filter(pl.col("register") == "sharp").select("meter_id").unique().with_columns(
        has_sharp=pl.lit(True))
    step = pl.col("step")
    sharp, peak, valley = step * 5 // 100, step * 30 // 100, step * 25 // 100
    per_day = (pl.when(pl.col("register") == "total").then(step)
               .when(pl.col("register") == "sharp").then(sharp)
               .when(pl.col("register") == "peak")
               .then(peak + pl.when(pl.col("has_sharp").is_null()).then(sharp).otherwise(0))
               .when(pl.col("register") == "valley").then(valley)
               .when(pl.col("register") == "flat").then(step - sharp - peak - valley)
               .when(pl.col("register") == "reactive").then(step * 30 // 100)
               .otherwise(0))
    # the register at a day's midnight: its daily advance times the days since installation (install reads are 0)
    rows = (registers.join(has_sharp, on="meter_id", how="left").join(day_index, how="cross")
            .with_columns(elapsed=(pl.col("day") - pl.col("installed_on")).dt.total_days())
            .with_columns(hundredths=pl.when(pl.col("register") == "demand").then(pl.lit(350, pl.Int64))
                          .otherwise(per_day * pl.col("elapsed"))
                          % (pl.lit(10, pl.Int64).pow(pl.col("digits")) * 100)))  # the register rolls over
    value = ((pl.col("hundredths") // 100).cast(pl.Utf8) + "."
             + (pl.col("hundredths") % 100).cast(pl.Utf8).str.zfill(2))
    accepted = rows.select(pl.col("point_id").alias("metering_point_id"), "meter_id",
                           pl.col("day").cast(pl.Datetime("us")).dt.replace_time_zone("Asia/Shanghai")
                           .dt.convert_time_zone("UTC").alias("read_at"),
                           (pl.col("hundredths") * 100).alias("value_fp"), pl.lit(False).alias("estimated"),
                           "register", pl.lit("").alias("flags"), pl.lit(None, pl.Int64).alias("task_id"),
                           pl.lit("").alias("photo_ref"))
    text = rows.select(pl.col("asset_no").alias("meter"), "register",
                       pl.col("day").dt.strftime("%Y-%m-%d").alias("read_at"), value.alias("value"))
    rng = np.random.default_rng(seed)
    extra = []
    bad = int(text.height * bad_share / 4)
    if bad:
        sample = text.sample(bad * 4, seed=seed, shuffle=True)
        quarter = [sample.slice(i * bad, bad) for i in range(4)]
        extra += [quarter[0].with_columns(meter="X" + pl.col("meter")),
                  quarter[1].with_columns(value=pl.lit("n/a")),
                  quarter[2].with_columns(register=pl.lit("power")),
                  quarter[3].with_columns(read_at=pl.lit("2099-01-01"))]
    if previous_day is not None:
        again = delivery(registers, previous_day, 1, bad_share=0, previous_day=None, seed=seed)[0]
        extra.append(again.sample(fraction=0.01, seed=int(rng.integers(1 << 30))))
    return pl.concat([text, *extra]), accepted


def write_file(frame, fmt: str, path: Path) -> None:
    import polars as pl

    if fmt == "parquet":
        # a head-end's Parquet: typed columns, a timestamp and an exact decimal
        typed = frame.with_columns(read_at=pl.col("read_at").str.to_datetime("%Y-%m-%d", strict=False),
                                   value=pl.col("value").cast(pl.Decimal(16, 4), strict=False))
        typed.write_parquet(path)
    elif fmt == "csv":
        frame.write_csv(path)
    elif fmt == "json":
        path.write_text(frame.write_json())
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(frame.columns)
        for row in frame.iter_rows():
            sheet.append(list(row))
        book.save(path)


# --- schema variants and the physical limit ------------------------------------------------


def copy_limit(accepted) -> list[tuple[str, int, int, float]]:
    """(table, register values, rows, seconds) of the binary COPY of ``accepted`` (one row per register value,
    as the engine checks them) into tables like the reads table, as the engine writes them: one row per meter and
    instant."""
    import polars as pl
    from django.db import connection, transaction

    from powercis.reading.ingest import store

    reads = store.wide_reads(accepted.with_columns(
        reg=pl.col("register").replace_strict(store.REG_CODE, return_dtype=pl.Int8), est=pl.col("estimated"),
        supplements=pl.lit(None, pl.Int64)))

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM reading_readbatch")
        batch_id = cursor.fetchone()[0]
    constants = store.Constants(source="ami", recorded_at=dt.datetime.now(dt.UTC), batch_id=batch_id, entered_by_id=None)
    variants = (("no index, no constraint", "INCLUDING DEFAULTS INCLUDING IDENTITY"),
                ("primary key only", "INCLUDING DEFAULTS INCLUDING IDENTITY", "ALTER TABLE {t} ADD PRIMARY KEY (id)"),
                ("the reads table's indexes, no foreign key", "INCLUDING ALL"))
    results = []
    for label, like, *after in variants:
        table = "bench_copy_limit"
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(f"CREATE TABLE {table} (LIKE reading_registerread {like})")
                for statement in after:
                    cursor.execute(statement.format(t=table))
        started = time.perf_counter()
        with transaction.atomic():
            store.copy_reads(reads, constants, table=table)
        results.append((label, accepted.height, reads.height, time.perf_counter() - started))
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {table}")
    return results


# --- concurrent deliveries ------------------------------------------------------------------


def setup_worker() -> None:
    """A worker process is started fresh (Polars' thread pool does not survive a fork): set Django up in it,
    from the environment the benchmark set (settings, scratch database)."""
    from django.apps import apps

    if not apps.ready:
        import django

        django.setup()


def ingest_part(org_id: int, path: str, now_iso: str) -> dict:
    """Ingest one file in a worker process (its own connection); the batch's counts and phases."""
    setup_worker()
    from powercis.core.context import Actor
    from powercis.core.models import Org
    from powercis.reading.ingest import ingest_file

    started = time.perf_counter()
    result = ingest_file(Actor.as_system("benchmark"), org=Org.objects.get(pk=org_id), source="ami",
                         path_or_bytes=Path(path), file_name=Path(path).name,
                         now=dt.datetime.fromisoformat(now_iso))
    batch = result.batch
    return figures(batch, time.perf_counter() - started)


def figures(batch, seconds: float) -> dict:
    """A delivery's counts and phases; ``commit`` is what ``seconds`` (the call) has beyond the batch's own time."""
    return {"rows_total": batch.rows_total, "rows_accepted": batch.rows_accepted,
            "rows_duplicate": batch.rows_duplicate, "rows_quarantined": batch.rows_quarantined,
            "rows_flagged": batch.rows_flagged, "summary": batch.summary,
            "commit": max(0.0, seconds - batch.seconds)}


def connect_worker() -> None:
    """Open the worker's connection before the clock starts (as a running worker has it)."""
    setup_worker()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def split_by_meter(frame, parts: int) -> list:
    """The delivery's rows in ``parts`` files of disjoint meters, as head-ends deliver per region."""
    import polars as pl

    part = (pl.col("meter").hash(seed=0) % parts).alias("_part")
    return [p.drop("_part") for p in frame.with_columns(part).partition_by("_part", maintain_order=True)]


# --- the run -------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    import polars as pl

    from powercis.core.context import Actor
    from powercis.core.demo import load_demo
    from powercis.core.models import Org
    from powercis.reading.ingest import ingest_file
    from powercis.synthetic.services import generate

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    company = load_demo().company
    generate(Actor.as_system("benchmark"), company=company, accounts=args.accounts, seed=args.seed,
             as_of=FIRST_DAY - dt.timedelta(days=1), rebuild_search=False)
    registers = series(args.seed)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {memory_gib():.0f} GiB RAM; "
          f"Python {platform.python_version()}, Django {django.get_version()}, Polars {pl.__version__}; "
          f"{database_version()}; load average {os.getloadavg()[0]:.2f}")
    settings_text = server_settings()
    if settings_text:
        print(f"server settings: {settings_text}")
    print(f"archive: {args.accounts:,} synthetic accounts, {registers['meter_id'].n_unique():,} installed meters, "
          f"{registers.height:,} registers (set up in {time.perf_counter() - started:.0f} s, not counted)")
    print()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    org = Org.objects.get(pk=company.pk)
    actor = Actor.as_system("benchmark")
    work = Path(os.environ["POWERCIS_VAR_DIR"])
    results: dict[str, list[dict]] = {f: [] for f in formats}
    phases: dict[str, dict[str, list[float]]] = {f: {} for f in formats}
    print("| run | format | rows in file | MB | accepted | duplicate | quarantined | flagged | seconds | reads/s |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    flags: dict[str, int] = {}
    pool = None
    if args.concurrent > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(args.concurrent, mp_context=multiprocessing.get_context("spawn"))
        for waiting in [pool.submit(connect_worker) for _n in range(args.concurrent)]:
            waiting.result()
    month = 0
    last_accepted = None
    previous_last_day = None
    for run_no in range(1, args.repeat + 1):
        for fmt in formats:
            first_day = FIRST_DAY + dt.timedelta(days=month * args.days)
            frame, accepted = delivery(registers, first_day, args.days, bad_share=args.bad_share,
                                       previous_day=previous_last_day, seed=args.seed + month)
            now = dt.datetime.combine(first_day + dt.timedelta(days=args.days + 1), dt.time(), tzinfo=dt.UTC)
            if pool is None:
                paths = [work / f"reads-{month:02d}.{fmt}"]
                write_file(frame, fmt, paths[0])
                clock = time.perf_counter()
                result = ingest_file(actor, org=org, source="ami", path_or_bytes=paths[0], file_name=paths[0].name,
                                     now=now)
                seconds = time.perf_counter() - clock
                parts = [figures(result.batch, seconds)]
            else:
                paths = [work / f"reads-{month:02d}-{i}.{fmt}" for i in range(args.concurrent)]
                for part, path in zip(split_by_meter(frame, args.concurrent), paths, strict=True):
                    write_file(part, fmt, path)
                clock = time.perf_counter()
                running = [pool.submit(ingest_part, org.pk, str(path), now.isoformat()) for path in paths]
                parts = [r.result() for r in running]
                seconds = time.perf_counter() - clock
            total = {key: sum(p[key] for p in parts) for key in ("rows_total", "rows_accepted", "rows_duplicate",
                                                                 "rows_quarantined", "rows_flagged")}
            rate = total["rows_total"] / seconds
            results[fmt].append({"seconds": seconds, "rows": total["rows_total"], "rate": rate})
            for part in parts:
                for code, n in part["summary"].get("flags", {}).items():
                    flags[code] = flags.get(code, 0) + n
                for name, value in part["summary"].get("phases", {}).items():
                    phases[fmt].setdefault(name, []).append(value)
                phases[fmt].setdefault("commit", []).append(part["commit"])
            size = sum(path.stat().st_size for path in paths)
            print(f"| {run_no} | {fmt} | {total['rows_total']:,} | {size / 1e6:.0f} | "
                  f"{total['rows_accepted']:,} | {total['rows_duplicate']:,} | {total['rows_quarantined']:,} | "
                  f"{total['rows_flagged']:,} | {seconds:.1f} | {rate:,.0f} |", flush=True)
            for path in paths:
                path.unlink()
            previous_last_day = first_day + dt.timedelta(days=args.days - 1)
            last_accepted = accepted
            month += 1
    if pool is not None:
        pool.shutdown()
        print(f"each delivery in {args.concurrent} files of disjoint meters, ingested at the same time by "
              f"{args.concurrent} processes; seconds from the first start to the last commit; phases per file")
    print(f"flags on arrival over all runs: {flags or 'none'}")
    print()
    for fmt in formats:
        rates = [r["rate"] for r in results[fmt]]
        print(f"median {fmt}: {statistics.median(rates):,.0f} reads/s end to end "
              f"(runs: {', '.join(f'{r:,.0f}' for r in rates)}); target {TARGET:,}")
    print()
    print("| phase | " + " | ".join(f"{f} s (median)" for f in formats) + " |")
    print("| --- | " + " | ".join("---:" for _f in formats) + " |")
    names = list(dict.fromkeys(n for f in formats for n in phases[f]))
    for name in names:
        cells = [f"{statistics.median(phases[f][name]):.2f}" if name in phases[f] else "" for f in formats]
        print(f"| {name} | " + " | ".join(cells) + " |")
    from django.db import connection

    if connection.vendor == "postgresql" and not args.skip_limit and last_accepted is not None:
        print()
        print(f"physical limit: binary COPY of one delivery's {last_accepted.height:,} register reads, same encoder")
        print("| target table | register reads | rows | seconds | register reads/s |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for label, values, rows, seconds in copy_limit(last_accepted):
            print(f"| {label} | {values:,} | {rows:,} | {seconds:.1f} | {values / seconds:,.0f} |")


def main() -> None:
    args = parse_args()
    if args.concurrent > 1 and not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("--concurrent needs a PostgreSQL server (--database-url): SQLite takes one writer at a time")
    with scratch_database(args.database_url, args.scratch_db):
        run(args)


if __name__ == "__main__":
    main()
