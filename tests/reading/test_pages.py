"""Reading pages: routes, the plan worklist and its actions, the exception worklist, deliveries, channels,
thresholds, indicators and the account's reads — content, permission hiding and data scope."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from powercis.core.models import DataScope, Org, Post, WorkOrder
from powercis.reading.models import (
    CollectionTarget,
    PlanStatus,
    QuarantinedRead,
    ReadBatch,
    ReadException,
    ReadingPlan,
    ReadingRoute,
    ReadingTask,
    RegisterRead,
    Resolution,
    Source,
    ValidationProfile,
)
from powercis.reading.services import entry, plans
from tests import archive_factory as make

from . import factory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English (the msgids); the Chinese catalogue is filled separately."""
    with translation.override("en"):
        yield


@pytest.fixture
def login(client, staff):
    def as_user(user):
        client.force_login(staff(user) if isinstance(user, str) else user, backend="powercis.core.auth.StaffBackend")
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return as_user


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def chart_data(page: str, block_id: str) -> dict:
    return json.loads(re.search(rf'id="{block_id}" type="application/json">(.*?)</script>', page, re.S).group(1))


def period_now() -> dt.date:
    return timezone.localdate().replace(day=1)


def other_county_reader():
    """A meter reader of 青山营业所 (another county): reads there, sees nothing of 城关."""
    from powercis.core.services import posts, staff

    org = Org.objects.get(code="HZ010201")
    member, _pw = staff.create_staff(make.system(), username="qsreader", full_name="青山抄表员", org=org,
                                     password="Powercis@2026", must_change_password=False)
    post = Post.objects.get(company_id=org.company_id, code="meter_reader")
    posts.bootstrap_grant(make.system(), staff=member, post=post, org=org, scope=DataScope.OWN)
    return member


@pytest.fixture
def walk(staff, actor):
    """Route R-UI of 城关供电所, read by the demo reader: two metered accounts and this period's plan."""
    installed = timezone.localdate() - dt.timedelta(days=30)
    route = factory.route(code="R-UI", reader=staff("reader"))
    first = factory.metered_account(route="R-UI", order=1, installed_on=installed)
    second = factory.metered_account(route="R-UI", order=2, installed_on=installed,
                                     install_reads={"total": "500.00", "peak": "150.00", "flat": "200.00",
                                                    "valley": "150.00"})
    plans.generate(actor("clerk"), org=Org.objects.get(code="HZ010101"), period=period_now())
    plan = ReadingPlan.objects.get(route=route, period=period_now())
    tasks = list(plan.tasks.order_by("seq"))
    return SimpleNamespace(route=route, plan=plan, tasks=tasks, accounts=[first[0], second[0]],
                           points=[first[1], second[1]], meters=[first[2], second[2]])


@pytest.fixture
def read(walk, actor):
    """Both stops read by the reader; the second below its meter's start reading (500): a blocking 'lower'."""
    reader = actor("reader")
    entry.record_reads(reader, walk.tasks[0], values={"total": "100.00", "peak": "30.00", "flat": "40.00",
                                                      "valley": "30.00"})
    entry.record_reads(reader, walk.tasks[1], values={"total": "123.40", "peak": "30.00", "flat": "63.40",
                                                      "valley": "30.00"})
    return walk


# ---------------------------------------------------------------------------------------------------- menu


def test_the_menu_section_lists_what_each_post_may_open(login):
    reader = text(login("reader").get(reverse("web:dashboard")))
    assert 'data-section="reading"' in reader
    assert 'data-nav="reading:my_routes"' in reader and 'data-nav="reading:plan_list"' in reader
    clerk = text(login("clerk").get(reverse("web:dashboard")))
    assert 'data-nav="reading:plan_list"' in clerk and 'data-nav="reading:my_routes"' not in clerk
    custmgr = text(login("custmgr").get(reverse("web:dashboard")))
    assert 'data-section="reading"' not in custmgr
    assert login("custmgr").get(reverse("reading:plan_list")).status_code == 403


# ---------------------------------------------------------------------------------------------------- routes


def test_route_list_counts_the_accounts_naming_each_route(login, walk):
    factory.route(code="R-UI-EMPTY", method="remote")
    page = text(login("clerk").get(reverse("reading:route_list")))
    assert re.search(r'data-route="R-UI">.*?data-accounts>2<', page, re.S)
    assert re.search(r'data-route="R-UI-EMPTY">.*?data-accounts>0<', page, re.S)
    assert 'id="route-create"' in page
    remote = text(login("clerk").get(reverse("reading:route_list"), {"method": "remote"}))
    assert 'data-route="R-UI-EMPTY"' in remote and 'data-route="R-UI"' not in remote
    reader_page = text(login("reader").get(reverse("reading:route_list")))
    assert 'data-route="R-UI"' in reader_page and 'id="route-create"' not in reader_page
    assert login("reader").get(reverse("reading:route_create")).status_code == 403


