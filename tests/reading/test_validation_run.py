"""A validation run over plans or tasks: remote reads taken, idempotent reruns, resolved exceptions kept, states."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from powercis.reading.engine import validate as validate_engine
from powercis.reading.engine.validate import effective_reads_of_tasks, run_validation
from powercis.reading.models import ReadException, ReadingPlan, ReadingTask, RegisterRead

from . import factory
from .test_plans import NOW, found, local, month_reads, read, task_of, validate

pytestmark = pytest.mark.django_db
SEP, OCT = dt.date(2026, 9, 1), dt.date(2026, 10, 1)


@pytest.fixture
def route_of_three():
    """A route with three accounts read in September and October: a zero, a lower, and a normal one."""
    route = factory.route(code="RUN-1")
    points = [factory.metered_account(route="RUN-1", registers=("total",), order=i)[1] for i in (1, 2, 3)]
    values = {points[0]: ("100.00", "100.00"), points[1]: ("500.00", "100.00"), points[2]: ("100.00", "130.00")}
    tasks = {}
    for point, (sep, octo) in values.items():
        tasks[point] = month_reads(route, point, {SEP: {"total": sep}, OCT: {"total": octo}})[OCT]
    return ReadingPlan.objects.get(route=route, period=OCT), [tasks[p] for p in points]


def snapshot(plan):
    return sorted(ReadException.objects.filter(plan=plan).values_list("task_id", "rule", "register", "read_id",
                                                                      "status", "severity"))


def test_a_run_writes_exceptions_task_states_and_the_plan_time(route_of_three):
    plan, (zero, lower, fine) = route_of_three
    report = validate(plan)
    assert (report.plans, report.tasks_checked, report.exceptions_opened) == (1, 3, 2)
    assert report.by_rule == {"lower": 1, "zero": 1}
    assert (report.tasks_passed, report.tasks_with_exceptions, report.tasks_cleared) == (1, 2, 0)
    states = dict(ReadingTask.objects.filter(plan=plan).values_list("pk", "check_status"))
    assert states == {zero.pk: "exceptions", lower.pk: "exceptions", fine.pk: "passed"}
    plan.refresh_from_db()
    assert plan.validated_at == NOW
    exc = ReadException.objects.get(task=lower)
    assert (exc.plan_id, exc.org_id, exc.org_path, exc.company_id, exc.metering_point_id, exc.created_at) == (
        plan.pk, plan.org_id, plan.org_path, plan.company_id, lower.metering_point_id, NOW)
    assert exc.read == RegisterRead.objects.get(task=lower, total__isnull=False)
    assert (exc.register, exc.read.total) == ("total", Decimal("100.0000"))


def test_rerunning_changes_nothing(route_of_three):
    plan, _tasks = route_of_three
    validate(plan)
    before = snapshot(plan)
    again = validate(plan)
    assert snapshot(plan) == before
    assert again.exceptions_opened == 2 and ReadException.objects.filter(plan=plan).count() == 2


def test_a_confirmed_exception_is_not_raised_again_for_the_same_read(route_of_three):
    plan, (zero, _lower, _fine) = route_of_three
    validate(plan)
    # what the reviewer's confirmation leaves (reading.services.exceptions.confirm)
    ReadException.objects.filter(task=zero, rule="zero").update(status="resolved", resolution="confirmed",
                                                                note="铺面停业", resolved_at=NOW)
    report = validate(plan)
    assert report.exceptions_already_resolved == 1
    assert list(zero.exceptions.values_list("rule", "status")) == [("zero", "resolved")]
    zero.refresh_from_db()
    assert zero.check_status == "cleared"
    # a corrected reading is a new read: the check applies to it again
    original = RegisterRead.objects.get(task=zero)
    corrected = factory.correction(original, total=Decimal("100.00"))
    validate(plan)
    assert zero.exceptions.get(status="open").read_id == corrected.pk
    assert sorted(zero.exceptions.values_list("rule", "status")) == [("zero", "open"), ("zero", "resolved")]


def test_validating_some_tasks_leaves_the_others_and_the_plan_alone(route_of_three):
    plan, (zero, lower, fine) = route_of_three
    report = run_validation(task_ids=[lower.pk], now=NOW)
    assert (report.tasks_checked, report.plans, report.by_rule) == (1, 1, {"lower": 1})
    assert dict(ReadingTask.objects.filter(plan=plan).values_list("pk", "check_status")) == {
        zero.pk: "unchecked", lower.pk: "exceptions", fine.pk: "unchecked"}
    plan.refresh_from_db()
    assert plan.validated_at is None


@pytest.mark.parametrize("scan_from", [20_000, 0], ids=["through the indexes", "one scan of the reads"])
def test_remote_routes_take_the_head_ends_reading_in_the_window(scan_from, monkeypatch):
    monkeypatch.setattr(validate_engine, "SCAN_FROM_TASKS", scan_from)
    route = factory.route(code="RUN-R", read_day=10, method="remote")
    points = {name: factory.metered_account(route="RUN-R", registers=("total", "peak", "flat", "valley"))
              for name in ("on_day", "before", "too_early", "estimated", "on_site")}

    def freeze(name: str, day: dt.date, total: str, *, estimated: bool = False, source: str = "ami"):
        _account, point, meter = points[name]
        value = Decimal(total)
        factory.register_read(metering_point_id=point.pk, meter_id=meter.pk, read_at=local(day, 0), source=source,
                              estimated=estimated, values={"total": value, "peak": value * Decimal("0.25"),
                                                           "flat": value * Decimal("0.5"),
                                                           "valley": value * Decimal("0.25")})

    for name in points:
        freeze(name, dt.date(2026, 9, 10), "100.00")
    sep_plan = ReadingPlan.objects.get(pk=task_of(route, SEP, points["on_day"][1]).plan_id)
    validate(sep_plan)
    freeze("on_day", dt.date(2026, 10, 10), "140.00")
    freeze("before", dt.date(2026, 10, 7), "120.00")
    freeze("before", dt.date(2026, 10, 9), "124.00", source="remote")
    # a later read in the window without a total (a head-end frame of one register) does not make the instant
    _account, before_point, before_meter = points["before"]
    factory.register_read(metering_point_id=before_point.pk, meter_id=before_meter.pk, source="ami",
                          read_at=local(dt.date(2026, 10, 10), 0), values={"peak": "99.00"})
    freeze("too_early", dt.date(2026, 10, 6), "130.00")
    freeze("estimated", dt.date(2026, 10, 10), "132.00", estimated=True)
    freeze("on_site", dt.date(2026, 10, 10), "150.00")
    on_site = task_of(route, OCT, points["on_site"][1])
    read(on_site, {"total": "151.00", "peak": "37.75", "flat": "75.50", "valley": "37.75"},
         at=local(dt.date(2026, 10, 10), 14))
    plan = ReadingPlan.objects.get(route=route, period=OCT)
    report = validate(plan)
    assert report.remote_reads_applied == 3
    tasks = {name: ReadingTask.objects.get(plan=plan, metering_point=points[name][1]) for name in points}
    assert (tasks["on_day"].status, tasks["on_day"].source, tasks["on_day"].read_at) == (
        "read", "ami", local(dt.date(2026, 10, 10), 0))
    assert (tasks["before"].status, tasks["before"].source, tasks["before"].read_at) == (
        "read", "remote", local(dt.date(2026, 10, 9), 0))
    assert (tasks["estimated"].status, tasks["estimated"].source) == ("estimated", "ami")
    assert (tasks["on_site"].status, tasks["on_site"].source) == ("read", "handheld")
    assert tasks["too_early"].status == "pending"
    assert found(tasks["too_early"]) == {("missing", ""): {"scheduled_on": "2026-10-10", "status": "pending"}}
    assert found(tasks["estimated"]) == {("estimated", "total"): {"source": "ami", "read_on": "2026-10-10"}}
    assert found(tasks["on_day"]) == {} and found(tasks["before"]) == {} and found(tasks["on_site"]) == {}
    effective = effective_reads_of_tasks([tasks["before"].pk, tasks["on_site"].pk])
    values = {(row["task_id"], row["register"]): (row["value"], row["origin"]) for row in effective.iter_rows(named=True)}
    assert values[(tasks["before"].pk, "total")] == (Decimal("124.0000"), "remote")
    assert values[(tasks["before"].pk, "peak")] == (Decimal("31.0000"), "remote")
    assert values[(tasks["on_site"].pk, "total")] == (Decimal("151.0000"), "task")
    # taken once: the second run finds the tasks already marked
    assert validate(plan).remote_reads_applied == 0


@pytest.mark.parametrize("scan_from", [20_000, 0], ids=["through the indexes", "one scan of the reads"])
def test_the_deeper_history_takes_only_the_total_of_reads_that_have_one(scan_from, monkeypatch):
    """Targets wanted for their total only: a read without a total is not one; a read with TOU gives its total."""
    monkeypatch.setattr(validate_engine, "SCAN_FROM_TASKS", scan_from)
    route = factory.route(code="RUN-T", read_day=10, method="remote")
    _a, entered, _m = factory.metered_account(route="RUN-T", registers=("total", "peak", "flat", "valley"))
    _b, collected, meter = factory.metered_account(route="RUN-T", registers=("total", "peak", "flat", "valley"))
    _c, partial, _n = factory.metered_account(route="RUN-T", registers=("total", "peak", "flat", "valley"))
    read(task_of(route, SEP, entered), {"total": "40.00", "peak": "10.00", "flat": "20.00", "valley": "10.00"},
         at=local(dt.date(2026, 9, 10), 9))
    factory.register_read(metering_point_id=collected.pk, meter_id=meter.pk, source="ami",
                          read_at=local(dt.date(2026, 9, 10), 0),
                          values={"total": "80.00", "peak": "20.00", "flat": "40.00", "valley": "20.00"})
    read(task_of(route, SEP, partial), {"peak": "5.00"}, at=local(dt.date(2026, 9, 10), 9))
    plan = ReadingPlan.objects.get(route=route, period=SEP)
    tasks = {t.metering_point_id: t.pk for t in ReadingTask.objects.filter(plan=plan)}

    totals = validate_engine.effective_reads_of(validate_engine.plan_targets([plan.pk], all_registers=False))
    assert sorted(totals.select("task_id", "register", "value", "origin").iter_rows()) == sorted([
        (tasks[entered.pk], "total", Decimal("40.0000"), "task"),
        (tasks[collected.pk], "total", Decimal("80.0000"), "remote")])
    every = validate_engine.effective_reads_of(validate_engine.plan_targets([plan.pk]))
    assert sorted(every.select("task_id", "register", "value").iter_rows()) == sorted([
        (tasks[entered.pk], "total", Decimal("40.0000")), (tasks[entered.pk], "peak", Decimal("10.0000")),
        (tasks[entered.pk], "flat", Decimal("20.0000")), (tasks[entered.pk], "valley", Decimal("10.0000")),
        (tasks[collected.pk], "total", Decimal("80.0000")), (tasks[collected.pk], "peak", Decimal("20.0000")),
        (tasks[collected.pk], "flat", Decimal("40.0000")), (tasks[collected.pk], "valley", Decimal("20.0000")),
        (tasks[partial.pk], "peak", Decimal("5.0000"))])
    assert set(every["read_id"]) == set(RegisterRead.objects.values_list("pk", flat=True))
