"""Migration reading.0004 folds reads stored one row per register into one row per meter and instant.

The data step's SQL runs on a copy of the two tables it touches, shaped as they are at
that point of the migration: on PostgreSQL in a schema of its own inside the test's
transaction, on SQLite in a database of its own — so the test database keeps its schema.
"""

from __future__ import annotations

import importlib
import sqlite3
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection

fold = importlib.import_module("powercis.reading.migrations.0004_wide_reads").fold_registers

pytestmark = pytest.mark.django_db

REGISTERS = ("total", "sharp", "peak", "flat", "valley", "reactive", "demand", "reverse")
TABLES = [
    "CREATE TABLE reading_registerread (id integer PRIMARY KEY, meter_id integer NOT NULL, read_at varchar(30) NOT NULL,"
    " source varchar(8) NOT NULL, revision integer NOT NULL, register varchar(8) NOT NULL,"
    " value numeric(16, 4) NOT NULL, flags varchar(120) NOT NULL, corrects_id integer, "
    + ", ".join(f"{r} numeric(16, 4)" for r in REGISTERS) + ")",
    "CREATE TABLE reading_readexception (id integer PRIMARY KEY, read_id integer)",
]
# id, meter, day, source, revision, register, value, flags, corrects
READS = [
    (1, 11, "2026-10-25", "ami", 0, "total", "30.5", "lower,tou_sum", None),
    (2, 11, "2026-10-25", "ami", 0, "peak", "12", "", None),
    (3, 11, "2026-10-25", "ami", 0, "valley", "18.5", "implausible", None),
    (4, 11, "2026-10-26", "ami", 0, "total", "31", "", None),
    (5, 11, "2026-10-25", "correct", 1, "peak", "12.5", "", 2),
    (6, 12, "2026-10-25", "ami", 0, "total", "7", "", None),
]
EXCEPTIONS = [(1, 3), (2, 4), (3, None)]


class Editor:
    """What the data step uses of a schema editor: ``execute`` and ``connection.vendor``."""

    def __init__(self, cursor, vendor: str):
        self.cursor = cursor
        self.connection = SimpleNamespace(vendor=vendor)

    def execute(self, sql: str) -> None:
        self.cursor.execute(sql)


def run_on_sqlite():
    db = sqlite3.connect(":memory:")
    cursor = db.cursor()
    return cursor, Editor(cursor, "sqlite"), "?"


def run_on_postgresql():
    cursor = connection.cursor()
    cursor.execute("CREATE SCHEMA fold_test")
    cursor.execute("SET LOCAL search_path TO fold_test")
    return cursor, Editor(cursor, "postgresql"), "%s"


def test_per_register_rows_become_one_read_with_their_flags_exceptions_and_corrections():
    cursor, editor, mark = run_on_postgresql() if connection.vendor == "postgresql" else run_on_sqlite()
    for statement in TABLES:
        cursor.execute(statement)
    for row in READS:
        cursor.execute("INSERT INTO reading_registerread (id, meter_id, read_at, source, revision, register, value,"
                       f" flags, corrects_id) VALUES ({', '.join([mark] * 9)})", row)
    for row in EXCEPTIONS:
        cursor.execute(f"INSERT INTO reading_readexception (id, read_id) VALUES ({mark}, {mark})", row)
    fold(None, editor)
    cursor.execute("SELECT id, read_at, total, peak, valley, flat, flags, corrects_id FROM reading_registerread"
                   " ORDER BY id")
    rows = {r[0]: r[1:] for r in cursor.fetchall()}
    cursor.execute("SELECT id, read_id FROM reading_readexception ORDER BY id")
    exceptions = cursor.fetchall()
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL search_path TO DEFAULT")

    def number(value):
        return None if value is None else Decimal(str(value)).normalize()

    assert sorted(rows) == [1, 4, 5, 6]
    day, total, peak, valley, flat, flags, corrects = rows[1]
    assert (day, number(total), number(peak), number(valley), flat, corrects) == (
        "2026-10-25", Decimal("30.5"), Decimal("12"), Decimal("18.5"), None, None)
    assert sorted(flags.split(",")) == ["implausible:valley", "lower:total", "tou_sum"]
    assert (number(rows[4][1]), rows[4][5]) == (Decimal("31"), "")
    # the correction of the peak row now corrects the read the row was folded into
    assert (number(rows[5][2]), rows[5][6]) == (Decimal("12.5"), 1)
    assert number(rows[6][1]) == Decimal("7")
    # the exception of the valley row names the folded read; the others are as they were
    assert exceptions == [(1, 1), (2, 4), (3, None)]
