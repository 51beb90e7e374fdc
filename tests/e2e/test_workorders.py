"""In a real browser: the billing clerk opens the work orders from the menu, filters them, opens one and completes it.

Assertions use ids and data attributes, not wording, so they hold in either language.
"""

from __future__ import annotations

import json

from playwright.sync_api import expect

from .conftest import log_in, run_beside

RAISE_TWO = """
import datetime as dt, json
from powercis.core.context import Actor
from powercis.core.models import Org, Staff, WorkOrder
from powercis.core.services import workorders
system = Actor.as_system("e2e")
org = Org.objects.get(code="HZ010101")
due = dt.date.today() + dt.timedelta(days=3)
reread = workorders.raise_order(system, org=org, kind=WorkOrder.Kind.REREAD, title="E2E 补抄", account_no="E2E-0001",
                                assignee=Staff.objects.get(username="reader"), due_on=due)
check = workorders.raise_order(system, org=org, kind=WorkOrder.Kind.FIELD_CHECK, title="E2E 零电量现场核查",
                               account_no="E2E-0002", due_on=due)
print(json.dumps({"reread": reread.number, "check": check.number}))
"""


def test_list_filter_open_and_complete(new_page, live_env, live_url):
    numbers = json.loads(run_beside(live_env, RAISE_TWO).strip().splitlines()[-1])

    page = new_page()
    log_in(page, "clerk")
    page.click('[data-nav="core:workorder_list"]')
    expect(page.locator("#workorder-table")).to_be_visible()
    expect(page.locator(f'[data-workorder="{numbers["reread"]}"]')).to_be_visible()
    expect(page.locator(f'[data-workorder="{numbers["check"]}"]')).to_be_visible()

    page.select_option("#id_kind", "field_check")
    page.fill("#id_q", "E2E")
    page.click("#workorder-filter-submit")
    expect(page.locator(f'[data-workorder="{numbers["reread"]}"]')).to_have_count(0)
    expect(page.locator("#workorder-table tbody tr[data-workorder]")).to_have_count(1)

    page.click(f'[data-workorder="{numbers["check"]}"] a')
    expect(page.locator("#workorder-number")).to_have_text(numbers["check"])
    expect(page.locator("#workorder-status")).to_have_attribute("data-status", "open")
    page.fill("#id_complete-text", "现场核实：用户空置，表计正常")
    page.click("#workorder-complete-submit")
    expect(page.locator("#workorder-status")).to_have_attribute("data-status", "done")
    expect(page.locator("#workorder-result")).to_have_text("现场核实：用户空置，表计正常")
    expect(page.locator("#workorder-complete")).to_have_count(0)

    # back on the list, the open orders no longer include it; the done ones do
    page.goto("/workorders/?status=done")
    expect(page.locator(f'[data-workorder="{numbers["check"]}"]')).to_have_attribute("data-status", "done")
    page.goto("/workorders/")
    expect(page.locator(f'[data-workorder="{numbers["check"]}"]')).to_have_count(0)
    expect(page.locator(f'[data-workorder="{numbers["reread"]}"]')).to_be_visible()
