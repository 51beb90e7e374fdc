"""The meter reading REST API: routes, plans with their progress, field entry, reads, the exception worklist,
thresholds, indicators and collection channels — scoped like the pages, writing through the services, refusing
in the one error format."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from powercis.core.models import AuditRecord, DataScope, Post, WorkOrder
from powercis.core.services import posts as post_services
from powercis.reading.models import (
    CollectionRun,
    ReadException,
    ReadingPlan,
    ReadingRoute,
    ReadingTask,
    RegisterRead,
    ValidationProfile,
)
from powercis.reading.services import entry, plans
from tests import archive_factory as make
from tests.reading import factory

D = dt.date
BASE = "/api/v1/reading"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
PERIOD = D(2026, 10, 1)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def error_fields(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    return body["fields"]


@pytest.fixture
def outsider(org, system_actor) -> str:
    return make_outsider(org, system_actor)


def make_outsider(org, system_actor) -> str:
    """The login of a billing clerk of 青山区 (HZ0102), another county: review and route maintenance there."""
    from powercis.core.services import staff as staff_services

    clerk, _password = staff_services.create_staff(system_actor, username="qsclerk", full_name="钱进",
                                                   org=org("HZ0102"), password="Qs-clerk-2026!",
                                                   must_change_password=False)
    post = Post.objects.get(company=org("HZ"), code="billing_clerk")
    post_services.bootstrap_grant(system_actor, staff=clerk, post=post, org=org("HZ0102"), scope=DataScope.SUBTREE)
    return "qsclerk"


@pytest.fixture
def routes(staff, org):
    """Routes of 城关 (reader 李明), 河口 and 青山 (another county)."""
    return {
        "home": factory.route("HZ010101", code="R-HOME", reader=staff("reader"), read_day=25),
        "river": factory.route("HZ010102", code="R-RIVER", read_day=31, cycle="bimonthly", odd_months=False),
        "foreign": factory.route("HZ010201", code="R-QS", method="remote"),
    }


@pytest.fixture
def walk(routes):
    """Three metered accounts on the home route (walk order 1, 2, 3), one on the foreign route; plans of 2026-10."""
    points = [factory.metered_account("HZ010101", route="R-HOME", order=n, installed_on=D(2026, 1, 5))
              for n in (1, 2, 3)]
    factory.metered_account("HZ010201", route="R-QS", installed_on=D(2026, 1, 5))
    plans.generate(make.system(), org=routes["home"].org.company, period=PERIOD)
    plan = ReadingPlan.objects.get(route=routes["home"], period=PERIOD)
    return plan, points


def home_tasks(plan) -> list[ReadingTask]:
    return list(plan.tasks.order_by("seq"))


# --- routes -----------------------------------------------------------------------


def test_routes_are_listed_within_the_scope_with_filters(api, routes, staff, outsider):
    home, river, foreign = routes["home"], routes["river"], routes["foreign"]
    assert ids(api("clerk").get(f"{BASE}/routes/")) == {home.pk, river.pk}
    assert ids(api(outsider).get(f"{BASE}/routes/")) == {foreign.pk}
    assert ids(api("manager").get(f"{BASE}/routes/")) == {home.pk, river.pk, foreign.pk}
    assert ids(api("reader").get(f"{BASE}/routes/")) == {home.pk}  # 城关供电所 only
    client = api("clerk")
    assert ids(client.get(f"{BASE}/routes/", {"reader": staff("reader").pk})) == {home.pk}
    assert ids(client.get(f"{BASE}/routes/", {"cycle": "bimonthly"})) == {river.pk}
    assert ids(client.get(f"{BASE}/routes/", {"method": "manual", "code": "R-H"})) == {home.pk}
    assert ids(client.get(f"{BASE}/routes/", {"org": river.org_id})) == {river.pk}
    assert ids(client.get(f"{BASE}/routes/", {"is_active": "false"})) == set()
    row = client.get(f"{BASE}/routes/{home.pk}/").json()
    assert (row["code"], row["org"]["code"], row["reader"]["username"], row["read_day"], row["cycle"],
            row["method"]) == ("R-HOME", "HZ010101", "reader", 25, "monthly", "manual")
    assert error_fields(client.get(f"{BASE}/routes/", {"method": "telepathy"}, **EN)) == {
        "method": ["Select a valid choice. telepathy is not one of the available choices."]}
    assert list(error_fields(client.get(f"{BASE}/routes/", {"reader": "x"}))) == ["reader"]
    assert client.get(f"{BASE}/routes/{foreign.pk}/").status_code == 404
    assert api("cashier").get(f"{BASE}/routes/", **EN).json()["message"] == (
        "You do not have the permission “View meter reads”.")


def test_create_and_change_a_route_through_the_service(api, org, staff):
    client = api("clerk")
    body = {"org": org("HZ010101").pk, "code": "R-NEW", "name": "幸福路", "reader": staff("reader").pk,
            "read_day": 31, "cycle": "bimonthly", "odd_months": False, "method": "handheld"}
    response = client.post(f"{BASE}/routes/", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["code"], created["reader"]["id"], created["read_day"], created["cycle"], created["odd_months"],
            created["method"], created["is_active"]) == ("R-NEW", staff("reader").pk, 31, "bimonthly", False,
                                                         "handheld", True)
    assert AuditRecord.objects.filter(action="create", object_type="reading.readingroute",
                                      object_id=str(created["id"]), channel="api").exists()
    again = client.post(f"{BASE}/routes/", body, **EN)
    assert error_fields(again) == {"code": ["The route code R-NEW is already in use."]}

    patched = client.patch(f"{BASE}/routes/{created['id']}/", {"read_day": 20, "reader": None, "reason": "调整例日"})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["read_day"], patched.json()["reader"]) == (20, None)
    record = AuditRecord.objects.filter(action="update", object_type="reading.readingroute").latest("seq")
    assert (record.reason, record.changes["read_day"]) == ("调整例日", [31, 20])
    refused = client.patch(f"{BASE}/routes/{created['id']}/", {"code": "R-OTHER"}, **EN)
    assert error_fields(refused) == {"code": ["This field cannot be changed here."]}
    assert ReadingRoute.objects.get(pk=created["id"]).code == "R-NEW"


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"read_day": 32}, "read_day", "Ensure this value is less than or equal to 31."),
    ({"code": "R 1"}, "code", "Use up to 32 letters, digits, hyphens or underscores."),
    ({"reader": "cashier"}, "reader", "赵敏 may not enter reads for 城关供电所."),
    ({"org": "HZ010201"}, "org", None),
    ({"cycle": "weekly"}, "cycle", "\"weekly\" is not a valid choice."),
    ({"name": ""}, "name", "This field may not be blank."),
])
def test_route_refusals_name_the_field(api, org, staff, change, field, message):
    body = {"org": org("HZ010101").pk, "code": "R-BAD", "name": "坏"}
    if "reader" in change:
        change = {"reader": staff(change["reader"]).pk}
    if "org" in change:
        change = {"org": org(change["org"]).pk}
    response = api("clerk").post(f"{BASE}/routes/", {**body, **change}, **EN)
    fields = error_fields(response)
    assert list(fields) == [field]
    if message:
        assert fields[field] == [message]
    assert not ReadingRoute.objects.filter(code="R-BAD").exists()


def test_routes_need_manage_routes_and_the_route_in_scope(api, org, routes):
    refused = api("reader").post(f"{BASE}/routes/", {"org": org("HZ010101").pk, "code": "R-X", "name": "x"}, **EN)
    assert refused.status_code == 403
    assert refused.json()["message"] == "You do not have the permission “Maintain reading routes and plans”."
    assert api("clerk").patch(f"{BASE}/routes/{routes['foreign'].pk}/", {"name": "x"}).status_code == 404
    assert api("reader").patch(f"{BASE}/routes/{routes['home'].pk}/", {"name": "x"}).status_code == 403
    assert ReadingRoute.objects.get(pk=routes["home"].pk).name == "测试抄表段"


# --- plans ------------------------------------------------------------------------


def test_generate_plans_of_a_period_through_the_api(api, org, routes):
    for n in (1, 2):
        factory.metered_account("HZ010101", route="R-HOME", order=n)
    client = api("clerk")
    response = client.post(f"{BASE}/plans/generate/", {"org": org("HZ0101").pk, "period": "2026-10"})
    assert response.status_code == 200, response.content
    report = response.json()
    # 青山 lies outside 临江县; the two-monthly river route reads in even months, October included
    assert (report["org"]["code"], report["period"], report["routes"], report["plans_created"],
            report["tasks_created"], report["tasks_due"]) == ("HZ0101", "2026-10", 2, 2, 2, 2)
    again = client.post(f"{BASE}/plans/generate/", {"org": org("HZ0101").pk, "period": "2026-10"}).json()
    assert (again["plans_created"], again["plans_existing"], again["tasks_created"]) == (0, 2, 0)
    assert ReadingPlan.objects.filter(period=PERIOD).count() == 2
    november = client.post(f"{BASE}/plans/generate/", {"org": org("HZ0101").pk, "period": "2026-11"}).json()
    assert november["routes"] == 1  # the river route is not read in an odd month
    for body, field in (({"org": org("HZ0101").pk, "period": "2026-13"}, "period"),
                        ({"org": org("HZ0101").pk, "period": "10/2026"}, "period"),
                        ({"org": org("HZ0102").pk, "period": "2026-10"}, "org"),
                        ({"period": "2026-10"}, "org")):
        assert list(error_fields(client.post(f"{BASE}/plans/generate/", body, **EN))) == [field], body
    assert error_fields(client.post(f"{BASE}/plans/generate/", {"org": org("HZ0101").pk, "period": "2026-13"},
                                    **EN)) == {"period": ["Enter the period as YYYY-MM, e.g. 2026-10."]}
    assert api("reader").post(f"{BASE}/plans/generate/", {"org": org("HZ010101").pk,
                                                          "period": "2026-12"}).status_code == 403


def test_opening_plans_through_the_api(api, org, routes):
    factory.metered_account("HZ010101", route="R-HOME", order=1)
    client = api("clerk")
    response = client.post(f"{BASE}/plans/generate/", {"org": org("HZ0101").pk, "period": "2026-09",
                                                       "opening": True}, format="json")
    assert response.status_code == 200, response.content
    # at go-live every route gets an opening plan, the two-monthly one too although it does not read in September
    assert (response.json()["routes"], response.json()["plans_created"]) == (2, 2)
    listed = client.get(f"{BASE}/plans/", {"period": "2026-09"}).json()["results"]
    assert sorted((p["route"]["code"], p["opening"]) for p in listed) == [("R-HOME", True), ("R-RIVER", True)]
    refused = client.post(f"{BASE}/plans/generate/", {"org": org("HZ0101").pk, "period": "2026-09"}, **EN)
    assert "went live with the opening readings of 2026-09" in error_fields(refused)["period"][0]
    assert ReadingPlan.objects.filter(period=dt.date(2026, 9, 1), opening=False).count() == 0
    # the previous system's readings are not reading work done here: no indicator counts them
    indicators = client.get(f"{BASE}/indicators/", {"period_from": "2026-09", "period_to": "2026-09", "by": "period"})
    assert (indicators.json()["rows"], indicators.json()["total"]["due"]) == ([], 0)


def test_plans_list_with_progress_and_filters(api, walk, routes, staff, actor):
    plan, _points = walk
    first, second, third = home_tasks(plan)
    entry.record_reads(actor("reader"), first, values={"total": "120", "peak": "40", "flat": "50", "valley": "30"},
                       read_at=dt.datetime(2026, 10, 24, 9, tzinfo=dt.UTC))
    entry.mark_unreadable(actor("reader"), second, reason_code=unread_reason(plan))
    client = api("clerk")
    listed = client.get(f"{BASE}/plans/", {"period": "2026-10"})
    assert ids(listed) == {plan.pk, ReadingPlan.objects.get(route=routes["river"]).pk}
    row = next(r for r in listed.json()["results"] if r["id"] == plan.pk)
    assert (row["route"]["code"], row["period"], row["scheduled_on"], row["reader"]["username"], row["status"],
            row["tasks_due"]) == ("R-HOME", "2026-10", "2026-10-25", "reader", "open", 3)
    tally = row["tally"]
    assert {k: tally[k] for k in ("due", "done", "read", "estimated", "unreadable", "pending", "on_time")} == {
        "due": 3, "done": 2, "read": 1, "estimated": 0, "unreadable": 1, "pending": 1, "on_time": 1}
    assert (tally["progress"], tally["actual_read_rate"], tally["on_time_rate"], tally["error_rate"]) == (
        "66.67", "33.33", "100.00", "0.00")
    assert client.get(f"{BASE}/plans/{plan.pk}/").json()["tally"] == tally
    assert ids(client.get(f"{BASE}/plans/", {"route": routes["home"].pk})) == {plan.pk}
    assert ids(client.get(f"{BASE}/plans/", {"reader": staff("reader").pk, "status": "open"})) == {plan.pk}
    assert ids(client.get(f"{BASE}/plans/", {"org": routes["river"].org_id})) == {
        ReadingPlan.objects.get(route=routes["river"]).pk}
    assert ids(client.get(f"{BASE}/plans/", {"period": "2026-09"})) == set()
    assert error_fields(client.get(f"{BASE}/plans/", {"period": "2026-9-1"}, **EN)) == {
        "period": ["Enter the period as YYYY-MM, e.g. 2026-10."]}
    foreign = ReadingPlan.objects.get(route=routes["foreign"])
    assert client.get(f"{BASE}/plans/{foreign.pk}/").status_code == 404
    assert foreign.pk in ids(api("manager").get(f"{BASE}/plans/"))


def unread_reason(plan) -> str:
    from powercis.core import codelists

    return sorted(codelists.codes_of(plan.company_id, "unread_reason"))[0]


def test_reassign_a_plan_to_another_reader(api, walk, staff):
    plan, _points = walk
    client = api("clerk")
    # 黄伟 reads for 河口 only (own org), not for 城关
    refused = client.post(f"{BASE}/plans/{plan.pk}/reassign/", {"reader": staff("reader2").pk, "reason": "病假"},
                          **EN)
    assert error_fields(refused) == {"reader": ["黄伟 may not enter reads for 城关供电所."]}
    cleared = client.post(f"{BASE}/plans/{plan.pk}/reassign/", {"reader": None, "reason": "病假"})
    assert cleared.status_code == 200 and cleared.json()["reader"] is None
    back = client.post(f"{BASE}/plans/{plan.pk}/reassign/", {"reader": staff("reader").pk})
    assert back.json()["reader"]["username"] == "reader"
    assert ReadingRoute.objects.get(pk=plan.route_id).reader_id == staff("reader").pk
    assert list(error_fields(client.post(f"{BASE}/plans/{plan.pk}/reassign/", {"reason": "x"}))) == ["reader"]
    assert api("reader").post(f"{BASE}/plans/{plan.pk}/reassign/", {"reader": None}).status_code == 403


# --- field entry ------------------------------------------------------------------


def test_a_reader_records_reads_and_a_repeat_changes_nothing(api, walk):
    plan, _points = walk
    task = home_tasks(plan)[0]
    client = api("reader")
    body = {"values": {"total": "150.5", "peak": "50", "flat": "60.5", "valley": "40"}, "source": "handheld",
            "read_at": "2026-10-25T09:30:00+08:00", "photo_ref": "IMG_1.jpg"}
    first = client.post(f"{BASE}/tasks/{task.pk}/reads/", body)
    assert first.status_code == 201, first.content
    result = first.json()
    assert result["repeated"] is False
    [read] = result["reads"]  # one read with every register entered
    assert read["registers"] == {"total": "150.5000", "peak": "50.0000", "flat": "60.5000", "valley": "40.0000"}
    assert (read["source"], read["revision"], read["estimated"], read["flags"], read["read_at"]) == (
        "handheld", 0, False, [], "2026-10-25T09:30:00+08:00")
    assert list(read["registers"]) == ["total", "peak", "flat", "valley"]
    assert (result["task"]["status"], result["task"]["read_at"], result["task"]["photo_ref"]) == (
        "read", "2026-10-25T09:30:00+08:00", "IMG_1.jpg")
    assert [(r["id"], list(r["registers"])) for r in result["task"]["reads"]] == [
        (read["id"], ["total", "peak", "flat", "valley"])]
    # validated at once: the first reading since the meter was installed in January spans more than a cycle
    assert [(e["rule"], e["severity"], e["register"]) for e in result["exceptions"]] == [("interval", "warn", "total")]
    assert result["exceptions"][0]["detail"]["start_date"] == "2026-01-05"

    repeat = client.post(f"{BASE}/tasks/{task.pk}/reads/", body)
    assert repeat.status_code == 200 and repeat.json()["repeated"] is True
    assert [r["id"] for r in repeat.json()["reads"]] == [read["id"]]
    assert RegisterRead.objects.filter(task=task).count() == 1

    reentry = client.post(f"{BASE}/tasks/{task.pk}/reads/", {**body, "values": {**body["values"], "total": "150.6",
                                                                               "flat": "60.6"}})
    assert reentry.status_code == 201
    [again] = reentry.json()["reads"]
    assert (again["registers"], again["source"], again["revision"], again["corrects"]) == (
        {"total": "150.6000", "peak": "50.0000", "flat": "60.6000", "valley": "40.0000"}, "correct", 1, read["id"])
    assert RegisterRead.objects.get(pk=read["id"]).status == "superseded"
    listed = client.get(f"{BASE}/tasks/", {"plan": plan.pk, "status": "read"}).json()["results"]
    assert [t["id"] for t in listed] == [task.pk]
    assert [r["registers"]["total"] for r in listed[0]["reads"]] == ["150.6000"]


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"peak": "1"}, "values.total", "The total register is required."),
    ({"total": "1", "reactive": "2"}, "values.reactive", "Meter {meter} has no register “reactive”."),
    ({"total": "12a"}, "values.total", "A valid number is required."),
    ({"total": "1.123"}, "values.total", "The register shows 2 decimal places."),
    ({"total": "1000000"}, "values.total", "The register has 6 integer digits; the reading is too large."),
    ({"total": "1", "colour": "2"}, "values.colour", None),
])
def test_entry_refusals_name_the_register(api, walk, values, field, message):
    plan, _points = walk
    task = home_tasks(plan)[0]
    response = api("reader").post(f"{BASE}/tasks/{task.pk}/reads/", {"values": values}, **EN)
    fields = error_fields(response)
    assert list(fields) == [field]
    if message:
        assert fields[field] == [message.format(meter=task.meter.asset_no)]
    assert not RegisterRead.objects.filter(task=task).exists()


def test_entry_checks_source_and_time_and_needs_reading_enter(api, walk):
    plan, _points = walk
    task = home_tasks(plan)[0]
    client = api("reader")
    values = {"total": "10", "peak": "3", "flat": "4", "valley": "3"}
    assert list(error_fields(client.post(f"{BASE}/tasks/{task.pk}/reads/", {"values": values,
                                                                             "source": "ami"}))) == ["source"]
    future = client.post(f"{BASE}/tasks/{task.pk}/reads/", {"values": values, "read_at": "2999-01-01T00:00:00Z"},
                         **EN)
    assert error_fields(future) == {"read_at": ["The reading time is in the future."]}
    assert error_fields(client.post(f"{BASE}/tasks/{task.pk}/reads/", {"values": values, "by": "me"}, **EN)) == {
        "by": ["This field cannot be changed here."]}
    refused = api("clerk").post(f"{BASE}/tasks/{task.pk}/reads/", {"values": values}, **EN)
    assert refused.status_code == 403 and refused.json()["message"] == (
        "You do not have the permission “Enter meter reads”.")
    assert not RegisterRead.objects.filter(task=task).exists()


def test_unreadable_and_task_filters(api, walk):
    plan, points = walk
    first, second, _third = home_tasks(plan)
    client = api("reader")
    reason = unread_reason(plan)
    bad = client.post(f"{BASE}/tasks/{second.pk}/unreadable/", {"reason_code": "nope"}, **EN)
    assert error_fields(bad) == {"reason_code": ["“nope” is not a code of the table unread_reason."]}
    done = client.post(f"{BASE}/tasks/{second.pk}/unreadable/", {"reason_code": reason, "photo_ref": "door.jpg",
                                                                 "note": "门锁"})
    assert done.status_code == 200, done.content
    task = done.json()
    assert (task["status"], task["unreadable_reason"], task["photo_ref"], task["reads"]) == (
        "unreadable", reason, "door.jpg", [])
    account, point, _meter = points[1]
    assert ids(client.get(f"{BASE}/tasks/", {"status": "unreadable"})) == {second.pk}
    assert ids(client.get(f"{BASE}/tasks/", {"metering_point": point.code})) == {second.pk}
    assert ids(client.get(f"{BASE}/tasks/", {"account": account.account_no})) == {second.pk}
    checked = ReadingTask.objects.get(pk=second.pk).check_status
    assert second.pk in ids(client.get(f"{BASE}/tasks/", {"plan": plan.pk, "check_status": checked}))
    rows = client.get(f"{BASE}/tasks/", {"plan": plan.pk}).json()["results"]
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert (rows[0]["metering_point"]["code"], rows[0]["meter"]["asset_no"], rows[0]["account"]["account_no"]) == (
        points[0][1].code, points[0][2].asset_no, points[0][0].account_no)
    assert list(error_fields(client.get(f"{BASE}/tasks/", {"status": "lost"}))) == ["status"]


def test_tasks_of_another_county_do_not_exist(api, walk, routes):
    foreign = ReadingTask.objects.get(plan__route=routes["foreign"])
    client = api("clerk")
    assert client.get(f"{BASE}/tasks/{foreign.pk}/").status_code == 404
    assert foreign.pk not in ids(client.get(f"{BASE}/tasks/"))
    response = api("reader").post(f"{BASE}/tasks/{foreign.pk}/reads/", {"values": {"total": "1"}})
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not RegisterRead.objects.filter(task=foreign).exists()


# --- reads ------------------------------------------------------------------------


def test_a_points_reads_span_its_meter_changes(api):
    """The point filter goes through the meters installed on the point (the reads table has no point index)."""
    from powercis.metering import services as metering

    _account, point, old = factory.metered_account("HZ010101", registers=("total",), installed_on=D(2026, 1, 5))
    new = metering.register_meter(make.system(), org=point.org, asset_no="339999000001", registers=["total"])
    metering.replace_meter(make.system(), point, new, on=D(2026, 10, 10), removal_reads={"total": "80"},
                           install_reads={"total": "0"})
    at = lambda day: dt.datetime(2026, 10, day, 2, tzinfo=dt.UTC)  # noqa: E731
    before = factory.register_read(metering_point_id=point.pk, meter_id=old.pk, read_at=at(1), values={"total": "70"})
    after = factory.register_read(metering_point_id=point.pk, meter_id=new.pk, read_at=at(20), values={"total": "9"})
    # the old meter, moved to another point afterwards: its reads there are not this point's
    elsewhere = factory.metered_account("HZ010101", registers=("total",))[1]
    factory.register_read(metering_point_id=elsewhere.pk, meter_id=old.pk, read_at=at(25), values={"total": "85"})
    found = api("clerk").get(f"{BASE}/reads/", {"metering_point": point.pk}).json()["results"]
    assert [(r["id"], r["meter"]) for r in found] == [(before.pk, old.asset_no), (after.pk, new.asset_no)]


def test_reads_list_filters_and_scope(api, walk, actor, outsider):
    plan, points = walk
    first, second, _third = home_tasks(plan)
    entry.record_reads(actor("reader"), first, values={"total": "100", "peak": "30", "flat": "40", "valley": "30"},
                       read_at=dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC), source="manual")
    entry.record_reads(actor("reader"), second, values={"total": "200", "peak": "60", "flat": "80", "valley": "60"},
                       read_at=dt.datetime(2026, 10, 26, 1, tzinfo=dt.UTC))
    point, meter = points[0][1], points[0][2]
    # a head-end read of the first meter with the total only, flagged on arrival by two of its registers
    frozen = factory.register_read(metering_point_id=point.pk, meter_id=meter.pk, values={"total": "99.5"},
                                   read_at=dt.datetime(2026, 10, 24, 16, tzinfo=dt.UTC), source="ami",
                                   flags="lower:total,tou_sum")
    client = api("clerk")
    mine = client.get(f"{BASE}/reads/", {"metering_point": point.pk, "register": "peak"}).json()["results"]
    assert [(r["meter"], r["registers"], r["source"], r["status"], r["task"], r["revision"], r["flags"],
             r["metering_point"]["code"]) for r in mine] == [
        (meter.asset_no, {"total": "100.0000", "peak": "30.0000", "flat": "40.0000", "valley": "30.0000"}, "manual",
         "valid", first.pk, 0, [], point.code)]
    assert set(mine[0]) == {"id", "metering_point", "meter", "read_at", "source", "revision", "estimated", "status",
                            "batch", "task", "corrects", "registers", "flags", "photo_ref", "note", "entered_by",
                            "recorded_at"}
    by_meter = client.get(f"{BASE}/reads/", {"meter": meter.asset_no}).json()["results"]
    assert [(r["id"], r["registers"]) for r in by_meter] == [
        (frozen.pk, {"total": "99.5000"}), (mine[0]["id"], mine[0]["registers"])]
    assert ids(client.get(f"{BASE}/reads/", {"meter": meter.asset_no, "register": "total"})) == {
        frozen.pk, mine[0]["id"]}
    late = client.get(f"{BASE}/reads/", {"read_at_after": "2026-10-26T00:00:00Z", "register": "total"}).json()
    assert [r["registers"]["total"] for r in late["results"]] == ["200.0000"]
    assert ids(client.get(f"{BASE}/reads/", {"source": "handheld", "register": "peak"})) == set(
        RegisterRead.objects.filter(task=second).values_list("pk", flat=True))
    assert ids(client.get(f"{BASE}/reads/", {"flags": "no_such_check"})) == set()
    # a check code finds the reads that failed it for the read or for any register; code:register that register's
    assert client.get(f"{BASE}/reads/", {"flags": "lower"}).json()["results"][0]["flags"] == ["lower:total", "tou_sum"]
    for code, found in (("lower", {frozen.pk}), ("lower:total", {frozen.pk}), ("tou_sum", {frozen.pk}),
                        ("lower:peak", set()), ("low", set()), ("total", set())):
        assert ids(client.get(f"{BASE}/reads/", {"flags": code})) == found, code
    assert list(error_fields(client.get(f"{BASE}/reads/", {"read_at_after": "yesterday"}))) == ["read_at_after"]
    assert list(error_fields(client.get(f"{BASE}/reads/", {"register": "colour"}))) == ["register"]
    read = RegisterRead.objects.filter(task=first).first()
    assert client.get(f"{BASE}/reads/{read.pk}/").json()["id"] == read.pk
    assert api(outsider).get(f"{BASE}/reads/{read.pk}/").status_code == 404
    assert read.pk not in ids(api(outsider).get(f"{BASE}/reads/"))
    assert api("reader").post(f"{BASE}/reads/", {}).status_code == 405


# --- validation, release, exceptions ----------------------------------------------


def test_validate_and_release_a_plan(api, walk, actor):
    plan, _points = walk
    first, second, third = home_tasks(plan)
    for task, total in ((first, "100"), (second, "200")):
        entry.record_reads(actor("reader"), task, values={"total": total, "peak": "0", "flat": total, "valley": "0"},
                           read_at=dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC))
    client = api("clerk")
    not_validated = client.post(f"{BASE}/plans/{plan.pk}/release/", {}, **EN)
    assert not_validated.status_code == 409
    assert not_validated.json() == {"code": "invalid_transition", "fields": {},
                                    "message": "Validate the plan's reads before releasing them."}
    validated = client.post(f"{BASE}/plans/{plan.pk}/validate/")
    assert validated.status_code == 200, validated.content
    assert validated.json()["validated_at"] is not None
    # the third meter was not read: a missing read blocks billing; the intervals since installation only warn
    assert validated.json()["tally"]["open_exceptions"] == ReadException.objects.filter(plan=plan).count() > 1
    refused = client.post(f"{BASE}/plans/{plan.pk}/release/", {}, **EN)
    assert refused.status_code == 409
    assert refused.json()["message"] == ("1 exceptions of R-HOME 2026-10 must be resolved first, or a supervisor "
                                         "releases it with a reason.")
    # the clerk reviews; releasing over open exceptions is the supervisor's (reading.release_override)
    no_override = client.post(f"{BASE}/plans/{plan.pk}/release/", {"override_reason": "月底结算"}, **EN)
    assert no_override.status_code == 403 and no_override.json()["message"] == (
        "You do not have the permission “Release reads to billing despite open exceptions”.")
    assert ReadingPlan.objects.get(pk=plan.pk).status == "open"
    released = api("manager").post(f"{BASE}/plans/{plan.pk}/release/", {"override_reason": "月底结算"})
    assert released.status_code == 200, released.content
    body = released.json()
    assert (body["status"], body["released_by"]["username"], body["override_reason"]) == ("released", "manager",
                                                                                          "月底结算")
    assert body["tally"]["open_exceptions"] == 0
    assert set(ReadException.objects.filter(plan=plan).values_list("resolution", "note")) == {
        ("overridden", "月底结算")}
    again = client.post(f"{BASE}/plans/{plan.pk}/release/", {}, **EN)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    late = api("reader").post(f"{BASE}/tasks/{third.pk}/reads/", {"values": {"total": "101"}}, **EN)
    assert late.status_code == 409 and late.json()["message"] == (
        "The plan has been released to billing; corrections go through an adjustment.")
    assert api("reader").post(f"{BASE}/plans/{plan.pk}/validate/").status_code == 403
    assert client.post(f"{BASE}/plans/{plan.pk}/validate/").status_code == 409


def test_release_a_period_reports_what_is_held_back(api, walk, routes, actor, org):
    plan, _points = walk
    for task in home_tasks(plan):
        entry.record_reads(actor("reader"), task, values={"total": "100", "peak": "0", "flat": "100", "valley": "0"},
                           read_at=dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC))
    client = api("clerk")
    assert client.post(f"{BASE}/plans/{plan.pk}/validate/").status_code == 200
    response = client.post(f"{BASE}/plans/release-period/", {"org": org("HZ0101").pk, "period": "2026-10"})
    assert response.status_code == 200, response.content
    body = response.json()
    river = ReadingPlan.objects.get(route=routes["river"], period=PERIOD)
    assert [(p["id"], p["route"]["code"], p["period"], p["status"]) for p in body["released"]] == [
        (plan.pk, "R-HOME", "2026-10", "released")]
    assert body["blocked"] == [{"plan": {"id": river.pk, "route": {"id": routes["river"].pk, "code": "R-RIVER",
                                                                   "name": "测试抄表段"},
                                         "period": "2026-10", "status": "open"},
                                "blocking_exceptions": 0, "validated": False}]
    assert ReadingPlan.objects.get(route=routes["foreign"], period=PERIOD).status == "open"
    assert list(error_fields(client.post(f"{BASE}/plans/release-period/", {"org": org("HZ0102").pk,
                                                                          "period": "2026-10"}))) == ["org"]


@pytest.fixture
def exceptions(walk, actor):
    """Reads that fail checks: a reading below the installation read (lower), and missing reads, validated."""
    plan, _points = walk
    first, second, third = home_tasks(plan)
    entry.record_reads(actor("reader"), first, values={"total": "100", "peak": "30", "flat": "40", "valley": "30"},
                       read_at=dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC))
    entry.record_reads(actor("reader"), second, values={"total": "0", "peak": "0", "flat": "0", "valley": "0"},
                       read_at=dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC))
    plans.validate(actor("clerk"), [plan])
    found = list(ReadException.objects.filter(plan=plan, status="open").order_by("task__seq", "rule"))
    assert found, "the validation found nothing to work"
    return plan, found


def test_exception_worklist_with_filters_and_scope(api, exceptions, routes, staff):
    plan, found = exceptions
    client = api("clerk")
    listed = client.get(f"{BASE}/exceptions/", {"period": "2026-10", "status": "open"})
    assert ids(listed) == {e.pk for e in found}
    row = next(r for r in listed.json()["results"] if r["id"] == found[0].pk)
    exc = found[0]
    assert (row["plan"]["id"], row["plan"]["route"]["code"], row["plan"]["period"], row["task"], row["rule"],
            row["severity"], row["status"], row["metering_point"]["id"], row["reader"]["username"],
            row["org"]["code"]) == (plan.pk, "R-HOME", "2026-10", exc.task_id, exc.rule, exc.severity, "open",
                                    exc.metering_point_id, "reader", "HZ010101")
    assert row["detail"] == exc.detail and row["rule_label"]
    assert ids(client.get(f"{BASE}/exceptions/", {"rule": exc.rule})) == {e.pk for e in found if e.rule == exc.rule}
    assert ids(client.get(f"{BASE}/exceptions/", {"severity": "block"})) == {e.pk for e in found
                                                                              if e.severity == "block"}
    assert ids(client.get(f"{BASE}/exceptions/", {"route": routes["home"].pk, "reader": staff("reader").pk,
                                                  "plan": plan.pk, "org": plan.org_id})) == {e.pk for e in found}
    assert ids(client.get(f"{BASE}/exceptions/", {"period": "2026-11"})) == set()
    assert ids(client.get(f"{BASE}/exceptions/", {"route": routes["river"].pk})) == set()
    assert ids(api("manager").get(f"{BASE}/exceptions/", {"org": routes["foreign"].org_id})) <= set(
        ReadException.objects.filter(plan__route=routes["foreign"]).values_list("pk", flat=True))
    assert list(error_fields(client.get(f"{BASE}/exceptions/", {"rule": "gremlins"}))) == ["rule"]
    assert client.get(f"{BASE}/exceptions/{exc.pk}/").json()["id"] == exc.pk


def test_confirm_an_exception_and_several_at_once(api, exceptions):
    plan, found = exceptions
    client = api("clerk")
    one = client.post(f"{BASE}/exceptions/{found[0].pk}/confirm/", {"note": "新装空调"})
    assert one.status_code == 200, one.content
    confirmed = one.json()
    assert (confirmed["status"], confirmed["resolution"], confirmed["note"], confirmed["resolved_by"]["username"]) == (
        "resolved", "confirmed", "新装空调", "clerk")
    again = client.post(f"{BASE}/exceptions/{found[0].pk}/confirm/", {"note": "x"}, **EN)
    assert again.status_code == 409 and again.json()["message"] == "This exception has already been resolved."
    rest = [e.pk for e in ReadException.objects.filter(plan=plan, status="open")]
    if rest:
        bad = client.post(f"{BASE}/exceptions/confirm/", {"ids": [*rest, 2**40], "note": "核实"}, **EN)
        assert error_fields(bad) == {"ids": [f"No exception with the id {2**40}."]}
        assert ReadException.objects.filter(pk__in=rest, status="open").count() == len(rest)
        many = client.post(f"{BASE}/exceptions/confirm/", {"ids": rest, "note": "核实"})
        assert many.status_code == 200 and many.json() == {"confirmed": len(rest)}
        assert not ReadException.objects.filter(pk__in=rest, status="open").exists()
    assert list(error_fields(client.post(f"{BASE}/exceptions/confirm/", {"ids": []}))) == ["ids"]
    assert api("reader").post(f"{BASE}/exceptions/{found[0].pk}/confirm/", {}).status_code == 403


def test_correct_an_exception_keeps_the_original(api, exceptions):
    plan, found = exceptions
    exc = found[0]
    client = api("clerk")
    missing_reason = client.post(f"{BASE}/exceptions/{exc.pk}/correct/", {"values": {"total": "1"}}, **EN)
    assert error_fields(missing_reason) == {"reason": ["This field is required."]}
    bad = client.post(f"{BASE}/exceptions/{exc.pk}/correct/", {"values": {"total": "1.999"}, "reason": "看错"}, **EN)
    assert error_fields(bad) == {"values.total": ["The register shows 2 decimal places."]}
    task = exc.task
    [before] = RegisterRead.objects.filter(task=task, status="valid")
    values = {"total": "1234", "peak": "400", "flat": "500", "valley": "334"}
    response = client.post(f"{BASE}/exceptions/{exc.pk}/correct/", {"values": values, "reason": "看错一位"})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["resolution"], response.json()["note"]) == (
        "resolved", "corrected", "看错一位")
    [corrected] = RegisterRead.objects.filter(task=task, status="valid")
    assert corrected.registers() == {k: Decimal(v) for k, v in values.items()}
    assert (corrected.source, corrected.corrects_id, corrected.revision, corrected.read_at, corrected.note) == (
        "correct", before.pk, before.revision + 1, before.read_at, "看错一位")
    original_values = before.registers()
    before.refresh_from_db()
    assert before.status == "superseded" and before.registers() == original_values
    task_reads = client.get(f"{BASE}/tasks/{task.pk}/").json()["reads"]
    assert [(r["id"], r["registers"]["total"], r["source"]) for r in task_reads] == [
        (corrected.pk, "1234.0000", "correct")]


def test_order_a_reread(api, exceptions):
    plan, found = exceptions
    exc = found[0]
    client = api("clerk")
    response = client.post(f"{BASE}/exceptions/{exc.pk}/reread/", {"note": "请复抄"})
    assert response.status_code == 200, response.content
    order = WorkOrder.objects.get(source_ref=f"reading.task:{exc.task_id}")
    body = response.json()
    assert (body["work_order"]["number"], body["work_order"]["status"], body["work_order"]["assignee"]["username"]) == (
        order.number, "open", "reader")
    assert body["exception"]["work_order"]["number"] == order.number and body["exception"]["status"] == "open"
    again = client.post(f"{BASE}/exceptions/{exc.pk}/reread/", {})
    assert again.json()["work_order"]["number"] == order.number
    assert WorkOrder.objects.filter(source_ref=f"reading.task:{exc.task_id}").count() == 1


def test_estimate_a_missing_read(api, exceptions):
    plan, found = exceptions
    missing = next(e for e in found if e.rule == "missing")
    client = api("clerk")
    assert error_fields(client.post(f"{BASE}/exceptions/{missing.pk}/estimate/", {}, **EN)) == {
        "reason": ["This field is required."]}
    response = client.post(f"{BASE}/exceptions/{missing.pk}/estimate/", {"reason": "无法入户"})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["resolution"], response.json()["note"]) == (
        "resolved", "estimated", "无法入户")
    task = client.get(f"{BASE}/tasks/{missing.task_id}/").json()
    assert task["status"] == "estimated"
    [read] = task["reads"]  # one estimated read with every register
    assert (list(read["registers"]), read["source"], read["estimated"], read["revision"]) == (
        ["total", "peak", "flat", "valley"], "estimate", True, 0)
    assert RegisterRead.objects.get(pk=read["id"]).corrects_id is None  # nothing was read: nothing superseded


def test_exceptions_of_another_county_do_not_exist(api, exceptions, routes, outsider):
    plan, found = exceptions
    foreign_plan = ReadingPlan.objects.get(route=routes["foreign"], period=PERIOD)
    assert api(outsider).get(f"{BASE}/exceptions/{found[0].pk}/").status_code == 404
    assert api(outsider).get(f"{BASE}/exceptions/").json()["count"] == 0
    assert api(outsider).post(f"{BASE}/exceptions/{found[0].pk}/confirm/", {}).status_code == 404
    plans.validate(make.system(), [foreign_plan])
    theirs = ReadException.objects.filter(plan=foreign_plan).first()
    if theirs is not None:
        assert api("clerk").post(f"{BASE}/exceptions/{theirs.pk}/confirm/", {}).status_code == 404
        assert error_fields(api("clerk").post(f"{BASE}/exceptions/confirm/", {"ids": [theirs.pk]}, **EN)) == {
            "ids": [f"No exception with the id {theirs.pk}."]}


# --- thresholds -------------------------------------------------------------------


def test_thresholds_in_force_with_defaults_and_who_set_them(api, org):
    client = api("manager")
    defaults = client.get(f"{BASE}/thresholds/", {"org": org("HZ010101").pk, "on": "2026-10-01"})
    assert defaults.status_code == 200, defaults.content
    rows = {r["key"]: r for r in defaults.json()["values"]}
    assert (rows["spike_ratio"]["value"], rows["spike_ratio"]["default"], rows["spike_ratio"]["set_by"]) == (
        "0.5", "0.5", None)
    assert rows["zero_streak_cycles"]["integer"] is True and "metering-audit" in rows["zero_streak_cycles"]["basis"]
    created = client.post(f"{BASE}/thresholds/", {"org": org("HZ0101").pk, "valid_from": "2026-01-01",
                                                   "values": {"spike_ratio": "0.3", "drop_ratio": 0.4},
                                                   "note": "县公司规定"})
    assert created.status_code == 201, created.content
    assert (created.json()["values"], created.json()["org"]["code"], created.json()["created_by"]["username"]) == (
        {"spike_ratio": "0.3", "drop_ratio": "0.4"}, "HZ0101", "manager")
    station = client.post(f"{BASE}/thresholds/", {"org": org("HZ010101").pk, "valid_from": "2026-06-01",
                                                   "values": {"spike_ratio": "0.8"}})
    assert station.status_code == 201
    effective = {r["key"]: r for r in client.get(f"{BASE}/thresholds/", {"org": org("HZ010101").pk,
                                                                         "on": "2026-10-01"}).json()["values"]}
    assert (effective["spike_ratio"]["value"], effective["spike_ratio"]["set_by"]) == (
        "0.8", {"org": {"id": org("HZ010101").pk, "code": "HZ010101", "name": "城关供电所"},
                "usage_category": "", "valid_from": "2026-06-01"})
    assert (effective["drop_ratio"]["value"], effective["drop_ratio"]["set_by"]["org"]["code"]) == ("0.4", "HZ0101")
    from powercis.reading.thresholds import profile_for

    assert {k: str(v) for k, v in profile_for(org("HZ010101"), D(2026, 10, 1)).items()} == {
        k: r["value"] for k, r in effective.items()}
    before = {r["key"]: r["value"] for r in client.get(f"{BASE}/thresholds/", {
        "org": org("HZ010101").pk, "on": "2026-03-01"}).json()["values"]}
    assert before["spike_ratio"] == "0.3"


def test_thresholds_for_a_usage_category(api, org):
    """A county profile for residential accounts reaches the station's RES_T accounts, not its CI ones."""
    client = api("manager")
    created = client.post(f"{BASE}/thresholds/", {"org": org("HZ0101").pk, "usage_category": "RES",
                                                   "valid_from": "2026-01-01", "values": {"spike_ratio": "1.0"}})
    assert created.status_code == 201, created.content
    assert created.json()["usage_category"] == "RES"

    def spike(category):
        body = client.get(f"{BASE}/thresholds/", {"org": org("HZ010101").pk, "on": "2026-10-01",
                                                  "usage_category": category}).json()
        row = next(r for r in body["values"] if r["key"] == "spike_ratio")
        return body["usage_category"], row["value"], row["set_by"] and row["set_by"]["usage_category"]

    assert spike("RES_T") == ("RES_T", "1.0", "RES")
    assert spike("CI_1") == ("CI_1", "0.5", None)
    assert spike("") == ("", "0.5", None)
    assert error_fields(client.get(f"{BASE}/thresholds/", {"org": org("HZ010101").pk, "usage_category": "NOPE"},
                                   **EN)) == {"usage_category": ["“NOPE” is not a code of the table usage_category."]}
    refused = client.post(f"{BASE}/thresholds/", {"org": org("HZ0101").pk, "usage_category": "NOPE",
                                                  "valid_from": "2026-01-01", "values": {"spike_ratio": "1.0"}}, **EN)
    assert error_fields(refused) == {"usage_category": ["“NOPE” is not a code of the table usage_category."]}
    assert ValidationProfile.objects.count() == 1


