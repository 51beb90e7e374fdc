"""Writing a :class:`~.plan.Plan` into the database, set-based: PostgreSQL ``COPY``, SQLite ``executemany``.

Ids.  Each table's rows get one contiguous block of ids reserved before anything is
written: on PostgreSQL the table is locked against other writers and its identity
sequence is advanced past the block (``setval``), so rows inserted later by anyone get
ids after it; on SQLite the transaction already holds the write lock, and an explicit id
above the ``AUTOINCREMENT`` counter moves the counter.  Existing rows are never touched,
so the generator can load into a database that already holds data.

Bulk mode (PostgreSQL, large loads).  Inserting millions of rows into tables with their
secondary indexes and deferred foreign-key constraints in place costs an index update
per row per index and a queued constraint check per row.  In bulk mode the writer drops
the secondary indexes, unique and foreign-key constraints of the tables it fills (as
``pg_get_indexdef`` / ``pg_get_constraintdef`` print them), copies, and creates them
again — a sorted index build and one validating join per constraint — all inside the
same transaction, so a failure leaves the schema and the data as they were.  The tables
are locked (ACCESS EXCLUSIVE) until the transaction commits.

Columns the frames do not carry are filled from the model: nullable ones stay NULL,
ones with a database default get it, others get the field's Python default — so a
column added to a model later does not break the generator unless it needs a value
only the application can give, which is reported by name.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field

import polars as pl
from django.db import connection, models

from .plan import Plan, Table

COPY_CHUNK_ROWS = 200_000
SQLITE_CHUNK_ROWS = 20_000


@dataclass
class WriteReport:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # phase → seconds: "copy <table>", "indexes", …
    bulk_mode: bool = False


@dataclass(frozen=True)
class OrgRef:
    id: int
    path: str
    company_id: int


def _own_id(model: type[models.Model]) -> bool:
    """Whether the table numbers its own rows (AccountLoad's key is its account's)."""
    return isinstance(model._meta.pk, models.AutoField | models.BigAutoField)


def reserve_ids(tables: list[Table]) -> dict[str, int]:
    """The first id of each table's block, after locking the tables against concurrent writers."""
    bases: dict[str, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(connection.ops.quote_name(t.model._meta.db_table) for t in tables)
            cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
        for table in tables:
            model = table.model
            if not _own_id(model):
                continue
            db_table = model._meta.db_table
            quoted = connection.ops.quote_name(db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            count = table.frame.height
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [db_table, model._meta.pk.column])
                sequence = cursor.fetchone()[0]
                cursor.execute(
                    f"SELECT setval(%s, GREATEST((SELECT COALESCE(MAX({pk}), 0) FROM {quoted}),"
                    f" (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {sequence})) + %s)",
                    [sequence, max(count, 1)])
                bases[table.label] = cursor.fetchone()[0] - max(count, 1) + 1
            else:
                cursor.execute(f"SELECT COALESCE(MAX({pk}), 0) FROM {quoted}")
                top = cursor.fetchone()[0]
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [db_table])
                row = cursor.fetchone()
                bases[table.label] = max(top, row[0] if row else 0) + 1
    return bases


def resolve(table: Table, bases: dict[str, int], orgs: dict[str, OrgRef], profiles: dict[str, int]) -> pl.DataFrame:
    """The table's frame with database ids and foreign keys, named and ordered as the table's columns."""
    model = table.model
    frame = table.frame
    fields = {f.name: f for f in model._meta.concrete_fields}
    exprs = []
    if "id" in frame.columns:
        exprs.append((pl.col("id") + bases[table.label]).alias(model._meta.pk.column))
    for name, target in table.refs.items():
        exprs.append((pl.col(name) + bases[target]).alias(fields[name].column))
    if "org" in frame.columns:
        codes = frame["org"].unique().to_list()
        exprs += [
            pl.col("org").replace_strict({c: orgs[c].id for c in codes}, return_dtype=pl.Int64).alias("org_id"),
            pl.col("org").replace_strict({c: orgs[c].path for c in codes}, return_dtype=pl.Utf8).alias("org_path"),
            pl.col("org").replace_strict({c: orgs[c].company_id for c in codes}, return_dtype=pl.Int64)
            .alias("company_id"),
        ]
    if "profile" in frame.columns:
        exprs.append(pl.col("profile").replace_strict(profiles, return_dtype=pl.Int64).alias("profile_id"))
    handled = {"id", "org", "profile", *table.refs}
    exprs += [pl.col(c).alias(fields[c].column) for c in frame.columns if c not in handled]
    frame = frame.select(exprs)
    missing = [f for f in model._meta.concrete_fields if f.column not in frame.columns]
    fills = []
    for f in missing:
        if f.null or f.db_default is not models.NOT_PROVIDED:
            continue
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            fills.append(pl.lit(dt.datetime.now(dt.UTC)).alias(f.column))
        elif f.has_default():
            value = f.get_default()
            fills.append(pl.lit(json.dumps(value) if isinstance(f, models.JSONField) else value).alias(f.column))
        else:
            raise ValueError(f"{table.label}.{f.name} needs a value the generator does not produce")
    return frame.with_columns(fills) if fills else frame


