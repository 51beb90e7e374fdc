"""Each standard post × each protected core action: allowed or refused, by running the real service.

The expected matrix is the business policy written out by hand; the posts' permission
bundles must produce exactly it.  Every demo login holds exactly one post.
"""

import pytest

from powercis.core import authz
from powercis.core.errors import BusinessError, NotAuthorized, SeparationOfDutiesViolation
from powercis.core.models import AuditAlertRule, CodeTable, DataScope, OrgLevel, Post, Staff

LOGIN_OF_POST = {
    "sysadmin": "admin", "marketing_manager": "manager", "meter_reader": "reader", "billing_clerk": "clerk",
    "bill_reviewer": "reviewer", "cashier": "cashier", "accountant": "accountant", "metering_staff": "metering",
    "inspector": "inspector", "auditor": "auditor", "account_manager": "custmgr", "market_analyst": "analyst",
}

ACTIONS = ["view_orgs", "create_org", "create_staff", "create_post", "request_grant", "approve_grant", "add_sod_rule",
           "add_code", "view_audit", "update_alert_rule", "use_api", "view_personal_data"]

ALLOWED = {
    "sysadmin": {"view_orgs", "create_org", "create_staff", "create_post", "request_grant", "add_sod_rule", "add_code",
                 "view_audit", "update_alert_rule", "use_api"},
    "marketing_manager": {"view_orgs", "approve_grant", "view_audit"},
    "auditor": {"view_orgs", "view_audit"},
    "account_manager": {"view_personal_data"},
}


def run_action(action, actor, org, staff):
    """Perform ``action`` as ``actor`` in the demo org 城关供电所 (HZ010101) or its company."""
    from powercis.core.services import codes, orgs, posts, sod, staff as staff_services, tokens
    from powercis.core.services.alerts import update_rule
    from powercis.core.services.approvals import approve
    from powercis.core import selectors

    station, company = org("HZ010101"), org("HZ")
    if action == "view_orgs":
        authz.require(actor, "core.view_orgs", station)
        assert selectors.visible_orgs(actor.user).filter(pk=station.pk).exists()
    elif action == "create_org":
        orgs.create_org(actor, parent=org("HZ0101"), code="M01", name="矩阵所", level=OrgLevel.STATION)
    elif action == "create_staff":
        staff_services.create_staff(actor, username="matrix", full_name="矩阵", org=station)
    elif action == "create_post":
        posts.create_post(actor, company, code="matrix_post", label_zh="矩阵岗", permissions=["customers.view"])
    elif action == "request_grant":
        posts.request_post_grant(actor, staff=staff("cashier"), post=Post.objects.get(company=company, code="meter_reader"),
                                 org=station, scope=DataScope.OWN, reason="矩阵测试")
    elif action == "approve_grant":
        from powercis.core.models import ApprovalRequest

        approve(actor, ApprovalRequest.objects.get(status="pending", doc_type="core.post_grant"), comment="同意")
    elif action == "add_sod_rule":
        sod.add_rule(actor, company, permission_a="reading.enter", permission_b="reading.review", reason="抄审分离")
    elif action == "add_code":
        codes.add_item(actor, CodeTable.objects.get(company=company, code="customer_type"), code="GW", label_zh="关口")
    elif action == "view_audit":
        authz.require(actor, "core.view_audit", station)
    elif action == "update_alert_rule":
        update_rule(actor, AuditAlertRule.objects.get(company=company, kind="change_volume"), params={"max_per_day": 50})
    elif action == "use_api":
        tokens.create_token(actor, name="matrix")
    elif action == "view_personal_data":
        authz.require(actor, "core.view_personal_data", station)


@pytest.mark.parametrize("post", sorted(LOGIN_OF_POST))
@pytest.mark.parametrize("action", ACTIONS)
def test_matrix(post, action, actor, org, staff):
    who = actor(LOGIN_OF_POST[post])
    expected = action in ALLOWED.get(post, set())
    if expected:
        run_action(action, who, org, staff)
    else:
        with pytest.raises((NotAuthorized, SeparationOfDutiesViolation)) as exc:
            run_action(action, who, org, staff)
        assert isinstance(exc.value, BusinessError) and str(exc.value)


def test_every_demo_login_holds_exactly_its_post(db):
    for post, login in LOGIN_OF_POST.items():
        assignments = list(Staff.objects.get(username=login).assignments.values_list("post__code", flat=True))
        assert assignments == [post]


def test_data_scope_own_org_versus_subtree(staff, org):
    reader, manager = staff("reader"), staff("manager")
    assert authz.authorize(reader, "reading.enter", org("HZ010101"))
    assert not authz.authorize(reader, "reading.enter", org("HZ010102"))  # own org only
    assert authz.authorize(manager, "core.view_audit", org("HZ010201"))  # below HZ01
    assert not authz.authorize(manager, "core.view_audit", org("HZ0201"))  # another city
    assert not authz.authorize(manager, "core.view_audit", org("HZ"))  # above
    visible = authz.restrict(org("HZ").__class__.objects.all(), manager, "core.view_orgs", path_field="path")
    assert sorted(visible.values_list("code", flat=True)) == ["HZ01", "HZ0101", "HZ010101", "HZ010102", "HZ0102", "HZ010201"]


def test_manager_cannot_approve_a_grant_outside_his_scope(actor, org, staff, system_actor):
    from powercis.core.services.approvals import approve
    from powercis.core.services.posts import request_post_grant
    from powercis.core.services.staff import create_staff

    newcomer, _ = create_staff(system_actor, username="bs1", full_name="白沙新人", org=org("HZ020101"),
                               password="Xy7!long-enough")
    doc = request_post_grant(actor("admin"), staff=newcomer, org=org("HZ020101"), scope="own", reason="入职",
                             post=Post.objects.get(company=org("HZ"), code="meter_reader"))
    from powercis.core.services.approvals import open_request

    with pytest.raises(NotAuthorized) as exc:
        approve(actor("manager"), open_request(doc), comment="同意")
    assert "白沙供电所" in str(exc.value)
