"""The ingest engine: quarantine reasons by row, idempotent deliveries, duplicates and conflicts, arrival flags,
the concurrent-delivery fallback, permissions and the audit record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from django.utils import timezone, translation

from powercis.core.errors import NotAuthorized, ValidationFailed
from powercis.core.models import AuditRecord, Org
from powercis.metering import services as metering
from powercis.reading.ingest import engine, ingest_file, ingest_frame, ingest_rows
from powercis.reading.models import QuarantinedRead, ReadBatch, RegisterRead
from tests import archive_factory as make

from . import factory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_messages():
    """The assertions quote the English reasons; the stored messages follow the active language."""
    with translation.override("en"):
        yield


NOW = timezone.make_aware(dt.datetime(2026, 2, 1, 12, 0))
INSTALLED = dt.date(2026, 1, 5)


def csv(*rows: str, header: str = "meter,register,read_at,value") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def station() -> Org:
    return Org.objects.get(code="HZ010101")


def deliver(content: bytes, *, actor=None, org=None, source="ami", **options):
    return ingest_file(actor or make.system(), org=org or station(), source=source, path_or_bytes=content,
                       file_name=options.pop("file_name", "reads.csv"), now=options.pop("now", NOW), **options)


def quarantined(batch) -> list[tuple[int, str, str]]:
    return list(QuarantinedRead.objects.filter(batch=batch).order_by("row_no", "id")
                .values_list("row_no", "reason_code", "reason"))


def stored(meter, register="total") -> list[tuple[str, Decimal, str]]:
    """(local time, the register's value, the read's flags) of the meter's valid reads having the register."""
    reads = RegisterRead.objects.filter(meter=meter, status="valid", **{f"{register}__isnull": False})
    return [(timezone.localtime(r.read_at).strftime("%Y-%m-%d %H:%M"), getattr(r, register), r.flags)
            for r in reads.order_by("read_at")]


@pytest.fixture
def meters():
    """Three meters at 城关供电所 (one of them with TOU registers) and one at 河口供电所."""
    _a, _p, plain = factory.metered_account(registers=("total",), installed_on=INSTALLED)
    _a, _p, tou = factory.metered_account(registers=("total", "peak", "flat", "valley"), installed_on=INSTALLED)
    _a, _p, other = factory.metered_account(registers=("total",), installed_on=INSTALLED)
    _a, _p, elsewhere = factory.metered_account("HZ010102", registers=("total",), installed_on=INSTALLED)
    return plain, tou, other, elsewhere


