"""Two indexes fewer on the reading tasks, each written for every task of a month.

The unique key is turned round to (metering point, plan), so that it also finds a
point's tasks and the separate point index can go; a plan's tasks are found through the
route walk (plan, order). The meter's index goes: nothing looks tasks up by meter. The new
key is built before the old one is dropped, so the pair is never without one.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('metering', '0002_meteringpoint_metering_point_lonlat_and_more'),
        ('reading', '0006_reads_batch_brin'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='readingtask',
            constraint=models.UniqueConstraint(fields=('metering_point', 'plan'), name='reading_task_point_plan'),
        ),
        migrations.RemoveConstraint(
            model_name='readingtask',
            name='reading_task_uniq',
        ),
        migrations.RemoveIndex(
            model_name='readingtask',
            name='reading_task_point',
        ),
        migrations.AlterField(
            model_name='readingtask',
            name='meter',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                    to='metering.meter', verbose_name='meter'),
        ),
    ]
