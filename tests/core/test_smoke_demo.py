from powercis.core import audit, selectors
from powercis.core.models import Org, PostAssignment, Staff


def test_demo_company_has_tree_logins_and_intact_trail(db):
    company = Org.objects.get(code="HZ")
    assert Org.objects.subtree(company).count() == 10
    assert Staff.objects.count() == 13
    assert PostAssignment.objects.count() == 12
    result = audit.verify()
    assert result.ok, result.problem
    assert result.checked > 50


def test_manager_inbox_holds_the_demo_grant_request(staff):
    titles = [r.title for r in selectors.inbox(staff("manager"))]
    assert titles == ["黄伟 · 抄表员 @ 河口供电所"]
