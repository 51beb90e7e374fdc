"""Estimated reads (reading.engine.estimate): the documented method, number by number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from powercis.reading.engine.estimate import estimate_reads

from . import factory
from .test_plans import month_reads, task_of

pytestmark = pytest.mark.django_db
JUN, JUL, AUG, SEP, OCT = (dt.date(2026, m, 1) for m in (6, 7, 8, 9, 10))
TOU = ("total", "peak", "flat", "valley")


def D(text: str) -> Decimal:
    return Decimal(text)


def reading(total, peak, flat, valley) -> dict:
    return {"total": total, "peak": peak, "flat": flat, "valley": valley}


def test_average_of_the_last_three_actual_periods_with_tou_in_proportion():
    route = factory.route(code="EST-1")
    _a, point, _m = factory.metered_account(route="EST-1", registers=TOU)
    month_reads(route, point, {
        JUN: reading("100.00", "30.00", "40.00", "30.00"),
        JUL: reading("133.00", "40.00", "53.00", "40.00"),      # +33.00 in 30 days
        AUG: reading("168.00", "51.00", "67.00", "50.00"),      # +35.00 in 31 days
        SEP: reading("201.50", "61.05", "80.40", "60.05"),      # +33.50 in 31 days
    })
    task = task_of(route, OCT, point)
    estimate = estimate_reads([task.pk])[task.pk]
    # 101.50 kWh over 92 days = 1.1033 a day; × 30 days (Sep 25 → Oct 25) = 33.0978 → 33.10 (half-up)
    assert (estimate.basis, estimate.periods, estimate.days, estimate.per_day) == ("history", 3, 30, D("1.1033"))
    assert estimate.start_on == dt.date(2026, 9, 25)
    # TOU: 31.05, 40.40 and 30.05 over 92 days × 30 = 10.1250, 13.1739, 9.7989; scaled to 33.10 and rounded
    assert estimate.consumption == {"total": D("33.10"), "peak": D("10.13"), "flat": D("13.17"), "valley": D("9.80")}
    assert estimate.readings == {"total": D("234.60"), "peak": D("71.18"), "flat": D("93.57"), "valley": D("69.85")}
    assert sum(estimate.readings[r] for r in ("peak", "flat", "valley")) == estimate.readings["total"]
    assert "1.1033" in estimate.method and "33.10" in estimate.method and "30" in estimate.method


def test_the_rounding_remainder_goes_on_the_flat_register():
    route = factory.route(code="EST-2")
    _a, point, _m = factory.metered_account(route="EST-2", registers=TOU, installed_on=dt.date(2026, 9, 5))
    month_reads(route, point, {SEP: reading("6.02", "2.01", "2.00", "2.01")})  # 20 days since installation
    task = task_of(route, OCT, point)
    estimate = estimate_reads([task.pk])[task.pk]
    # 6.02 / 20 days × 30 days = 9.03; TOU 3.015 / 3.000 / 3.015 → 3.02 + 3.00 + 3.02 = 9.04: −0.01 on flat
    assert estimate.consumption == {"total": D("9.03"), "peak": D("3.02"), "flat": D("2.99"), "valley": D("3.02")}
    assert estimate.readings == {"total": D("15.05"), "peak": D("5.03"), "flat": D("4.99"), "valley": D("5.03")}
    assert (estimate.basis, estimate.periods) == ("history", 1)


def test_estimated_periods_are_not_averaged_and_last_year_is_the_fallback():
    route = factory.route(code="EST-3")
    _a, point, _m = factory.metered_account(route="EST-3", registers=("total",), installed_on=dt.date(2025, 1, 5))
    month_reads(route, point, {
        dt.date(2025, 9, 1): {"total": "1000.00"},
        dt.date(2025, 10, 1): {"total": "1062.00"},     # 62.00 in 30 days last year
        AUG: {"total": "1800.00"},
        SEP: {"total": "1850.00"},                      # estimated itself: not an actual period
    }, estimated={SEP})
    task = task_of(route, OCT, point)
    estimate = estimate_reads([task.pk])[task.pk]
    assert (estimate.basis, estimate.per_day, estimate.days) == ("last_year", D("2.0667"), 30)
    assert estimate.readings == {"total": D("1912.00")}
    assert "2.0667" in estimate.method


def test_without_history_the_estimate_is_zero_consumption_from_the_installation():
    route = factory.route(code="EST-4")
    _a, point, _m = factory.metered_account(route="EST-4", registers=("total", "demand"),
                                            install_reads={"total": "12.30", "demand": "0"})
    task = task_of(route, OCT, point)
    estimate = estimate_reads([task.pk])[task.pk]
    assert (estimate.basis, estimate.days, estimate.start_on) == ("zero", 293, dt.date(2026, 1, 5))
    assert estimate.readings == {"total": D("12.30"), "demand": D("0")}
    assert estimate.consumption == {"total": D("0.00")}


def test_demand_keeps_the_last_reading_and_a_rollover_wraps():
    route = factory.route(code="EST-5")
    _a, point, _m = factory.metered_account(route="EST-5", registers=("total", "demand"))
    month_reads(route, point, {AUG: {"total": "999900.00", "demand": "12.3456"},
                               SEP: {"total": "999962.00", "demand": "13.0000"}})  # 62.00 in 31 days
    task = task_of(route, OCT, point)
    estimate = estimate_reads([task.pk])[task.pk]
    # 2 a day × 30 days = 60.00: 999962.00 + 60.00 rolls over at 1,000,000 to 22.00
    assert estimate.readings == {"total": D("22.00"), "demand": D("13.0000")}
    assert estimate_reads([]) == {}