def test_route_create_and_edit_go_through_the_service(login, staff):
    client = login("clerk")
    station = Org.objects.get(code="HZ010101")
    form = text(client.get(reverse("reading:route_create")))
    assert "李明" in form  # the demo reader is offered
    bad = text(client.post(reverse("reading:route_create"), {
        "org": station.pk, "code": "R 9", "name": "错", "read_day": 20, "cycle": "monthly", "method": "manual"}))
    assert "Use up to 32 letters, digits, hyphens or underscores." in bad
    assert not ReadingRoute.objects.filter(name="错").exists()
    not_reader = text(client.post(reverse("reading:route_create"), {
        "org": station.pk, "code": "R-9", "name": "城关九段", "read_day": 20, "cycle": "monthly", "method": "manual",
        "reader": staff("cashier").pk}))
    assert "may not enter reads" in not_reader
    done = client.post(reverse("reading:route_create"), {
        "org": station.pk, "code": "R-9", "name": "城关九段", "read_day": 20, "cycle": "bimonthly", "odd_months": "on",
        "method": "handheld", "reader": staff("reader").pk})
    route = ReadingRoute.objects.get(code="R-9")
    assert done.status_code == 302 and done.url == reverse("reading:route_detail", args=[route.pk])
    assert (route.reader.username, route.read_day, route.cycle, route.method) == ("reader", 20, "bimonthly", "handheld")
    client.post(reverse("reading:route_edit", args=[route.pk]), {
        "name": "城关九段", "read_day": 31, "cycle": "monthly", "method": "handheld", "reader": staff("reader").pk,
        "is_active": "on", "reason": "改为月末抄表"})
    route.refresh_from_db()
    assert (route.read_day, route.cycle) == (31, "monthly")
    detail = text(client.get(reverse("reading:route_detail", args=[route.pk])))
    assert "Last day of the month" in detail and 'id="route-edit"' in detail


# ---------------------------------------------------------------------------------------------------- plans


def test_generating_from_the_worklist_lists_the_plans_with_progress(login, staff):
    installed = timezone.localdate() - dt.timedelta(days=30)
    factory.route(code="R-GEN", reader=staff("reader"))
    for order in (1, 2, 3):
        factory.metered_account(route="R-GEN", order=order, installed_on=installed)
    client = login("clerk")
    period = f"{period_now():%Y-%m}"
    page = text(client.get(reverse("reading:plan_list")))
    assert f'value="{period}"' in page and 'id="generate-form"' in page
    response = client.post(reverse("reading:plan_generate"), {
        "org": Org.objects.get(code="HZ010101").pk, "period": period}, follow=True)
    page = text(response)
    assert "were generated" in page and "plans created 1" in page and "tasks created 3" in page
    assert re.search(r'data-plan="R-GEN">.*?data-progress>0/3<', page, re.S)
    assert 'data-nav="reading:plan_list"' in page
    bad = text(client.post(reverse("reading:plan_generate"), {"org": Org.objects.get(code="HZ010101").pk,
                                                               "period": "2026/10"}, follow=True))
    assert "Enter the period as YYYY-MM" in bad


def test_opening_plans_are_generated_from_the_worklist_and_marked(login, staff):
    factory.route(code="R-OPEN", reader=staff("reader"))
    factory.metered_account(route="R-OPEN", order=1, installed_on=dt.date(2015, 3, 2))
    client = login("clerk")
    page = text(client.get(reverse("reading:plan_list", query={"period": "2026-01"})))
    assert 'name="opening"' in page and "Opening readings (go-live)" in page
    response = client.post(reverse("reading:plan_generate"), {
        "org": Org.objects.get(code="HZ010101").pk, "period": "2026-01", "opening": "on"}, follow=True)
    page = text(response)
    assert "were generated" in page
    assert re.search(r'data-plan="R-OPEN">.*?data-opening="1"', page, re.S)
    assert ReadingPlan.objects.get(route__code="R-OPEN", period=dt.date(2026, 1, 1)).opening
    refused = text(client.post(reverse("reading:plan_generate"), {"org": Org.objects.get(code="HZ010101").pk,
                                                                   "period": "2026-01"}, follow=True))
    assert "went live with the opening readings of 2026-01" in refused


