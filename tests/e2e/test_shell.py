"""In a real browser: two posts see different menus, the language switches, a refused page says why,
the manager works his inbox, and the shell works at phone size."""

import re

from playwright.sync_api import expect

from .conftest import log_in


def menu(page) -> set[str]:
    return set(page.locator("#main-menu a[data-nav]").evaluate_all("els => els.map(e => e.dataset.nav)"))


def test_two_posts_see_different_menus(new_page):
    admin = new_page()
    log_in(admin, "admin")
    reader = new_page()
    log_in(reader, "reader")
    admin_menu, reader_menu = menu(admin), menu(reader)
    assert {"core:org_tree", "core:staff_list", "core:audit_search"} <= admin_menu
    # the meter reader looks accounts and metering points up, and administers nothing
    assert {"web:dashboard", "core:inbox", "customers:account_list", "metering:point_list"} <= reader_menu
    assert not reader_menu & {"core:org_tree", "core:staff_list", "core:audit_search", "customers:change_list"}
    expect(admin.locator("#main-menu")).to_contain_text("组织机构")
    expect(reader.locator("#main-menu")).not_to_contain_text("组织机构")


def test_language_switch(new_page):
    page = new_page()
    log_in(page, "auditor")
    expect(page.locator("h1")).to_have_text("工作台")
    page.locator("#language-switch button[value=en]").first.click()
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/audit/")
    expect(page.locator("h1")).to_have_text("Audit trail")
    page.locator("#language-switch button[value=zh-hans]").first.click()
    expect(page.locator("h1")).to_have_text("审计日志")


def test_refused_page_for_a_missing_permission(new_page):
    page = new_page()
    log_in(page, "reader")
    response = page.goto("/staff/")
    assert response.status == 403
    expect(page.locator("#permission-denied")).to_contain_text("查看人员与岗位")


def test_manager_approves_from_the_inbox(new_page):
    page = new_page()
    log_in(page, "manager")
    expect(page.locator("#inbox-count")).to_have_text("1")
    page.goto("/approvals/inbox/")
    page.get_by_role("link", name=re.compile("黄伟 · 抄表员")).click()
    expect(page.locator("#document")).to_contain_text("新入职抄表员")
    page.fill("#id_comment", "同意，按期上岗")
    page.click("#approve")
    expect(page.locator("#approval-status")).to_have_text("已通过")
    expect(page.locator("#approval-history")).to_contain_text("同意，按期上岗")
    page.goto("/")
    expect(page.locator("#inbox-count")).to_have_text("0")
    # the new post is in force: 黄伟 now sees a dashboard with his post
    reader2 = new_page()
    log_in(reader2, "reader2")
    expect(reader2.locator("#my-posts")).to_contain_text("抄表员")


def test_phone_sized_shell(new_page):
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    log_in(page, "admin")
    sidebar_link = page.locator("#main-menu a[data-nav='core:staff_list']")
    expect(sidebar_link).to_be_hidden()
    page.click("button[aria-controls=sidebar]")
    expect(sidebar_link).to_be_visible()
    sidebar_link.click()
    expect(page.locator("h1")).to_have_text("人员")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, f"page scrolls sideways on a phone ({width}px)"


def test_admin_staff_worklist_and_audit_trail(new_page):
    page = new_page()
    log_in(page, "admin")
    page.goto("/staff/")
    page.fill("#id_q", "李明")
    page.click("#staff-search")
    expect(page.locator("#staff-table tbody tr")).to_have_count(1)
    expect(page.locator("#staff-table")).to_contain_text("城关供电所")
    auditor = new_page()
    log_in(auditor, "auditor")
    auditor.goto("/audit/?user=admin&action=approval")
    expect(auditor.locator("#audit-results")).to_contain_text("approval.submit")
    expect(auditor.locator("#audit-results")).to_contain_text("黄伟")
