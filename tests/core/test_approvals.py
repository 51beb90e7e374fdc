"""The approval engine: transitions, locking, eligibility, separation of duties, inbox, audit."""

import pytest
from django.utils.translation import gettext

from powercis.core import selectors, workflow
from powercis.core.errors import (
    DocumentLocked,
    InvalidTransition,
    NotAuthorized,
    SeparationOfDutiesViolation,
    ValidationFailed,
)
from powercis.core.models import ApprovalAction, AuditRecord, Post, PostAssignment, PostGrantRequest
from powercis.core.services import approvals
from powercis.core.services import posts as post_services
from powercis.core.services.staff import create_staff


@pytest.fixture
def grant_doc(actor, org, system_actor):
    newcomer, _ = create_staff(system_actor, username="newbie", full_name="新员工", org=org("HZ010102"),
                               password="Xy7!long-enough")
    return post_services.request_post_grant(
        actor("admin"), staff=newcomer, post=Post.objects.get(company=org("HZ"), code="cashier"),
        org=org("HZ010102"), scope="own", reason="新增收费员")


def test_submit_locks_the_document(grant_doc):
    assert grant_doc.approval_status == "pending"
    with pytest.raises(DocumentLocked):
        approvals.ensure_editable(grant_doc)
    request = approvals.open_request(grant_doc)
    assert (request.step_index, request.step_count, request.current_post_code) == (0, 1, "marketing_manager")
    assert [a.kind for a in request.actions.all()] == ["submit"]


def test_approve_applies_the_grant_and_audits_each_step(grant_doc, actor):
    request = approvals.open_request(grant_doc)
    approvals.approve(actor("manager"), request, comment="同意")
    grant_doc.refresh_from_db()
    request.refresh_from_db()
    assert grant_doc.approval_status == "approved" and request.status == "approved" and request.closed_at
    assignment = PostAssignment.objects.get(staff=grant_doc.staff, post=grant_doc.post)
    assert assignment.grant_request_id == grant_doc.pk and assignment.scope == "own"
    actions = list(request.actions.values_list("kind", "actor__username", "post_code", "comment"))
    assert actions == [("submit", "admin", "sysadmin", ""), ("approve", "manager", "marketing_manager", "同意")]
    trail = list(AuditRecord.objects.filter(ref=f"approval:{request.pk}").order_by("seq").values_list("action", flat=True))
    assert trail == ["approval.submit", "approval.approve", "create"]
    with pytest.raises(DocumentLocked):
        approvals.ensure_editable(grant_doc)


def test_reject_needs_a_comment_and_grants_nothing(grant_doc, actor):
    request = approvals.open_request(grant_doc)
    with pytest.raises(ValidationFailed):
        approvals.reject(actor("manager"), request, comment="  ")
    approvals.reject(actor("manager"), request, comment="岗位已满员")
    grant_doc.refresh_from_db()
    assert grant_doc.approval_status == "rejected"
    assert not PostAssignment.objects.filter(staff=grant_doc.staff).exists()
    approvals.ensure_editable(grant_doc)  # a rejected document may be corrected and resubmitted
    assert ApprovalAction.objects.get(request=request, kind="reject").comment == "岗位已满员"


def test_closed_request_takes_no_more_decisions(grant_doc, actor):
    request = approvals.open_request(grant_doc)
    approvals.approve(actor("manager"), request, comment="同意")
    with pytest.raises(InvalidTransition):
        approvals.reject(actor("manager"), request, comment="改主意")


def test_only_the_steps_post_may_decide(grant_doc, actor):
    request = approvals.open_request(grant_doc)
    for login in ("reader", "auditor", "clerk"):
        with pytest.raises(NotAuthorized):
            approvals.approve(actor(login), request, comment="同意")
    assert approvals.open_request(grant_doc) is not None


def test_withdraw_only_by_the_submitter(grant_doc, actor):
    request = approvals.open_request(grant_doc)
    with pytest.raises(NotAuthorized):
        approvals.withdraw(actor("manager"), request)
    approvals.withdraw(actor("admin"), request, comment="填错岗位")
    grant_doc.refresh_from_db()
    assert grant_doc.approval_status == "withdrawn"
    assert selectors.inbox(grant_doc.created_by).count() == 0


def test_resubmission_after_rejection_opens_a_new_request(grant_doc, actor):
    first = approvals.open_request(grant_doc)
    approvals.reject(actor("manager"), first, comment="补充理由")
    second = approvals.submit(actor("admin"), PostGrantRequest.objects.get(pk=grant_doc.pk), comment="已补充")
    assert second.pk != first.pk and second.status == "pending"


