"""Staff accounts: masked phone numbers (PIPL), audited reveal, the initial password shown once, account actions."""

from __future__ import annotations

import pytest

from powercis.core.models import AuditCategory, AuditRecord, Staff
from powercis.core.services import approvals as approval_services
from powercis.core.services import posts as post_services
from powercis.core.services import staff as staff_services


@pytest.fixture
def zhaoyun(actor, org) -> Staff:
    member, _password = staff_services.create_staff(actor("admin"), username="zhaoyun", full_name="赵云",
                                                    org=org("HZ010102"), mobile="13912345678")
    return member


@pytest.fixture
def custmgr_may_view_staff(actor, staff, org):
    """Give the account manager (who holds core.view_personal_data) a post with core.view_staff, through approval."""
    company = org("HZ")
    post = post_services.create_post(actor("admin"), company, code="staff_viewer", label_zh="人员查询",
                                     permissions=["core.view_staff"])
    doc = post_services.request_post_grant(actor("admin"), staff=staff("custmgr"), post=post, org=org("HZ0101"),
                                           scope="subtree", reason="核对客户经理团队")
    approval_services.approve(actor("manager"), approval_services.open_request(doc))


def test_create_returns_the_initial_password_exactly_once(api, org):
    admin = api("admin")
    response = admin.post("/api/v1/staff/", {"username": "zhaoyun", "full_name": "赵云", "org": org("HZ010102").pk,
                                             "mobile": "13912345678", "employee_no": "E2001"})
    assert response.status_code == 201
    body = response.json()
    member = Staff.objects.get(username="zhaoyun")
    assert member.check_password(body["initial_password"]) and member.must_change_password
    assert body["must_change_password"] is True and body["org"]["code"] == "HZ010102"
    assert (body["mobile"], body["mobile_masked"], body["can_reveal_mobile"]) == ("139****5678", True, False)

    detail = admin.get(f"/api/v1/staff/{member.pk}/").json()
    listed = next(row for row in admin.get("/api/v1/staff/", {"q": "zhaoyun"}).json()["results"])
    assert "initial_password" not in detail and "initial_password" not in listed
    assert AuditRecord.objects.get(action="create", object_type="core.staff", object_id=str(member.pk)).channel == "api"


def test_duplicate_login_name_is_refused_case_insensitively(api, org, zhaoyun):
    response = api("admin").post("/api/v1/staff/", {"username": "ZhaoYun", "full_name": "重名", "org": org("HZ0101").pk})
    assert response.status_code == 400 and list(response.json()["fields"]) == ["username"]


def test_mobile_is_masked_for_the_admin_even_when_asked_and_nothing_is_audited(api, zhaoyun):
    admin = api("admin")
    before = AuditRecord.objects.filter(category=AuditCategory.ACCESS).count()
    row = next(r for r in admin.get("/api/v1/staff/").json()["results"] if r["username"] == "zhaoyun")
    detail = admin.get(f"/api/v1/staff/{zhaoyun.pk}/", {"reveal": "mobile"}).json()
    assert row["mobile"] == detail["mobile"] == "139****5678"
    assert detail["can_reveal_mobile"] is False
    assert AuditRecord.objects.filter(category=AuditCategory.ACCESS).count() == before


def test_custmgr_without_view_staff_cannot_list_staff(api):
    response = api("custmgr").get("/api/v1/staff/")
    assert response.status_code == 403 and "查看人员与岗位" in response.json()["message"]


def test_full_mobile_is_shown_to_a_holder_of_view_personal_data_only_on_request_and_audited(
        api, zhaoyun, custmgr_may_view_staff, staff):
    client = api("custmgr")
    masked = client.get(f"/api/v1/staff/{zhaoyun.pk}/").json()
    assert (masked["mobile"], masked["mobile_masked"], masked["can_reveal_mobile"]) == ("139****5678", True, True)
    assert not AuditRecord.objects.filter(action="personal_data.view").exists()

    listed = next(r for r in client.get("/api/v1/staff/").json()["results"] if r["username"] == "zhaoyun")
    assert listed["mobile"] == "139****5678", "lists never show the full number"

    shown = client.get(f"/api/v1/staff/{zhaoyun.pk}/", {"reveal": "mobile"}).json()
    assert (shown["mobile"], shown["mobile_masked"]) == ("13912345678", False)
    record = AuditRecord.objects.get(action="personal_data.view")
    assert (record.category, record.object_type, record.object_id, record.actor_id) == (
        AuditCategory.ACCESS, "core.staff", str(zhaoyun.pk), staff("custmgr").pk)
    assert record.channel == "api" and record.changes == {"mobile": ["masked", "shown"]}