def test_threshold_refusals(api, org):
    client = api("manager")
    bad = client.post(f"{BASE}/thresholds/", {"org": org("HZ0101").pk, "valid_from": "2026-01-01",
                                              "values": {"spike_ratio": "-1", "zero_streak_cycles": "2.5",
                                                         "colour": "1"}}, **EN)
    assert error_fields(bad) == {"values.spike_ratio": ["Enter a number of at least 0."],
                                 "values.zero_streak_cycles": ["Enter a whole number."],
                                 "values.colour": ["This is not a validation threshold."]}
    assert not ValidationProfile.objects.exists()
    client.post(f"{BASE}/thresholds/", {"org": org("HZ0101").pk, "valid_from": "2026-01-01",
                                        "values": {"spike_ratio": "0.3"}})
    in_force = client.post(f"{BASE}/thresholds/", {"org": org("HZ0101").pk, "valid_from": "2026-01-01",
                                                   "values": {"spike_ratio": "0.4"}}, **EN)
    assert in_force.status_code == 409 and "are in force" in in_force.json()["message"]
    future = {"org": org("HZ0101").pk, "valid_from": "2999-01-01", "values": {"spike_ratio": "0.4"}}
    assert client.post(f"{BASE}/thresholds/", future).status_code == 201
    replaced = client.post(f"{BASE}/thresholds/", {**future, "values": {"spike_ratio": "0.45"}})
    assert replaced.status_code == 200 and replaced.json()["values"] == {"spike_ratio": "0.45"}
    assert ValidationProfile.objects.count() == 2
    refused = api("clerk").post(f"{BASE}/thresholds/", future, **EN)
    assert refused.status_code == 403 and refused.json()["message"] == (
        "You do not have the permission “Configure reading validation thresholds”.")
    assert list(error_fields(client.post(f"{BASE}/thresholds/", {**future, "org": org("HZ02").pk}))) == ["org"]
    assert list(error_fields(client.get(f"{BASE}/thresholds/", {"org": org("HZ0101").pk, "on": "2026-02-30"}))) == [
        "on"]
    assert list(error_fields(client.get(f"{BASE}/thresholds/", {}))) == ["org"]
    assert list(error_fields(api("clerk").get(f"{BASE}/thresholds/", {"org": org("HZ0201").pk}))) == ["org"]


