"""Posts and their permissions, post assignments, grant requests and the approval workflow."""

from __future__ import annotations

import pytest

from powercis.core.models import AuditRecord, Post, PostAssignment, SodRule
from powercis.core.services import posts as post_services
from powercis.core.services import sod as sod_services
from powercis.core.standard_data import STANDARD_POSTS


def post_of(org, code: str) -> Post:
    return Post.objects.get(company=org("HZ"), code=code)


# --- posts --------------------------------------------------------------------------


def test_posts_are_listed_with_their_permission_codes(api, org):
    manager = api("manager")
    listed = manager.get("/api/v1/posts/").json()
    assert {p["code"] for p in listed["results"]} == {spec.code for spec in STANDARD_POSTS}
    sysadmin = manager.get(f"/api/v1/posts/{post_of(org, 'sysadmin').pk}/").json()
    expected = next(spec for spec in STANDARD_POSTS if spec.code == "sysadmin")
    assert sysadmin["permissions"] == sorted(expected.permissions)
    assert (sysadmin["label_zh"], sysadmin["is_standard"]) == ("系统管理员", True)


def test_post_labels_follow_the_language(api, org):
    path = f"/api/v1/posts/{post_of(org, 'cashier').pk}/"
    assert api("manager").get(path, HTTP_ACCEPT_LANGUAGE="en").json()["label"] == "Cashier"
    assert api("manager").get(path, HTTP_ACCEPT_LANGUAGE="zh-CN").json()["label"] == "收费员"


def test_admin_creates_a_post_in_the_own_company(api, org):
    response = api("admin").post("/api/v1/posts/", {
        "code": "hr_officer", "label_zh": "人事专员", "label_en": "HR officer",
        "permissions": ["core.view_staff", "core.view_orgs"]})
    assert response.status_code == 201
    body = response.json()
    assert (body["company"], body["permissions"], body["is_standard"]) == (
        org("HZ").pk, ["core.view_orgs", "core.view_staff"], False)
    record = AuditRecord.objects.get(action="create", object_type="core.post", object_id=str(body["id"]))
    assert record.changes["permissions"] == [None, ["core.view_orgs", "core.view_staff"]]


def test_unknown_permission_codes_are_named(api):
    response = api("admin").post("/api/v1/posts/", {"code": "odd", "label_zh": "奇怪", "permissions": ["core.fly"]})
    assert response.status_code == 400 and list(response.json()["fields"]) == ["permissions"]
    assert "core.fly" in response.json()["fields"]["permissions"][0]


def test_manager_may_not_create_posts(api):
    response = api("manager").post("/api/v1/posts/", {"code": "x_post", "label_zh": "x"})
    assert response.status_code == 403 and "维护岗位及其权限" in response.json()["message"]


def test_conflicting_permissions_are_refused_by_separation_of_duties(api, org):
    cashier = post_of(org, "cashier")
    response = api("admin").post(f"/api/v1/posts/{cashier.pk}/set_permissions/", {
        "permissions": ["payments.enter", "payments.reverse"], "reason": "合并岗位"})
    assert response.status_code == 403 and response.json()["code"] == "separation_of_duties"
    assert "payments.reverse" not in set(cashier.permissions.values_list("code", flat=True))


def test_set_permissions_replaces_the_set_and_is_audited(api, org):
    reader_post = post_of(org, "meter_reader")
    response = api("admin").post(f"/api/v1/posts/{reader_post.pk}/set_permissions/", {
        "permissions": ["reading.view", "reading.enter"], "reason": "精简"})
    assert response.status_code == 200 and response.json()["permissions"] == ["reading.enter", "reading.view"]
    record = AuditRecord.objects.filter(object_type="core.post", object_id=str(reader_post.pk)).latest("seq")
    assert record.changes["permissions"][1] == ["reading.enter", "reading.view"] and record.reason == "精简"


def test_partial_update_of_a_post(api, org):
    response = api("admin").patch(f"/api/v1/posts/{post_of(org, 'inspector').pk}/", {"label_en": "Site inspector"})
    assert response.status_code == 200 and response.json()["label_en"] == "Site inspector"


# --- assignments --------------------------------------------------------------------


def test_assignments_are_filtered_within_scope(api, staff, org):
    manager = api("manager")
    rows = manager.get("/api/v1/assignments/", {"staff": staff("reader").pk}).json()["results"]
    assert [(r["staff"]["username"], r["post"]["code"], r["org"]["code"]) for r in rows] == [
        ("reader", "meter_reader", "HZ010101")]
    in_scope = manager.get("/api/v1/assignments/", {"page_size": 100}).json()["results"]
    assert {r["staff"]["username"] for r in in_scope} == {
        "manager", "reader", "clerk", "reviewer", "cashier", "accountant", "metering", "inspector", "custmgr"}
    by_org = manager.get("/api/v1/assignments/", {"org": org("HZ010101").pk}).json()["results"]
    assert {r["staff"]["username"] for r in by_org} == {"reader", "cashier"}


def test_revoking_an_assignment_needs_a_reason_and_is_audited(api, staff):
    assignment = PostAssignment.objects.get(staff=staff("cashier"))
    admin = api("admin")
    refused = admin.post(f"/api/v1/assignments/{assignment.pk}/revoke/", {})
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["reason"]
    done = admin.post(f"/api/v1/assignments/{assignment.pk}/revoke/", {"reason": "调离收费岗位"})
    assert done.status_code == 204 and not PostAssignment.objects.filter(pk=assignment.pk).exists()
    record = AuditRecord.objects.get(action="delete", object_type="core.postassignment", object_id=str(assignment.pk))
    assert record.reason == "调离收费岗位" and record.actor.username == "admin"


