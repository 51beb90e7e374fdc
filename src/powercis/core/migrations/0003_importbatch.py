"""Import batches: one row per uploaded archive file (idempotent commit, traceability)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_audit_append_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='ImportBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('entity', models.CharField(max_length=40, verbose_name='data')),
                ('file_name', models.CharField(max_length=200, verbose_name='file name')),
                ('file_format', models.CharField(max_length=8, verbose_name='format')),
                ('encoding', models.CharField(blank=True, max_length=16, verbose_name='encoding')),
                ('size', models.PositiveBigIntegerField(default=0, verbose_name='size (bytes)')),
                ('sha256', models.CharField(db_index=True, max_length=64, verbose_name='SHA-256')),
                ('row_count', models.PositiveIntegerField(default=0, verbose_name='rows')),
                ('error_count', models.PositiveIntegerField(default=0, verbose_name='errors')),
                ('errors', models.JSONField(blank=True, default=list, verbose_name='errors')),
                ('written', models.JSONField(blank=True, default=dict, verbose_name='rows written')),
                ('status', models.CharField(choices=[('validated', 'Validated, ready to commit'), ('failed', 'Refused: the file has errors'), ('committed', 'Committed')], max_length=10, verbose_name='status')),
                ('content', models.BinaryField(null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='uploaded at')),
                ('committed_at', models.DateTimeField(blank=True, null=True, verbose_name='committed at')),
                ('company', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.org', verbose_name='company')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='uploaded by')),
                ('org', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.org', verbose_name='target org')),
            ],
            options={
                'verbose_name': 'import batch',
                'verbose_name_plural': 'import batches',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['created_by', 'created_at'], name='core_importbatch_by_user')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'committed')), fields=('company', 'entity', 'sha256'), name='core_importbatch_commits_once')],
            },
        ),
    ]