def test_plans_are_scoped_and_buttons_follow_permissions(login, walk):
    url = reverse("reading:plan_list")
    reader = text(login("reader").get(url))
    assert 'data-plan="R-UI"' in reader
    assert 'id="generate-form"' not in reader and 'id="review-form"' not in reader
    clerk = text(login("clerk").get(url))
    assert 'id="generate-form"' in clerk and 'id="review-form"' in clerk
    outsider = login(other_county_reader())
    assert 'data-plan="R-UI"' not in text(outsider.get(url))
    assert outsider.get(reverse("reading:plan_detail", args=[walk.plan.pk])).status_code == 404
    assert outsider.get(reverse("reading:handheld", args=[walk.plan.pk])).status_code == 404


def test_plan_detail_lists_the_stops_in_walk_order(login, walk):
    page = text(login("clerk").get(reverse("reading:plan_detail", args=[walk.plan.pk])))
    first, second = (page.index(f'data-task="{t.pk}"') for t in walk.tasks)
    assert first < second
    assert walk.accounts[0].account_no in page and walk.meters[1].asset_no in page
    assert 'id="reassign-form"' in page and 'id="plan-validate"' in page
    assert 'id="override-form"' not in page  # nothing blocks yet, and the clerk holds no override
    reader = text(login("reader").get(reverse("reading:plan_detail", args=[walk.plan.pk])))
    assert 'id="reassign-form"' not in reader and 'id="walk-start"' in reader


def test_reassigning_a_plan(login, walk, staff):
    from powercis.core.services import posts, staff as staff_services

    org = Org.objects.get(code="HZ010101")
    newcomer, _pw = staff_services.create_staff(make.system(), username="reader3", full_name="周新", org=org,
                                                password="Powercis@2026", must_change_password=False)
    posts.bootstrap_grant(make.system(), staff=newcomer, post=Post.objects.get(company_id=org.company_id,
                                                                              code="meter_reader"),
                          org=org, scope=DataScope.OWN)
    client = login("clerk")
    page = text(client.post(reverse("reading:plan_reassign", args=[walk.plan.pk]),
                            {"reader": newcomer.pk, "reason": "病假"}, follow=True))
    assert "is now read by 周新" in page
    walk.plan.refresh_from_db()
    assert walk.plan.reader_id == newcomer.pk
    walk.route.refresh_from_db()
    assert walk.route.reader.username == "reader"  # the route keeps its own reader
    refused = text(client.post(reverse("reading:plan_reassign", args=[walk.plan.pk]),
                               {"reader": staff("cashier").pk}, follow=True))
    assert "may not enter reads" in refused


def test_validate_and_release_from_the_worklist(login, read, actor):
    client = login("clerk")
    plan = read.plan
    period = f"{plan.period:%Y-%m}"
    station = Org.objects.get(code="HZ010101").pk
    page = text(client.post(reverse("reading:plan_validate"), {"org": station, "period": period}, follow=True))
    assert "1 plans were validated" in page
    plan.refresh_from_db()
    assert plan.validated_at is not None
    # the second stop's 'lower' blocks: no release button for it, and release-all keeps it back
    assert 'data-release="R-UI"' not in page
    page = text(client.post(reverse("reading:plan_release_period"), {"org": station, "period": period},
                            follow=True))
    assert "0 plans were released" in page and "Kept back" in page and "exceptions open" in page
    plan.refresh_from_db()
    assert plan.status == PlanStatus.OPEN
    exc = ReadException.objects.get(task=read.tasks[1], rule="lower", register="total", status="open")
    client.post(reverse("reading:exception_act", args=[exc.pk, "confirm"]), {"note": "新表起度有误，已核实"})
    for other in ReadException.objects.filter(plan=plan, status="open", severity="block"):
        client.post(reverse("reading:exception_act", args=[other.pk, "confirm"]), {"note": "核实"})
    page = text(client.get(reverse("reading:plan_list"), {"period": period}))
    assert 'data-release="R-UI"' in page
    page = text(client.post(reverse("reading:plan_release", args=[plan.pk]), {"next": "list"}, follow=True))
    assert "was released to billing" in page and 'data-status="released"' in page
    plan.refresh_from_db()
    assert (plan.status, plan.released_by.username) == (PlanStatus.RELEASED, "clerk")