def test_staff_outside_the_scope_is_404(api, staff):
    response = api("manager").get(f"/api/v1/staff/{staff('admin').pk}/")
    assert response.status_code == 404
    assert {r["username"] for r in api("manager").get("/api/v1/staff/").json()["results"]} >= {"reader", "reader2"}


def test_partial_update_goes_through_the_service_and_is_audited(api, zhaoyun, org):
    response = api("admin").patch(f"/api/v1/staff/{zhaoyun.pk}/", {
        "mobile": "13800001111", "org": org("HZ010101").pk, "reason": "调岗"})
    assert response.status_code == 200
    assert (response.json()["mobile"], response.json()["org"]["code"]) == ("138****1111", "HZ010101")
    zhaoyun.refresh_from_db()
    assert (zhaoyun.mobile, zhaoyun.org.code) == ("13800001111", "HZ010101")
    record = AuditRecord.objects.filter(action="update", object_id=str(zhaoyun.pk)).latest("seq")
    assert record.changes["mobile"] == ["13912345678", "13800001111"] and record.reason == "调岗"


def test_deactivation_needs_a_reason(api, zhaoyun):
    admin = api("admin")
    refused = admin.post(f"/api/v1/staff/{zhaoyun.pk}/set_active/", {"is_active": False})
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["reason"]
    done = admin.post(f"/api/v1/staff/{zhaoyun.pk}/set_active/", {"is_active": False, "reason": "离职"})
    assert done.status_code == 200 and done.json()["is_active"] is False


def test_nobody_deactivates_their_own_account(api, staff):
    response = api("admin").post(f"/api/v1/staff/{staff('admin').pk}/set_active/", {"is_active": False, "reason": "x"})
    assert response.status_code == 400 and response.json()["code"] == "validation_failed"
    assert staff("admin").is_active


def test_reset_password_returns_a_temporary_password_and_forces_a_change(api, zhaoyun):
    response = api("admin").post(f"/api/v1/staff/{zhaoyun.pk}/reset_password/", {"reason": "遗忘密码"})
    assert response.status_code == 200
    zhaoyun.refresh_from_db()
    assert zhaoyun.check_password(response.json()["temporary_password"]) and zhaoyun.must_change_password
    record = AuditRecord.objects.filter(action="staff.reset_password").latest("seq")
    assert record.category == AuditCategory.SECURITY and record.reason == "遗忘密码"
    assert response.json()["temporary_password"] not in str(record.changes)


def test_unlock_clears_a_lockout(api, zhaoyun, system_actor, settings):
    for _ in range(settings.POWERCIS_LOCKOUT_ATTEMPTS):
        with pytest.raises(staff_services.LoginRefused):
            staff_services.attempt_login(system_actor, "zhaoyun", "wrong")
    zhaoyun.refresh_from_db()
    assert zhaoyun.is_locked()
    admin = api("admin")
    assert admin.get(f"/api/v1/staff/{zhaoyun.pk}/").json()["is_locked"] is True
    response = admin.post(f"/api/v1/staff/{zhaoyun.pk}/unlock/", {"reason": "本人来电核实"})
    assert response.status_code == 200 and response.json()["is_locked"] is False


def test_reader_cannot_manage_staff(api, zhaoyun):
    response = api("reader").post(f"/api/v1/staff/{zhaoyun.pk}/reset_password/", {})
    assert response.status_code == 403 and "维护人员账号" in response.json()["message"]


def test_assignments_are_listed_with_the_staff_member(api, staff):
    body = api("manager").get(f"/api/v1/staff/{staff('reader').pk}/").json()
    assert [(a["post"]["code"], a["org"]["code"], a["scope"]) for a in body["assignments"]] == [
        ("meter_reader", "HZ010101", "own")]
