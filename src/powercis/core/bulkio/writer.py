"""Set-based writing of a validated batch: PostgreSQL ``COPY``, SQLite ``bulk_create`` in batches.

Ids are reserved before writing (a block of ``nextval`` on PostgreSQL; the next free
numbers under SQLite's write lock, which an IMMEDIATE transaction holds from its start),
so that rows referring to each other — an account and its first version, a metering
point and its parent in the same file — are written in one pass each without reading
anything back.  The caller holds the transaction: all tables of a batch commit together
or not at all.

``COPY`` is fed through psycopg 3's ``cursor.copy()`` on Django's own connection, so it
runs inside the same transaction as everything else.  A model field the caller does not
supply gets its Django default (``auto_now_add`` fields the time of the batch).
"""

from __future__ import annotations

import json
from collections import Counter

from django.db import connection, models
from django.utils import timezone

SQLITE_BATCH = 500


class Writer:
    def __init__(self):
        self.vendor = connection.vendor
        self.now = timezone.now()
        self.counts: Counter[str] = Counter()
        self._next_sqlite_id: dict[str, int] = {}

    # ---- ids --------------------------------------------------------------------------
    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        if count <= 0:
            return []
        table = model._meta.db_table
        if self.vendor == "postgresql":
            with connection.cursor() as cursor:
                # the sequence's name first: evaluated once rather than for every id
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [connection.ops.quote_name(table),
                                                                        model._meta.pk.column])
                sequence = cursor.fetchone()[0]
                cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
                return [row[0] for row in cursor.fetchall()]
        start = self._next_sqlite_id.get(table)
        if start is None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT max({connection.ops.quote_name(model._meta.pk.column)}) "
                               f"FROM {connection.ops.quote_name(table)}")
                highest = cursor.fetchone()[0] or 0
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                found = cursor.fetchone()
                start = max(highest, found[0] if found else 0) + 1
        self._next_sqlite_id[table] = start + count
        return list(range(start, start + count))

    # ---- rows -------------------------------------------------------------------------
    def insert(self, model: type[models.Model], columns: list[str], rows: list[tuple]) -> int:
        """Insert ``rows`` (tuples in the order of ``columns``, attribute names, ``id`` included)."""
        if not rows:
            return 0
        if self.vendor == "postgresql":
            self._copy(model, columns, rows)
        else:
            objects = (model(**dict(zip(columns, row))) for row in rows)
            batch = []
            for obj in objects:
                batch.append(obj)
                if len(batch) >= SQLITE_BATCH:
                    model._default_manager.bulk_create(batch)
                    batch = []
            if batch:
                model._default_manager.bulk_create(batch)
        self.counts[model._meta.label_lower] += len(rows)
        return len(rows)

    def _default(self, field: models.Field):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return self.now
        value = field.get_default()
        if isinstance(field, models.JSONField) and value is not None:  # None stays SQL NULL, as the ORM writes it
            return json.dumps(value, ensure_ascii=False)
        return value

    def _copy(self, model: type[models.Model], columns: list[str], rows: list[tuple]) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = set(columns) - set(fields)
        if unknown:
            raise ValueError(f"{model._meta.label} has no fields {sorted(unknown)}")
        rest = [f for name, f in fields.items() if name not in columns]
        tail = tuple(self._default(f) for f in rest)
        json_at = [i for i, name in enumerate(columns) if isinstance(fields[name], models.JSONField)]
        quote = connection.ops.quote_name
        names = ", ".join(quote(fields[name].column) for name in columns) + "".join(
            f", {quote(f.column)}" for f in rest)
        sql = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = None if row[i] is None else json.dumps(row[i], ensure_ascii=False)
                    row = tuple(row)
                copy.write_row(row + tail)