def test_override_form_is_shown_only_to_supervisors(login, read, actor):
    plans.validate(actor("clerk"), [read.plan])
    clerk = text(login("clerk").get(reverse("reading:plan_detail", args=[read.plan.pk])))
    assert 'id="override-form"' not in clerk and 'id="plan-release"' not in clerk
    manager = login("manager")
    assert 'id="override-form"' in text(manager.get(reverse("reading:plan_detail", args=[read.plan.pk])))
    empty = text(manager.post(reverse("reading:plan_release", args=[read.plan.pk]),
                              {"override": "1", "override_reason": " "}, follow=True))
    assert "Give the reason for releasing with open exceptions." in empty
    page = text(manager.post(reverse("reading:plan_release", args=[read.plan.pk]),
                             {"override": "1", "override_reason": "现场核实为表计更换遗漏，已派单"}, follow=True))
    assert "released to billing by override: 现场核实为表计更换遗漏，已派单" in page
    read.plan.refresh_from_db()
    assert (read.plan.status, read.plan.released_by.username) == (PlanStatus.RELEASED, "manager")
    assert not ReadException.objects.filter(plan=read.plan, status="open").exists()
    assert ReadException.objects.filter(plan=read.plan, resolution=Resolution.OVERRIDDEN).exists()


def test_the_reading_sheet_goes_out_and_comes_back_filled(login, walk):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import load_workbook

    client = login("reader")
    response = client.get(reverse("reading:plan_sheet_export", args=[walk.plan.pk]))
    assert response.status_code == 200 and 'filename="reading-sheet-R-UI-' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    point = header.index("Metering point")
    assert [r[point] for r in rows] == [p.code for p in walk.points]
    sheet.cell(row=2, column=header.index("Total") + 1, value="130.50")
    sheet.cell(row=3, column=header.index("Reason not read") + 1, value="Door locked, nobody home")
    filled = io.BytesIO()
    book.save(filled)
    page = text(client.post(reverse("reading:plan_sheet_import", args=[walk.plan.pk]), {
        "file": SimpleUploadedFile("filled.xlsx", filled.getvalue())}, follow=True))
    assert "1 stops read, 1 not read" in page
    first, second = (ReadingTask.objects.get(pk=t.pk) for t in walk.tasks)
    assert (first.status, first.source, second.status, second.unreadable_reason) == (
        "read", "import", "unreadable", "LOCKED")
    assert RegisterRead.objects.get(task=first).registers() == {"total": Decimal("130.5")}
    plan_page = text(login("clerk").get(reverse("reading:plan_detail", args=[walk.plan.pk])))
    assert 'id="sheet-import-form"' not in plan_page and 'id="sheet-export"' in plan_page


# ---------------------------------------------------------------------------------------------------- exceptions


def test_the_worklist_says_why_in_words_and_scopes_by_role(login, read):
    url = reverse("reading:exception_list")
    page = text(login("clerk").get(url))
    exc = ReadException.objects.get(task=read.tasks[1], rule="lower", register="total")
    row = re.search(rf'data-exception="{exc.pk}".*?</tr>', page, re.S).group(0)
    assert "123.40" in row and "500.00" in row and "below" in row
    assert read.accounts[1].account_no in row and 'data-action="correct"' in row and 'name="ids"' in row
    reader = text(login("reader").get(url))
    assert 'data-rule="lower"' in reader and 'data-action="confirm"' not in reader and 'name="ids"' not in reader
    assert 'data-rule="lower"' not in text(login(other_county_reader()).get(url))
    only_warn = text(login("clerk").get(url, {"severity": "warn"}))
    assert 'data-rule="lower"' not in only_warn
    other_route = text(login("clerk").get(url, {"route": "R-NONE"}))
    assert "No exceptions found." in other_route
    detail = text(login("clerk").get(reverse("reading:exception_detail", args=[exc.pk])))
    assert 'data-read="total">123.40<' in detail and "500.00" in detail and 'id="correct-form"' in detail
    assert 'name="reg_peak"' in detail and 'name="reg_reactive"' not in detail
    as_reader = text(login("reader").get(reverse("reading:exception_detail", args=[exc.pk])))
    assert 'id="exception-why"' in as_reader and 'id="correct-form"' not in as_reader


