"""Separation of duties: conflicting grants refused, post changes refused, the conflicts report."""

import pytest

from powercis.core.errors import SeparationOfDutiesViolation
from powercis.core.models import Post, PostAssignment, PostGrantRequest
from powercis.core.services import posts as post_services
from powercis.core.services import sod as sod_services


def post(org, code):
    return Post.objects.get(company=org("HZ"), code=code)


def test_granting_a_conflicting_post_is_refused_with_the_pair_named(actor, org, staff):
    """The billing clerk creates adjustments; the bill reviewer post approves them."""
    with pytest.raises(SeparationOfDutiesViolation) as exc:
        post_services.request_post_grant(actor("admin"), staff=staff("clerk"), post=post(org, "bill_reviewer"),
                                         org=org("HZ0101"), scope="subtree", reason="兼岗")
    message = str(exc.value)
    assert "张静" in message and "退补申请" in message and "退补审批" in message
    assert not PostGrantRequest.objects.filter(staff=staff("clerk")).exists()


def test_cashier_cannot_also_hold_reversal_approval(actor, org, staff):
    with pytest.raises(SeparationOfDutiesViolation) as exc:
        post_services.request_post_grant(actor("admin"), staff=staff("cashier"), post=post(org, "accountant"),
                                         org=org("HZ010101"), scope="own", reason="兼岗")
    assert "收费" in str(exc.value) and "冲正退费" in str(exc.value)


def test_a_post_may_not_bundle_a_conflicting_pair(actor, org):
    with pytest.raises(SeparationOfDutiesViolation):
        post_services.create_post(actor("admin"), org("HZ"), code="tariff_all", label_zh="电价全能岗",
                                  permissions=["tariffs.change", "tariffs.approve"])
    assert not Post.objects.filter(code="tariff_all").exists()


def test_adding_a_permission_to_a_post_refused_when_a_holder_would_conflict(actor, org):
    """Giving the clerk's post the approval permission would put both on 张静."""
    clerk_post = post(org, "billing_clerk")
    codes = set(clerk_post.permissions.values_list("code", flat=True))
    with pytest.raises(SeparationOfDutiesViolation):
        post_services.set_post_permissions(actor("admin"), clerk_post, codes | {"billing.adjustment_approve"})
    assert "billing.adjustment_approve" not in set(clerk_post.permissions.values_list("code", flat=True))


def test_rule_checked_across_two_posts_and_report_lists_existing_conflicts(actor, org, staff, system_actor):
    """A rule added after the grants does not revoke anything, but the report names the person."""
    reader = staff("reader")
    post_services.bootstrap_grant(system_actor, staff=reader, post=post(org, "billing_clerk"), org=org("HZ010101"),
                                  scope="own")
    assert sod_services.conflicts_report(org("HZ")) == []
    sod_services.add_rule(actor("admin"), org("HZ"), permission_a="reading.enter", permission_b="reading.review",
                          reason="抄表与数据审核分离")
    rows = sod_services.conflicts_report(org("HZ"))
    assert [(r.staff.username, r.rule.permission_a.code, r.rule.permission_b.code) for r in rows] == [
        ("reader", "reading.enter", "reading.review")]


def test_rule_pair_in_either_order_is_a_duplicate(actor, org):
    from powercis.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        sod_services.add_rule(actor("admin"), org("HZ"), permission_a="billing.adjustment_approve",
                              permission_b="billing.adjustment_create", reason="重复")


def test_switched_off_rule_no_longer_refuses(actor, org, staff):
    from powercis.core.models import SodRule

    rule = SodRule.objects.get(company=org("HZ"), permission_a__code="billing.adjustment_create")
    sod_services.set_rule_active(actor("admin"), rule, False, reason="试点兼岗")
    doc = post_services.request_post_grant(actor("admin"), staff=staff("clerk"), post=post(org, "bill_reviewer"),
                                           org=org("HZ0101"), scope="subtree", reason="兼岗")
    assert doc.approval_status == "pending"


def test_rule_added_while_a_request_waits_blocks_its_approval(actor, org, staff, system_actor):
    from powercis.core.services.approvals import approve, open_request
    from powercis.core.services.staff import create_staff

    newcomer, _ = create_staff(system_actor, username="new1", full_name="新人", org=org("HZ010101"),
                               password="Xy7!long-enough")
    post_services.bootstrap_grant(system_actor, staff=newcomer, post=post(org, "meter_reader"), org=org("HZ010101"),
                                  scope="own")
    doc = post_services.request_post_grant(actor("admin"), staff=newcomer, post=post(org, "billing_clerk"),
                                           org=org("HZ010101"), scope="own", reason="兼岗")
    sod_services.add_rule(actor("admin"), org("HZ"), permission_a="reading.enter", permission_b="reading.review",
                          reason="抄表与数据审核分离")
    with pytest.raises(SeparationOfDutiesViolation):
        approve(actor("manager"), open_request(doc), comment="同意")
    assert not PostAssignment.objects.filter(staff=newcomer, post__code="billing_clerk").exists()