def test_every_quarantine_reason_is_kept_with_its_row_number_and_message(meters):
    plain, tou, other, elsewhere = meters
    metering.update_meter(make.system(), other, comm_address="000000000777")
    metering.update_meter(make.system(), plain, comm_address="000000000888")
    metering.update_meter(make.system(), elsewhere, comm_address="000000000888")
    metering.update_meter(make.system(), tou, comm_address="000000000999")
    p, t = plain.asset_no, tou.asset_no
    content = csv(
        f"{p},total,2026-01-20,120.50",             # 1 accepted
        "NO-SUCH-METER,total,2026-01-20,5",          # 2 unknown meter
        ",total,2026-01-20,5",                       # 3 no meter at all
        f"{p},total,2026-13-01,5",                   # 4 not a date
        f"{p},total,2026-02-03 00:00,5",             # 5 later than now + 24 h
        f"{p},total,2026-01-04,5",                   # 6 before the installation
        f"{p},bogus,2026-01-20,5",                   # 7 not a register
        f"{p},peak,2026-01-20,5",                    # 8 not this meter's register
        f"{p},total,2026-01-21,abc",                 # 9 not a number
        f"{p},total,2026-01-22,-1",                  # 10 negative
        f"{p},total,2026-01-23,1.23456",             # 11 five decimals
        f"{p},total,2026-01-24,1000000",             # 12 beyond 6 integer digits
        f"{t},total,2026-01-20,10",                  # 13 conflict with 14
        f"{t},total,2026-01-20,11",                  # 14
        f"{t},peak,2026-01-20,3",                    # 15 accepted
        f"{t},peak,2026-01-20,3.000",                # 16 the same reading again: a duplicate
        f"{elsewhere.asset_no},total,2026-01-20,7",  # 17 installed at 河口供电所
        "000000000888,total,2026-01-20,7",           # 18 address of two meters
        "000000000777,total,2026-01-20,7.5",         # 19 accepted by communication address
        f"{p},total,,5",                             # 20 no time
        f"{p},total,2026-01-25,",                    # 21 no value
    )
    with translation.override("en"):  # reasons are stored in the language of the delivery
        result = deliver(content)
    batch = result.batch
    assert (batch.rows_total, batch.rows_accepted, batch.rows_duplicate, batch.rows_quarantined) == (21, 3, 1, 17)
    assert batch.status == ReadBatch.Status.DONE and result.replayed is False
    assert quarantined(batch) == [
        (2, "unknown_meter", "No meter “NO-SUCH-METER” in the company."),
        (3, "unknown_meter", "The meter is missing."),
        (4, "bad_time", "“2026-13-01” is not a date and time."),
        (5, "future", "The reading is dated 2026-02-03 00:00, after now."),
        (6, "not_installed", f"Meter {p} was not installed on 2026-01-04."),
        (7, "unknown_register",
         "“bogus” is not a register (total, sharp, peak, flat, valley, reactive, demand, reverse)."),
        (8, "unknown_register", f"Meter {p} has no peak register."),
        (9, "bad_value", "“abc” is not a number."),
        (10, "bad_value", "The reading -1 is negative."),
        (11, "bad_value", "The reading 1.23456 has more than 4 decimal places."),
        (12, "bad_value", "The reading 1000000 does not fit the meter's 6 integer digits."),
        (13, "conflict", "The delivery has this reading 2 times with different values."),
        (14, "conflict", "The delivery has this reading 2 times with different values."),
        (17, "out_of_scope", f"Meter {elsewhere.asset_no} is installed outside 城关供电所."),
        (18, "ambiguous_meter",
         "Several meters have the communication address 000000000888; send the asset number."),
        (20, "bad_time", "“” is not a date and time."),
        (21, "bad_value", "The reading is empty."),
    ]
    row = QuarantinedRead.objects.get(batch=batch, row_no=9)
    assert (row.meter_ref, row.register, row.read_at_text, row.value_text) == (p, "total", "2026-01-21", "abc")
    assert stored(plain) == [("2026-01-20 00:00", Decimal("120.5000"), "")]
    assert stored(other) == [("2026-01-20 00:00", Decimal("7.5000"), "")]
    assert stored(tou, "peak") == [("2026-01-20 00:00", Decimal("3.0000"), "")]
    read = RegisterRead.objects.get(meter=plain)
    assert (read.source, read.revision, read.status, read.batch_id, read.estimated) == ("ami", 0, "valid", batch.pk,
                                                                                         False)
    assert read.metering_point_id == plain.installations.get().metering_point_id
    assert read.recorded_at == NOW
    assert batch.summary["quarantined"] == {"ambiguous_meter": 1, "bad_time": 2, "bad_value": 5, "conflict": 2,
                                            "future": 1, "not_installed": 1, "out_of_scope": 1,
                                            "unknown_meter": 2, "unknown_register": 2}
    assert batch.summary["unknown_meters"] == 1
    assert batch.summary["duplicates"] == {"in_delivery": 1, "stored": 0}
    assert (batch.summary["meters"], batch.summary["first_day"], batch.summary["last_day"]) == (3, "2026-01-20",
                                                                                                 "2026-01-20")


def test_the_same_file_twice_writes_nothing_the_second_time(meters):
    plain, _tou, _other, _e = meters
    content = csv(f"{plain.asset_no},total,2026-01-20,10", f"{plain.asset_no},total,2026-01-21,11.5")
    first = deliver(content)
    second = deliver(content)
    assert (first.batch.rows_accepted, second.batch.rows_accepted, second.batch.rows_duplicate) == (2, 0, 2)
    assert second.batch.summary["same_content_as"] == first.batch.pk
    assert second.batch.summary["duplicates"] == {"in_delivery": 0, "stored": 2}
    assert RegisterRead.objects.filter(meter=plain).count() == 2
    # a different source is a different reading: a sheet import of the same values is stored beside them
    assert deliver(content, source="import").batch.rows_accepted == 2