def test_correcting_from_the_worklist_needs_a_reason_and_resolves(login, read):
    exc = ReadException.objects.get(task=read.tasks[1], rule="lower", register="total", status="open")
    client = login("clerk")
    url = reverse("reading:exception_act", args=[exc.pk, "correct"])
    missing = text(client.post(url, {"reg_total": "523.40", "reason": ""}))
    assert 'id="correct-form"' in missing and "This field is required." in missing
    too_precise = text(client.post(url, {"reg_total": "523.401", "reason": "照片核对"}))
    assert "decimal places" in too_precise
    exc.refresh_from_db()
    assert exc.status == "open"
    back = reverse("reading:exception_list") + "?status=all"
    done = client.post(url, {"reg_total": "523.40", "reg_peak": "180.00", "reg_flat": "193.40", "reg_valley": "150.00",
                             "reason": "抄表员看错位数", "next": back})
    assert done.status_code == 302 and done.url == back
    exc.refresh_from_db()
    assert (exc.status, exc.resolution, exc.resolved_by.username) == ("resolved", Resolution.CORRECTED, "clerk")
    corrected = RegisterRead.objects.get(task=read.tasks[1], status="valid")
    assert (corrected.total, corrected.source, corrected.revision) == (Decimal("523.4000"), Source.CORRECT, 1)
    assert corrected.registers() == {"total": Decimal("523.40"), "peak": Decimal("180.00"),
                                     "flat": Decimal("193.40"), "valley": Decimal("150.00")}
    assert corrected.corrects.status == "superseded" and corrected.corrects.total == Decimal("123.40")
    resolved = text(client.get(back))
    row = re.search(rf'data-exception="{exc.pk}".*?</tr>', resolved, re.S).group(0)
    assert 'data-resolution="corrected"' in row and "张静" in row and "抄表员看错位数" in row


def test_reread_shows_the_work_order_and_estimate_its_method(login, read):
    exc = ReadException.objects.get(task=read.tasks[1], rule="lower", register="total", status="open")
    client = login("clerk")
    page = text(client.post(reverse("reading:exception_act", args=[exc.pk, "reread"]), {"note": "请复抄"},
                            follow=True))
    order = WorkOrder.objects.get(source_ref=f"reading.task:{read.tasks[1].pk}")
    assert f"work order {order.number} for 李明" in page
    assert f'data-work-order="{order.number}"' in page  # the exception stays open with its order
    no_reason = text(client.post(reverse("reading:exception_act", args=[exc.pk, "estimate"]), {"reason": ""}))
    assert 'id="estimate-form"' in no_reason and "This field is required." in no_reason
    back = reverse("reading:exception_list") + "?status=all"
    page = text(client.post(reverse("reading:exception_act", args=[exc.pk, "estimate"]),
                            {"reason": "表计黑屏，按历史估抄", "next": back}, follow=True))
    exc.refresh_from_db()
    assert (exc.status, exc.resolution) == ("resolved", Resolution.ESTIMATED)
    method = RegisterRead.objects.filter(task=read.tasks[1], source=Source.ESTIMATE).first().note.split(" — ", 1)[1]
    assert method and f"Estimated by: {method}" in page
    row = re.search(rf'data-exception="{exc.pk}".*?</tr>', page, re.S).group(0)
    assert 'data-resolution="estimated"' in row and "data-method" in row and "表计黑屏，按历史估抄" in row


def test_confirming_several_at_once(login, read):
    open_ids = list(ReadException.objects.filter(plan=read.plan, status="open").values_list("pk", flat=True))
    assert len(open_ids) >= 1
    client = login("clerk")
    page = text(client.post(reverse("reading:exception_confirm_many"), {"ids": open_ids, "note": "批量核实"},
                            follow=True))
    assert f"{len(open_ids)} exceptions were confirmed." in page
    assert not ReadException.objects.filter(pk__in=open_ids, status="open").exists()
    assert set(ReadException.objects.filter(pk__in=open_ids).values_list("note", flat=True)) == {"批量核实"}
    refused = login("reader").post(reverse("reading:exception_confirm_many"), {"ids": open_ids})
    assert refused.status_code == 403


# ---------------------------------------------------------------------------------------------------- deliveries


@pytest.fixture
def delivery(staff):
    org = Org.objects.get(code="HZ010101")
    batch = ReadBatch.objects.create(org=org, source=Source.AMI, file_name="ami-20261101.csv", file_format="csv",
                                     sender="HES-1", received_by=staff("metering"), rows_total=5, rows_accepted=2,
                                     rows_duplicate=1, rows_quarantined=2, rows_flagged=1,
                                     summary={"clock_drift": {"meters": 3, "max_seconds": 420}, "meters": 4})
    QuarantinedRead.objects.bulk_create([
        QuarantinedRead(batch=batch, row_no=4, meter_ref="M404", register="total", read_at_text="2026-11-01",
                        value_text="12a", reason_code="value", reason="“12a” is not a number."),
        QuarantinedRead(batch=batch, row_no=7, meter_ref="NOPE", register="total", read_at_text="2026-11-01",
                        value_text="5", reason_code="meter", reason="No meter with this number."),
    ])
    return batch


def test_a_delivery_shows_its_counts_drift_and_quarantined_rows(login, delivery):
    page = text(login("metering").get(reverse("reading:batch_detail", args=[delivery.pk])))
    assert 'data-count="quarantined">2<' in page and 'data-count="duplicate">1<' in page
    assert re.search(r'data-row="4">.*?12a.*?is not a number', page, re.S)
    assert re.search(r'data-row="7">.*?NOPE.*?No meter with this number', page, re.S)
    assert "max_seconds" in page and "420" in page
    assert 'id="batch-flags"' not in page  # flagged, but no read of the delivery is stored with a flag


