"""Writing a delivery's register values as reads: one row per meter and instant.

The ingest engine checks a delivery register value by register value (one frame row
each); the reads table holds one row per meter, instant, source and revision with the
registers as columns (``RegisterRead``).  This module turns the accepted values into
those rows (:func:`wide_reads`), stored rows back into values (:func:`stored_long`), and
writes them:

* PostgreSQL: binary ``COPY`` straight into the table — values as fixed-point integers
  encoded with NumPy, never a Python object per row;
* SQLite: ``executemany``;
* after a lost race (a concurrent delivery wrote some of the same keys after they were
  looked up): through a staging table with ``ON CONFLICT DO NOTHING`` / ``INSERT OR
  IGNORE``, returning what the other delivery stored under the keys.

A supplement (补采: a register the stored read under the same key lacked) is written as
the stored read's next revision carrying the stored registers and the new ones, naming
the stored read in ``corrects``; the stored read is then marked superseded.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl
from django.db import IntegrityError, connection, transaction

from powercis.metering.models import REGISTERS

from ..engine import frames
from ..engine.write import sqlite_time

FP = 10_000  # fixed point: values are integers of 10^-4
REG_CODE = {r: i for i, r in enumerate(REGISTERS)}
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 UTC, the origin of PostgreSQL's binary timestamps
COPY_ROWS = 65_536
SQLITE_ROWS = 20_000
#: the columns written, in the order of the binary COPY: fixed-width first, text last
WRITE_COLUMNS = ("metering_point_id", "meter_id", "read_at", *REGISTERS, "revision", "estimated", "recorded_at",
                 "batch_id", "entered_by_id", "task_id", "corrects_id", "source", "status", "note", "photo_ref",
                 "flags")
FP_COLUMNS = tuple(f"fp_{r}" for r in REGISTERS)

_names = itertools.count(1)


@dataclass(frozen=True)
class Constants:
    source: str
    recorded_at: dt.datetime
    batch_id: int
    entered_by_id: int | None


def fp_text(expr: pl.Expr, decimals: int = 4) -> pl.Expr:
    """A fixed-point integer as decimal text with ``decimals`` places (4: as the database stores it)."""
    whole = (expr // FP).cast(pl.Utf8)
    frac = (expr % FP).cast(pl.Utf8).str.zfill(4)
    return whole + "." + frac if decimals == 4 else whole + "." + frac.str.slice(0, decimals)


def stored_long(wide: pl.DataFrame) -> pl.DataFrame:
    """Stored reads (``v_<register>`` decimal columns) as one row per register: ``reg`` code and ``stored_fp``."""
    return (frames.long_reads(wide)
            .with_columns(reg=pl.col("register").replace_strict(REG_CODE, return_dtype=pl.Int8),
                          stored_fp=(pl.col("value") * FP).cast(pl.Int64))
            .drop("register", "value"))


def wide_reads(values: pl.DataFrame, stored: pl.DataFrame | None = None) -> pl.DataFrame:
    """The accepted register values of a delivery as reads to write, one row per meter and instant.

    ``values``: one row per register value (meter_id, metering_point_id, read_at, reg,
    value_fp, est, task_id, photo_ref, flags — each flag entry ``code`` or
    ``code:register`` — and ``supplements``, the id of the stored read a value adds to).
    A read is estimated when any of its values is; it takes the first task and photo
    given.  A supplement's row also carries the registers of the stored read (from
    ``stored``, wide as fetched), as its next revision.  Rows come sorted by meter and instant.
    """
    columns = [pl.col("value_fp").filter(pl.col("reg") == code).first().alias(f"fp_{r}")
               for r, code in REG_CODE.items()]
    reads = (values.group_by("meter_id", "read_at")
             .agg(pl.col("metering_point_id").first(), pl.col("est").any().alias("estimated"),
                  pl.col("task_id").drop_nulls().first(),
                  pl.col("photo_ref").filter(pl.col("photo_ref").fill_null("") != "").first(),
                  pl.col("supplements").drop_nulls().first().alias("corrects_id"), *columns))
    flagged = values.filter(pl.col("flags") != "")
    if flagged.height:
        flags = (flagged.select("meter_id", "read_at", entry=pl.col("flags").str.split(",")).explode("entry")
                 .unique().sort("entry").group_by("meter_id", "read_at")
                 .agg(flags=pl.col("entry").str.join(",")))
        reads = reads.join(flags, on=["meter_id", "read_at"], how="left")
    else:
        reads = reads.with_columns(flags=pl.lit(None, pl.Utf8))
    # in key order: each leaf page of the unique key is then touched once per delivery rather than once per read
    reads = reads.sort("meter_id", "read_at").with_columns(
        pl.col("flags").fill_null("").str.slice(0, 120), pl.col("photo_ref").fill_null("").str.slice(0, 200),
        revision=pl.lit(0, pl.Int64))
    if stored is None or reads["corrects_id"].is_null().all():
        return reads
    base = stored.select(corrects_id="read_id", _rev="revision",
                         **{f"_s_{r}": (pl.col(f"v_{r}") * FP).cast(pl.Int64) for r in REGISTERS})
    return (reads.join(base, on="corrects_id", how="left")
            .with_columns(*[pl.coalesce(f"fp_{r}", f"_s_{r}").alias(f"fp_{r}") for r in REGISTERS],
                          revision=pl.when(pl.col("corrects_id").is_not_null()).then(pl.col("_rev") + 1)
                          .otherwise(pl.col("revision")))
            .drop("_rev", *[f"_s_{r}" for r in REGISTERS]))


def write(reads: pl.DataFrame, constants: Constants) -> pl.DataFrame | None:
    """Write the reads; returns what a concurrent delivery had stored first under some of their keys (or None).

    The caller holds a transaction; the first attempt runs in a savepoint so that a lost
    race only redoes the write.
    """
    lost = None
    sid = transaction.savepoint()
    try:
        if frames.postgres():
            copy_reads(reads, constants)
        else:
            insert_reads(reads, constants)
    except Exception as exc:
        transaction.savepoint_rollback(sid)
        if not unique_violation(exc):
            raise
        lost = write_ignoring_conflicts(reads, constants)
    else:
        transaction.savepoint_commit(sid)
    replaced = reads["corrects_id"].drop_nulls()
    if replaced.len():
        with frames.IdSet(replaced.to_list()) as ids, connection.cursor() as cursor:
            condition, params = ids.where("id")
            cursor.execute(f"UPDATE reading_registerread SET status = 'superseded' WHERE {condition}", params)
    return lost


def unique_violation(exc: Exception) -> bool:
    """Whether a raw driver error (the writes bypass Django's cursor wrapper) is a unique-key violation."""
    import sqlite3

    if isinstance(exc, (IntegrityError, sqlite3.IntegrityError)):
        return "UNIQUE" in str(exc).upper() or isinstance(exc, IntegrityError)
    try:
        import psycopg

        return isinstance(exc, psycopg.errors.UniqueViolation)
    except ImportError:  # SQLite-only installation
        return False


def _microseconds(value: dt.datetime) -> int:
    return int((value - dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) / dt.timedelta(microseconds=1))


def _numeric_layout(name: str, present: bool) -> list[tuple]:
    if not present:
        return [(f"l_{name}", ">i4")]
    return [(f"l_{name}", ">i4"), (f"nd_{name}", ">i2"), (f"w_{name}", ">i2"), (f"s_{name}", ">i2"),
            (f"ds_{name}", ">i2"), (f"d_{name}", ">i2", (4,))]


def _set_numeric(a: np.ndarray, name: str, fp: np.ndarray) -> None:
    """A fixed-point value as a numeric of four base-10000 digits (weight 2, scale 4); the server normalises it."""
    whole = fp // FP
    a[f"l_{name}"], a[f"nd_{name}"], a[f"w_{name}"], a[f"s_{name}"], a[f"ds_{name}"] = 16, 4, 2, 0, 4
    digits = a[f"d_{name}"]
    digits[:, 0] = whole // 100_000_000
    digits[:, 1] = (whole // FP) % FP
    digits[:, 2] = whole % FP
    digits[:, 3] = fp % FP


def binary_rows(frame: pl.DataFrame, constants: Constants) -> Iterator[bytes]:
    """The reads as PostgreSQL binary COPY data, in the column order of ``WRITE_COLUMNS``.

    Rows are grouped so that every group has fixed-width rows — the same registers
    present, flags, photo length, task and corrected read presence — and each group
    becomes one NumPy structured array written as it is: no Python object per row.  A
    meter model's reads all have the same registers, so a delivery makes few groups.
    """
    yield b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
    source = constants.source.encode()
    recorded = _microseconds(constants.recorded_at)
    mask = pl.sum_horizontal([pl.col(c).is_not_null().cast(pl.Int32) * (1 << i) for i, c in enumerate(FP_COLUMNS)])
    frame = frame.with_columns(_mask=mask, _photo_len=pl.col("photo_ref").str.len_bytes(),
                               _task=pl.col("task_id").is_not_null(), _corrects=pl.col("corrects_id").is_not_null())
    for (bits, flags, photo_len, has_task, has_corrects), part in frame.partition_by(
            ["_mask", "flags", "_photo_len", "_task", "_corrects"], as_dict=True, maintain_order=False).items():
        flags_b = flags.encode()
        present = [bool(bits & (1 << i)) for i in range(len(REGISTERS))]
        layout = [("n", ">i2"), ("l_point", ">i4"), ("point", ">i8"), ("l_meter", ">i4"), ("meter", ">i8"),
                  ("l_at", ">i4"), ("at", ">i8")]
        for register, has in zip(REGISTERS, present, strict=True):
            layout += _numeric_layout(register, has)
        layout += [("l_rev", ">i4"), ("rev", ">i2"), ("l_est", ">i4"), ("est", "u1"), ("l_rec", ">i4"),
                   ("rec", ">i8"), ("l_batch", ">i4"), ("batch", ">i8"), ("l_by", ">i4")]
        if constants.entered_by_id is not None:
            layout.append(("by", ">i8"))
        layout.append(("l_task", ">i4"))
        if has_task:
            layout.append(("task", ">i8"))
        layout.append(("l_corrects", ">i4"))
        if has_corrects:
            layout.append(("corrects", ">i8"))
        layout += [("l_source", ">i4"), ("source", f"S{len(source)}"), ("l_status", ">i4"), ("status", "S5"),
                   ("l_note", ">i4"), ("l_photo", ">i4")]
        if photo_len:
            layout.append(("photo", f"S{photo_len}"))
        layout.append(("l_flags", ">i4"))
        if flags_b:
            layout.append(("flags", f"S{len(flags_b)}"))
        dtype = np.dtype(layout)
        for start in range(0, part.height, COPY_ROWS):
            chunk = part.slice(start, COPY_ROWS)
            a = np.empty(chunk.height, dtype=dtype)
            a["n"] = len(WRITE_COLUMNS)
            a["l_point"], a["point"] = 8, chunk["metering_point_id"].to_numpy()
            a["l_meter"], a["meter"] = 8, chunk["meter_id"].to_numpy()
            a["l_at"], a["at"] = 8, chunk["read_at"].dt.epoch("us").to_numpy() - PG_EPOCH_US
            for register, has in zip(REGISTERS, present, strict=True):
                if has:
                    _set_numeric(a, register, chunk[f"fp_{register}"].to_numpy())
                else:
                    a[f"l_{register}"] = -1
            a["l_rev"], a["rev"] = 2, chunk["revision"].to_numpy()
            a["l_est"], a["est"] = 1, chunk["estimated"].to_numpy().astype(np.uint8)
            a["l_rec"], a["rec"] = 8, recorded
            a["l_batch"], a["batch"] = 8, constants.batch_id
            if constants.entered_by_id is not None:
                a["l_by"], a["by"] = 8, constants.entered_by_id
            else:
                a["l_by"] = -1
            if has_task:
                a["l_task"], a["task"] = 8, chunk["task_id"].to_numpy()
            else:
                a["l_task"] = -1
            if has_corrects:
                a["l_corrects"], a["corrects"] = 8, chunk["corrects_id"].to_numpy()
            else:
                a["l_corrects"] = -1
            a["l_source"], a["source"] = len(source), source
            a["l_status"], a["status"] = 5, b"valid"
            a["l_note"] = 0
            a["l_photo"] = photo_len
            if photo_len:
                a["photo"] = [p.encode() for p in chunk["photo_ref"].to_list()]
            a["l_flags"] = len(flags_b)
            if flags_b:
                a["flags"] = flags_b
            yield a.tobytes()
    yield b"\xff\xff"


def copy_reads(frame: pl.DataFrame, constants: Constants, table: str = "reading_registerread") -> None:
    columns = ", ".join(WRITE_COLUMNS)
    with connection.cursor() as cursor, cursor.copy(
            f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT binary)") as copy:
        for block in binary_rows(frame, constants):
            copy.write(block)


def _sqlite_values(frame: pl.DataFrame, constants: Constants) -> pl.DataFrame:
    """The reads as Django's SQLite backend stores them (naive UTC text, decimals as text, 0/1)."""
    recorded = constants.recorded_at.astimezone(dt.UTC).replace(tzinfo=None)
    return frame.select(
        "metering_point_id", "meter_id", sqlite_time(pl.col("read_at")),
        *[fp_text(pl.col(f"fp_{r}")).alias(r) for r in REGISTERS],
        "revision", pl.col("estimated").cast(pl.Int8),
        pl.lit(str(recorded)).alias("recorded_at"), pl.lit(constants.batch_id).alias("batch_id"),
        pl.lit(constants.entered_by_id, pl.Int64).alias("entered_by_id"), "task_id", "corrects_id",
        pl.lit(constants.source).alias("source"), pl.lit("valid").alias("status"), pl.lit("").alias("note"),
        "photo_ref", "flags")


def insert_reads(frame: pl.DataFrame, constants: Constants, table: str = "reading_registerread",
                 verb: str = "INSERT") -> None:
    values = _sqlite_values(frame, constants)
    sql = f"{verb} INTO {table} ({', '.join(WRITE_COLUMNS)}) VALUES ({', '.join('?' * len(WRITE_COLUMNS))})"
    raw = connection.connection
    for start in range(0, values.height, SQLITE_ROWS):
        raw.executemany(sql, values.slice(start, SQLITE_ROWS).iter_rows())


LOST_KINDS = {"meter_id": "int", "at": "ts", **frames.REGISTER_KINDS}


def write_ignoring_conflicts(frame: pl.DataFrame, constants: Constants) -> pl.DataFrame:
    """Write through a staging table, skipping keys already taken; returns the reads stored under those keys."""
    stage = f"_ingest_stage_{next(_names)}"
    columns = ", ".join(WRITE_COLUMNS)
    with connection.cursor() as cursor:
        if frames.postgres():
            cursor.execute(f"CREATE TEMPORARY TABLE {stage} AS SELECT {columns} FROM reading_registerread WITH NO DATA")
            copy_reads(frame, constants, table=stage)
            cursor.execute(f"INSERT INTO reading_registerread ({columns}) SELECT {columns} FROM {stage}"
                           " ON CONFLICT (meter_id, read_at, source, revision) DO NOTHING")
        else:
            cursor.execute(f"CREATE TEMPORARY TABLE {stage} AS SELECT {columns} FROM reading_registerread WHERE 0")
            insert_reads(frame, constants, table=stage)
            cursor.execute(f"INSERT OR IGNORE INTO reading_registerread ({columns}) SELECT {columns} FROM {stage}")
    try:
        return frames.fetch(
            "SELECT " + ", ".join([frames.column("r.meter_id", "int"), frames.column("r.read_at", "ts"),
                                   *(frames.column(f"r.{r}", "dec") for r in REGISTERS)])
            + f" FROM {stage} s JOIN reading_registerread r ON r.meter_id = s.meter_id"
            " AND r.read_at = s.read_at AND r.source = s.source AND r.revision = s.revision"
            " WHERE COALESCE(r.batch_id, 0) <> %s", [constants.batch_id], LOST_KINDS)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {stage}")
