"""Loading the reading engine's inputs as Polars frames, straight from SQL.

The month-end engines read millions of rows (tasks, register reads, installations), so
they never go through model instances.  A query names its columns with a *kind* and
this module makes the value arrive the same way from both databases:

* PostgreSQL: ``COPY (SELECT …) TO STDOUT`` as CSV, parsed by Polars — the fastest way
  out of the server (one stream, no per-row Python objects);
* SQLite: a plain cursor; every column is wrapped in an expression so that the
  ``sqlite3`` type converters Django registers (dates, booleans) do not apply and the
  values arrive as text or integers, as on PostgreSQL.

Kinds: ``int``; ``str``; ``json`` (text of a JSON column); ``dec`` — a decimal, read as
its exact text and cast to ``Decimal(38, 4)`` (SQLite stores NUMERIC as a binary float;
its text form has at most 15 significant digits, which covers a 10-digit register with
4 decimals, so the text is the value that was written); ``date``; ``ts`` — a timestamp,
read as text (PostgreSQL prints it with its offset, SQLite stores naive UTC) and parsed
into a UTC datetime; ``bool``.

Sets of ids (tasks, plans) go into queries through :class:`IdSet`: a temporary table
filled by COPY on PostgreSQL, a JSON array on SQLite, so that a million ids are one
parameter or one table rather than a million placeholders.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

import polars as pl
from django.conf import settings
from django.db import connection

from powercis.metering.models import REGISTERS

DEC = pl.Decimal(38, 4)
UTC_TS = pl.Datetime("us", "UTC")

_names = itertools.count(1)
#: id sets smaller than this get an index on their temporary table
INDEX_BELOW = 50_000


def postgres() -> bool:
    return connection.vendor == "postgresql"


#: memory per sort or hash of the engines' queries (PostgreSQL's default of 4 MB spills joins of a month to disk)
WORK_MEM = "256MB"


def tune_transaction() -> None:
    """Session settings for the engines' set-based queries, for the current transaction only (PostgreSQL).

    JIT compilation is switched off: the planner's cost of a month's join crosses the JIT
    threshold, and compiling it (measured: 1.5 s for one history query at 100,000 accounts)
    costs more than it saves on queries that run for seconds.
    """
    if postgres():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def column(expr: str, kind: str) -> str:
    """``expr`` wrapped so that its value arrives as the kind says on either database."""
    if kind == "ts":
        # as text, parsed by Polars: PostgreSQL prints it in the session's zone (UTC under Django) with the
        # offset, which costs less than computing epoch numbers; SQLite holds naive UTC text already
        return expr if postgres() else f"CAST({expr} AS TEXT)"
    if kind == "bool":
        return f"(CASE WHEN {expr} THEN 1 ELSE 0 END)"
    if kind in ("dec", "date") and not postgres():
        return f"CAST({expr} AS TEXT)"
    if kind == "json" and postgres():
        return f"({expr})::text"
    return expr


def select_list(columns: Sequence[tuple[str, str, str]]) -> str:
    """``expr AS name, …`` for (name, expression, kind) triples."""
    return ", ".join(f"{column(expr, kind)} AS {name}" for name, expr, kind in columns)


_RAW = {"int": pl.Int64, "bool": pl.Int64}


def _convert(frame: pl.DataFrame, kinds: dict[str, str]) -> pl.DataFrame:
    exprs = []
    for name, kind in kinds.items():
        col = pl.col(name)
        if kind == "dec":
            exprs.append(col.cast(DEC))
        elif kind == "date":
            exprs.append(col.str.slice(0, 10).str.to_date("%Y-%m-%d"))
        elif kind == "ts":
            if postgres():
                exprs.append(col.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%#z", time_unit="us").dt.convert_time_zone("UTC"))
            else:
                exprs.append(col.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us").dt.replace_time_zone("UTC"))
        elif kind == "bool":
            exprs.append(col.cast(pl.Boolean))
        elif kind in ("str", "json"):
            exprs.append(col.cast(pl.Utf8))
        else:
            exprs.append(col.cast(pl.Int64))
    return frame.select(exprs)


def empty(kinds: dict[str, str]) -> pl.DataFrame:
    raw = pl.DataFrame(schema={n: _RAW.get(k, pl.Utf8) for n, k in kinds.items()})
    return _convert(raw, kinds)


def fetch(sql: str, params: Sequence, kinds: dict[str, str]) -> pl.DataFrame:
    """Run ``sql`` (its select list in the order of ``kinds``) and return the rows as a typed frame."""
    names = list(kinds)
    raw_schema = {n: _RAW.get(k, pl.Utf8) for n, k in kinds.items()}
    with connection.cursor() as cursor:
        if postgres():
            buffer = io.BytesIO()
            # the driver's cursor: Django's debug wrapper (DEBUG, or a test capturing queries) has a copy() that
            # takes no parameters
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", list(params)) as copy:
                for block in copy:
                    buffer.write(block)
            if buffer.tell() == 0:
                return empty(kinds)
            buffer.seek(0)
            raw = pl.read_csv(buffer, has_header=False, new_columns=names, schema=raw_schema,
                              infer_schema=False)
        else:
            cursor.execute(sql, list(params))
            rows = cursor.fetchall()
            if not rows:
                return empty(kinds)
            raw = pl.DataFrame(rows, schema=raw_schema, orient="row")
    return _convert(raw, kinds)


def query(columns: Sequence[tuple[str, str, str]], rest: str, params: Sequence = ()) -> pl.DataFrame:
    """``SELECT <columns> <rest>`` as a frame; ``rest`` is the FROM … WHERE … part."""
    return fetch(f"SELECT {select_list(columns)} {rest}", params, {name: kind for name, _e, kind in columns})


class IdSet:
    """A set of ids usable in SQL as ``column IN (…)``, whatever its size.

    Use as a context manager: on PostgreSQL the ids are copied into a temporary table
    (analysed, so the planner knows its size) that is dropped on exit; on SQLite they
    travel as one JSON array read with ``json_each``.
    """

    def __init__(self, ids: Iterable[int] | pl.Series):
        series = ids if isinstance(ids, pl.Series) else pl.Series(list(ids), dtype=pl.Int64)
        self.ids = series.cast(pl.Int64).drop_nulls().unique().sort()
        self.table_name = f"_reading_ids_{next(_names)}"

    def __enter__(self) -> IdSet:
        if postgres():
            with connection.cursor() as cursor:
                # a primary key only for small sets (probed by index); large ones are hashed whole
                key = " PRIMARY KEY" if self.ids.len() < INDEX_BELOW else " NOT NULL"
                cursor.execute(f"CREATE TEMPORARY TABLE {self.table_name} (id bigint{key})")
                if self.ids.len():
                    with cursor.copy(f"COPY {self.table_name} (id) FROM STDIN") as copy:
                        copy.write(pl.DataFrame({"id": self.ids}).write_csv(include_header=False))
                cursor.execute(f"ANALYZE {self.table_name}")
        return self

    def __exit__(self, *exc) -> None:
        if postgres():
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.table_name}")

    def __len__(self) -> int:
        return self.ids.len()

    def table(self, alias: str) -> tuple[str, list, str]:
        """The ids as a table to join: (FROM item, its parameters, the id column as ``alias.column``)."""
        if postgres():
            return f"{self.table_name} {alias}", [], f"{alias}.id"
        return f"json_each(%s) {alias}", [json.dumps(self.ids.to_list())], f"{alias}.value"

    def where(self, expr: str) -> tuple[str, list]:
        """SQL condition ``expr IN (the ids)`` and its parameters."""
        if postgres():
            return f"{expr} IN (SELECT id FROM {self.table_name})", []
        return f"{expr} IN (SELECT value FROM json_each(%s))", [json.dumps(self.ids.to_list())]


def ids_condition(expr: str, ids: Sequence[int]) -> tuple[str, list]:
    """``expr IN (ids)`` for a short list known in advance (plans, orgs): an array or a JSON parameter."""
    ids = sorted({int(i) for i in ids})
    if postgres():
        return f"{expr} = ANY(%s)", [ids]
    return f"{expr} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]


def text_condition(expr: str, values: Sequence[str]) -> tuple[str, list]:
    values = sorted(set(values))
    if postgres():
        return f"{expr} = ANY(%s)", [values]
    return f"{expr} IN (SELECT value FROM json_each(%s))", [json.dumps(values)]


def analyze(*tables: str) -> None:
    """Refresh the planner's statistics of tables just filled in bulk (PostgreSQL), so the next queries plan well.

    Autovacuum gets to a table a while after a COPY of a month; until then the planner
    believes the table is as small as before and picks nested loops over a million rows.
    """
    if postgres():
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def utc_offset_minutes(on: dt.date) -> int:
    """Minutes the local time zone is ahead of UTC on ``on`` (used where SQLite compares dates to stored UTC)."""
    offset = dt.datetime.combine(on, dt.time(12), tzinfo=local_zone()).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def local_midnight_sql(date_expr: str, days: int) -> tuple[str, list]:
    """SQL for the UTC instant of local midnight ``days`` after the date in ``date_expr``, with its parameters.

    PostgreSQL converts through the named zone; SQLite, which has no zone data, shifts by
    the zone's UTC offset today — exact for zones without daylight saving, such as
    Asia/Shanghai.
    """
    if postgres():
        return f"(({date_expr} + {int(days)})::timestamp AT TIME ZONE %s)", [settings.TIME_ZONE]
    minutes = -utc_offset_minutes(dt.date.today())
    return f"datetime({date_expr}, '{int(days):+d} days', '{minutes:+d} minutes')", []


def local_date(expr: pl.Expr) -> pl.Expr:
    """The local calendar date of a UTC datetime column ("per day" means the local date, USE_TZ)."""
    return expr.dt.convert_time_zone(settings.TIME_ZONE).dt.date()


def register_struct(json_column: str, registers: Sequence[str]) -> pl.Expr:
    """A JSON object column of register → decimal text as a struct of text fields."""
    return pl.col(json_column).str.json_decode(pl.Struct({r: pl.Utf8 for r in registers}))


# ---------------------------------------------------------------------------
# reads: one row per meter and instant in the database, one row per register in the engines

#: the register columns of ``reading_registerread`` as :func:`fetch` kinds, ``v_<register>`` decimals
REGISTER_KINDS = {f"v_{r}": "dec" for r in REGISTERS}


def register_columns(alias: str, registers: Sequence[str] = REGISTERS) -> list[tuple[str, str, str]]:
    """The register columns of a read, for :func:`query` or :func:`select_list`, as ``v_<register>`` decimals."""
    return [(f"v_{r}", f"{alias}.{r}", "dec") for r in registers]


def long_reads(frame: pl.DataFrame, registers: Sequence[str] = REGISTERS) -> pl.DataFrame:
    """A frame of reads with ``v_<register>`` columns as one row per register the read has.

    The other columns are repeated on each row; ``register`` is the register's name and
    ``value`` its decimal; registers the read does not have (null) give no row.  Rows come
    register by register (every total first), each register in the frame's order.
    """
    present = [r for r in registers if f"v_{r}" in frame.columns]
    keep = [c for c in frame.columns if not c.startswith("v_")]
    if frame.height == 0 or not present:
        return frame.select(keep).with_columns(register=pl.lit(None, pl.Utf8), value=pl.lit(None, DEC)).clear()
    parts = [frame.select(*keep, register=pl.lit(r), value=pl.col(f"v_{r}").cast(DEC))
             .filter(pl.col("value").is_not_null()) for r in present]
    return pl.concat(parts)