def test_a_delivery_counts_its_reads_per_check_whatever_the_register(login, delivery):
    _account, point, meter = factory.metered_account()
    day = dt.datetime(2026, 11, 1, tzinfo=timezone.get_current_timezone())
    for i, flags in enumerate(["lower:peak,lower:valley,tou_sum", "rollover:total", "lower:total"]):
        RegisterRead.objects.create(metering_point=point, meter=meter, read_at=day + dt.timedelta(days=i),
                                    total=Decimal("10"), source=Source.AMI, batch=delivery, flags=flags,
                                    recorded_at=day)
    page = text(login("metering").get(reverse("reading:batch_detail", args=[delivery.pk])))
    flags = re.search(r'id="batch-flags">(.*?)</ul>', page, re.S).group(1)
    assert dict(re.findall(r'data-flag="(\w+)">[^<]*: (\d+)<', flags)) == {
        "lower": "2", "rollover": "1", "tou_sum": "1"}
    # the delivery's own summary, counted per register value by the ingest, is taken per check as well
    ReadBatch.objects.filter(pk=delivery.pk).update(summary={"flags": {"lower:peak": 3, "lower": 1, "reverse": 2}})
    page = text(login("metering").get(reverse("reading:batch_detail", args=[delivery.pk])))
    flags = re.search(r'id="batch-flags">(.*?)</ul>', page, re.S).group(1)
    assert dict(re.findall(r'data-flag="(\w+)">[^<]*: (\d+)<', flags)) == {"lower": "4", "reverse": "2"}
    listing = text(login("metering").get(reverse("reading:batch_list"), {"problems": "1"}))
    assert "ami-20261101.csv" in listing and 'id="batch-upload"' in listing
    assert 'id="batch-upload"' not in text(login("clerk").get(reverse("reading:batch_list")))
    assert login(other_county_reader()).get(reverse("reading:batch_detail", args=[delivery.pk])).status_code == 404


def test_upload_takes_the_format_from_the_extension(login):
    client = login("metering")
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = text(client.post(reverse("reading:batch_upload"), {
        "org": Org.objects.get(code="HZ0101").pk, "source": "ami",
        "file": SimpleUploadedFile("reads.doc", b"x")}))
    assert "the format is taken from the file name" in page
    assert not ReadBatch.objects.exists()


def test_uploading_a_head_end_file_shows_the_quarantined_rows_and_the_clock_drift(login):
    _account, _point, meter = factory.metered_account()
    day = timezone.localdate() - dt.timedelta(days=2)
    following = day + dt.timedelta(days=1)
    content = (f"meter,register,read_at,value\n{meter.asset_no},total,{day.isoformat()}T00:00:00+08:00,120.50\n"
               f"NO-SUCH-METER,total,{day.isoformat()}T00:00:00+08:00,5\n"
               f"{meter.asset_no},total,{following.isoformat()}T00:04:10+08:00,126.00\n").encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login("metering")
    form = text(client.get(reverse("reading:batch_upload")))
    assert '<option value="ami"' in form and '<option value="import"' not in form  # metering staff do not enter
    response = client.post(reverse("reading:batch_upload"), {
        "org": Org.objects.get(code="HZ0101").pk, "source": "ami",
        "file": SimpleUploadedFile("hes.csv", content, content_type="text/csv")}, follow=True)
    page = text(response)
    batch = ReadBatch.objects.get()
    assert (batch.file_format, batch.rows_accepted, batch.rows_quarantined) == ("csv", 2, 1)
    assert re.search(r'data-row="2">.*?NO-SUCH-METER', page, re.S)
    assert 'data-clock="on-time">1<' in page and 'data-clock="off">1<' in page
    assert 'data-clock="largest">+0:04:10<' in page
    assert login("clerk").get(reverse("reading:batch_upload")).status_code == 403
    reader_form = text(login("reader").get(reverse("reading:batch_upload")))
    assert '<option value="import"' in reader_form and '<option value="ami"' not in reader_form


# ---------------------------------------------------------------------------------------------------- channels


