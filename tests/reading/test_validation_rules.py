"""Each check of validation before billing with the exact numbers it reports (metering-audit §2).

Every test builds a route with one account (meter installed 2026-01-05, registers 6 integer
digits and 2 decimals, install reads 0 unless said), reads for the months it needs (read
at 10:00 on the 25th) and validates October 2026 as of 2026-11-27.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from powercis.core.models import Org
from powercis.metering import services as metering
from powercis.reading.models import ReadingTask, RegisterRead, ValidationProfile
from tests import archive_factory as make

from . import factory
from .test_plans import found, local, month_reads, read, suspend, task_of, validate

pytestmark = pytest.mark.django_db
JUL, AUG, SEP, OCT = (dt.date(2026, m, 1) for m in (7, 8, 9, 10))


def one_account(code: str, *, registers=("total",), **fields):
    route = factory.route(code=code, read_day=fields.pop("read_day", 25), **{
        k: fields.pop(k) for k in ("cycle", "odd_months", "method") if k in fields})
    account, point, meter = factory.metered_account(route=code, registers=registers, **fields)
    return route, account, point, meter


# ---------------------------------------------------------------------------- zero


def test_zero_consumption_is_a_warning_unless_the_account_is_suspended():
    route, _a, point, _m = one_account("Z1")
    tasks = month_reads(route, point, {SEP: {"total": "100.00"}, OCT: {"total": "100.00"}})
    report = validate(tasks[OCT])
    assert found(tasks[OCT]) == {("zero", "total"): {
        "start": "100.00", "end": "100.00", "consumption": "0.00", "days": "30", "start_date": "2026-09-25",
        "end_date": "2026-10-25"}}
    zero = tasks[OCT].exceptions.get(rule="zero")
    assert (zero.severity, zero.read.total, zero.read.registers()) == (
        "warn", Decimal("100.0000"), {"total": Decimal("100.0000")})
    assert report.by_rule == {"zero": 1}

    _route, resting, point2, _m2 = one_account("Z2")
    suspend(resting)
    tasks2 = month_reads(_route, point2, {SEP: {"total": "100.00"}, OCT: {"total": "100.00"}})
    validate(tasks2[OCT])
    assert found(tasks2[OCT]) == {}


def test_the_third_zero_period_in_a_row_blocks():
    route, _a, point, _m = one_account("Z3")
    tasks = month_reads(route, point, {JUL: {"total": "100.00"}, AUG: {"total": "100.00"}, SEP: {"total": "100.00"},
                                       OCT: {"total": "100.00"}})
    validate(tasks[OCT])
    exceptions = found(tasks[OCT])
    assert exceptions[("zero_streak", "total")] == {"cycles": "3", "limit": "3"}
    assert tasks[OCT].exceptions.get(rule="zero_streak").severity == "block"

    route2, _b, point2, _n = one_account("Z4")
    two = month_reads(route2, point2, {AUG: {"total": "100.00"}, SEP: {"total": "100.00"},
                                       OCT: {"total": "100.00"}})
    validate(two[OCT])
    assert set(found(two[OCT])) == {("zero", "total")}


# ---------------------------------------------------------------------------- spike and drop


def test_a_spike_against_last_period_per_day():
    route, _a, point, _m = one_account("S1")
    tasks = month_reads(route, point, {AUG: {"total": "1000.00"}, SEP: {"total": "1100.00"},
                                       OCT: {"total": "1300.00"}})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {("spike", "total"): {
        "consumption_kwh": "200", "days": "30", "per_day": "6.6667", "reference_kwh": "100", "reference_days": "31",
        "reference_per_day": "3.2258", "ratio": "1.0667", "floor": "50", "limit": "0.5"}}
    assert tasks[OCT].exceptions.get(rule="spike").severity == "block"


def test_a_drop_against_last_period_and_no_comparison_below_the_floor():
    route, _a, point, _m = one_account("S2")
    tasks = month_reads(route, point, {AUG: {"total": "1000.00"}, SEP: {"total": "1100.00"},
                                       OCT: {"total": "1140.00"}})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {("drop", "total"): {
        "consumption_kwh": "40", "days": "30", "per_day": "1.3333", "reference_kwh": "100", "reference_days": "31",
        "reference_per_day": "3.2258", "ratio": "-0.5867", "floor": "50", "limit": "0.5"}}

    route2, _b, point2, _n = one_account("S3")
    small = month_reads(route2, point2, {AUG: {"total": "1000.00"}, SEP: {"total": "1040.00"},
                                         OCT: {"total": "1200.00"}})
    validate(small[OCT])
    assert found(small[OCT]) == {}


def test_no_comparison_with_an_average_since_installation_years_ago():
    route, _a, point, _m = one_account("S4", installed_on=dt.date(2019, 1, 5))
    tasks = month_reads(route, point, {SEP: {"total": "10000.00"}, OCT: {"total": "11000.00"}})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {}


def test_against_the_same_period_last_year():
    route, _a, point, _m = one_account("Y1", installed_on=dt.date(2025, 1, 5))
    tasks = month_reads(route, point, {dt.date(2025, 9, 1): {"total": "1000.00"},
                                       dt.date(2025, 10, 1): {"total": "1100.00"},
                                       SEP: {"total": "2000.00"}, OCT: {"total": "2250.00"}})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {("yoy_spike", "total"): {
        "consumption_kwh": "250", "days": "30", "per_day": "8.3333", "reference_kwh": "100", "reference_days": "30",
        "reference_per_day": "3.3333", "ratio": "1.5", "floor": "50", "reference_period": "2025-10", "limit": "1"}}
    assert tasks[OCT].exceptions.get(rule="yoy_spike").severity == "warn"


def test_a_change_that_last_year_shows_too_is_a_season_unless_the_confirmation_is_off():
    """September to October doubles every year here: against last period a spike, against last year nothing."""
    seasons = {dt.date(2025, 8, 1): {"total": "1000.00"}, dt.date(2025, 9, 1): {"total": "1100.00"},
               dt.date(2025, 10, 1): {"total": "1300.00"},
               AUG: {"total": "2000.00"}, SEP: {"total": "2100.00"}, OCT: {"total": "2300.00"}}
    route, _a, point, _m = one_account("Y2", installed_on=dt.date(2025, 1, 5))
    tasks = month_reads(route, point, seasons)
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {}

    station = Org.objects.get(code="HZ010101")
    ValidationProfile.objects.create(org=station, valid_from=dt.date(2026, 1, 1), values={"spike_confirm_yoy": "0"})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {("spike", "total"): {
        "consumption_kwh": "200", "days": "30", "per_day": "6.6667", "reference_kwh": "100", "reference_days": "31",
        "reference_per_day": "3.2258", "ratio": "1.0667", "floor": "50", "limit": "0.5"}}


def test_the_thresholds_of_the_accounts_usage_category_apply():
    """A residential profile lets a household's doubling pass; a factory under the same station is still flagged."""
    station = Org.objects.get(code="HZ010101")
    ValidationProfile.objects.create(org=station, usage_category="RES", valid_from=dt.date(2026, 1, 1),
                                     values={"spike_ratio": "1.5"})
    months = {AUG: {"total": "1000.00"}, SEP: {"total": "1100.00"}, OCT: {"total": "1300.00"}}
    route, _a, point, _m = one_account("C1", usage_category="RES_T")
    household = month_reads(route, point, months)
    route2, _b, point2, _n = one_account("C2", usage_category="CI_1")
    factory_tasks = month_reads(route2, point2, months)
    validate(household[OCT])
    validate(factory_tasks[OCT])
    assert found(household[OCT]) == {}
    assert found(factory_tasks[OCT])[("spike", "total")]["limit"] == "0.5"


