"""The audit trail, its alerts and rules, separation-of-duties rules and report, and code tables."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from powercis.core.models import AlertKind, AuditAlert, AuditAlertRule, AuditRecord, CodeItem, CodeTable
from powercis.core.services import alerts as alert_services
from powercis.core.standard_data import STANDARD_CODE_TABLES, STANDARD_SOD_RULES

# --- audit trail --------------------------------------------------------------------


def test_audit_trail_is_limited_to_the_viewers_scope(api, org):
    hz01 = org("HZ01").path
    rows = api("manager").get("/api/v1/audit-records/", {"page_size": 500}).json()["results"]
    assert rows and all(row["org_path"].startswith(hz01) for row in rows)
    assert len(rows) == AuditRecord.objects.filter(org_path__startswith=hz01).count()
    assert [row["seq"] for row in rows] == sorted((row["seq"] for row in rows), reverse=True)


def test_audit_record_outside_scope_is_404_and_reader_is_refused(api, org):
    company_record = AuditRecord.objects.filter(org_path=org("HZ").path).latest("seq")
    assert api("auditor").get(f"/api/v1/audit-records/{company_record.seq}/").json()["hash"] == company_record.hash
    assert api("manager").get(f"/api/v1/audit-records/{company_record.seq}/").status_code == 404
    refused = api("reader").get("/api/v1/audit-records/")
    assert refused.status_code == 403 and "查询审计日志" in refused.json()["message"]


def test_audit_filters(api, org, staff):
    auditor = api("auditor")
    created_orgs = auditor.get("/api/v1/audit-records/", {"action": "create", "object_type": "core.org"}).json()
    assert created_orgs["count"] == 10
    assert {r["object_repr"] for r in created_orgs["results"]} >= {"江城供电公司", "城关供电所"}
    by_admin = auditor.get("/api/v1/audit-records/", {"actor": staff("admin").pk}).json()["results"]
    assert by_admin and {r["actor_name"] for r in by_admin} == {"王立新 (admin)"}
    one = auditor.get("/api/v1/audit-records/", {"object_type": "core.org", "object_id": str(org("HZ0102").pk)})
    assert [r["action"] for r in one.json()["results"]] == ["create"]
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    assert auditor.get("/api/v1/audit-records/", {"at_after": future}).json()["count"] == 0
    assert auditor.get("/api/v1/audit-records/", {"at_before": future}).json()["count"] > 0
    security = auditor.get("/api/v1/audit-records/", {"category": "security"}).json()["results"]
    assert all(r["category"] == "security" for r in security)
    bad = auditor.get("/api/v1/audit-records/", {"at_after": "yesterday", "category": "gossip"})
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"at_after", "category"}


# --- alerts and their rules ---------------------------------------------------------


@pytest.fixture
def volume_rule(system_actor, org) -> AuditAlertRule:
    rule = AuditAlertRule.objects.get(company=org("HZ"), kind=AlertKind.CHANGE_VOLUME)
    return alert_services.update_rule(system_actor, rule, params={"max_per_day": 1})


def test_alert_raised_by_an_admin_change_is_acknowledged_by_the_manager(api, org, volume_rule):
    target = org("HZ0101")
    assert api("admin").patch(f"/api/v1/orgs/{target.pk}/", {"short_name": "临江"}).status_code == 200
    alert = AuditAlert.objects.get(rule=volume_rule)
    assert alert.org_path == target.path

    manager = api("manager")
    listed = manager.get("/api/v1/audit-alerts/", {"status": "open"}).json()["results"]
    row = next(a for a in listed if a["id"] == alert.pk)
    assert (row["rule"]["kind"], row["actor"]["username"], row["record_seq"]) == (
        "change_volume", "admin", alert.record.seq)

    refused = manager.post(f"/api/v1/audit-alerts/{alert.pk}/acknowledge/", {"note": ""})
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["note"]
    done = manager.post(f"/api/v1/audit-alerts/{alert.pk}/acknowledge/", {"note": "核实为计划内调整"})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["acknowledged_by"]["username"]) == ("acknowledged", "manager")
    again = manager.post(f"/api/v1/audit-alerts/{alert.pk}/acknowledge/", {"note": "再次"})
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_admin_without_handle_alerts_is_refused(api):
    response = api("admin").get("/api/v1/audit-alerts/")
    assert response.status_code == 403 and "处理审计预警" in response.json()["message"]


def test_alert_rules_are_edited_through_the_service(api, org):
    admin = api("admin")
    rules = admin.get("/api/v1/audit-alert-rules/").json()["results"]
    assert {r["kind"] for r in rules} == set(AlertKind.values)
    off_hours = next(r for r in rules if r["kind"] == "off_hours")
    changed = admin.patch(f"/api/v1/audit-alert-rules/{off_hours['id']}/", {
        "params": {"start": "07:30", "end": "19:00", "weekdays": ["6", 1, 2, 3, 4, 5]}, "reason": "周六营业"})
    assert changed.status_code == 200
    assert changed.json()["params"] == {"start": "07:30", "end": "19:00", "weekdays": [1, 2, 3, 4, 5, 6]}
    record = AuditRecord.objects.filter(object_type="core.auditalertrule", object_id=str(off_hours["id"])).latest("seq")
    assert record.reason == "周六营业" and record.changes["params"][1]["weekdays"] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("params", [
    {"start": "7:30", "end": "19:00", "weekdays": [1]},
    {"start": "08:00", "end": "18:00", "weekdays": "12345"},
    {"start": "08:00", "end": "18:00", "weekdays": [0, 8]},
    {"start": 8, "end": 18, "weekdays": [1]},
    {"start": "08:00", "end": "18:00", "weekdays": [1.5]},
])
def test_malformed_rule_parameters_are_400(api, org, params):
    rule = AuditAlertRule.objects.get(company=org("HZ"), kind=AlertKind.OFF_HOURS)
    response = api("admin").patch(f"/api/v1/audit-alert-rules/{rule.pk}/", {"params": params})
    assert response.status_code == 400 and list(response.json()["fields"]) == ["params"]
    rule.refresh_from_db()
    assert rule.params["start"] == "08:00"


@pytest.mark.parametrize("body", ['{"params": [200]}', '{"params": {"max_per_day": "lots"}}',
                                  '{"params": {"max_per_day": 1e400}}', '{"params": {"max_per_day": true}}'])
def test_rule_parameters_of_the_wrong_json_type_are_400(api, org, body):
    rule = AuditAlertRule.objects.get(company=org("HZ"), kind=AlertKind.CHANGE_VOLUME)
    response = api("admin").generic("PATCH", f"/api/v1/audit-alert-rules/{rule.pk}/", body,
                                     content_type="application/json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["params"]


# --- separation of duties -----------------------------------------------------------


def test_sod_rules_are_listed_added_and_switched(api):
    admin = api("admin")
    listed = admin.get("/api/v1/sod-rules/").json()["results"]
    assert {(r["permission_a"], r["permission_b"]) for r in listed} == {(s.a, s.b) for s in STANDARD_SOD_RULES}
    added = admin.post("/api/v1/sod-rules/", {"permission_a": "core.manage_staff", "permission_b": "core.view_audit",
                                              "reason": "授权经办与审计查询分离"})
    assert added.status_code == 201 and added.json()["is_active"] is True
    duplicate = admin.post("/api/v1/sod-rules/", {"permission_a": "core.view_audit", "permission_b": "core.manage_staff",
                                                  "reason": "重复"})
    assert duplicate.status_code == 400 and list(duplicate.json()["fields"]) == ["permission_b"]

    conflicts = admin.get("/api/v1/sod-conflicts/").json()
    assert [(c["staff"]["username"], c["rule"]["id"]) for c in conflicts] == [("admin", added.json()["id"])]
    assert api("manager").get("/api/v1/sod-conflicts/").json() == [], "the administrator is outside HZ01"

    switched = admin.post(f"/api/v1/sod-rules/{added.json()['id']}/set_active/", {"is_active": False, "reason": "试行"})
    assert switched.status_code == 200 and switched.json()["is_active"] is False
    assert admin.get("/api/v1/sod-conflicts/").json() == []


def test_sod_report_and_rules_need_their_permissions(api):
    reader = api("reader")
    assert reader.get("/api/v1/sod-conflicts/").status_code == 403
    refused = api("manager").get("/api/v1/sod-rules/")
    assert refused.status_code == 403 and "维护职责分离规则" in refused.json()["message"]


# --- code tables --------------------------------------------------------------------


def test_every_staff_member_reads_the_code_tables_of_their_company(api):
    reader = api("reader")
    tables = reader.get("/api/v1/code-tables/").json()["results"]
    assert {t["code"] for t in tables} == {spec.code for spec in STANDARD_CODE_TABLES}
    usage = next(t for t in tables if t["code"] == "usage_category")
    detail = reader.get(f"/api/v1/code-tables/{usage['id']}/").json()
    spec = next(s for s in STANDARD_CODE_TABLES if s.code == "usage_category")
    assert [i["code"] for i in detail["items"]] == [code for code, *_ in spec.items]
    assert next(i for i in detail["items"] if i["code"] == "RES_T")["parent_code"] == "RES"


def test_items_are_added_and_edited_by_code_maintainers_only(api, org):
    table = CodeTable.objects.get(company=org("HZ"), code="usage_category")
    refused = api("reader").post(f"/api/v1/code-tables/{table.pk}/items/", {"code": "EV", "label_zh": "充电桩"})
    assert refused.status_code == 403 and "维护数据字典" in refused.json()["message"]

    admin = api("admin")
    added = admin.post(f"/api/v1/code-tables/{table.pk}/items/", {
        "code": "CI_EV", "label_zh": "电动汽车充换电", "parent_code": "CI", "sort_order": 75, "reason": "新增类别"})
    assert added.status_code == 201
    assert (added.json()["label_en"], added.json()["parent_code"]) == ("电动汽车充换电", "CI")
    item = CodeItem.objects.get(table=table, code="CI_EV")
    assert AuditRecord.objects.get(action="create", object_type="core.codeitem", object_id=str(item.pk)).reason == "新增类别"

    duplicate = admin.post(f"/api/v1/code-tables/{table.pk}/items/", {"code": "CI_EV", "label_zh": "重复"})
    orphan = admin.post(f"/api/v1/code-tables/{table.pk}/items/", {"code": "ZZ", "label_zh": "孤儿", "parent_code": "NOPE"})
    assert [duplicate.status_code, list(duplicate.json()["fields"])] == [400, ["code"]]
    assert [orphan.status_code, list(orphan.json()["fields"])] == [400, ["parent_code"]]

    edited = admin.patch(f"/api/v1/code-items/{item.pk}/", {"label_en": "EV charging", "is_active": False})
    assert edited.status_code == 200 and (edited.json()["label_en"], edited.json()["is_active"]) == ("EV charging", False)
    assert admin.patch(f"/api/v1/code-items/{item.pk}/", {"sort_order": 2**31}).status_code == 400
    item.refresh_from_db()
    assert (item.code, item.label_en, item.sort_order) == ("CI_EV", "EV charging", 75)