# ---------------------------------------------------------------------------
# PostgreSQL


def secondary_objects(cursor, db_tables: list[str]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(table, constraint, definition) of unique and FK constraints, (index, definition) of plain indexes."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
          FROM pg_constraint c
         WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('u', 'f')
           AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = c.conindid
                                                          AND c.contype = 'u')
         ORDER BY c.contype DESC, c.conrelid::regclass::text, c.conname
        """, [db_tables])
    constraints = [tuple(row) for row in cursor.fetchall()]
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
          FROM pg_index i
         WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
         ORDER BY 1
        """, [db_tables])
    indexes = [tuple(row) for row in cursor.fetchall()]
    return constraints, indexes


def _copy(cursor, db_table: str, frame: pl.DataFrame) -> None:
    columns = ", ".join(connection.ops.quote_name(c) for c in frame.columns)
    with cursor.copy(f"COPY {connection.ops.quote_name(db_table)} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
        for start in range(0, frame.height, COPY_CHUNK_ROWS):
            copy.write(frame.slice(start, COPY_CHUNK_ROWS).write_csv(include_header=False).encode("utf-8"))


def _write_postgresql(resolved: list[tuple[Table, pl.DataFrame]], bulk: bool, report: WriteReport) -> None:
    db_tables = [t.model._meta.db_table for t, _f in resolved]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        constraints, indexes = secondary_objects(cursor, db_tables) if bulk else ([], [])
        started = time.perf_counter()
        for table, name, _definition in reversed(constraints):  # foreign keys before the unique keys they may use
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        if bulk:
            report.seconds["drop indexes and constraints"] = time.perf_counter() - started
        for table, frame in resolved:
            started = time.perf_counter()
            _copy(cursor, table.model._meta.db_table, frame)
            report.seconds[f"copy {table.label}"] = time.perf_counter() - started
        if bulk:
            started = time.perf_counter()
            for _name, definition in indexes:
                cursor.execute(definition)
            report.seconds["create indexes"] = time.perf_counter() - started
            started = time.perf_counter()
            for table, name, definition in constraints:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
            report.seconds["add constraints"] = time.perf_counter() - started
        started = time.perf_counter()
        for db_table in db_tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(db_table)}")
        report.seconds["analyze"] = time.perf_counter() - started


# ---------------------------------------------------------------------------
# SQLite


def _sqlite_values(frame: pl.DataFrame) -> pl.DataFrame:
    """Values as Django's SQLite backend stores them: ISO dates, naive UTC datetimes, 0/1, decimals as text."""
    exprs = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype == pl.Date:
            exprs.append(column.dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(column.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f"))
        elif dtype == pl.Boolean:
            exprs.append(column.cast(pl.Int8))
        elif isinstance(dtype, pl.Decimal):
            exprs.append(column.cast(pl.Utf8))
        else:
            exprs.append(column)
    return frame.select(exprs)


def _write_sqlite(resolved: list[tuple[Table, pl.DataFrame]], report: WriteReport) -> None:
    raw = connection.connection
    for table, frame in resolved:
        started = time.perf_counter()
        columns = ", ".join(connection.ops.quote_name(c) for c in frame.columns)
        sql = (f"INSERT INTO {connection.ops.quote_name(table.model._meta.db_table)} ({columns}) "
               f"VALUES ({', '.join('?' * len(frame.columns))})")
        values = _sqlite_values(frame)
        for start in range(0, values.height, SQLITE_CHUNK_ROWS):
            raw.executemany(sql, values.slice(start, SQLITE_CHUNK_ROWS).iter_rows())
        report.seconds[f"insert {table.label}"] = time.perf_counter() - started


def write_plan(plan: Plan, *, orgs: dict[str, OrgRef], profiles: dict[str, int], bulk: bool) -> WriteReport:
    """Write every table of ``plan``; the caller holds the transaction.  ``bulk`` applies to PostgreSQL only."""
    report = WriteReport(bulk_mode=bulk and connection.vendor == "postgresql")
    started = time.perf_counter()
    bases = reserve_ids(plan.tables)
    resolved = [(table, resolve(table, bases, orgs, profiles)) for table in plan.tables]
    report.seconds["assign ids"] = time.perf_counter() - started
    report.rows = {table.label: frame.height for table, frame in resolved}
    if connection.vendor == "postgresql":
        _write_postgresql(resolved, report.bulk_mode, report)
    else:
        _write_sqlite(resolved, report)
    return report