def test_a_delivery_key_is_answered_from_the_first_delivery(meters):
    plain, *_ = meters
    first = deliver(csv(f"{plain.asset_no},total,2026-01-20,10"), delivery_key="HES-1/2026-01-20")
    again = deliver(csv(f"{plain.asset_no},total,2026-01-20,99"), delivery_key="HES-1/2026-01-20")
    assert again.replayed is True and again.batch.pk == first.batch.pk
    assert ReadBatch.objects.count() == 1 and stored(plain) == [("2026-01-20 00:00", Decimal("10.0000"), "")]
    # the same key of another source is another delivery
    assert deliver(csv(f"{plain.asset_no},total,2026-01-20,10"), delivery_key="HES-1/2026-01-20",
                   source="import").replayed is False


def test_a_different_value_under_a_stored_key_is_quarantined_not_dropped(meters):
    plain, *_ = meters
    deliver(csv(f"{plain.asset_no},total,2026-01-20,10"))
    result = deliver(csv(f"{plain.asset_no},total,2026-01-20,10.5", f"{plain.asset_no},total,2026-01-21,11"))
    assert (result.batch.rows_accepted, result.batch.rows_duplicate, result.batch.rows_quarantined) == (1, 0, 1)
    assert quarantined(result.batch) == [(1, "conflict_stored", "A different reading was received before: 10.0000.")]
    assert stored(plain) == [("2026-01-20 00:00", Decimal("10.0000"), ""), ("2026-01-21 00:00", Decimal("11.0000"), "")]


def test_the_registers_of_one_instant_are_one_read():
    _a, _p, meter = factory.metered_account(registers=("total", "peak", "valley", "demand"), installed_on=INSTALLED)
    a = meter.asset_no
    batch = deliver(csv(f"{a},total,2026-01-20,30.5", f"{a},peak,2026-01-20,12", f"{a},valley,2026-01-20,18.5",
                        f"{a},demand,2026-01-20,0.4321", f"{a},total,2026-01-21,31")).batch
    assert batch.rows_accepted == 5
    reads = list(RegisterRead.objects.filter(meter=meter).order_by("read_at"))
    assert [r.registers() for r in reads] == [
        {"total": Decimal("30.5000"), "peak": Decimal("12.0000"), "valley": Decimal("18.5000"),
         "demand": Decimal("0.4321")},
        {"total": Decimal("31.0000")}]
    assert reads[0].sharp is None and reads[0].flat is None


def test_a_register_the_stored_read_lacks_is_a_supplement_written_as_its_next_revision():
    """补采: the head-end sends the day again with the register it failed to collect the first time."""
    _a, _p, meter = factory.metered_account(registers=("total", "peak", "valley", "demand"), installed_on=INSTALLED)
    a = meter.asset_no
    first = deliver(csv(f"{a},total,2026-01-20,30.5", f"{a},peak,2026-01-20,12")).batch
    again = deliver(csv(f"{a},total,2026-01-20,30.5", f"{a},peak,2026-01-20,12", f"{a},valley,2026-01-20,18.5",
                        f"{a},demand,2026-01-20,0.4")).batch
    assert (again.rows_accepted, again.rows_duplicate, again.rows_quarantined) == (2, 2, 0)
    original, supplement = RegisterRead.objects.filter(meter=meter).order_by("revision")
    assert (original.status, original.batch_id, original.registers()) == (
        "superseded", first.pk, {"total": Decimal("30.5000"), "peak": Decimal("12.0000")})
    assert (supplement.status, supplement.revision, supplement.corrects_id, supplement.batch_id, supplement.source) == (
        "valid", 1, original.pk, again.pk, "ami")
    assert supplement.registers() == {"total": Decimal("30.5000"), "peak": Decimal("12.0000"),
                                      "valley": Decimal("18.5000"), "demand": Decimal("0.4000")}
    # the whole day once more: nothing new
    third = deliver(csv(f"{a},valley,2026-01-20,18.5", f"{a},demand,2026-01-20,0.4", f"{a},total,2026-01-20,30.5"))
    assert (third.batch.rows_accepted, third.batch.rows_duplicate) == (0, 3)
    assert RegisterRead.objects.filter(meter=meter).count() == 2


