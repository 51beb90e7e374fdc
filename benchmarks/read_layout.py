"""Benchmark: how fast PostgreSQL takes register reads in two table layouts — one row per register, or one per meter
and instant with the registers as columns.

The ingest benchmark (``reading_ingest.py``) shows that writing the rows is most of an ingest's
time.  This measures the write alone, for the same reads in both layouts, so that the choice of
layout rests on a figure: 2,900,000 reads of about 1,017,000 meter instants (2.85 registers per
meter, as in the synthetic utility).  The rows are built by the server (``generate_series``),
copied out in binary once, and the timed step is the binary ``COPY … FROM STDIN`` of those bytes
into a new table — the client sends what the engine's encoder would send.  Run from the
repository root:

    .venv/bin/python benchmarks/read_layout.py --database-url postgres://postgres@127.0.0.1:5432/postgres

The scratch database ``bench_layout`` (``--scratch-db``) is created and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from org_subtree import cpu_model, create_scratch_postgres, drop_scratch_postgres

READS = 2_900_000
METER_INSTANTS = 1_017_000

NARROW = """
SELECT g::bigint AS id, (g / 3)::bigint AS metering_point_id, (g / 3)::bigint AS meter_id,
       (ARRAY['total', 'peak', 'valley'])[g %% 3 + 1]::varchar(8) AS register,
       timestamptz '2026-10-01' + (g %% 10) * interval '1 day' AS read_at,
       (random() * 100000)::numeric(16, 4) AS value, 'ami'::varchar(8) AS source, 0::smallint AS revision,
       false AS estimated, 'valid'::varchar(10) AS status, 1::bigint AS batch_id, NULL::bigint AS task_id,
       NULL::bigint AS entered_by_id, NULL::bigint AS corrects_id, ''::varchar(200) AS photo_ref,
       ''::varchar(200) AS note, ''::varchar(80) AS flags, now() AS recorded_at
FROM generate_series(1, %(n)s) AS g"""

WIDE = """
SELECT g::bigint AS id, g::bigint AS metering_point_id, g::bigint AS meter_id,
       timestamptz '2026-10-01' + (g %% 10) * interval '1 day' AS read_at, 'ami'::varchar(8) AS source,
       0::smallint AS revision, false AS estimated, 'valid'::varchar(10) AS status, 1::bigint AS batch_id,
       (random() * 100000)::numeric(16, 4) AS total, (random() * 100000)::numeric(16, 4) AS peak,
       (random() * 100000)::numeric(16, 4) AS valley, NULL::numeric(16, 4) AS sharp, NULL::numeric(16, 4) AS flat,
       NULL::numeric(16, 4) AS reactive, NULL::numeric(16, 4) AS demand, NULL::numeric(16, 4) AS reverse,
       ''::varchar(80) AS flags, now() AS recorded_at
FROM generate_series(1, %(n)s) AS g"""

#: (label, layout, rows, reads they carry, indexes created on the empty target before the COPY)
CASES = (
    ("one row per register, no index", "narrow", READS, READS, ()),
    ("one row per register: primary key, unique key, metering point", "narrow", READS, READS,
     ("PRIMARY KEY (id)", "UNIQUE (meter_id, register, read_at, source, revision)",
      "INDEX (metering_point_id, register, read_at)")),
    ("one row per meter and instant, no index", "wide", METER_INSTANTS, READS, ()),
    ("one row per meter and instant: primary key, unique key", "wide", METER_INSTANTS, READS,
     ("PRIMARY KEY (id)", "UNIQUE (meter_id, read_at, source, revision)")),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgres://user@host:port/db of the server to use")
    parser.add_argument("--scratch-db", default="bench_layout", help="PostgreSQL database to create and drop")
    parser.add_argument("--repeat", type=int, default=3, help="timed COPYs per case (default 3); the median is quoted")
    return parser.parse_args()


def add_index(cursor, table: str, spec: str, n: int) -> None:
    if spec.startswith("INDEX "):
        cursor.execute(f"CREATE INDEX {table}_i{n} ON {table} {spec[len('INDEX '):]}")
    else:
        cursor.execute(f"ALTER TABLE {table} ADD {spec}")


def run(url: str, repeat: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
        print(f"machine: {cpu_model()}, {os.cpu_count()} cores; {version}; load average {os.getloadavg()[0]:.2f}")
        sources = {}
        for layout, sql, n in (("narrow", NARROW, READS), ("wide", WIDE, METER_INSTANTS)):
            cursor.execute(f"CREATE UNLOGGED TABLE src_{layout} AS {sql}", {"n": n})
            with cursor.copy(f"COPY src_{layout} TO STDOUT (FORMAT binary)") as copy:
                sources[layout] = b"".join(bytes(block) for block in copy)
        print()
        print("| target table | rows | reads | seconds (median) | rows/s | reads/s |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for label, layout, rows, reads, indexes in CASES:
            seconds = []
            for _run in range(repeat):
                cursor.execute("DROP TABLE IF EXISTS dst")
                cursor.execute(f"CREATE TABLE dst (LIKE src_{layout})")
                for n, spec in enumerate(indexes):
                    add_index(cursor, "dst", spec, n)
                started = time.perf_counter()
                with conn.transaction(), cursor.copy("COPY dst FROM STDIN (FORMAT binary)") as copy:
                    data = sources[layout]
                    for start in range(0, len(data), 1 << 20):
                        copy.write(data[start:start + (1 << 20)])
                seconds.append(time.perf_counter() - started)
            median = statistics.median(seconds)
            print(f"| {label} | {rows:,} | {reads:,} | {median:.2f} | {rows / median:,.0f} | {reads / median:,.0f} |",
                  flush=True)
        cursor.execute("DROP TABLE IF EXISTS dst, src_narrow, src_wide")


def main() -> None:
    args = parse_args()
    url = create_scratch_postgres(args.database_url, args.scratch_db)
    try:
        run(url, args.repeat)
    finally:
        drop_scratch_postgres(args.database_url, args.scratch_db)


if __name__ == "__main__":
    main()