def test_without_last_year_the_change_against_last_period_decides_alone():
    """The first year of an account: nothing to confirm with, so the spike stands (as in the test above it)."""
    route, _a, point, _m = one_account("Y3", installed_on=dt.date(2026, 6, 5))
    tasks = month_reads(route, point, {AUG: {"total": "1000.00"}, SEP: {"total": "1100.00"},
                                       OCT: {"total": "1300.00"}})
    validate(tasks[OCT])
    assert set(found(tasks[OCT])) == {("spike", "total")}


# ---------------------------------------------------------------------------- lower, rollover, implausible


def test_a_reading_below_the_start_is_lower():
    route, _a, point, _m = one_account("L1")
    tasks = month_reads(route, point, {SEP: {"total": "500.00"}, OCT: {"total": "100.00"}})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {("lower", "total"): {
        "start": "500.00", "end": "100.00", "register_max": "1000000", "difference": "-400.00"}}


def test_a_register_rolling_over_at_its_maximum_is_accepted_when_plausible():
    route, _a, point, _m = one_account("R1")
    tasks = month_reads(route, point, {SEP: {"total": "999999.99"}, OCT: {"total": "12.34"}})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {("rollover", "total"): {
        "start": "999999.99", "end": "12.34", "register_max": "1000000", "consumption": "12.35",
        "energy_kwh": "12.35", "limit": "6000", "days": "30"}}
    assert tasks[OCT].exceptions.get(rule="rollover").severity == "warn"