def test_channels_are_created_and_given_meters_by_number(login):
    _account, point, _meter = factory.metered_account()
    client = login("metering")
    assert 'id="channel-create"' in text(client.get(reverse("reading:channel_list")))
    county = Org.objects.get(code="HZ0101").pk
    bad = text(client.post(reverse("reading:channel_create"), {
        "org": county, "code": "CH-1", "name": "城关集中器", "host": "10.0.0.5", "port": 8899, "timeout_seconds": "3",
        "retries": 2, "data_ids": "0001FF00 00ZZ"}))
    assert "Not a data identifier of 8 hex digits: 00ZZ" in bad
    response = client.post(reverse("reading:channel_create"), {
        "org": county, "code": "CH-1", "name": "城关集中器", "host": "10.0.0.5", "port": 8899, "timeout_seconds": "3",
        "retries": 2, "data_ids": "0001ff00, 00020000", "run_at": "01:30", "is_active": "on"}, follow=True)
    page = text(response)
    assert "Channel CH-1 was created." in page and "0001FF00 00020000" in page and "01:30" in page
    channel_url = response.redirect_chain[-1][0]
    pk = int(re.search(r"/channels/(\d+)/", channel_url).group(1))
    unknown = text(client.post(reverse("reading:channel_targets", args=[pk]), {"codes": f"{point.code}, NO-SUCH"},
                               follow=True))
    assert "NO-SUCH" in unknown and not CollectionTarget.objects.exists()
    added = text(client.post(reverse("reading:channel_targets", args=[pk]), {"codes": point.code}, follow=True))
    assert "1 meters were added" in added and point.code in added
    viewer = text(login("clerk").get(reverse("reading:channel_detail", args=[pk])))
    assert point.code in viewer and 'id="channel-run"' not in viewer and 'id="targets-add"' not in viewer
    assert login("reader").get(reverse("reading:channel_detail", args=[pk])).status_code == 404  # county channel


def test_run_now_lists_the_meters_that_did_not_answer(login, actor):
    pytest.importorskip("powercis.reading.ingest")
    from powercis.reading.collection.simulator import ThreadedBus
    from powercis.reading.services import collection

    (_a1, p1, m1), (_a2, p2, m2) = factory.metered_account(), factory.metered_account()
    values = {m1.asset_no: {"total": Decimal("1234.56"), "sharp": Decimal("0"), "peak": Decimal("400.10"),
                            "flat": Decimal("500.23"), "valley": Decimal("334.23")}}
    with ThreadedBus(values) as bus:
        channel = collection.create_channel(actor("metering"), org=Org.objects.get(code="HZ0101"), code="CH-R",
                                            name="总线", host="127.0.0.1", port=bus.port, data_ids=["0001FF00"],
                                            timeout_seconds=Decimal("0.5"), retries=0)
        collection.add_targets(actor("metering"), channel, metering_point_codes=[p1.code, p2.code])
        page = text(login("metering").post(reverse("reading:channel_run", args=[channel.pk]), follow=True))
    assert "Run finished: 1 of 2 meters read, 1 failed." in page
    assert f'data-failure="{m2.asset_no}"' in page


# ---------------------------------------------------------------------------------------------------- thresholds


def test_thresholds_show_values_defaults_and_sources_and_take_a_new_profile(login):
    county = Org.objects.get(code="HZ0101")
    station = Org.objects.get(code="HZ010101")
    client = login("manager")
    page = text(client.get(reverse("reading:thresholds"), {"org": station.pk}))
    assert re.search(r'data-key="spike_ratio">.*?data-value>0.5<', page, re.S)
    assert "metering-audit §2 [U]: ±30 %/±50 % local settings" in page and 'id="profile-form"' in page
    bad = text(client.post(reverse("reading:thresholds") + f"?org={county.pk}", {
        "valid_from": "2026-01-01", "t_spike_ratio": "-1", "t_zero_streak_cycles": "2.5"}))
    assert "Enter a number of at least 0." in bad and "Enter a whole number." in bad
    assert not ValidationProfile.objects.exists()
    done = client.post(reverse("reading:thresholds") + f"?org={county.pk}", {
        "valid_from": "2026-01-01", "t_spike_ratio": "0.3", "note": "省公司文件"}, follow=True)
    assert "were saved" in text(done)
    page = text(client.get(reverse("reading:thresholds"), {"org": station.pk}))
    row = re.search(r'data-key="spike_ratio">.*?</tr>', page, re.S).group(0)
    assert "data-value>0.3<" in row and "临江县供电公司" in row
    clerk = text(login("clerk").get(reverse("reading:thresholds"), {"org": station.pk}))
    assert 'id="profile-form"' not in clerk and "data-value>0.3<" in clerk
    client = login("manager")
    residential = client.post(reverse("reading:thresholds") + f"?org={station.pk}", {
        "usage_category": "RES", "valid_from": "2026-02-01", "t_spike_ratio": "1.2"}, follow=True)
    assert "were saved" in text(residential)
    for category, value, origin in (("RES_T", "1.2", "城关供电所 · RES"), ("CI_1", "0.3", "临江县供电公司")):
        page = text(client.get(reverse("reading:thresholds"), {"org": station.pk, "category": category}))
        row = re.search(r'data-key="spike_ratio">.*?</tr>', page, re.S).group(0)
        assert f"data-value>{value}<" in row and origin in row, (category, row)


