"""In a real browser: find an account with the search box, open its 360 page and see it on the map;
change its capacity through an approval and see the new version in its history."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import log_in


def first_account_no(page, query: str = "") -> str:
    page.goto(f"/customers/accounts/{query}")
    return page.locator("#account-table tbody tr td a").first.inner_text().strip()


def test_search_open_the_360_page_and_see_the_map(new_page):
    page = new_page()
    log_in(page, "custmgr")
    account_no = first_account_no(page)
    page.goto("/")
    page.fill("#search-box-q", account_no)
    page.press("#search-box-q", "Enter")
    page.wait_for_url(re.compile(r".*/search/.*"))
    page.get_by_role("link", name=account_no).first.click()
    expect(page.locator("#account-no")).to_have_text(account_no)
    expect(page.locator("#panel-attributes")).to_be_visible()
    expect(page.locator("#panel-metering .metering-point").first).to_be_visible()
    expect(page.locator("#panel-map .leaflet-container")).to_be_visible()
    # the account's own point is drawn on the map
    expect(page.locator("#panel-map .leaflet-interactive").first).to_be_attached()


def test_capacity_increase_through_approval_shows_in_the_history(new_page):
    clerk = new_page()
    log_in(clerk, "custmgr")
    account_no = first_account_no(clerk, "?usage_category=CI_2&status=NORMAL")
    clerk.get_by_role("link", name=account_no).first.click()
    account_url = clerk.url
    current = clerk.locator("#current-attributes dd").nth(4).inner_text().strip()
    new_capacity = str(int(float(current)) + 200)
    clerk.click("#new-change")
    clerk.get_by_role("link", name=re.compile("增容")).click()
    clerk.fill("#id_effective_date", "2026-01-01")
    clerk.fill("#id_contract_capacity", new_capacity)
    clerk.fill("#id_reason", "新增生产线")
    clerk.click("#submit-change")
    expect(clerk.locator("#change-status")).to_have_text("审批中")

    manager = new_page()
    log_in(manager, "manager")
    manager.goto("/approvals/inbox/")
    manager.get_by_role("link", name=re.compile(account_no)).first.click()
    expect(manager.locator("#change-values")).to_contain_text(new_capacity)
    manager.fill("#id_comment", "同意增容")
    manager.click("#approve")
    expect(manager.locator("#approval-status")).to_have_text("已通过")

    clerk.goto(account_url)
    expect(clerk.locator("#version-history")).to_contain_text("2026-01-01")
    expect(clerk.locator("#version-history")).to_contain_text(f"{new_capacity}.0")
    expect(clerk.locator("#current-attributes")).to_contain_text(f"{new_capacity}.0")
