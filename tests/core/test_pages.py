"""The web pages: what each post sees and may do, with the content that matters."""

import html
import re

import pytest
from django.urls import reverse

from powercis.core.models import AuditRecord, Org, PostAssignment, PostGrantRequest, Staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client, staff):
    def login(username):
        client.force_login(staff(username), backend="powercis.core.auth.StaffBackend")
        return client

    return login


def menu_entries(html: str) -> set[str]:
    return set(re.findall(r'data-nav="([^"]+)"', html))


def test_menus_differ_by_post(as_user):
    admin_menu = menu_entries(as_user("admin").get("/").content.decode())
    assert {"core:org_tree", "core:staff_list", "core:post_list", "core:sod_rules", "core:code_tables",
            "core:audit_search", "core:alert_rules"} <= admin_menu
    assert "core:alert_list" not in admin_menu  # handling alerts is the auditors' and managers' job
    reader_menu = menu_entries(as_user("reader").get("/").content.decode())
    # the meter reader looks accounts and metering points up, and administers and changes nothing
    assert {"web:dashboard", "core:inbox", "customers:account_list", "metering:point_list"} <= reader_menu
    assert not reader_menu & {"core:org_tree", "core:staff_list", "core:audit_search", "customers:change_list",
                              "grid:substation_list", "core:code_tables"}


def test_refused_page_says_which_permission(as_user):
    response = as_user("reader").get(reverse("core:staff_list"))
    assert response.status_code == 403
    page = response.content.decode()
    assert 'id="permission-denied"' in page and ("查看人员与岗位" in page or "View staff and posts" in page)


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("core:org_tree"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("core:login"))


def test_dashboard_shows_the_managers_inbox(as_user):
    page = as_user("manager").get("/").content.decode()
    assert "黄伟 · 抄表员 @ 河口供电所" in page
    assert re.search(r'id="inbox-count">1<', page)


