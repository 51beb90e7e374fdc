"""Go-live: the previous system's last readings as opening plans, and the first month read here starting from them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from powercis.core.errors import ValidationFailed
from powercis.core.models import AuditRecord, Org
from powercis.reading.models import PlanStatus, ReadException, ReadingPlan, ReadingTask
from powercis.reading.services import plans
from powercis.reading.services.opening import load_opening_readings

from . import factory
from .test_plans import NOW, found, read, validate

pytestmark = pytest.mark.django_db

SEP, OCT, NOV = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)
INSTALLED = dt.date(2015, 3, 2)


@pytest.fixture(autouse=True)
def _english_messages():
    with translation.override("en"):
        yield


@pytest.fixture
def station():
    return Org.objects.get(code="HZ010101")


@pytest.fixture
def two_points():
    """A route of two meters installed in 2015 at 0, the system going live with October as its first month."""
    factory.route(code="R-GOLIVE", read_day=25)
    return [factory.metered_account(route="R-GOLIVE", registers=("total",), order=i, installed_on=INSTALLED,
                                    install_reads={"total": "0"})[1] for i in (1, 2)]


def sheet(rows: list[tuple[str, str, str]]) -> bytes:
    lines = ["计量点编号,抄表日期,总"] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def october_task(point) -> ReadingTask:
    return ReadingTask.objects.get(metering_point=point, plan__period=OCT)


def test_the_first_month_starts_at_the_opening_reading_not_the_installation(actor, system_actor, station, two_points):
    first, second = two_points
    done = load_opening_readings(system_actor, org=station, period=SEP, release=True, path_or_bytes=sheet(
        [(first.code, "2026-09-24", "12345.60")]), file_name="legacy.csv", now=NOW)
    assert (done.sheet.tasks_read, done.tasks_without_reading) == (1, 1 + _other_tasks(SEP, two_points))
    opening = ReadingPlan.objects.get(route__code="R-GOLIVE", period=SEP)
    assert (opening.opening, opening.status) == (True, PlanStatus.RELEASED)
    assert ReadException.objects.filter(plan__period=SEP).count() == 0

    plans.generate(actor("clerk"), org=station, period=OCT, now=NOW)
    october = ReadingPlan.objects.get(route__code="R-GOLIVE", period=OCT)
    assert october.opening is False
    for point, value in ((first, "12645.60"), (second, "12645.60")):
        read(october_task(point), {"total": value}, at=NOW.replace(month=10, day=25, hour=10))
    validate(october)
    # with an opening reading: 300 kWh over 31 days, nothing to report
    assert found(october_task(first)) == {}
    # without one the start is still the installation of 2015: the interval and the consumption show it
    without = found(october_task(second))
    assert without[("interval", "total")]["start"] == "install"
    assert without[("interval", "total")]["days"] == str((dt.date(2026, 10, 25) - INSTALLED).days)


def _other_tasks(period, points) -> int:
    """Tasks the opening plans of the station hold besides the test route's (the demo company's accounts)."""
    return ReadingTask.objects.filter(plan__period=period, plan__opening=True).exclude(
        metering_point__in=points).count()


def test_validating_an_opening_plan_checks_nothing(system_actor, station, two_points):
    first, _second = two_points
    load_opening_readings(system_actor, org=station, period=SEP, now=NOW,
                          path_or_bytes=sheet([(first.code, "2026-09-24", "12345.60")]), file_name="legacy.csv")
    opening = ReadingPlan.objects.get(route__code="R-GOLIVE", period=SEP)
    report = validate(opening)
    assert (report.tasks_checked, report.exceptions_opened) == (0, 0)
    opening.refresh_from_db()
    assert opening.validated_at == NOW and opening.status == PlanStatus.OPEN
    task = ReadingTask.objects.get(plan=opening, metering_point=first)
    assert (task.status, task.source, task.check_status) == ("read", "import", "unchecked")
    assert task.reads.get().total == Decimal("12345.60")


def test_loading_twice_completes_rather_than_duplicates(system_actor, station, two_points):
    first, second = two_points
    content = sheet([(first.code, "2026-09-24", "12345.60")])
    load_opening_readings(system_actor, org=station, period=SEP, path_or_bytes=content, file_name="a.csv", now=NOW)
    again = load_opening_readings(system_actor, org=station, period=SEP, now=NOW, file_name="b.csv",
                                  path_or_bytes=sheet([(first.code, "2026-09-24", "12345.60"),
                                                       (second.code, "2026-09-20", "800")]))
    assert again.sheet.tasks_read == 2
    assert again.sheet.result.batch.rows_duplicate == 1
    opening = ReadingPlan.objects.get(route__code="R-GOLIVE", period=SEP)
    assert ReadingTask.objects.filter(plan=opening).count() == 2
    assert sorted(ReadingTask.objects.filter(plan=opening).values_list("reads__total", flat=True)) == [
        Decimal("800"), Decimal("12345.60")]


def test_opening_readings_come_before_every_month_read_here(actor, system_actor, station, two_points):
    plans.generate(actor("clerk"), org=station, period=OCT, now=NOW)
    before = ReadingPlan.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        load_opening_readings(system_actor, org=station, period=OCT, now=NOW, file_name="legacy.csv",
                              path_or_bytes=sheet([(two_points[0].code, "2026-10-24", "1")]))
    assert "already has the plan" in str(refused.value.fields["period"][0])
    assert ReadingPlan.objects.count() == before
    assert not ReadingPlan.objects.filter(opening=True).exists()


def test_no_ordinary_plan_at_or_before_the_opening_month(actor, system_actor, station, two_points):
    load_opening_readings(system_actor, org=station, period=OCT, now=NOW, file_name="legacy.csv",
                          path_or_bytes=sheet([(two_points[0].code, "2026-10-24", "1")]))
    for period in (SEP, OCT):
        with pytest.raises(ValidationFailed) as refused:
            plans.generate(actor("clerk"), org=station, period=period, now=NOW)
        assert "went live with the opening readings of 2026-10" in str(refused.value.fields["period"][0])
    assert plans.generate(actor("clerk"), org=station, period=NOV, now=NOW).tasks_created >= 2
    generated = AuditRecord.objects.filter(action="reading.plans.generate").order_by("-pk")
    assert [r.changes["opening"] for r in generated[:2]] == [False, True]


def test_a_bimonthly_route_gets_an_opening_plan_in_a_month_it_does_not_read(system_actor, station):
    factory.route(code="R-GOLIVE2", read_day=10, cycle="bimonthly", odd_months=True)
    point = factory.metered_account(route="R-GOLIVE2", registers=("total",), installed_on=INSTALLED)[1]
    done = load_opening_readings(system_actor, org=station, period=OCT, now=NOW, file_name="legacy.csv",
                                 path_or_bytes=sheet([(point.code, "2026-09-10", "77")]))
    assert done.sheet.tasks_read == 1
    assert ReadingPlan.objects.get(route__code="R-GOLIVE2", period=OCT).opening


def test_the_command_loads_and_releases(station, two_points, tmp_path, capsys):
    path = tmp_path / "legacy.csv"
    path.write_bytes(sheet([(two_points[0].code, "2026-09-24", "12345.60")]))
    call_command("reads", "opening", str(path), "--org", "HZ010101", "--period", "2026-09", "--release")
    out = capsys.readouterr().out
    assert "tasks read 1" in out and "released" in out
    assert ReadingPlan.objects.get(route__code="R-GOLIVE", period=SEP).status == PlanStatus.RELEASED
    with pytest.raises(CommandError) as refused:
        call_command("reads", "opening", str(path), "--org", "HZ010101", "--period", "2026-13")
    assert refused.value.returncode == 2 and "YYYY-MM" in str(refused.value)


def test_loading_needs_plan_management_and_entry_and_leaves_nothing_when_refused(actor, station, two_points):
    from powercis.core.errors import NotAuthorized

    with pytest.raises(NotAuthorized):  # the billing clerk manages plans but does not enter reads
        load_opening_readings(actor("clerk"), org=station, period=SEP, now=NOW, file_name="legacy.csv",
                              path_or_bytes=sheet([(two_points[0].code, "2026-09-24", "1")]))
    assert not ReadingPlan.objects.filter(period=SEP, route__code="R-GOLIVE").exists()
