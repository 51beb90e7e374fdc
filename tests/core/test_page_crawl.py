"""Every page opens for the posts that may use it and is refused (not broken) for the others."""

import pytest
from django.urls import reverse

from powercis.core.models import AuditAlertRule, CodeItem, CodeTable, Org, Post, PostGrantRequest, Staff

pytestmark = pytest.mark.django_db


def page_urls():
    company = Org.objects.get(code="HZ")
    station = Org.objects.get(code="HZ010101")
    reader = Staff.objects.get(username="reader")
    post = Post.objects.get(company=company, code="meter_reader")
    table = CodeTable.objects.get(company=company, code="usage_category")
    grant = PostGrantRequest.objects.first()
    from powercis.core.selectors import latest_approval

    approval = latest_approval(grant)
    return {
        "web:dashboard": reverse("web:dashboard"),
        "core:profile": reverse("core:profile"),
        "core:password_change": reverse("core:password_change"),
        "core:token_list": reverse("core:token_list"),
        "core:org_tree": reverse("core:org_tree"),
        "core:org_detail": reverse("core:org_detail", args=[station.pk]),
        "core:org_create": reverse("core:org_create", args=[Org.objects.get(code="HZ0101").pk]),
        "core:org_edit": reverse("core:org_edit", args=[station.pk]),
        "core:org_move": reverse("core:org_move", args=[station.pk]),
        "core:staff_list": reverse("core:staff_list"),
        "core:staff_create": reverse("core:staff_create"),
        "core:staff_detail": reverse("core:staff_detail", args=[reader.pk]),
        "core:staff_edit": reverse("core:staff_edit", args=[reader.pk]),
        "core:grant_request_create": reverse("core:grant_request_create", args=[reader.pk]),
        "core:grant_list": reverse("core:grant_list"),
        "core:grant_detail": reverse("core:grant_detail", args=[grant.pk]),
        "core:post_list": reverse("core:post_list"),
        "core:post_create": reverse("core:post_create"),
        "core:post_detail": reverse("core:post_detail", args=[post.pk]),
        "core:post_edit": reverse("core:post_edit", args=[post.pk]),
        "core:sod_rules": reverse("core:sod_rules"),
        "core:sod_conflicts": reverse("core:sod_conflicts"),
        "core:inbox": reverse("core:inbox"),
        "core:my_requests": reverse("core:my_requests"),
        "core:approval_detail": reverse("core:approval_detail", args=[approval.pk]),
        "core:audit_search": reverse("core:audit_search"),
        "core:audit_record": reverse("core:audit_record", args=[1]),
        "core:audit_daily": reverse("core:audit_daily"),
        "core:alert_list": reverse("core:alert_list"),
        "core:alert_rules": reverse("core:alert_rules"),
        "core:alert_rule_edit": reverse("core:alert_rule_edit",
                                        args=[AuditAlertRule.objects.filter(company=company).first().pk]),
        "core:code_tables": reverse("core:code_tables"),
        "core:code_table_detail": reverse("core:code_table_detail", args=[table.pk]),
        "core:code_item_edit": reverse("core:code_item_edit", args=[CodeItem.objects.filter(table=table).first().pk]),
    }


OPENS_FOR = {
    "admin": {"web:dashboard", "core:profile", "core:password_change", "core:token_list", "core:org_tree",
              "core:org_detail", "core:org_create", "core:org_edit", "core:org_move", "core:staff_list",
              "core:staff_create", "core:staff_detail", "core:staff_edit", "core:grant_request_create",
              "core:grant_list", "core:grant_detail", "core:post_list", "core:post_create", "core:post_detail",
              "core:post_edit", "core:sod_rules", "core:sod_conflicts", "core:inbox", "core:my_requests",
              "core:approval_detail", "core:audit_search", "core:audit_record", "core:audit_daily",
              "core:alert_rules", "core:alert_rule_edit", "core:code_tables", "core:code_table_detail",
              "core:code_item_edit"},
    "auditor": {"web:dashboard", "core:profile", "core:password_change", "core:org_tree", "core:org_detail",
                "core:staff_list", "core:staff_detail", "core:grant_detail", "core:post_list", "core:post_detail",
                "core:sod_conflicts", "core:inbox", "core:my_requests", "core:approval_detail", "core:audit_search",
                "core:audit_record", "core:audit_daily", "core:alert_list"},
    "reader": {"web:dashboard", "core:profile", "core:password_change", "core:inbox", "core:my_requests"},
}


@pytest.mark.parametrize("username", sorted(OPENS_FOR))
def test_each_page_opens_or_is_refused_cleanly(client, staff, username):
    client.force_login(staff(username), backend="powercis.core.auth.StaffBackend")
    opened, refused = set(), {}
    for name, url in page_urls().items():
        status = client.get(url).status_code
        if status == 200:
            opened.add(name)
        else:
            refused[name] = status
    assert opened == OPENS_FOR[username]
    assert set(refused.values()) <= {403, 404}, refused
