"""The SGSC import: real half-hourly data to daily frozen reads, checked against values computed from the raw file."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import gzip
from collections import defaultdict
from decimal import ROUND_DOWN, Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from powercis.core.errors import ValidationFailed
from powercis.core.models import Org
from powercis.reading.ingest import sgsc
from powercis.reading.models import ReadBatch, RegisterRead
from powercis.synthetic.profiles import default_source_dir
from tests import archive_factory as make

from . import factory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not (default_source_dir() / "sgsc_smart_meter50_2013.csv.gz").exists(),
                       reason="the raw SGSC files are not beside the repository"),
]


@pytest.fixture(autouse=True)
def _english_messages():
    """The assertions quote the English reasons; the stored messages follow the active language."""
    with translation.override("en"):
        yield


FILE = default_source_dir() / "sgsc_smart_meter50_2013.csv.gz"
PUNCTUAL, DRIFTING = 10006414, 10017546
OCTOBER = (dt.date(2013, 10, 1), dt.date(2013, 10, 31))
REGISTERS = ("total", "sharp", "peak", "flat", "valley", "reverse")


@functools.cache
def october_rows() -> dict[int, list[tuple[dt.datetime, Decimal]]]:
    """The file's rows of the two households in October 2013, read with the standard library only."""
    rows = defaultdict(list)
    with gzip.open(FILE, "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            customer = int(row["customer_id"])
            if customer not in (PUNCTUAL, DRIFTING) or not row["reading_datetime"].startswith("2013-1"):
                continue
            at = dt.datetime.strptime(row["reading_datetime"], "%Y-%m-%d %H:%M:%S")
            slot = at.replace(minute=at.minute - at.minute % 30, second=0)
            if OCTOBER[0] <= slot.date() <= OCTOBER[1]:
                rows[customer].append((at, Decimal(row["general_supply_kwh"])))
    return rows


def raw_rows(customer: int) -> list[tuple[dt.datetime, Decimal]]:
    return october_rows()[customer]


def hubei_period(slot: dt.datetime) -> str:
    """鄂发改价管〔2024〕77号, written out by hand: the test's own reading of the calendar."""
    h, summer = slot.hour, slot.month in (7, 8)
    if h < 6 or 12 <= h < 14:
        return "valley"
    if 6 <= h < 12 or 14 <= h < 16:
        return "flat"
    if (summer and 20 <= h < 22) or (not summer and 18 <= h < 20):
        return "sharp"
    return "peak"


def expected_register(rows, midnight: dt.datetime, start: Decimal, period: str | None = None) -> Decimal:
    energy = sum((kwh for at, kwh in rows if at.replace(minute=at.minute - at.minute % 30) < midnight
                  and (period is None or hubei_period(at.replace(minute=at.minute - at.minute % 30)) == period)),
                 Decimal(0))
    return start + energy.quantize(Decimal("0.01"), rounding=ROUND_DOWN)


@pytest.fixture
def remote_route():
    route = factory.route(code="R-REMOTE-1", method="remote")
    meters = []
    for i, start in enumerate(("100", "2000.5")):
        reads = {r: "0" for r in REGISTERS}
        reads["total"] = reads["valley"] = start  # the TOU registers add up to the total from the start
        _a, _p, meter = factory.metered_account(route=route.code, registers=REGISTERS, install_reads=reads,
                                                installed_on=dt.date(2012, 1, 1), order=i + 1)
        meters.append(meter)
    return route, sorted(meters, key=lambda m: m.asset_no)


def run(**options):
    defaults = {"org": Org.objects.get(code="HZ010101"), "files": [FILE], "customers": [PUNCTUAL, DRIFTING],
                "start": OCTOBER[0], "end": OCTOBER[1], "now": timezone.make_aware(dt.datetime(2026, 11, 1))}
    defaults.update(options)
    return sgsc.import_sgsc(make.system(), **defaults)


def reading(meter, register: str, day: dt.date) -> Decimal:
    at = timezone.make_aware(dt.datetime.combine(day, dt.time()))
    return getattr(RegisterRead.objects.get(meter=meter, read_at=at), register)


def test_daily_frozen_reads_equal_the_sums_of_the_raw_half_hours(remote_route):
    _route, (first_meter, second_meter) = remote_route
    done = run()
    batch = done.result.batch
    # households in id order take the meters in asset-number order
    assert done.meters == {PUNCTUAL: first_meter.asset_no, DRIFTING: second_meter.asset_no}
    assert (done.customers, done.days) == (2, 62)
    # 32 midnights (1 October to 1 November) × 6 registers × 2 households, all accepted
    assert (batch.rows_total, batch.rows_accepted, batch.rows_quarantined) == (384, 384, 0)
    assert batch.source == "ami" and batch.sender == "SGSC" and batch.status == ReadBatch.Status.DONE

    drifting = raw_rows(DRIFTING)
    punctual = raw_rows(PUNCTUAL)
    for day in (dt.date(2013, 10, 1), dt.date(2013, 10, 7), dt.date(2013, 10, 16), dt.date(2013, 11, 1)):
        midnight = dt.datetime.combine(day, dt.time())
        assert reading(second_meter, "total", day) == expected_register(drifting, midnight, Decimal("2000.5"))
        assert reading(first_meter, "total", day) == expected_register(punctual, midnight, Decimal("100"))
        for period in ("sharp", "peak", "flat", "valley"):
            start = Decimal("2000.5") if period == "valley" else Decimal(0)
            assert reading(second_meter, period, day) == expected_register(drifting, midnight, start, period)
        # truncating each register on its own: the TOU registers fall short of the total by at most 3 last digits
        tou = sum(reading(second_meter, p, day) for p in ("sharp", "peak", "flat", "valley"))
        assert Decimal(0) <= reading(second_meter, "total", day) - tou <= Decimal("0.03")
        assert reading(second_meter, "reverse", day) == 0  # no household of the 2013 file generates

    # clock drift: every row of the drifting household was moved into its half hour, none of the punctual one
    assert done.snapped == len(drifting)
    drift = batch.summary["clock_drift"]
    assert drift[str(DRIFTING)]["snapped"] == len(drifting) and drift[str(PUNCTUAL)]["snapped"] == 0
    # 6 October 2013, daylight saving time began: 02:25 and 02:55 twice, 03:25 and 03:55 never
    assert drift[str(DRIFTING)]["duplicate_slots"] == 2 and done.duplicate_slots == 2
    per_day = defaultdict(int)
    for at, _kwh in drifting:
        per_day[at.date()] += 1
    missing = sum(max(0, 48 - per_day.get(OCTOBER[0] + dt.timedelta(days=d), 0)) for d in range(31))
    assert drift[str(DRIFTING)]["missing_intervals"] == missing
    assert done.missing_intervals == missing  # the punctual household misses nothing in October
    assert batch.summary["tou_calendar"].startswith("湖北")
    assert batch.summary["flags"] == {}


def test_importing_the_same_selection_again_writes_nothing(remote_route):
    first = run(customers=[DRIFTING])
    again = run(customers=[DRIFTING])
    assert again.result.replayed is True and again.result.batch.pk == first.result.batch.pk
    assert first.result.batch.rows_accepted == 32 * 6  # 32 days of 6 registers
    assert RegisterRead.objects.count() == 32


def test_more_households_than_meters_is_refused_with_the_numbers(remote_route):
    with pytest.raises(ValidationFailed) as refused:
        run(customers=None, limit=3)
    assert "3 households but only 2 meters" in str(refused.value)
    with pytest.raises(ValidationFailed):
        run(route="NO-SUCH-ROUTE")


def test_the_command_prints_what_it_did(remote_route, capsys):
    call_command("reads", "import-sgsc", "--org", "HZ010101", "--file", str(FILE), "--customers", str(DRIFTING),
                 "--from", "2013-10-01", "--to", "2013-10-10")
    out = capsys.readouterr().out
    assert "households 1" in out and "reads written 66" in out
    first_ten = [at for at, _kwh in raw_rows(DRIFTING) if at.date() <= dt.date(2013, 10, 10)]
    assert f"clock-drift snaps {len(first_ten)}," in out  # every row of the drifting household moved
    assert f"batch {ReadBatch.objects.get().pk}" in out


def test_shifted_years_keep_the_wall_clock_and_the_drift_count(remote_route):
    """2013 moved to 2026: the same half hours on the same dates of 2026; drift counted before the move."""
    _route, (first, _second) = remote_route
    done = run(customers=[DRIFTING], shift_years=13, start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 10))
    rows = [(at, kwh) for at, kwh in raw_rows(DRIFTING) if at.date() <= dt.date(2013, 10, 10)]
    assert done.snapped == len(rows) and done.result.batch.rows_accepted == 11 * 6
    midnight = dt.datetime(2013, 10, 7)
    assert done.meters == {DRIFTING: first.asset_no}  # one household: the first meter
    assert reading(first, "total", dt.date(2026, 10, 7)) == expected_register(rows, midnight, Decimal("100"))


def test_the_tou_calendar_matches_the_tariff_data():
    table = sgsc.tou_table()
    assert table.height == 12 * 24 and table.select("month", "hour").is_duplicated().sum() == 0
    source = default_source_dir().parent / "tariffs" / "cn_tariff_tou_periods.csv"
    if not source.exists():
        pytest.skip("the tariff data is not beside the repository")
    with source.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["province"] == "湖北"]
    for row in rows:
        months = set()
        for part in row["months"].split(";"):
            a, _, b = part.partition("-")
            months |= set(range(int(a), int(b or a) + 1))
        first, last = int(row["start"][:2]), int(row["end"][:2])
        for month in months:
            for hour in range(first, last):
                assert table.filter((table["month"] == month) & (table["hour"] == hour))["period"].item() == \
                    row["period"], (month, hour)
