"""The reads' delivery index: a block range index on PostgreSQL, a B-tree on SQLite.

Every read of a delivery is written at once, in delivery order, so on PostgreSQL a BRIN
index on ``batch_id`` finds a delivery's reads (its page, its flag counts, the API's
``batch`` filter) as well as a B-tree does, while costing the ingest nothing per row — the
B-tree was one of the four index entries each head-end read paid for (docs/performance.md,
"Register read ingest").  SQLite keeps an ordinary index.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "reading_read_batch"


def create(apps, schema_editor):
    method = "USING brin " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON reading_registerread {method}(batch_id)")


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('reading', '0005_reads_read_at_brin'),
    ]

    operations = [
        migrations.AlterField(
            model_name='registerread',
            name='batch',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reads', to='reading.readbatch', verbose_name='delivery'),
        ),
        migrations.RunPython(create, drop),
    ]
