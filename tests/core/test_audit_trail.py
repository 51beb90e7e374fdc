"""The hash-chained audit trail: every change recorded with before/after; tampering detected; alerts raised."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from powercis.core import audit
from powercis.core.errors import NotAuthorized
from powercis.core.models import AuditAlert, AuditAlertRule, AuditRecord, CodeItem, CodeTable, Org
from powercis.core.services import alerts as alert_services
from powercis.core.services import codes as code_services
from powercis.core.services import orgs as org_services

pytestmark = pytest.mark.django_db


def drop_append_only_guard():
    """What a DBA with enough rights would do first; DDL is transactional, so the test rolls it back."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER core_auditrecord_no_update")
            cursor.execute("DROP TRIGGER core_auditrecord_no_delete")
        else:
            cursor.execute("ALTER TABLE core_auditrecord DISABLE TRIGGER core_auditrecord_no_change")


def test_field_level_before_and_after(actor, org):
    station = org("HZ010101")
    org_services.update_org(actor("admin"), station, name="城关中心供电所", phone="027-1234", reason="更名")
    record = AuditRecord.objects.filter(object_type="core.org", object_id=str(station.pk)).latest("seq")
    assert record.action == "update" and record.category == "change"
    assert record.changes == {"name": ["城关供电所", "城关中心供电所"], "phone": ["", "027-1234"]}
    assert (record.reason, record.post_code, record.org_path) == ("更名", "sysadmin", station.path)
    assert record.prev_hash == AuditRecord.objects.get(seq=record.seq - 1).hash


def test_an_update_that_changes_nothing_writes_nothing(actor, org):
    before = AuditRecord.objects.count()
    org_services.update_org(actor("admin"), org("HZ010101"), name="城关供电所")
    assert AuditRecord.objects.count() == before


def test_intact_chain_verifies():
    result = audit.verify()
    assert result.ok and result.checked == AuditRecord.objects.count()


def test_database_refuses_update_and_delete():
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE core_auditrecord SET reason = 'x' WHERE seq = 1")
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_auditrecord WHERE seq = 1")


def test_hand_edited_record_is_named(actor, org):
    drop_append_only_guard()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditrecord SET reason = 'nothing to see' WHERE seq = 5")
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 5
    assert "#5" in result.problem


def test_removed_record_leaves_a_gap():
    drop_append_only_guard()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditrecord WHERE seq = 7")
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 7


def test_rewritten_hash_breaks_the_next_link():
    """Re-hashing an edited record hides the edit from its own hash but not from the next record's link."""
    drop_append_only_guard()
    row = AuditRecord.objects.filter(seq=9).values(*audit.HASHED_FIELDS).get()
    row["reason"] = "forged"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditrecord SET reason = %s, hash = %s WHERE seq = 9",
                       ["forged", audit.compute_hash(row)])
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 10


def test_truncated_tail_disagrees_with_the_head():
    drop_append_only_guard()
    last = AuditRecord.objects.order_by("-seq").first().seq
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditrecord WHERE seq = %s", [last])
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == last


@pytest.fixture
def company(org):
    return org("HZ")


def test_unreferenced_billing_field_change_raises_an_alert(actor, company):
    rule = AuditAlertRule.objects.get(company=company, kind="unreferenced_change")
    alert_services.update_rule(actor("admin"), rule, params={"fields": ["core.codeitem.label_zh"]})
    item = CodeItem.objects.get(table__company=company, table__code="usage_category", code="RES")
    code_services.update_item(actor("admin"), item, label_zh="居民生活用电(城乡)")
    alert = AuditAlert.objects.get(rule=rule)
    assert alert.actor.username == "admin" and "label_zh" in alert.message and alert.status == "open"


def test_off_hours_change_raises_one_alert_per_person_per_day(actor, company, monkeypatch):
    late = timezone.make_aware(dt.datetime(2026, 11, 25, 23, 40))  # a Wednesday night, local time
    monkeypatch.setattr(timezone, "now", lambda: late)
    table = CodeTable.objects.get(company=company, code="customer_type")
    code_services.add_item(actor("admin"), table, code="GK", label_zh="关口")
    code_services.add_item(actor("admin"), table, code="ZY", label_zh="自备电厂")
    # the demo data loaded for the session may itself have been written after hours: look at this day only
    alerts = AuditAlert.objects.filter(rule__kind="off_hours", day=dt.date(2026, 11, 25), actor__username="admin")
    assert alerts.count() == 1
    assert "23:40" in alerts.get().message


def test_change_volume_alert(actor, company):
    rule = AuditAlertRule.objects.get(company=company, kind="change_volume")
    alert_services.update_rule(actor("admin"), rule, params={"max_per_day": 3})
    table = CodeTable.objects.get(company=company, code="customer_type")
    for n in range(4):
        code_services.add_item(actor("admin"), table, code=f"T{n}", label_zh=f"测试{n}")
    alerts = AuditAlert.objects.filter(rule=rule)
    assert alerts.count() == 1 and alerts.get().actor.username == "admin"


def test_alert_about_own_changes_is_handled_by_someone_else(actor, company, system_actor, staff, org):
    rule = AuditAlertRule.objects.get(company=company, kind="change_volume")
    alert_services.update_rule(actor("admin"), rule, params={"max_per_day": 1})
    table = CodeTable.objects.get(company=company, code="customer_type")
    code_services.add_item(actor("admin"), table, code="T9", label_zh="测试")
    alert = AuditAlert.objects.get(rule=rule)
    with pytest.raises(NotAuthorized):  # the administrator holds no core.handle_alerts
        alert_services.acknowledge(actor("admin"), alert, note="ok")
    done = alert_services.acknowledge(actor("auditor"), alert, note="系统初始化批量维护字典，属正常")
    assert done.status == "acknowledged" and done.acknowledged_by.username == "auditor"
    assert AuditRecord.objects.filter(action="alert.acknowledge", object_id=str(alert.pk)).exists()


def test_alert_rule_parameters_are_validated(actor, company):
    from powercis.core.errors import ValidationFailed

    rule = AuditAlertRule.objects.get(company=company, kind="off_hours")
    with pytest.raises(ValidationFailed):
        alert_services.update_rule(actor("admin"), rule, params={"start": "19:00", "end": "08:00", "weekdays": [1]})
    with pytest.raises(ValidationFailed):
        alert_services.update_rule(actor("admin"), rule, params={"start": "08:00", "end": "18:00", "weekdays": [8]})
    rule.refresh_from_db()
    assert rule.params["start"] == "08:00"


def test_city_manager_sees_only_records_of_his_scope(staff, actor, org):
    from powercis.core import selectors

    org_services.update_org(actor("admin"), org("HZ020101"), phone="0710-1")
    org_services.update_org(actor("admin"), org("HZ010101"), phone="027-1")
    visible = selectors.audit_records(staff("manager")).filter(action="update", object_type="core.org")
    paths = {r.org_path for r in visible}
    assert org("HZ010101").path in paths and org("HZ020101").path not in paths
    assert all(p.startswith(org("HZ01").path) for p in paths)


def test_company_org_is_recorded_for_company_wide_objects(actor, company):
    table = CodeTable.objects.get(company=company, code="customer_type")
    item = code_services.add_item(actor("admin"), table, code="GK", label_zh="关口")
    record = AuditRecord.objects.get(object_type="core.codeitem", object_id=str(item.pk))
    assert record.company_id == company.pk and record.org_path == Org.objects.get(pk=company.pk).path