def test_a_register_for_a_read_corrected_since_is_held_back():
    _a, _p, meter = factory.metered_account(registers=("total", "peak"), installed_on=INSTALLED)
    deliver(csv(f"{meter.asset_no},total,2026-01-20,30.5"))
    RegisterRead.objects.filter(meter=meter).update(status="superseded")  # as a correction leaves it
    result = deliver(csv(f"{meter.asset_no},peak,2026-01-20,12", f"{meter.asset_no},total,2026-01-20,30.5"))
    assert (result.batch.rows_accepted, result.batch.rows_duplicate, result.batch.rows_quarantined) == (0, 1, 1)
    assert quarantined(result.batch) == [(1, "corrected_stored", "The reading of this meter at this time has been "
                                          "corrected since it was received; enter the register as a correction.")]
    assert RegisterRead.objects.filter(meter=meter).count() == 1


def test_arrival_flags_tell_lower_from_rollover_from_implausible():
    """Residential meters (no capacity: 200 kWh a day at most), 6 integer digits: rollover at 1,000,000."""
    make_meter = factory.metered_account
    _a, _p, lower = make_meter(registers=("total",), install_reads={"total": "500"}, installed_on=INSTALLED)
    _a, _p, wraps = make_meter(registers=("total",), install_reads={"total": "999990"}, installed_on=INSTALLED)
    _a, _p, flies = make_meter(registers=("total",), install_reads={"total": "999990"}, installed_on=INSTALLED)
    _a, _p, jumps = make_meter(registers=("total",), installed_on=INSTALLED)
    content = csv(
        f"{lower.asset_no},total,2026-01-06,400",       # below the install read, far from the top: lower
        f"{lower.asset_no},total,2026-01-07,420",       # up again from 400: fine
        f"{wraps.asset_no},total,2026-01-06,5",         # 999990 → 5 in a day: 15 kWh through the rollover
        f"{flies.asset_no},total,2026-01-06,500",       # 999990 → 500: 510 kWh in a day through the rollover
        f"{jumps.asset_no},total,2026-01-06,150",       # 150 kWh in the first day: fine
        f"{jumps.asset_no},total,2026-01-07,1150",      # then 1000 kWh in a day: implausible
        f"{jumps.asset_no},total,2026-01-17,2150",      # 1000 kWh in 10 days: fine
    )
    batch = deliver(content).batch
    assert stored(lower) == [("2026-01-06 00:00", Decimal("400.0000"), "lower:total"),
                             ("2026-01-07 00:00", Decimal("420.0000"), "")]
    assert stored(wraps) == [("2026-01-06 00:00", Decimal("5.0000"), "rollover:total")]
    assert stored(flies) == [("2026-01-06 00:00", Decimal("500.0000"), "implausible:total")]
    assert [r[2] for r in stored(jumps)] == ["", "implausible:total", ""]
    assert batch.rows_flagged == 4 and batch.rows_accepted == 7
    assert batch.summary["flags"] == {"implausible": 2, "lower": 1, "rollover": 1}
    # the previous read can come from the database: a later delivery is compared with what was stored
    later = deliver(csv(f"{lower.asset_no},total,2026-01-08,410")).batch
    assert later.summary["flags"] == {"lower": 1}