def test_manager_sees_but_may_not_revoke(api, staff):
    assignment = PostAssignment.objects.get(staff=staff("cashier"))
    response = api("manager").post(f"/api/v1/assignments/{assignment.pk}/revoke/", {"reason": "x"})
    assert response.status_code == 403
    assert PostAssignment.objects.filter(pk=assignment.pk).exists()


# --- grant requests and approvals ---------------------------------------------------------


def test_grant_request_is_approved_in_the_managers_inbox(api, staff, org):
    reader2, cashier = staff("reader2"), post_of(org, "cashier")
    created = api("admin").post("/api/v1/grant-requests/", {
        "staff": reader2.pk, "post": cashier.pk, "org": org("HZ010102").pk, "scope": "own",
        "reason": "兼任收费员", "comment": "请审批"})
    assert created.status_code == 201
    grant = created.json()
    assert (grant["approval_status"], grant["staff"]["username"], grant["post"]["code"]) == (
        "pending", "reader2", "cashier")
    approval_id = grant["approval"]

    manager = api("manager")
    inbox = manager.get("/api/v1/approvals/inbox/").json()["results"]
    assert approval_id in [a["id"] for a in inbox]
    detail = manager.get(f"/api/v1/approvals/{approval_id}/").json()
    assert detail["can_decide"] is True and [a["kind"] for a in detail["actions"]] == ["submit"]
    assert detail["actions"][0]["comment"] == "请审批"

    approved = manager.post(f"/api/v1/approvals/{approval_id}/approve/", {"comment": "同意"})
    assert approved.status_code == 200
    body = approved.json()
    assert body["status"] == "approved" and body["can_decide"] is False
    assert [(a["kind"], a["actor"]["username"]) for a in body["actions"]] == [("submit", "admin"), ("approve", "manager")]
    assert PostAssignment.objects.filter(staff=reader2, post=cashier, org=org("HZ010102")).exists()
    assert api("admin").get(f"/api/v1/grant-requests/{grant['id']}/").json()["approval_status"] == "approved"
    assert approval_id not in [a["id"] for a in manager.get("/api/v1/approvals/inbox/").json()["results"]]

    again = manager.post(f"/api/v1/approvals/{approval_id}/approve/", {})
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_reject_needs_a_comment(api):
    manager = api("manager")
    approval_id = manager.get("/api/v1/approvals/inbox/").json()["results"][0]["id"]
    refused = manager.post(f"/api/v1/approvals/{approval_id}/reject/", {"comment": ""})
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["comment"]
    rejected = manager.post(f"/api/v1/approvals/{approval_id}/reject/", {"comment": "人员未到岗"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"


def test_only_the_submitter_withdraws(api):
    approval_id = api("manager").get("/api/v1/approvals/inbox/").json()["results"][0]["id"]
    refused = api("manager").post(f"/api/v1/approvals/{approval_id}/withdraw/", {})
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert api("reader").post(f"/api/v1/approvals/{approval_id}/withdraw/", {}).status_code == 404
    withdrawn = api("admin").post(f"/api/v1/approvals/{approval_id}/withdraw/", {"comment": "重新申请"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_approvals_list_filters_by_status_and_type(api):
    admin = api("admin")
    assert [a["status"] for a in admin.get("/api/v1/approvals/", {"status": "pending"}).json()["results"]] == ["pending"]
    assert admin.get("/api/v1/approvals/", {"status": "approved"}).json()["count"] == 0
    assert admin.get("/api/v1/approvals/", {"doc_type": "core.post_grant"}).json()["count"] == 1
    assert admin.get("/api/v1/approvals/", {"doc_type": "no.such"}).status_code == 400


@pytest.fixture
def manager_who_also_requests_grants(system_actor, staff, org):
    """Switch off the rule that keeps requesting and approving grants apart, and let the manager request grants."""
    rule = SodRule.objects.get(company=org("HZ"), permission_a__code="core.manage_staff",
                               permission_b__code="core.approve_grants")
    sod_services.set_rule_active(system_actor, rule, False, reason="test")
    post_services.bootstrap_grant(system_actor, staff=staff("manager"), post=post_of(org, "sysadmin"),
                                  org=org("HZ01"), scope="subtree")


def test_approving_your_own_grant_request_is_separation_of_duties(api, staff, org, manager_who_also_requests_grants):
    manager = api("manager")
    created = manager.post("/api/v1/grant-requests/", {
        "staff": staff("reader2").pk, "post": post_of(org, "cashier").pk, "org": org("HZ010102").pk,
        "reason": "兼任收费员"})
    assert created.status_code == 201
    approval_id = created.json()["approval"]
    assert approval_id not in [a["id"] for a in manager.get("/api/v1/approvals/inbox/").json()["results"]]
    response = manager.post(f"/api/v1/approvals/{approval_id}/approve/", {"comment": "自己批"})
    assert response.status_code == 403
    assert response.json()["code"] == "separation_of_duties"
    assert manager.get(f"/api/v1/approvals/{approval_id}/").json()["status"] == "pending"


def test_grant_request_for_staff_outside_scope_reads_as_unknown(api, staff, org, manager_who_also_requests_grants):
    response = api("manager").post("/api/v1/grant-requests/", {
        "staff": staff("analyst").pk, "post": post_of(org, "cashier").pk, "org": org("HZ02").pk, "reason": "x"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"staff", "org"}


def test_reader_sees_no_grant_requests_but_not_a_403(api):
    response = api("reader").get("/api/v1/grant-requests/")
    assert response.status_code == 200 and response.json()["count"] == 0
