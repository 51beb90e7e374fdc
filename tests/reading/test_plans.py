"""Plan generation (reading.engine.plans): routes by cycle, tasks per point, meter on the read day, prev_read_on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from powercis.core.models import Org
from powercis.customers.models import Account, AccountVersion
from powercis.metering import services as metering
from powercis.metering.models import MeteringPoint
from powercis.reading.engine.plans import generate_plans, scheduled_date
from powercis.reading.engine.validate import run_validation
from powercis.reading.models import ReadingPlan, ReadingTask, RegisterRead
from tests import archive_factory as make

from . import factory

pytestmark = pytest.mark.django_db
OCT = dt.date(2026, 10, 1)
NOW = timezone.make_aware(dt.datetime(2026, 11, 27, 12, 0))


# ---------------------------------------------------------------------------- helpers shared by the engine tests


def company_id() -> int:
    return Org.objects.get(code="HZ").pk


def local(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def plan_month(route, period: dt.date) -> ReadingPlan | None:
    generate_plans(company_id=company_id(), period=period, route_ids=[route.pk], now=NOW)
    return ReadingPlan.objects.filter(route=route, period=period).first()


def task_of(route, period: dt.date, point) -> ReadingTask:
    plan = plan_month(route, period)
    return ReadingTask.objects.get(plan=plan, metering_point=point)


def read(task: ReadingTask, values: dict, *, at: dt.datetime | None = None, source: str = "handheld",
         estimated: bool = False, meter=None) -> RegisterRead:
    """A read entered for a task (what field entry writes): one row with the given registers; the task marked read."""
    at = at or local(task.plan.scheduled_on)
    meter_id = meter.pk if meter is not None else task.meter_id
    reading = factory.register_read(metering_point_id=task.metering_point_id, meter_id=meter_id, read_at=at,
                                    values=values, source=source, estimated=estimated, task=task)
    ReadingTask.objects.filter(pk=task.pk).update(status="estimated" if estimated else "read", read_at=at,
                                                  source=source)
    return reading


def month_reads(route, point, readings: dict[dt.date, dict | None], **kwargs) -> dict[dt.date, ReadingTask]:
    """Plans for each period (in order) and the given reads of the point's task (None: not read)."""
    tasks = {}
    for period in sorted(readings):
        task = task_of(route, period, point)
        if readings[period] is not None:
            at = kwargs.get("at", {}).get(period)
            read(task, readings[period], at=at, estimated=period in kwargs.get("estimated", ()),
                 source="estimate" if period in kwargs.get("estimated", ()) else "handheld")
        tasks[period] = task
    return tasks


def validate(plan_or_task, now: dt.datetime = NOW):
    if isinstance(plan_or_task, ReadingTask):
        return run_validation(plan_ids=[plan_or_task.plan_id], now=now)
    return run_validation(plan_ids=[plan_or_task.pk], now=now)


def found(task: ReadingTask, status: str = "open") -> dict[tuple[str, str], dict]:
    """The task's exceptions: (rule, register) → detail."""
    return {(e.rule, e.register): e.detail for e in task.exceptions.filter(status=status)}