# ---------------------------------------------------------------------------------------------------- indicators


def test_indicators_table_and_chart_data(login, read):
    page = text(login("clerk").get(reverse("reading:indicators"), {"by": "route"}))
    row = re.search(r'data-row="R-UI 测试抄表段">.*?</tr>', page, re.S).group(0)
    assert 'data-rate="actual">100.00%<' in row
    charts = chart_data(page, "chart-groups-data")
    assert charts["xAxis"]["data"] == ["R-UI 测试抄表段"] and charts["series"][0]["data"] == ["100.00"]
    assert "vendor/echarts/echarts.min.js" in page and "reading/charts.js" in page
    assert 'data-reading-chart="chart-periods-data"' in page


def test_collection_success_rate_per_area_and_day(login, actor):
    from tests.grid import builders as grid

    area = grid.area(None, "HZ0101", code="TA-COL", name="采集台区")
    points = []
    for _ in range(4):
        _account, point, meter = factory.metered_account(route="R-REMOTE")
        point.transformer_area = area
        point.save(update_fields=["transformer_area"])
        points.append((point, meter))
    factory.route(code="R-REMOTE", method="remote")
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    midnight = dt.datetime.combine(today, dt.time.min, tzinfo=tz)
    rows = [RegisterRead(metering_point=p, meter=m, read_at=midnight, total=Decimal("10"),
                         source=Source.AMI, recorded_at=midnight) for p, m in points[:3]]
    # a later revision of the first point's read (a supplementary collection): the point still counts once
    rows.append(RegisterRead(metering_point=points[0][0], meter=points[0][1], read_at=midnight, total=Decimal("10"),
                             peak=Decimal("4"), source=Source.AMI, revision=1, recorded_at=midnight))
    RegisterRead.objects.bulk_create(rows)
    page = text(login("metering").get(reverse("reading:indicators"), {
        "day_from": (today - dt.timedelta(days=1)).isoformat(), "day_to": today.isoformat()}))
    row = re.search(r'data-area="TA-COL 采集台区">.*?</tr>', page, re.S).group(0)
    assert f'data-day="{today.isoformat()}" title="3/4">75.00%<' in row
    assert f'data-day="{(today - dt.timedelta(days=1)).isoformat()}" title="0/4">0.00%<' in row
    chart = chart_data(page, "chart-collection-data")
    assert chart["series"][0]["data"] == ["0.00", "75.00"]


# ---------------------------------------------------------------------------------------------------- 360 page


def test_the_account_page_has_a_reads_panel(login, read):
    page = text(login("clerk").get(reverse("customers:account_detail", args=[read.accounts[1].pk])))
    assert 'id="panel-reading"' in page
    panel = re.search(r'id="account-reads".*?</table>', page, re.S).group(0)
    assert "Total 123.40" in panel and "below last period" in panel and read.plan.route.code in panel
    other = text(login("custmgr").get(reverse("customers:account_detail", args=[read.accounts[1].pk])))
    assert 'id="panel-reading"' not in other  # no reading permission: no panel


def test_the_dashboard_card_counts_this_periods_progress(read, staff):
    from powercis.reading.views.indicators import dashboard_card

    card = dashboard_card(staff("clerk"))
    assert (card["plans"], card["released"], card["tally"].done, card["tally"].due) == (1, 0, 2, 2)
    assert card["tally"].actual_read_rate == Decimal("100.00")
    assert card["open_exceptions"] == ReadException.objects.filter(status="open").count() > 0
    assert dashboard_card(staff("custmgr")) is None
    assert dashboard_card(other_county_reader())["plans"] == 0


def test_the_dashboard_shows_the_reading_card_to_reading_staff_only(client, staff):
    route = factory.route(code="R-DASH", reader=staff("reader"))
    factory.metered_account(route=route.code)
    factory.metered_account(route=route.code)
    plans.generate(make.system(), org=Org.objects.get(code="HZ010101"),
                           period=timezone.localdate().replace(day=1))
    client.force_login(staff("clerk"))
    page = client.get("/").content.decode()
    assert 'id="reading-card"' in page and "0/2" in page
    client.force_login(staff("cashier"))
    assert 'id="reading-card"' not in client.get("/").content.decode()
