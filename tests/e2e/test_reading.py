"""In a real browser: a route's plan is generated, the reader walks two stops on a phone, the reviewer corrects
the stop that failed validation from the worklist, the plan is released; the indicators draw their charts.

Assertions use ids and data attributes, not wording, so they hold in either language.
"""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from .conftest import log_in

ROUTE = "E2E-R1"
PHONE = {"width": 390, "height": 844}


def next_period() -> str:
    """Next month: its read date lies ahead, so the stops not walked here are not yet missing."""
    today = dt.date.today()
    index = today.year * 12 + today.month
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def form_numbers(page) -> dict:
    """The stop form's expected range and last total (empty when the meter has no history)."""
    return page.evaluate("""() => {
        const f = document.getElementById('stop-form');
        return {low: f.dataset.low, high: f.dataset.high, last: f.dataset.last};
    }""")


def plausible(numbers: dict) -> str:
    """A total the validation accepts: the middle of the expected range, else a little above the last reading."""
    if numbers["low"] and numbers["high"]:
        return f"{(float(numbers['low']) + float(numbers['high'])) / 2:.2f}"
    return f"{float(numbers['last'] or 0) + 50:.2f}"


def misread(numbers: dict) -> str:
    """A total the validation blocks: half the last reading (lower, or an implausible rollover), or a huge jump."""
    last = float(numbers["last"] or 0)
    return f"{last / 2:.2f}" if last >= 2 else "999999.00"


def csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return errors


