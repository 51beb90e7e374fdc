"""Set-based writes of the reading engines: COPY on PostgreSQL, ``executemany`` on SQLite.

Rows arrive as Polars frames whose columns are named as the table's columns.  Values
are turned into what each database expects — on PostgreSQL CSV text (ISO dates, UTC
timestamps, ``true``/``false``), on SQLite what Django's backend stores (ISO dates,
naive UTC text for datetimes, 0/1, decimals as text) — so that the ORM reads back the
same values it would have written itself.  Updates go through a temporary table joined
once (PostgreSQL) or one ``executemany`` (SQLite); nothing here issues a statement per
row on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import polars as pl
from django.db import connection

from .frames import IdSet, ids_condition, postgres

COPY_CHUNK_ROWS = 200_000
SQLITE_CHUNK_ROWS = 20_000

_names = itertools.count(1)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def sqlite_time(expr: pl.Expr) -> pl.Expr:
    """A UTC datetime as Django stores it on SQLite: naive UTC text, microseconds only when there are any.

    The same instant written as ``12:00:00`` by the ORM and ``12:00:00.000000`` here would be two
    different texts to SQLite, and a unique key over it would let a duplicate through.
    """
    return (pl.when(expr.dt.microsecond() == 0).then(expr.dt.strftime("%Y-%m-%d %H:%M:%S"))
            .otherwise(expr.dt.strftime("%Y-%m-%d %H:%M:%S.%6f")))


def _as_text(frame: pl.DataFrame, *, sqlite: bool) -> pl.DataFrame:
    """Each column as the text (or integer) the database stores for it."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            exprs.append(col.dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:
                col = col.dt.replace_time_zone("UTC")
            utc = col.dt.convert_time_zone("UTC")
            exprs.append(sqlite_time(utc).alias(name) if sqlite
                         else utc.dt.strftime("%Y-%m-%d %H:%M:%S.%6f+00"))
        elif dtype == pl.Boolean:
            exprs.append(col.cast(pl.Int8) if sqlite else col.cast(pl.Utf8))
        elif isinstance(dtype, pl.Decimal):
            exprs.append(col.cast(pl.Utf8))
        else:
            exprs.append(col)
    return frame.select(exprs)


def insert_frame(table: str, frame: pl.DataFrame) -> int:
    """Insert every row of ``frame`` into ``table`` (COPY or executemany); returns the rows written."""
    if frame.height == 0:
        return 0
    columns = ", ".join(_quote(c) for c in frame.columns)
    if postgres():
        values = _as_text(frame, sqlite=False)
        with connection.cursor() as cursor, cursor.copy(
                f"COPY {_quote(table)} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
            for start in range(0, values.height, COPY_CHUNK_ROWS):
                copy.write(values.slice(start, COPY_CHUNK_ROWS).write_csv(include_header=False).encode("utf-8"))
    else:
        values = _as_text(frame, sqlite=True)
        sql = f"INSERT INTO {_quote(table)} ({columns}) VALUES ({', '.join('?' * len(frame.columns))})"
        raw = connection.connection
        for start in range(0, values.height, SQLITE_CHUNK_ROWS):
            raw.executemany(sql, values.slice(start, SQLITE_CHUNK_ROWS).iter_rows())
    return frame.height


def insert_ignoring_conflicts(table: str, frame: pl.DataFrame) -> None:
    """Insert rows, skipping any that would break a unique constraint (a concurrent run wrote them first)."""
    if frame.height == 0:
        return
    columns = ", ".join(_quote(c) for c in frame.columns)
    values = _as_text(frame, sqlite=not postgres())
    placeholders = ", ".join(["%s"] * len(frame.columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {_quote(table)} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
                           list(values.iter_rows()))


def update_from_frame(table: str, frame: pl.DataFrame, *, key: str = "id") -> int:
    """Set the frame's columns on the rows of ``table`` whose ``key`` matches; rows already equal are left alone.

    PostgreSQL: the frame is copied into a temporary table and one ``UPDATE … FROM`` joins
    it, changing only rows where a value differs (an unchanged row costs no new tuple and
    no index entries).  SQLite: one ``executemany``.
    """
    if frame.height == 0:
        return 0
    targets = [c for c in frame.columns if c != key]
    if postgres():
        temp = f"_reading_upd_{next(_names)}"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {temp} AS SELECT {', '.join(_quote(c) for c in frame.columns)} "
                           f"FROM {_quote(table)} WITH NO DATA")
            try:
                insert_frame(temp, frame)
                cursor.execute(f"ANALYZE {temp}")
                assignments = ", ".join(f"{_quote(c)} = s.{_quote(c)}" for c in targets)
                changed = " OR ".join(f"t.{_quote(c)} IS DISTINCT FROM s.{_quote(c)}" for c in targets)
                cursor.execute(f"UPDATE {_quote(table)} t SET {assignments} FROM {temp} s "
                               f"WHERE t.{_quote(key)} = s.{_quote(key)} AND ({changed})")
                return cursor.rowcount
            finally:
                cursor.execute(f"DROP TABLE IF EXISTS {temp}")
    values = _as_text(frame.select([*targets, key]), sqlite=True)
    assignments = ", ".join(f"{_quote(c)} = ?" for c in targets)
    sql = f"UPDATE {_quote(table)} SET {assignments} WHERE {_quote(key)} = ?"
    raw = connection.connection
    for start in range(0, values.height, SQLITE_CHUNK_ROWS):
        raw.executemany(sql, values.slice(start, SQLITE_CHUNK_ROWS).iter_rows())
    return frame.height


def delete_open_exceptions(*, plan_ids: Sequence[int] | None = None, tasks: IdSet | None = None) -> int:
    """Delete the open exceptions of whole plans or of a set of tasks (they are about to be recomputed)."""
    if plan_ids is not None:
        condition, params = ids_condition("plan_id", plan_ids)
    else:
        condition, params = tasks.where("task_id")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM reading_readexception WHERE status = 'open' AND {condition}", params)
        return cursor.rowcount


def set_plans_validated(plan_ids: Sequence[int], at: dt.datetime) -> None:
    if not plan_ids:
        return
    condition, params = ids_condition("id", plan_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE reading_readingplan SET validated_at = %s WHERE {condition}", [at, *params])


def refresh_tasks_due(plan_ids: Sequence[int]) -> None:
    """Each plan's ``tasks_due``: the number of its tasks, counted in one statement."""
    if not plan_ids:
        return
    condition, params = ids_condition("reading_readingplan.id", plan_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE reading_readingplan SET tasks_due = (SELECT COUNT(*) FROM reading_readingtask t"
            f" WHERE t.plan_id = reading_readingplan.id) WHERE {condition}", params)