def suspend(account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(status="SUSPENDED")
    AccountVersion.objects.filter(account=account).update(status="SUSPENDED")


# ---------------------------------------------------------------------------- tests


def test_scheduled_date_is_the_read_day_clipped_to_the_month():
    assert scheduled_date(dt.date(2026, 2, 1), 31) == dt.date(2026, 2, 28)
    assert scheduled_date(dt.date(2028, 2, 1), 30) == dt.date(2028, 2, 29)
    assert scheduled_date(dt.date(2026, 10, 1), 25) == dt.date(2026, 10, 25)
    assert scheduled_date(dt.date(2026, 4, 1), 31) == dt.date(2026, 4, 30)


def test_a_plan_lists_the_routes_readable_points_in_walk_order(staff):
    route = factory.route(code="RT-A", read_day=31, reader=staff("reader"))
    second, p_second, m_second = factory.metered_account(route="RT-A", order=2)
    first, p_first, m_first = factory.metered_account(route="RT-A", order=1)
    closed, _p, _m = factory.metered_account(route="RT-A", order=3)
    Account.objects.filter(pk=closed.pk).update(status="CLOSED")
    _a, inactive, _m = factory.metered_account(route="RT-A", order=4)
    MeteringPoint.objects.filter(pk=inactive.pk).update(is_active=False)
    factory.metered_account(route="RT-A", order=5, opened_on=dt.date(2026, 11, 2), installed_on=dt.date(2026, 11, 2))
    factory.metered_account(route="RT-OTHER", order=6)
    # a sub-metered share of the first point (定量) has no meter of its own: nothing to read
    metering.create_point(make.system(), org=Org.objects.get(code="HZ010101"), code="MP-SHARE",
                          voltage_level="AC220V", account=first, parent=p_first, deduction="fixed_quantity",
                          deduction_value=Decimal("300"), route_order=7)

    report = generate_plans(company_id=company_id(), period=dt.date(2026, 10, 17), now=NOW)

    plan = ReadingPlan.objects.get(route=route, period=OCT)
    assert (plan.scheduled_on, plan.reader.username, plan.org_id, plan.status) == (
        dt.date(2026, 10, 31), "reader", route.org_id, "open")
    assert (plan.company_id, plan.org_path, plan.tasks_due) == (route.company_id, route.org_path, 2)
    assert list(plan.tasks.order_by("seq").values_list(
        "metering_point_id", "meter_id", "account_id", "seq", "status", "check_status", "prev_read_on")) == [
        (p_first.pk, m_first.pk, first.pk, 1, "pending", "unchecked", dt.date(2026, 1, 5)),
        (p_second.pk, m_second.pk, second.pk, 2, "pending", "unchecked", dt.date(2026, 1, 5)),
    ]
    assert (report.period, report.routes, report.plans_created, report.tasks_created, report.tasks_due) == (
        "2026-10", 1, 1, 2, 2)
    assert report.plan_ids == [plan.pk]


def test_rerunning_adds_only_what_is_missing():
    route = factory.route(code="RT-B")
    factory.metered_account(route="RT-B", order=1)
    first = generate_plans(company_id=company_id(), period=OCT, now=NOW)
    again = generate_plans(company_id=company_id(), period=OCT, now=NOW)
    assert (again.plans_created, again.plans_existing, again.tasks_created, again.tasks_due) == (0, 1, 0, 1)
    assert ReadingPlan.objects.filter(route=route).count() == 1 and ReadingTask.objects.count() == first.tasks_created
    _a, newcomer, _m = factory.metered_account(route="RT-B", order=2)
    third = generate_plans(company_id=company_id(), period=OCT, now=NOW)
    assert third.tasks_created == 1
    plan = ReadingPlan.objects.get(route=route, period=OCT)
    assert plan.tasks_due == 2 and plan.tasks.filter(metering_point=newcomer).exists()


def test_the_database_refuses_a_second_task_for_a_point_in_a_plan():
    route = factory.route(code="RT-U")
    _a, point, meter = factory.metered_account(route="RT-U", order=1)
    plan = plan_month(route, OCT)
    task = plan.tasks.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReadingTask.objects.create(plan=plan, metering_point=point, meter=meter, seq=9)
    # the same point in another month's plan is another task
    november = plan_month(route, dt.date(2026, 11, 1))
    assert list(ReadingTask.objects.filter(metering_point=point).order_by("plan__period")
                .values_list("plan_id", flat=True)) == [task.plan_id, november.pk]


def test_a_released_plan_is_left_alone():
    route = factory.route(code="RT-C")
    factory.metered_account(route="RT-C", order=1)
    plan = plan_month(route, OCT)
    ReadingPlan.objects.filter(pk=plan.pk).update(status="released")
    factory.metered_account(route="RT-C", order=2)
    report = generate_plans(company_id=company_id(), period=OCT, now=NOW)
    assert (report.plans_released, report.tasks_created) == (1, 0)
    assert plan.tasks.count() == 1


def test_two_monthly_routes_are_planned_in_their_months_only():
    odd = factory.route(code="RT-ODD", cycle="bimonthly", odd_months=True)
    even = factory.route(code="RT-EVEN", cycle="bimonthly", odd_months=False)
    monthly = factory.route(code="RT-MONTH")
    for code in ("RT-ODD", "RT-EVEN", "RT-MONTH"):
        factory.metered_account(route=code)
    for month in (9, 10):
        generate_plans(company_id=company_id(), period=dt.date(2026, month, 1), now=NOW)
    planned = set(ReadingPlan.objects.values_list("route_id", "period"))
    assert planned == {(odd.pk, dt.date(2026, 9, 1)), (even.pk, OCT), (monthly.pk, dt.date(2026, 9, 1)),
                       (monthly.pk, OCT)}


def test_only_the_given_routes_are_planned():
    chosen = factory.route(code="RT-D")
    factory.route(code="RT-E")
    factory.metered_account(route="RT-D")
    factory.metered_account(route="RT-E")
    report = generate_plans(company_id=company_id(), period=OCT, route_ids=[chosen.pk], now=NOW)
    assert report.routes == 1
    assert list(ReadingPlan.objects.values_list("route_id", flat=True)) == [chosen.pk]


def test_the_meter_is_the_one_installed_on_the_read_day():
    early = factory.route(code="RT-15", read_day=15)
    late = factory.route(code="RT-25", read_day=25)
    _a, p_early, old_early = factory.metered_account(route="RT-15", registers=("total",))
    _b, p_late, old_late = factory.metered_account(route="RT-25", registers=("total",))
    org = Org.objects.get(code="HZ010101")
    replacements = {}
    for point, old in ((p_early, old_early), (p_late, old_late)):
        new = metering.register_meter(make.system(), org=org, asset_no=f"NEW{point.pk:09d}", registers=["total"])
        metering.replace_meter(make.system(), point, new, on=dt.date(2026, 10, 20),
                               removal_reads={"total": "100.00"}, install_reads={"total": "0.00"})
        replacements[point.pk] = new
    generate_plans(company_id=company_id(), period=OCT, now=NOW)
    assert ReadingTask.objects.get(plan__route=early, metering_point=p_early).meter_id == old_early.pk
    assert ReadingTask.objects.get(plan__route=late, metering_point=p_late).meter_id == replacements[p_late.pk].pk


def test_prev_read_on_is_the_last_read_date_or_the_installation():
    route = factory.route(code="RT-P", read_day=25)
    _a, point, _m = factory.metered_account(route="RT-P", registers=("total",))
    _b, never_read, _n = factory.metered_account(route="RT-P", registers=("total",), installed_on=dt.date(2026, 3, 9))
    aug = task_of(route, dt.date(2026, 8, 1), point)
    read(aug, {"total": "10.00"}, at=local(dt.date(2026, 8, 24), 23, 30))  # 15:30 UTC: the local date counts
    task_of(route, dt.date(2026, 9, 1), point)  # September: not read
    oct_task = task_of(route, OCT, point)
    assert oct_task.prev_read_on == dt.date(2026, 8, 24)
    assert ReadingTask.objects.get(plan__period=OCT, metering_point=never_read).prev_read_on == dt.date(2026, 3, 9)


def test_remote_reads_taken_by_validation_give_the_next_plan_its_prev_read_on():
    route = factory.route(code="RT-R", read_day=10, method="remote")
    _a, point, meter = factory.metered_account(route="RT-R", registers=("total",))
    sep = task_of(route, dt.date(2026, 9, 1), point)
    freeze = local(dt.date(2026, 9, 10), 0)
    factory.register_read(metering_point_id=point.pk, meter_id=meter.pk, read_at=freeze, values={"total": "55.00"},
                          source="ami")
    validate(sep)
    assert task_of(route, OCT, point).prev_read_on == dt.date(2026, 9, 10)