def test_nobody_approves_what_they_created_whatever_their_posts(org, actor, staff, system_actor):
    """Give the administrator the manager post too (no conflicting pair covers it), then let him try."""
    manager_post = Post.objects.get(company=org("HZ"), code="marketing_manager")
    from powercis.core.services.sod import set_rule_active
    from powercis.core.models import SodRule

    set_rule_active(system_actor, SodRule.objects.get(company=org("HZ"), permission_a__code="core.manage_staff"),
                    False)
    post_services.bootstrap_grant(system_actor, staff=staff("admin"), post=manager_post, org=org("HZ"), scope="subtree")
    newcomer, _ = create_staff(system_actor, username="own1", full_name="自批测试", org=org("HZ010101"),
                               password="Xy7!long-enough")
    doc = post_services.request_post_grant(actor("admin"), staff=newcomer, org=org("HZ010101"), scope="own",
                                           reason="测试", post=Post.objects.get(company=org("HZ"), code="cashier"))
    request = approvals.open_request(doc)
    assert request not in selectors.inbox(staff("admin"))
    with pytest.raises(SeparationOfDutiesViolation) as exc:
        approvals.approve(actor("admin"), request, comment="自己批")
    assert str(exc.value) == gettext("You created this document; someone else must approve it.")


def test_one_person_cannot_approve_two_steps(monkeypatch, grant_doc, actor, org, staff, system_actor):
    two_steps = workflow.DocumentType(
        code="core.post_grant", label="two-step", model="core.PostGrantRequest",
        submit_permission="core.manage_staff",
        steps=(workflow.Step("部门主任", "marketing_manager", "core.approve_grants"),
               workflow.Step("稽查复核", "auditor", "core.view_audit")),
        on_approved=workflow.get("core.post_grant").on_approved,
    )
    monkeypatch.setitem(workflow._REGISTRY, "core.post_grant", two_steps)
    post_services.bootstrap_grant(system_actor, staff=staff("manager"),
                                  post=Post.objects.get(company=org("HZ"), code="auditor"), org=org("HZ01"),
                                  scope="subtree")
    doc = PostGrantRequest.objects.get(pk=grant_doc.pk)
    approvals.withdraw(actor("admin"), approvals.open_request(doc))
    request = approvals.submit(actor("admin"), PostGrantRequest.objects.get(pk=doc.pk))
    approvals.approve(actor("manager"), request, comment="一审同意")
    request.refresh_from_db()
    assert (request.step_index, request.current_post_code) == (1, "auditor")
    assert request not in selectors.inbox(staff("manager"))
    assert request in selectors.inbox(staff("auditor"))
    with pytest.raises(SeparationOfDutiesViolation):
        approvals.approve(actor("manager"), request, comment="二审也我")
    approvals.approve(actor("auditor"), request, comment="复核通过")
    assert PostAssignment.objects.filter(staff=doc.staff, post__code="cashier").exists()


def test_inbox_matches_post_scope_and_excludes_own(grant_doc, staff):
    request = approvals.open_request(grant_doc)
    assert request in selectors.inbox(staff("manager"))
    for login in ("admin", "auditor", "reader", "analyst"):
        assert request not in selectors.inbox(staff(login))


def test_the_beneficiary_of_a_grant_cannot_approve_it(actor, org, staff, system_actor):
    """A marketing manager may not approve a post for himself, even when an administrator asked for it."""
    doc = post_services.request_post_grant(
        actor("admin"), staff=staff("manager"), post=Post.objects.get(company=org("HZ"), code="market_analyst"),
        org=org("HZ01"), scope="subtree", reason="兼任市场分析")
    with pytest.raises(SeparationOfDutiesViolation) as exc:
        approvals.approve(actor("manager"), approvals.open_request(doc), comment="同意")
    assert str(exc.value) == gettext("You processed this document or it concerns you; someone else must approve it.")
    assert not PostAssignment.objects.filter(staff=staff("manager"), post__code="market_analyst").exists()


def test_a_step_can_require_an_approver_at_an_org_level(monkeypatch, grant_doc, actor, staff):
    """With the step bound to the provincial level, the city manager is no longer an approver."""
    provincial = workflow.DocumentType(
        code="core.post_grant", label="provincial", model="core.PostGrantRequest",
        submit_permission="core.manage_staff",
        steps=(workflow.Step("省公司营销部审批", "marketing_manager", "core.approve_grants", level="province"),),
        on_approved=workflow.get("core.post_grant").on_approved,
    )
    request = approvals.open_request(grant_doc)
    assert request in selectors.inbox(staff("manager"))
    monkeypatch.setitem(workflow._REGISTRY, "core.post_grant", provincial)
    assert request not in selectors.inbox(staff("manager"))
    with pytest.raises(NotAuthorized):
        approvals.approve(actor("manager"), request, comment="同意")