# --- indicators -------------------------------------------------------------------


def test_indicators_by_route_reader_org_and_period(api, walk, actor, routes, staff):
    plan, _points = walk
    first, second, _third = home_tasks(plan)
    entry.record_reads(actor("reader"), first, values={"total": "100", "peak": "30", "flat": "40", "valley": "30"},
                       read_at=dt.datetime(2026, 10, 24, 1, tzinfo=dt.UTC))
    entry.record_reads(actor("reader"), second, values={"total": "100", "peak": "30", "flat": "40", "valley": "30"},
                       read_at=dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC), estimated=True)
    client = api("clerk")
    by_route = client.get(f"{BASE}/indicators/", {"period_from": "2026-10", "period_to": "2026-10", "by": "route"})
    assert by_route.status_code == 200, by_route.content
    body = by_route.json()
    rows = {r["key"]: r for r in body["rows"]}
    home = rows[str(routes["home"].pk)]
    assert (home["label"], home["due"], home["read"], home["estimated"], home["pending"], home["actual_read_rate"],
            home["on_time_rate"], home["progress"]) == (str(routes["home"]), 3, 1, 1, 1, "33.33", "100.00", "66.67")
    river = rows[str(routes["river"].pk)]
    assert (river["due"], river["actual_read_rate"], river["error_rate"]) == (0, None, None)
    assert str(routes["foreign"].pk) not in rows  # another county
    assert (body["total"]["due"], body["total"]["read"], body["period_from"], body["by"]) == (3, 1, "2026-10", "route")
    by_reader = client.get(f"{BASE}/indicators/", {"period_from": "2026-10", "period_to": "2026-10",
                                                   "by": "reader"}).json()["rows"]
    assert {(r["key"], r["label"]) for r in by_reader} == {(str(staff("reader").pk), "李明"), (None, "—")}
    by_period = client.get(f"{BASE}/indicators/", {"period_from": "2026-01", "period_to": "2026-12", "by": "period",
                                                   "org": routes["home"].org_id}).json()["rows"]
    assert [(r["key"], r["label"], r["due"]) for r in by_period] == [("2026-10", "2026-10", 3)]
    by_org = client.get(f"{BASE}/indicators/", {"period_from": "2026-10", "period_to": "2026-10",
                                                "by": "org"}).json()["rows"]
    assert {r["key"] for r in by_org} == {str(routes["home"].org_id), str(routes["river"].org_id)}
    manager = api("manager").get(f"{BASE}/indicators/", {"period_from": "2026-10", "period_to": "2026-10"}).json()
    assert str(routes["foreign"].pk) in {r["key"] for r in manager["rows"]}
    backwards = client.get(f"{BASE}/indicators/", {"period_from": "2026-10", "period_to": "2026-09"}, **EN)
    assert error_fields(backwards) == {"period_to": ["The period range ends before it starts."]}
    assert list(error_fields(client.get(f"{BASE}/indicators/", {"period_from": "2026-10"}))) == ["period_to"]
    assert list(error_fields(client.get(f"{BASE}/indicators/", {"period_from": "2026-10", "period_to": "2026-10",
                                                                "by": "weather"}))) == ["by"]


