import io
import sqlite3

from django.core.management import call_command

from powercis.core.demo import DEMO_PASSWORD, LOGINS
from powercis.core.models import AuditRecord, Org


def test_demo_twice_reuses_the_data(db):
    call_command("demo", "--no-serve", "--accounts", "300", stdout=io.StringIO())  # generates the accounts once
    orgs, records = Org.objects.count(), AuditRecord.objects.count()
    for _run in range(2):
        out = io.StringIO()
        call_command("demo", "--no-serve", "--accounts", "300", stdout=out)
        assert "reused" in out.getvalue()
        assert "Synthetic utility already present, reused: 300 accounts" in out.getvalue()
    assert (Org.objects.count(), AuditRecord.objects.count()) == (orgs, records)
    for username, full_name, *_rest in LOGINS:
        assert username in out.getvalue() and full_name in out.getvalue()
    assert DEMO_PASSWORD in out.getvalue()


def test_demo_on_an_empty_database_loads_once(run_cli, tmp_path):
    """The real command line from nothing: migrate, load, list; then reuse; the trail is intact."""
    first = run_cli("demo", "--no-serve")
    assert first.returncode == 0, first.stderr
    assert "Demo data loaded" in first.stdout
    assert "Synthetic utility generated: 3,000 accounts" in first.stdout
    # the month of readings by every path, with the reviewer's first re-read orders
    assert "reads (3 quarantined)" in first.stdout and "re-read work orders 3" in first.stdout
    assert "演示账号 / Demo logins" in first.stdout
    assert f"Password (every login): {DEMO_PASSWORD}" in first.stdout

    second = run_cli("demo", "--no-serve")
    assert second.returncode == 0, second.stderr
    assert "Demo data already present, reused" in second.stdout
    assert "Synthetic utility already present, reused" in second.stdout
    database = sqlite3.connect(tmp_path / "var" / "powercis.sqlite3")
    assert database.execute("SELECT count(*) FROM core_org").fetchone() == (10,)
    assert database.execute("SELECT kind, status, count(*) FROM core_workorder GROUP BY 1, 2").fetchall() == [
        ("reread", "open", 3)]
    assert database.execute("SELECT count(DISTINCT work_order_id) FROM reading_readexception"
                            " WHERE work_order_id IS NOT NULL AND status = 'open'").fetchone() == (3,)

    intact = run_cli("audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "Audit trail intact" in intact.stdout

    database.executescript("""
        DROP TRIGGER core_auditrecord_no_update;
        UPDATE core_auditrecord SET reason = 'edited by hand' WHERE seq = 5;
    """)
    database.close()
    broken = run_cli("audit", "verify")
    assert broken.returncode == 1
    assert "record #5 " in broken.stderr
