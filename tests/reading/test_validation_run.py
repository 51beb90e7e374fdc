"""A validation run over plans or tasks: remote reads taken, idempotent reruns, resolved exceptions kept, states."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

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
    assert exc.read == RegisterRead.objects.get(task=lower, register="total")


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
    RegisterRead.objects.filter(pk=original.pk).update(status="superseded")
    RegisterRead.objects.create(metering_point_id=zero.metering_point_id, meter_id=zero.meter_id, register="total",
                                read_at=original.read_at, value=Decimal("100.00"), source="correct", revision=1,
                                corrects=original, task=zero, recorded_at=timezone.now())
    validate(plan)
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
        at = local(day, 0)
        value = Decimal(total)
        RegisterRead.objects.bulk_create([
            RegisterRead(metering_point=point, meter=meter, register=register, read_at=at,
                         value=value * share, source=source, estimated=estimated, recorded_at=at)
            for register, share in (("total", 1), ("peak", Decimal("0.25")), ("flat", Decimal("0.5")),
                                    ("valley", Decimal("0.25")))])

    for name in points:
        freeze(name, dt.date(2026, 9, 10), "100.00")
    sep_plan = ReadingPlan.objects.get(pk=task_of(route, SEP, points["on_day"][1]).plan_id)
    validate(sep_plan)
    freeze("on_day", dt.date(2026, 10, 10), "140.00")
    freeze("before", dt.date(2026, 10, 7), "120.00")
    freeze("before", dt.date(2026, 10, 9), "124.00", source="remote")
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