def test_stored_reads_are_found_whether_the_previous_read_is_yesterdays_or_weeks_old():
    """The stored reads of a delivery's meters: those under its times (duplicates) and each meter's latest before.

    On PostgreSQL a delivery spanning a few days has them from one scan of the last few
    days' reads; a meter read weeks ago has none there and is looked up through the index.
    """
    make_meter = factory.metered_account
    _a, _p, daily = make_meter(registers=("total",), installed_on=INSTALLED)
    _a, _p, weeks = make_meter(registers=("total",), installed_on=INSTALLED)
    _a, _p, rising = make_meter(registers=("total",), installed_on=INSTALLED)
    deliver(csv(f"{daily.asset_no},total,2026-01-20,100", f"{daily.asset_no},total,2026-01-21,110",
                f"{weeks.asset_no},total,2026-01-06,300", f"{rising.asset_no},total,2026-01-06,300"))
    batch = deliver(csv(
        f"{daily.asset_no},total,2026-01-21,110",   # stored already: a duplicate
        f"{daily.asset_no},total,2026-01-22,105",   # below yesterday's 110 (not the 100 of the day before)
        f"{weeks.asset_no},total,2026-01-22,250",   # below the 300 of 16 days before
        f"{rising.asset_no},total,2026-01-22,400",  # 100 kWh in 16 days: fine
    )).batch
    assert (batch.rows_accepted, batch.rows_duplicate, batch.summary["flags"]) == (3, 1, {"lower": 2})
    assert stored(daily)[-1] == ("2026-01-22 00:00", Decimal("105.0000"), "lower:total")
    assert stored(weeks)[-1] == ("2026-01-22 00:00", Decimal("250.0000"), "lower:total")
    assert stored(rising)[-1] == ("2026-01-22 00:00", Decimal("400.0000"), "")
    # a delivery spanning more than a month (late reads sent again) is looked up meter by meter
    late = deliver(csv(f"{daily.asset_no},total,2026-01-23,106", f"{rising.asset_no},total,2026-03-01,350"),
                   now=timezone.make_aware(dt.datetime(2026, 3, 2, 12, 0))).batch
    assert (late.rows_accepted, late.summary["flags"]) == (2, {"lower": 1})
    assert stored(rising)[-1] == ("2026-03-01 00:00", Decimal("350.0000"), "lower:total")


def test_the_plausibility_cap_follows_capacity_and_multiplier(settings):
    """630 kVA × 24 h = 15,120 kWh a day; a register behind a 3000 multiplier may move 5.04 a day."""
    _a, point, meter = factory.metered_account(industrial=True, registers=("total",), installed_on=INSTALLED)
    for kind, (primary, secondary) in (("CT", ("150", "5")), ("PT", ("10000", "100"))):
        it = metering.register_transformer(make.system(), org=station(), asset_no=f"{kind}{meter.pk}", kind=kind,
                                           primary_rating=primary, secondary_rating=secondary)
        metering.install_transformer(make.system(), point, it, on=INSTALLED, phase="A")
    batch = deliver(csv(f"{meter.asset_no},total,2026-01-06,5.00", f"{meter.asset_no},total,2026-01-07,10.10")).batch
    assert [r[2] for r in stored(meter)] == ["", "implausible:total"]
    assert batch.summary["flags"] == {"implausible": 1}


def test_arrival_caps_follow_the_profile_of_the_meters_org_and_usage_category():
    """A station's household profile allows 500 kWh a day; a delivery to the whole company applies it to the
    station's households only (another category without capacity keeps the default 200)."""
    from powercis.reading.models import ValidationProfile

    ValidationProfile.objects.create(org=station(), usage_category="RES", valid_from=dt.date(2026, 1, 1),
                                     values={"residential_daily_cap_kwh": "500"})
    _a, _p, household = factory.metered_account(registers=("total",), installed_on=INSTALLED, usage_category="RES_T")
    _a, _p, shop = factory.metered_account(registers=("total",), installed_on=INSTALLED, usage_category="CI_1")
    batch = deliver(csv(f"{household.asset_no},total,2026-01-06,300", f"{shop.asset_no},total,2026-01-06,300"),
                    org=Org.objects.get(code="HZ")).batch
    assert stored(household) == [("2026-01-06 00:00", Decimal("300.0000"), "")]
    assert stored(shop) == [("2026-01-06 00:00", Decimal("300.0000"), "implausible:total")]
    assert batch.summary["flags"] == {"implausible": 1}


