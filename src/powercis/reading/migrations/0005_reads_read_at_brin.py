"""A BRIN index on the reads' instant, on PostgreSQL.

Reads arrive roughly in time order (a head-end delivers each day after it), so a block
range index on ``read_at`` — a few kilobytes per gigabyte of table, next to nothing to
maintain at ingest — lets month-end validation read only the blocks of the collection
windows it needs instead of the whole history (``engine.validate._fetch_reads_postgresql``).
SQLite has no such index; it reads the remote meters' reads through the unique key.
"""

from django.db import migrations

INDEX = "reading_read_at_brin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON reading_registerread USING brin (read_at)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("reading", "0004_wide_reads"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
