import io
import json

import pytest
from django.core.management import CommandError, call_command

from powercis.core import audit
from powercis.core.models import AuditRecord


def verify(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", "verify", *args, stdout=out)
    return out.getvalue()


def assert_broken_at(seq: int) -> None:
    """``audit verify`` fails with exit status 1, naming record ``seq`` and the problem found there."""
    expected = audit.verify()
    assert not expected.ok
    assert expected.first_bad_seq == seq
    with pytest.raises(CommandError) as refused:
        verify()
    assert refused.value.returncode == 1
    assert f"#{seq} " in str(refused.value)
    assert expected.problem in str(refused.value)


def test_intact_trail_reports_records_and_head_hash(db):
    result = audit.verify()
    out = verify()
    assert result.ok
    assert f"{result.checked} 条记录" in out
    assert result.head_hash in out


def test_json_output(db):
    result = audit.verify()
    assert json.loads(verify("--json")) == {
        "ok": True, "records": result.checked, "head_hash": result.head_hash, "first_bad_seq": None, "problem": "",
    }


def test_altered_record_is_named(raw_sql):
    assert raw_sql("UPDATE core_auditrecord SET reason = %s WHERE seq = %s", ["edited by hand", 5]) == 1
    assert_broken_at(5)


def test_removed_record_leaves_a_gap(raw_sql):
    assert raw_sql("DELETE FROM core_auditrecord WHERE seq = %s", [7]) == 1
    assert_broken_at(7)
    assert "7" in audit.verify().problem


def test_truncated_tail_disagrees_with_the_chain_head(raw_sql):
    last = AuditRecord.objects.order_by("-seq").values_list("seq", flat=True).first()
    # records written outside working hours carry off-hours alerts; they go with the records
    raw_sql("DELETE FROM core_auditalert WHERE record_id IN (SELECT id FROM core_auditrecord WHERE seq > %s)",
            [last - 3])
    assert raw_sql("DELETE FROM core_auditrecord WHERE seq > %s", [last - 3]) == 3
    assert_broken_at(last - 2)


def test_json_output_of_a_broken_trail(raw_sql):
    raw_sql("UPDATE core_auditrecord SET object_repr = %s WHERE seq = %s", ["someone else", 3])
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["ok"] is False
    assert report["first_bad_seq"] == 3
    assert report["records"] == 2