def test_tou_sum_uses_the_register_tolerance_of_jjg_596():
    """(n − 1) × 1 last digit: four TOU registers of a 2-decimal meter may differ from the total by 0.03."""
    _a, _p, meter = factory.metered_account(registers=("total", "sharp", "peak", "flat", "valley"),
                                            installed_on=INSTALLED)
    a = meter.asset_no
    content = csv(
        f"{a},total,2026-01-20,29.34", f"{a},sharp,2026-01-20,7.66", f"{a},peak,2026-01-20,6.15",
        f"{a},flat,2026-01-20,4.80", f"{a},valley,2026-01-20,10.71",    # Σ 29.32: 0.02 off, within 0.03
        f"{a},total,2026-01-21,39.37", f"{a},sharp,2026-01-21,9.66", f"{a},peak,2026-01-21,8.15",
        f"{a},flat,2026-01-21,6.80", f"{a},valley,2026-01-21,14.71",    # Σ 39.32: 0.05 off
        f"{a},total,2026-01-22,49.99", f"{a},peak,2026-01-22,10.00",    # not every TOU register: not compared
    )
    batch = deliver(content).batch
    assert stored(meter) == [("2026-01-20 00:00", Decimal("29.3400"), ""),
                             ("2026-01-21 00:00", Decimal("39.3700"), "tou_sum"),
                             ("2026-01-22 00:00", Decimal("49.9900"), "")]
    # one read per meter and instant: the registers of the 21st share the read and its flag
    assert [r[:2] for r in stored(meter, "valley")] == [("2026-01-20 00:00", Decimal("10.7100")),
                                                        ("2026-01-21 00:00", Decimal("14.7100"))]
    assert RegisterRead.objects.filter(meter=meter).count() == 3
    assert batch.summary["flags"] == {"tou_sum": 1} and batch.rows_flagged == 1 and batch.rows_accepted == 12


def test_reverse_energy_is_flagged_unless_the_account_generates(settings):
    _a, _p, meter = factory.metered_account(registers=("total", "reverse"), installed_on=INSTALLED)
    rows = csv(f"{meter.asset_no},reverse,2026-01-20,0", f"{meter.asset_no},reverse,2026-01-21,3.5")
    assert stored(meter, "reverse") == [] and deliver(rows).batch.summary["flags"] == {"reverse": 1}
    assert [r[2] for r in stored(meter, "reverse")] == ["", "reverse"]
    settings.POWERCIS_GENERATION_USAGE_CATEGORIES = ["RES_T"]
    _a, _p, solar = factory.metered_account(registers=("total", "reverse"), installed_on=INSTALLED)
    rows = csv(f"{solar.asset_no},reverse,2026-01-20,0", f"{solar.asset_no},reverse,2026-01-21,3.5")
    assert deliver(rows).batch.summary["flags"] == {}


def test_a_concurrent_delivery_of_the_same_reads_is_caught_by_the_fallback(meters):
    """The look-up of stored keys is skipped, as if another delivery wrote them after it: the fast write meets
    the unique key, rolls back to its savepoint and goes through the staging table instead."""
    plain, _tou, other, _e = meters
    deliver(csv(f"{plain.asset_no},total,2026-01-20,10", f"{other.asset_no},total,2026-01-20,20"))
    frame = pl.DataFrame({"meter": [plain.asset_no, other.asset_no, plain.asset_no],
                          "register": ["total"] * 3, "read_at": ["2026-01-20", "2026-01-20", "2026-01-21"],
                          "value": ["10", "21", "12"]})
    result = ingest_frame(make.system(), org=station(), source="ami", frame=frame, now=NOW, precheck_stored=False)
    batch = result.batch
    assert (batch.rows_accepted, batch.rows_duplicate, batch.rows_quarantined) == (1, 1, 1)
    assert batch.summary["written_concurrently"] == 2
    assert quarantined(batch) == [(2, "conflict_stored", "A different reading was received before: 20.0000.")]
    assert stored(plain) == [("2026-01-20 00:00", Decimal("10.0000"), ""), ("2026-01-21 00:00", Decimal("12.0000"), "")]
    assert RegisterRead.objects.filter(batch=batch).count() == 1


def test_permissions_follow_the_source(meters, actor):
    plain, *_ = meters
    content = csv(f"{plain.asset_no},total,2026-01-20,10")
    with pytest.raises(NotAuthorized):
        deliver(content, actor=actor("reader"), source="ami")  # a reader enters reads, does not run collection
    with pytest.raises(NotAuthorized):
        deliver(content, actor=actor("reader"), org=Org.objects.get(code="HZ010102"), source="import")
    assert deliver(content, actor=actor("reader"), source="import").batch.rows_accepted == 1
    result = deliver(content, actor=actor("metering"), org=Org.objects.get(code="HZ0101"))
    assert result.batch.rows_accepted == 1 and result.batch.received_by.username == "metering"
    with pytest.raises(ValidationFailed):
        deliver(content, source="estimate")
    read = RegisterRead.objects.get(source="import")
    assert read.entered_by.username == "reader"
    assert RegisterRead.objects.get(source="ami").entered_by is None