def test_a_rollover_that_implies_too_much_energy_is_implausible():
    station = Org.objects.get(code="HZ010101")
    ValidationProfile.objects.create(org=station, valid_from=dt.date(2026, 1, 1),
                                     values={"residential_daily_cap_kwh": "0.4"})
    route, _a, point, _m = one_account("R2")
    tasks = month_reads(route, point, {SEP: {"total": "999999.99"}, OCT: {"total": "12.34"}})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {("implausible", "total"): {
        "start": "999999.99", "end": "12.34", "register_max": "1000000", "rollover": "true", "consumption": "12.35",
        "energy_kwh": "12.35", "limit": "12", "days": "30", "capacity": "0"}}


def test_consumption_above_what_the_supply_can_deliver_is_implausible():
    route, _a, point, _m = one_account("I1")
    tasks = month_reads(route, point, {SEP: {"total": "100.00"}, OCT: {"total": "10000.00"}})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {("implausible", "total"): {
        "start": "100.00", "end": "10000.00", "consumption": "9900.00", "energy_kwh": "9900", "limit": "6000",
        "days": "30", "capacity": "0"}}
    # with a contract capacity the cap is kVA × days × 24 h: 20 kVA × 30 × 24 = 14,400 kWh
    route2, _b, point2, _n = one_account("I2", contract_capacity=Decimal("20"))
    tasks2 = month_reads(route2, point2, {SEP: {"total": "100.00"}, OCT: {"total": "10000.00"}})
    validate(tasks2[OCT])
    assert found(tasks2[OCT]) == {}


# ---------------------------------------------------------------------------- time-of-use sum


TOU = ("total", "sharp", "peak", "flat", "valley")


def test_tou_registers_within_the_meters_tolerance_pass():
    """Test vector T8: total 29.34, T1–T4 7.66 / 6.15 / 4.80 / 10.71 (Σ 29.32); tolerance (4 − 1) × 0.01."""
    route, _a, point, _m = one_account("T8", registers=TOU)
    task = task_of(route, OCT, point)
    read(task, {"total": "29.34", "sharp": "7.66", "peak": "6.15", "flat": "4.80", "valley": "10.71"})
    validate(task)
    assert ("tou_sum", "total") not in found(task)


def test_tou_registers_that_do_not_add_up():
    route, _a, point, _m = one_account("T1", registers=TOU)
    task = task_of(route, OCT, point)
    read(task, {"total": "29.34", "sharp": "7.66", "peak": "6.15", "flat": "4.80", "valley": "10.61"})
    validate(task)
    assert found(task)[("tou_sum", "total")] == {
        "compared": "readings", "total": "29.34", "tou_sum": "29.22", "difference": "0.12",
        "total_consumption": "29.34", "tou_consumption": "29.22", "increment_difference": "0.12",
        "tolerance": "0.03", "registers": "4"}


