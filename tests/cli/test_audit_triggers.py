"""The database itself refuses to change the audit trail, whoever connects (migration 0002)."""

import pytest
from django.db import DatabaseError, connection, transaction

from powercis.core.models import AuditRecord


def refused(sql: str) -> str:
    """Run ``sql`` expecting the database to refuse it; return the refusal."""
    with pytest.raises(DatabaseError) as error:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    return str(error.value)


def test_update_and_delete_are_refused(db):
    before = list(AuditRecord.objects.order_by("seq").values_list("seq", "hash", "reason"))
    assert "append-only" in refused("UPDATE core_auditrecord SET reason = 'edited' WHERE seq = 1")
    assert "append-only" in refused("DELETE FROM core_auditrecord WHERE seq = 1")
    assert "append-only" in refused("DELETE FROM core_auditrecord")
    assert list(AuditRecord.objects.order_by("seq").values_list("seq", "hash", "reason")) == before


def test_truncate_is_refused_on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    # CASCADE gets past the foreign key of core_auditalert; the trigger still refuses.
    assert "append-only" in refused("TRUNCATE core_auditrecord CASCADE")
    assert AuditRecord.objects.exists()