def test_one_audit_record_per_delivery(meters):
    plain, *_ = meters
    before = AuditRecord.objects.filter(action="reads.ingest").count()
    result = deliver(csv(f"{plain.asset_no},total,2026-01-20,10", "NOPE,total,2026-01-20,1"), delivery_key="K-1")
    records = AuditRecord.objects.filter(action="reads.ingest")
    assert records.count() == before + 1
    record = records.latest("seq")
    assert record.object_id == str(result.batch.pk) and record.ref == "K-1"
    assert (record.changes["rows_accepted"], record.changes["rows_quarantined"]) == (1, 1)
    deliver(csv(f"{plain.asset_no},total,2026-01-20,10"), delivery_key="K-1")  # replayed: not audited again
    assert AuditRecord.objects.filter(action="reads.ingest").count() == before + 1


def test_a_delivery_with_no_acceptable_row_is_rejected_but_kept(meters):
    result = deliver(csv("NOPE,total,2026-01-20,1", "NOPE,total,2026-01-21,2"))
    assert result.batch.status == ReadBatch.Status.REJECTED and result.batch.rows_quarantined == 2
    assert "could be accepted" in result.batch.message


def test_values_are_exact_and_times_may_carry_an_offset(meters):
    plain, *_ = meters
    result = ingest_rows(make.system(), org=station(), source="ami", now=NOW, rows=[
        {"meter": plain.asset_no, "register": "total", "read_at": "2026-01-19T16:00:00Z", "value": "0012.30"},
        {"meter": plain.asset_no, "register": "总", "read_at": "2026/1/21 0:00", "value": Decimal("99.9999")},
        {"meter": f" {plain.asset_no} ", "register": "TOTAL", "read_at": "2026-01-22T08:30:00+08:00",
         "value": "+100.1", "estimated": "是"},
    ])
    assert result.batch.rows_accepted == 3, list(QuarantinedRead.objects.values_list("reason", flat=True))
    assert stored(plain) == [("2026-01-20 00:00", Decimal("12.3000"), ""),
                             ("2026-01-21 00:00", Decimal("99.9999"), ""),
                             ("2026-01-22 08:30", Decimal("100.1000"), "")]
    assert [r.estimated for r in RegisterRead.objects.filter(meter=plain).order_by("read_at")] == [False, False, True]


def test_parse_instant_reads_iso_dates_with_and_without_offsets():
    zone = engine.local_zone()
    utc = dt.UTC
    assert engine.parse_instant("2026-01-20", zone) == dt.datetime(2026, 1, 19, 16, tzinfo=utc)
    assert engine.parse_instant("2026-01-20T08:00:00+08:00", zone) == dt.datetime(2026, 1, 20, 0, tzinfo=utc)
    assert engine.parse_instant("2026-01-20 08:00:00.5Z", zone) == dt.datetime(2026, 1, 20, 8, 0, 0, 500000, tzinfo=utc)
    assert engine.parse_instant("2026/2/3 4:05", zone) == dt.datetime(2026, 2, 2, 20, 5, tzinfo=utc)
    for bad in ("2026-02-30", "yesterday", "", "2026-01-20T25:00"):
        assert engine.parse_instant(bad, zone) is None


def test_parse_values_is_exact_and_says_what_is_wrong():
    frame = pl.DataFrame({"value": ["12.34", "12.340000", "0", ".5", "7.", "+3", "-0", " 8 ", "1e5", "1.2.3",
                                    "-2", "1.00001", "1234567890123", None]}).with_row_index("_i")
    parsed = engine.parse_values(frame).sort("_i")
    assert parsed["value_fp"].to_list()[:8] == [123400, 123400, 0, 5000, 70000, 30000, 0, 80000]
    assert parsed["value_problem"].to_list() == [None] * 8 + ["number", "number", "negative", "decimals", "large",
                                                              "empty"]