def test_a_corrected_tou_register_is_checked_with_the_others_of_the_read():
    """The correction is a new read carrying every register: the total and the other TOU registers stay."""
    route, _a, point, _m = one_account("T3", registers=TOU)
    task = task_of(route, OCT, point)
    original = read(task, {"total": "29.34", "sharp": "7.66", "peak": "6.15", "flat": "4.80", "valley": "10.61"})
    validate(task)
    assert set(found(task)) == {("tou_sum", "total"), ("interval", "total")}  # read 293 days after installation
    assert task.exceptions.get(rule="tou_sum").read_id == original.pk
    corrected = factory.correction(original, valley=Decimal("10.71"))
    assert corrected.registers() == {"total": Decimal("29.34"), "sharp": Decimal("7.66"), "peak": Decimal("6.15"),
                                     "flat": Decimal("4.80"), "valley": Decimal("10.71")}
    validate(task)
    assert set(found(task)) == {("interval", "total")}
    assert task.exceptions.get(rule="interval").read_id == corrected.pk
    corrected.refresh_from_db()
    original.refresh_from_db()
    assert (original.status, corrected.status, corrected.revision) == ("superseded", "valid", 1)


def test_increments_that_do_not_add_up_though_each_reading_does():
    route, _a, point, _m = one_account("T2", registers=TOU)
    tasks = month_reads(route, point, {
        SEP: {"total": "10.02", "sharp": "1.00", "peak": "3.00", "flat": "4.00", "valley": "2.00"},
        OCT: {"total": "29.32", "sharp": "5.00", "peak": "8.34", "flat": "9.00", "valley": "7.00"}})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {("tou_sum", "total"): {
        "compared": "increments", "total": "29.32", "tou_sum": "29.34", "difference": "0.02",
        "total_consumption": "19.30", "tou_consumption": "19.34", "increment_difference": "-0.04",
        "tolerance": "0.03", "registers": "4"}}


# ---------------------------------------------------------------------------- missing, unreadable, estimated


def test_a_task_without_a_read_is_missing_once_its_day_has_come():
    route, _a, point, _m = one_account("M1")
    task = task_of(route, OCT, point)
    validate(task, now=local(dt.date(2026, 10, 20)))
    assert found(task) == {}
    validate(task)
    assert found(task) == {("missing", ""): {"scheduled_on": "2026-10-25", "status": "pending"}}
    assert task.exceptions.get().read_id is None


def test_an_unreadable_meter_with_its_reason():
    route, _a, point, _m = one_account("U1")
    task = task_of(route, OCT, point)
    ReadingTask.objects.filter(pk=task.pk).update(status="unreadable", unreadable_reason="LOCKED")
    validate(task)
    assert found(task) == {("unreadable", ""): {"reason": "LOCKED"}}


def test_estimated_reads_warn_and_too_many_in_a_row_block():
    route, _a, point, _m = one_account("E1")
    tasks = month_reads(route, point, {AUG: {"total": "100.00"}, SEP: {"total": "130.00"}, OCT: {"total": "160.00"}},
                        estimated={AUG, SEP, OCT})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {
        ("estimated", "total"): {"source": "estimate", "read_on": "2026-10-25"},
        ("estimate_streak", "total"): {"periods": "3", "limit": "2"}}

    route2, _b, point2, _n = one_account("E2")
    two = month_reads(route2, point2, {AUG: {"total": "100.00"}, SEP: {"total": "130.00"}, OCT: {"total": "160.00"}},
                      estimated={SEP, OCT})
    validate(two[OCT])
    assert set(found(two[OCT])) == {("estimated", "total")}


# ---------------------------------------------------------------------------- interval


def test_an_interval_outside_the_cycle():
    route, _a, point, _m = one_account("V1")
    tasks = month_reads(route, point, {SEP: {"total": "100.00"}, OCT: {"total": "130.00"}},
                        at={OCT: local(dt.date(2026, 10, 10))})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {("interval", "total"): {
        "days": "15", "minimum": "25", "maximum": "35", "start_date": "2026-09-25", "end_date": "2026-10-10",
        "start": "read"}}


