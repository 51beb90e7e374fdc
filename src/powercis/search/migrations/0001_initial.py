"""The search index table; its text indexes follow in 0002 (PostgreSQL) and 0003 (SQLite)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('core', '0002_audit_append_only'),
        ('customers', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='AccountSearchEntry',
            fields=[
                ('account', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='customers.account', verbose_name='account')),
                ('org_path', models.CharField(editable=False, max_length=255)),
                ('account_no', models.CharField(max_length=32, verbose_name='account number')),
                ('account_key', models.CharField(max_length=32)),
                ('name', models.CharField(max_length=120, verbose_name='account name')),
                ('customer_name', models.CharField(blank=True, max_length=120, verbose_name='customer')),
                ('address', models.CharField(max_length=200, verbose_name='service address')),
                ('status', models.CharField(max_length=10, verbose_name='status')),
                ('meters', models.JSONField(default=list, verbose_name='meters')),
                ('phones', models.JSONField(default=list, verbose_name='phones')),
                ('search_text', models.TextField()),
                ('keys', models.TextField(blank=True)),
                ('company', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='core.org', verbose_name='company')),
                ('org', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='core.org', verbose_name='org')),
            ],
            options={
                'verbose_name': 'search index entry',
                'verbose_name_plural': 'search index entries',
                'indexes': [models.Index(fields=['account_key'], name='search_entry_account_key')],
            },
        ),
    ]