def move_two_accounts_onto_the_route(page) -> list[str]:
    """The account manager puts two residential accounts of 城关供电所 on the new route (their route code)."""
    page.goto("/customers/accounts/?reading_route_code=HZ010101-001&status=NORMAL")
    links = page.locator("#account-table tbody tr td a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(2)]
    numbers = [links.nth(i).inner_text().strip() for i in range(2)]
    for href in hrefs:
        page.goto(f"{href}edit/")
        page.fill("#id_reading_route_code", ROUTE)
        page.fill("#id_reason", "调整抄表段")
        page.click("#save")
        expect(page.locator("#account-no")).to_be_visible()
    return numbers


def test_generate_walk_correct_release_and_indicators(new_page):
    period = next_period()

    custmgr = new_page()
    log_in(custmgr, "custmgr")
    accounts = move_two_accounts_onto_the_route(custmgr)

    clerk = new_page()
    problems = csp_errors(clerk)
    log_in(clerk, "clerk")
    clerk.goto("/reading/routes/new/")
    clerk.select_option("#id_org", clerk.locator("#id_org option", has_text="HZ010101").get_attribute("value"))
    clerk.fill("#id_code", ROUTE)
    clerk.fill("#id_name", "端到端抄表段")
    clerk.select_option("#id_reader", clerk.locator("#id_reader option", has_text="李明").get_attribute("value"))
    clerk.fill("#id_read_day", "25")
    clerk.select_option("#id_method", "handheld")
    clerk.click("#save")
    expect(clerk.locator("#route-accounts")).to_have_text("2")

    clerk.goto(f"/reading/plans/?period={period}")
    clerk.select_option("#gen_org", clerk.locator("#gen_org option", has_text="HZ010101").get_attribute("value"))
    clerk.fill("#gen_period", period)
    clerk.click("#generate-submit")
    row = clerk.locator(f'#plan-table tr[data-plan="{ROUTE}"]')
    expect(row.locator("[data-progress]")).to_have_text(re.compile(r"^0/\d+$"))
    due = int(row.locator("[data-progress]").inner_text().split("/")[1])
    assert due >= 2

    # the reader, on a phone: two stops, the second one far beyond what the supply can deliver
    reader = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    problems += csp_errors(reader)
    log_in(reader, "reader")
    reader.goto("/reading/mine/")
    reader.click(f'[data-walk="{ROUTE}"]')
    expect(reader.locator("#stop-number")).to_have_text(re.compile(r"^1 / \d+$"))
    on_route = re.compile("|".join(map(re.escape, accounts)))
    expect(reader.locator("#stop-account")).to_have_text(on_route)
    assert reader.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(reader.locator("#id_reg_total")).to_have_attribute("inputmode", "decimal")
    reader.fill("#id_reg_total", plausible(form_numbers(reader)))
    reader.fill("#id_photo_ref", "IMG_0001.jpg")
    reader.click("#stop-save")
    # the validation's verdict on the stop is shown at once (the demo's history may add warnings, e.g. the interval)
    expect(reader.locator("#outcome")).to_have_attribute("data-verdict", re.compile("^(passed|warnings|blocked)$"))
    expect(reader.locator("#stop-number")).to_have_text(re.compile(r"^2 / \d+$"))
    expect(reader.locator("#stop-account")).to_have_text(on_route)

    # the range warning holds back the first save of a value outside the expected range
    numbers = form_numbers(reader)
    wrong = misread(numbers)
    if not numbers["last"] or float(numbers["last"]) < 2:
        reader.evaluate("document.getElementById('stop-form').dataset.high = '5000'")
    reader.fill("#id_reg_total", wrong)
    expect(reader.locator("#range-warning")).to_be_visible()
    stop_url = reader.url
    reader.click("#stop-save")
    expect(reader.locator("#range-warning")).to_be_visible()
    assert reader.url == stop_url
    reader.click("#stop-save")
    expect(reader.locator("#outcome")).to_have_attribute("data-verdict", "blocked")
    blocked = reader.locator('#outcome [data-severity="block"]').first
    rule = blocked.get_attribute("data-exception")
    expect(reader.locator("#outcome")).to_contain_text(wrong)

    # the reviewer corrects it from the worklist
    clerk.goto(f"/reading/exceptions/?route={ROUTE}&severity=block")
    row = clerk.locator(f'#exception-table tr[data-rule="{rule}"]')
    expect(row).to_have_count(1)
    expect(row.locator("[data-why]")).to_contain_text(wrong)
    row.locator("summary").click()
    correct = row.locator("form").filter(has=clerk.locator('[data-action="correct"]'))
    correct.locator('input[name="reg_total"]').fill(plausible(numbers))
    correct.locator('input[name="reason"]').fill("抄表员看错位数，照片核对")
    correct.locator('[data-action="correct"]').click()
    expect(clerk.locator(f'#exception-table tr[data-rule="{rule}"]')).to_have_count(0)
    # anything else still blocking on the route is confirmed after a look (multi-select)
    remaining = clerk.locator('#exception-table input[name="ids"]')
    if remaining.count():
        for i in range(remaining.count()):
            remaining.nth(i).check()
        clerk.fill("#confirm-many-note", "现场核实无误")
        clerk.click("#confirm-many-submit")
        expect(clerk.locator('#exception-table input[name="ids"]')).to_have_count(0)
    clerk.goto(f"/reading/exceptions/?route={ROUTE}&status=resolved")
    expect(clerk.locator(f'#exception-table tr[data-rule="{rule}"] [data-resolution="corrected"]')).to_be_visible()

    # validate and release the plan
    clerk.goto(f"/reading/plans/?period={period}")
    clerk.locator(f'#plan-table tr[data-plan="{ROUTE}"] a').first.click()
    clerk.click("#plan-validate")
    expect(clerk.locator("#plan-release")).to_be_visible()
    clerk.click("#plan-release")
    expect(clerk.locator('#plan-status [data-status="released"]')).to_be_visible()
    expect(clerk.locator("#plan-actual-rate")).to_have_text(f"{200 / due:.2f}%")

    # the indicators: the table's numbers are the chart's
    clerk.goto(f"/reading/indicators/?period_from={period}&period_to={period}&by=route")
    table_row = clerk.locator("#indicator-table tr", has_text=ROUTE)
    expect(table_row.locator('[data-rate="actual"]')).to_have_text(f"{200 / due:.2f}%")
    expect(table_row.locator('[data-rate="error"]')).to_have_text("50.00%")
    expect(clerk.locator("#chart-groups canvas").first).to_be_visible()
    option = clerk.evaluate("""() => {
        const chart = window.echarts.getInstanceByDom(document.getElementById('chart-groups'));
        const o = chart.getOption();
        return {labels: o.xAxis[0].data, series: o.series.map(s => s.data)};
    }""")
    index = next(i for i, label in enumerate(option["labels"]) if label.startswith(ROUTE))
    assert option["series"][0][index] == round(200 / due, 2)
    assert option["series"][1][index] == 50
    assert problems == []