# --- collection channels ----------------------------------------------------------


def test_collection_channels_targets_and_a_run(api, org, outsider):
    account, point, meter = factory.metered_account("HZ010101")
    empty = make.system()
    from powercis.metering import services as metering

    bare = metering.create_point(empty, org=org("HZ010101"), code="MP-BARE", kind="assessment",
                                 voltage_level="AC220V")
    client = api("metering")
    body = {"org": org("HZ010101").pk, "code": "CH-1", "name": "城关串口服务器", "host": "127.0.0.1", "port": 9,
            "timeout_seconds": "0.2", "retries": 0, "run_at": "02:00"}
    created = client.post(f"{BASE}/channels/", body)
    assert created.status_code == 201, created.content
    channel = created.json()
    assert (channel["code"], channel["timeout_seconds"], channel["run_at"], channel["data_ids"], channel["targets"],
            channel["target_count"]) == ("CH-1", "0.2", "02:00:00", ["0001FF00", "00020000", "01010000"], [], 0)
    assert error_fields(client.post(f"{BASE}/channels/", body, **EN)) == {
        "code": ["The channel code CH-1 is already in use."]}
    assert list(error_fields(client.post(f"{BASE}/channels/", {**body, "code": "CH-2", "data_ids": ["ZZ"]}))) == [
        "data_ids"]
    assert list(error_fields(client.post(f"{BASE}/channels/", {**body, "code": "CH-3", "port": 70000}))) == ["port"]

    unknown = client.post(f"{BASE}/channels/{channel['id']}/targets/", {"metering_point_codes": ["MP-NOPE"]}, **EN)
    assert error_fields(unknown) == {"metering_point_codes": ["No metering point with the number MP-NOPE."]}
    added = client.post(f"{BASE}/channels/{channel['id']}/targets/", {"metering_point_codes": [bare.code]})
    assert added.status_code == 200, added.content
    assert (added.json()["added"], [p["code"] for p in added.json()["channel"]["targets"]]) == (1, ["MP-BARE"])
    assert client.get(f"{BASE}/channels/").json()["results"][0]["target_count"] == 1

    patched = client.patch(f"{BASE}/channels/{channel['id']}/", {"name": "新名", "reason": "更名"})
    assert patched.status_code == 200 and patched.json()["name"] == "新名"
    assert error_fields(client.patch(f"{BASE}/channels/{channel['id']}/", {"code": "X"}, **EN)) == {
        "code": ["This field cannot be changed here."]}

    # the only target has no meter: the run reads nothing and says why, without touching the network
    run = client.post(f"{BASE}/channels/{channel['id']}/run/", **EN)  # the reasons are kept in the runner's language
    assert run.status_code == 201, run.content
    result = run.json()
    assert (result["channel"]["code"], result["targets"], result["succeeded"], result["failed"], result["batch"]) == (
        "CH-1", 1, 0, 1, None)
    assert result["failures"] == [{"metering_point": "MP-BARE", "reason": "No meter installed."}]
    listed = client.get(f"{BASE}/runs/", {"channel": channel["id"]})
    assert ids(listed) == {result["id"]} and CollectionRun.objects.count() == 1
    assert api("clerk").post(f"{BASE}/channels/{channel['id']}/run/").status_code == 403
    assert api(outsider).get(f"{BASE}/channels/{channel['id']}/").status_code == 404
    assert api(outsider).get(f"{BASE}/runs/{result['id']}/").status_code == 404