def test_language_switch_sets_english(as_user):
    client = as_user("reader")
    assert "待办" in client.get("/").content.decode() or "工作台" in client.get("/").content.decode()
    response = client.post(reverse("web:set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page and "Dashboard" in page


def test_default_language_is_chinese_whatever_the_browser_says(as_user):
    page = as_user("reader").get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in page


def test_org_tree_expands_children_on_demand(as_user, org):
    client = as_user("auditor")
    page = client.get(reverse("core:org_tree")).content.decode()
    assert "华中示范电力有限公司" in page and "城关供电所" not in page
    children = client.get(reverse("core:org_children", args=[org("HZ").pk]), HTTP_HX_REQUEST="true")
    html = children.content.decode()
    assert "江城供电公司" in html and "白沙供电公司" in html and "<html" not in html


def test_org_outside_scope_is_not_found(as_user, org):
    assert as_user("manager").get(reverse("core:org_detail", args=[org("HZ02").pk])).status_code == 404


def test_admin_creates_an_org_through_the_form(as_user, org):
    client = as_user("admin")
    response = client.post(reverse("core:org_create", args=[org("HZ0101").pk]),
                           {"code": "HZ010103", "name": "新港供电所", "level": "station", "sort_order": 0})
    new = Org.objects.get(code="HZ010103")
    assert response.status_code == 302 and response["Location"] == reverse("core:org_detail", args=[new.pk])
    assert new.parent.code == "HZ0101"


def test_bad_org_input_shows_the_error_and_writes_nothing(as_user, org):
    before = AuditRecord.objects.count()
    response = as_user("admin").post(reverse("core:org_create", args=[org("HZ0101").pk]),
                                     {"code": "bad code!", "name": "x", "level": "station", "sort_order": 0})
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert AuditRecord.objects.count() == before and not Org.objects.filter(name="x").exists()


def test_create_staff_shows_the_initial_password_once(as_user, org):
    client = as_user("admin")
    response = client.post(reverse("core:staff_create"), {
        "username": "zhaoyun", "full_name": "赵云", "org": org("HZ010102").pk, "mobile": "13912345678"})
    page = response.content.decode()
    password = html.unescape(re.search(r'id="initial-password">([^<]+)<', page).group(1))
    member = Staff.objects.get(username="zhaoyun")
    assert member.check_password(password) and member.must_change_password
    detail = client.get(reverse("core:staff_detail", args=[member.pk])).content.decode()
    assert password not in detail
    assert "139****5678" in detail and "13912345678" not in detail


def test_full_phone_shown_only_with_permission_and_audited(as_user, staff, system_actor, org):
    from powercis.core.models import Post
    from powercis.core.services.posts import bootstrap_grant

    Staff.objects.filter(username="reader").update(mobile="13800001111")
    # the administrator lacks core.view_personal_data: the reveal link is ignored
    client = as_user("admin")
    page = client.get(reverse("core:staff_detail", args=[staff("reader").pk]) + "?reveal=mobile").content.decode()
    assert "138****1111" in page and "13800001111" not in page
    # an auditor who also holds the account manager post may reveal it, and it is audited
    bootstrap_grant(system_actor, staff=staff("auditor"), post=Post.objects.get(company=org("HZ"), code="account_manager"),
                    org=org("HZ"), scope="subtree")
    page = as_user("auditor").get(reverse("core:staff_detail", args=[staff("reader").pk]) + "?reveal=mobile").content.decode()
    assert "13800001111" in page
    assert AuditRecord.objects.filter(action="personal_data.view", object_id=str(staff("reader").pk)).count() == 1


def test_grant_request_through_the_ui_then_approval(as_user, staff, org):
    from powercis.core.models import Post

    client = as_user("admin")
    reader2 = staff("reader2")
    response = client.post(reverse("core:grant_request_create", args=[reader2.pk]), {
        "post": Post.objects.get(company=org("HZ"), code="inspector").pk, "org": org("HZ010102").pk,
        "scope": "own", "reason": "兼任用电检查"})
    doc = PostGrantRequest.objects.get(staff=reader2, post__code="inspector")
    assert response.status_code == 302 and doc.approval_status == "pending"
    manager = as_user("manager")
    inbox = manager.get(reverse("core:inbox")).content.decode()
    assert "黄伟 · 用电检查员 @ 河口供电所" in inbox
    from powercis.core.selectors import latest_approval

    approval = latest_approval(doc)
    detail = manager.get(reverse("core:approval_detail", args=[approval.pk])).content.decode()
    assert 'id="approve"' in detail and "兼任用电检查" in detail
    manager.post(reverse("core:approval_approve", args=[approval.pk]), {"comment": "同意"})
    assert PostAssignment.objects.filter(staff=reader2, post__code="inspector").exists()


def test_submitter_sees_no_approve_button(as_user, staff):
    from powercis.core.selectors import latest_approval

    doc = PostGrantRequest.objects.get(staff=staff("reader2"))
    page = as_user("admin").get(reverse("core:approval_detail", args=[latest_approval(doc).pk])).content.decode()
    assert 'id="approve"' not in page and 'id="withdraw"' in page


def test_audit_search_and_record_page(as_user, staff):
    client = as_user("auditor")
    page = client.get(reverse("core:audit_search"), {"user": "admin", "action": "create"}).content.decode()
    rows = re.findall(r'href="/audit/(\d+)/"', page)
    assert rows
    record = AuditRecord.objects.get(seq=int(rows[0]))
    assert record.actor.username == "admin" and "create" in record.action
    detail = client.get(reverse("core:audit_record", args=[record.seq])).content.decode()
    assert record.hash in detail and record.prev_hash in detail


def test_daily_report_exports_excel_and_csv(as_user):
    from django.utils import timezone

    client = as_user("auditor")
    day = timezone.localdate().isoformat()
    html = client.get(reverse("core:audit_daily"), {"day": day}).content.decode()
    total = int(re.search(r'id="daily-total">(\d+)<', html).group(1))
    assert total > 0
    csv_response = client.get(reverse("core:audit_daily"), {"day": day, "format": "csv"})
    text = csv_response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("序号 / Seq") and len(text.strip().splitlines()) == total + 1
    xlsx = client.get(reverse("core:audit_daily"), {"day": day, "format": "xlsx"})
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(xlsx.content)).active
    assert sheet.max_row == total + 1 and sheet.cell(1, 5).value == "操作 / Action"


def test_post_permissions_page_refuses_a_conflicting_bundle(as_user, org):
    from powercis.core.models import Post

    post = Post.objects.get(company=org("HZ"), code="billing_clerk")
    codes = list(post.permissions.values_list("code", flat=True)) + ["billing.adjustment_approve"]
    response = as_user("admin").post(reverse("core:post_detail", args=[post.pk]), {"permissions": codes})
    assert response.status_code == 200 and 'id="form-errors"' in response.content.decode()
    assert not post.permissions.filter(code="billing.adjustment_approve").exists()


def test_code_table_item_added_and_listed(as_user, org):
    from powercis.core.models import CodeTable

    table = CodeTable.objects.get(company=org("HZ"), code="customer_type")
    client = as_user("admin")
    client.post(reverse("core:code_table_detail", args=[table.pk]),
                {"code": "GK", "label_zh": "关口", "label_en": "Gateway", "sort_order": 40, "is_active": "on"})
    page = client.get(reverse("core:code_table_detail", args=[table.pk])).content.decode()
    assert "关口" in page and "Gateway" in page


def test_token_secret_shown_once(as_user):
    client = as_user("admin")
    page = client.post(reverse("core:token_list"), {"name": "银行代收网关", "days": 30}).content.decode()
    secret = html.unescape(re.search(r'id="token-secret">([^<]+)<', page).group(1))
    assert secret.startswith("pcis_")
    assert secret not in client.get(reverse("core:token_list")).content.decode()


def test_static_vendor_assets_are_referenced_locally(as_user):
    page = as_user("reader").get("/").content.decode()
    assert "https://" not in re.sub(r'xmlns="[^"]+"', "", page)
    assert "/static/vendor/bootstrap/" in page and "/static/vendor/htmx/" in page


def test_csp_header_forbids_inline_scripts(as_user):
    response = as_user("reader").get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
