"""A synthetic month of reads: consistent with the load profiles, one delivery a month, every anomaly found."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import polars as pl
import pytest
from django.utils import timezone

from powercis.metering.models import MeterInstallation
from powercis.reading.engine.validate import run_validation
from powercis.reading.models import ReadBatch, ReadException, ReadingPlan, ReadingRoute, ReadingTask, RegisterRead
from powercis.synthetic.readings import ANOMALIES, EXPECTED, generate_month

pytestmark = pytest.mark.django_db
NOW = timezone.make_aware(dt.datetime(2026, 11, 27, 12))
AUG, SEP, OCT = dt.date(2026, 8, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 1)


@pytest.fixture
def three_months(generated, demo_company):
    """300 accounts; August and September clean, October with anomalies (10 %), each month validated."""
    generated()
    company = demo_company.pk
    mix = {"handheld": 0.6, "remote": 0.4}
    reports = {}
    for period, rate in ((AUG, 0), (SEP, 0), (OCT, 0.1)):
        reports[period] = generate_month(company_id=company, period=period, seed=5, anomaly_rate=rate,
                                         method_mix=mix, rollover_share=0.02, now=NOW)
        plans = list(ReadingPlan.objects.filter(company=company, period=period).values_list("pk", flat=True))
        reports[(period, "validation")] = run_validation(plan_ids=plans, now=NOW)
    return reports


def exceptions_of(period) -> pl.DataFrame:
    return pl.DataFrame(list(ReadException.objects.filter(plan__period=period).values("task_id", "rule")),
                        schema={"task_id": pl.Int64, "rule": pl.Utf8})


def test_every_injected_anomaly_is_found_by_its_check(three_months):
    october = three_months[OCT]
    labels = october.labels
    assert set(labels["anomaly"]) >= set(ANOMALIES) | {"rollover"}
    assert all(october.anomalies[a] >= 1 for a in ANOMALIES)
    assert all(EXPECTED[a] == e for a, e in labels.select("anomaly", "expected").iter_rows())
    assert Counter(labels["anomaly"]) == {a: n for a, n in october.anomalies.items() if n}
    found = labels.join(exceptions_of(OCT).rename({"rule": "expected"}), on=["task_id", "expected"], how="semi")
    missed = labels.join(found.select("task_id"), on="task_id", how="anti")
    assert missed.height == 0, missed
    # what is flagged without an injected anomaly: month-to-month changes of the real load shapes, nothing else
    unlabelled = exceptions_of(OCT).join(labels.select("task_id"), on="task_id", how="anti")
    assert set(unlabelled["rule"]) <= {"spike", "drop", "implausible"}
    assert unlabelled.height < 0.15 * three_months[(OCT, "validation")].tasks_checked


def test_clean_months_raise_nothing_but_the_genuine_events(three_months):
    september = three_months[SEP]
    labels = set(september.labels["anomaly"])
    assert labels <= {"rollover", "first_read"}
    rules = set(exceptions_of(SEP)["rule"])
    assert rules <= {"rollover", "interval", "spike", "drop", "implausible"}
    assert not set(exceptions_of(SEP).filter(pl.col("rule").is_in(["lower", "tou_sum", "missing", "zero"]))["rule"])


def test_reads_follow_the_route_method_and_add_up(three_months, demo_company):
    routes = dict(ReadingRoute.objects.filter(company=demo_company).values_list("code", "method"))
    assert set(routes.values()) == {"handheld", "remote"}
    assert all(method == "remote" for code, method in routes.items() if "-Z" in code)
    september = ReadingPlan.objects.filter(period=SEP)
    field_tasks = ReadingTask.objects.filter(plan__in=september, plan__route__method="handheld")
    assert field_tasks.exists() and not field_tasks.exclude(status="read").exists()
    assert not RegisterRead.objects.filter(task__in=field_tasks).exclude(source="handheld").exists()
    remote_reads = RegisterRead.objects.filter(source="ami", read_at__date__gte=dt.date(2026, 9, 1),
                                               read_at__date__lte=dt.date(2026, 9, 30))
    assert remote_reads.exists() and not remote_reads.filter(task__isnull=False).exists()
    # a genuine meter's total is the sum of its TOU registers (to the cent, modulo its range) in a clean month
    digits = dict(RegisterRead.objects.values_list("meter_id", "meter__digits").distinct())
    checked = 0
    for meter, total, *tou in RegisterRead.objects.filter(
            read_at__date__gte=dt.date(2026, 8, 31), read_at__date__lte=dt.date(2026, 9, 30)).values_list(
            "meter_id", "total", "sharp", "peak", "flat", "valley"):
        tou = [v for v in tou if v is not None]
        if len(tou) >= 2:
            assert (total - sum(tou)) % Decimal(10) ** digits[meter] == 0
            checked += 1
    assert checked > 100
    # one read per meter and instant, with the registers the meter has; the report counts register values
    september = RegisterRead.objects.filter(batch__delivery_key__startswith="synthetic-2026-09")
    registers = dict(september.values_list("meter_id", "meter__registers"))
    rows = list(september.values_list("meter_id", "read_at", "total", "sharp", "peak", "flat", "valley",
                                      "reactive", "demand", "reverse"))
    assert len({(meter, at) for meter, at, *_r in rows}) == len(rows) == three_months[SEP].rows_written
    names = ("total", "sharp", "peak", "flat", "valley", "reactive", "demand", "reverse")
    values = 0
    for meter, _at, *regs in rows:
        carried = {r for r, v in zip(names, regs, strict=True) if v is not None}
        assert carried == set(registers[meter])
        values += len(carried)
    assert values == three_months[SEP].reads_written > len(rows)
    delivered = ReadBatch.objects.filter(delivery_key__startswith="synthetic-2026-09")
    assert sum(delivered.values_list("rows_accepted", flat=True)) == values
    assert three_months[(SEP, "validation")].tasks_checked == three_months[SEP].tasks


def test_a_month_is_written_once(three_months, demo_company):
    reads = RegisterRead.objects.count()
    again = generate_month(company_id=demo_company.pk, period=OCT, seed=9, now=NOW)
    assert not again.created and RegisterRead.objects.count() == reads
    keys = set(ReadBatch.objects.filter(company=demo_company).values_list("delivery_key", flat=True))
    assert {"synthetic-2026-08", "synthetic-2026-09", "synthetic-2026-10"} <= keys


def test_meter_changes_are_recorded_in_the_archive(three_months):
    october = three_months[OCT]
    changed = october.labels.filter(pl.col("anomaly").is_in(["meter_change", "removal_lower"]))
    assert changed.height == october.meters_changed
    for point in changed["metering_point_id"].to_list():
        installs = list(MeterInstallation.objects.filter(metering_point_id=point).order_by("installed_on"))
        assert len(installs) == 2
        old, new = installs
        assert old.removed_on == new.installed_on and old.removal_reads and new.install_reads["total"] == "0.00"
        task = ReadingTask.objects.get(plan__period=OCT, metering_point_id=point)
        assert task.meter_id == new.meter_id