# --- lists, unknown ids, the schema -----------------------------------------------


def test_lists_take_the_same_number_of_queries_whatever_their_length(api, routes, actor):
    """No query per row: the plan, task, read, route and exception lists of 2 and of 6 rows cost the same.

    Statements are counted with an execute wrapper (the engines' COPY goes around it, and
    Django's debug cursor would refuse their COPY parameters).
    """
    from django.db import connection

    client = api("clerk")
    counts = {}
    for size in (2, 6):
        while ReadingTask.objects.filter(plan__route=routes["home"], plan__period=PERIOD).count() < size:
            n = ReadingTask.objects.count()
            factory.metered_account("HZ010101", route="R-HOME", order=n + 1)
            plans.generate(make.system(), org=routes["home"].org, period=PERIOD)
        for task in ReadingTask.objects.filter(plan__route=routes["home"], plan__period=PERIOD, status="pending"):
            entry.record_reads(actor("reader"), task, values={"total": "5", "peak": "1", "flat": "3", "valley": "1"},
                               read_at=dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC))
        plans.validate(make.system(), [ReadingPlan.objects.get(route=routes["home"], period=PERIOD)])
        while ReadingRoute.objects.filter(org_path__startswith=routes["home"].org.path).count() < size:
            factory.route("HZ010101")
        for month in range(1, size + 1):
            plans.generate(make.system(), org=routes["home"].org, period=D(2025, month, 1))
        for path in ("plans", "tasks", "reads", "routes", "exceptions"):
            client.get(f"{BASE}/{path}/")
            statements = []
            with connection.execute_wrapper(lambda execute, sql, *args: statements.append(sql) or execute(sql, *args)):
                response = client.get(f"{BASE}/{path}/")
            assert response.status_code == 200 and response.json()["count"] >= size, (path, response.json()["count"])
            counts.setdefault(path, []).append(len(statements))
    assert all(small == large for small, large in counts.values()), counts