def test_a_two_monthly_route_has_twice_the_interval():
    route, _a, point, _m = one_account("V2", cycle="bimonthly", odd_months=False)
    tasks = month_reads(route, point, {AUG: {"total": "100.00"}, OCT: {"total": "160.00"}})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {}


# ---------------------------------------------------------------------------- demand, reverse energy


def test_demand_above_the_contract_capacity():
    route, _a, point, _m = one_account("D1", registers=("total", "demand"), industrial=True)
    task = task_of(route, OCT, point)
    read(task, {"total": "5000.00", "demand": "700.0000"})
    validate(task)
    assert found(task)[("demand_over", "demand")] == {
        "demand": "700", "multiplier": "1", "demand_kw": "700", "capacity": "630", "ratio": "1.05", "limit": "661.5"}
    assert task.exceptions.get(rule="demand_over").severity == "block"


def test_reverse_energy_only_where_the_account_generates(settings):
    route, _a, point, _m = one_account("B1", registers=("total", "reverse"))
    tasks = month_reads(route, point, {SEP: {"total": "100.00", "reverse": "0.00"},
                                       OCT: {"total": "130.00", "reverse": "5.00"}})
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {("reverse", "reverse"): {
        "start": "0.00", "end": "5.00", "consumption": "5.00", "usage_category": "RES_T"}}
    settings.POWERCIS_GENERATION_USAGE_CATEGORIES = ["RES_T"]
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {}


# ---------------------------------------------------------------------------- meter change


def replaced(route, point, *, removal: str, end: str):
    sep = task_of(route, SEP, point)
    read(sep, {"total": "1000.00"})
    new = metering.register_meter(make.system(), org=Org.objects.get(code="HZ010101"),
                                  asset_no=f"NEW-{point.pk}", registers=["total"])
    metering.replace_meter(make.system(), point, new, on=dt.date(2026, 10, 10), removal_reads={"total": removal},
                           install_reads={"total": "0.00"})
    octo = task_of(route, OCT, point)
    assert octo.meter_id == new.pk
    read(octo, {"total": end})
    validate(octo)
    return octo, sep.meter, new


def test_a_meter_changed_in_the_period_counts_both_meters():
    route, _a, point, _m = one_account("C1")
    task, old, new = replaced(route, point, removal="1100.00", end="50.00")
    assert found(task) == {("meter_change", "total"): {
        "old_meter": old.asset_no, "new_meter": new.asset_no, "changed_on": "2026-10-10", "start": "1000.00",
        "removal": "1100.00", "install": "0.00", "end": "50.00", "consumption": "150.00"}}
    assert task.exceptions.get().severity == "warn"


def test_a_removal_read_below_the_last_billed_reading():
    route, _a, point, _m = one_account("C2")
    task, old, new = replaced(route, point, removal="900.00", end="50.00")
    exceptions = found(task)
    assert exceptions[("removal_lower", "total")] == {
        "old_meter": old.asset_no, "start": "1000.00", "removal": "900.00", "difference": "-100.00"}
    assert exceptions[("meter_change", "total")]["consumption"] == "-50.00"
    assert set(exceptions) == {("removal_lower", "total"), ("meter_change", "total")}
    assert task.exceptions.get(rule="removal_lower").severity == "block"


def test_a_correction_supersedes_the_read_it_corrects():
    route, _a, point, _m = one_account("K1")
    tasks = month_reads(route, point, {SEP: {"total": "500.00"}, OCT: {"total": "100.00"}})
    original = RegisterRead.objects.get(task=tasks[OCT])
    validate(tasks[OCT])
    assert set(found(tasks[OCT])) == {("lower", "total")}
    factory.correction(original, total=Decimal("600.00"))
    validate(tasks[OCT])
    assert found(tasks[OCT]) == {}