@pytest.mark.parametrize("path", [
    f"{BASE}/routes/{2**64}/", f"{BASE}/plans/-3/", f"{BASE}/tasks/abc/", f"{BASE}/reads/{2**63}/",
    f"{BASE}/batches/0/quarantined/", f"{BASE}/exceptions/{2**64}/", f"{BASE}/channels/x/", f"{BASE}/runs/1/",
    f"{BASE}/nothing-here/",
])
def test_unknown_ids_are_404(api, path):
    response = api("clerk").get(path)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_schema_lists_the_reading_endpoints_and_validates_without_warnings(anonymous):
    schema = anonymous.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert {f"/api/v1/reading/{p}" for p in (
        "routes/", "plans/generate/", "plans/{id}/validate/", "plans/{id}/release/", "plans/release-period/",
        "plans/{id}/reassign/", "tasks/{id}/reads/", "tasks/{id}/unreadable/", "reads/", "ingest/", "batches/",
        "batches/{id}/quarantined/", "exceptions/confirm/", "exceptions/{id}/correct/", "exceptions/{id}/reread/",
        "exceptions/{id}/estimate/", "thresholds/", "indicators/", "channels/{id}/targets/", "channels/{id}/run/",
        "runs/")} <= set(paths)
    reads = paths["/api/v1/reading/tasks/{id}/reads/"]["post"]["responses"]
    assert {"200", "201", "400", "403", "404", "409"} <= set(reads)
    ingest = paths["/api/v1/reading/ingest/"]["post"]
    assert set(ingest["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
    assert {"200", "201"} <= set(ingest["responses"])
    assert ingest["responses"]["201"]["content"]["application/json"]["examples"]
    assert "Idempotency-Key" in [p["name"] for p in ingest["parameters"]]
    components = schema["components"]["schemas"]
    assert {"ReadingPlanStatusEnum", "ReadingTaskStatusEnum", "ReadSourceEnum", "ReadingCheckEnum",
            "ReadExceptionStatusEnum", "FieldEntrySourceEnum", "IngestSourceEnum"} <= set(components)
    from drf_spectacular.drainage import reset_generator_stats

    reset_generator_stats()  # what other schema generations of this process warned about is not ours
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
