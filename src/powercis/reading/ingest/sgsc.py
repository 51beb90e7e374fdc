"""The real SGSC half-hourly data as daily frozen register reads of meters in the archive.

Source: the Smart Grid Smart City customer trial (data.gov.au, dataset
4e21dea3-9b87-4610-94c7-15a8a77907ef), two files (``profiles.SOURCE_FILES``): ten
households 2012-02 to 2014-03 (``customer_id, reading_datetime, general_supply_kwh``)
and fifty households in 2013 with more columns (``gross_generation_kwh`` among them).
They are read as they are; nothing in them is changed.

Decisions, with what the data shows:

* **Interval start.**  ``reading_datetime`` is taken as the start of its half hour: the
  punctual household of the 2013 file runs from 00:00 on 1 January to 23:30 on
  31 December, exactly the 17,520 half hours of the year.
* **Clock drift.**  The other households of the 2013 file are logged at :25 and :55.  A
  timestamp is put into the half hour it falls in (floor to 30 minutes): 00:25 belongs
  to 00:00–00:30.  That lines every household up on the same 17,520 half hours; rounding
  to the nearest half hour instead would move each household's last interval of the
  year into the next year.  The number of timestamps moved is counted per household
  (``clock_drift`` in the delivery's summary).  The drift is not only the five minutes:
  for the households in both files, the 2013 file's labels are 1 h 25 min later than
  the ten-household file's (their values agree on 15,483 of 15,485 half hours of
  household 10006486 when shifted by that, and on 2 % without the shift); which of the
  two clocks was right the data does not tell, so no household is shifted further.
* **Two rows in one half hour.**  Every such case in the files is on 6 October 2013,
  when New South Wales went to daylight saving time: the 02:xx labels appear twice and
  the 03:xx ones not at all — the second pair is 03:00–04:00 labelled an hour early.  Both
  rows are real energy of the day, so they are summed (the day's total is right; both
  hours lie in the same TOU period); the count is reported (``duplicate_slots``).  A row
  repeated with every column equal would be a resent row and would count once.  A half
  hour present in both files (five households overlap in 2013) is taken once, from the
  later file, as ``synthetic.profiles`` does.
* **Missing intervals.**  A day (between a household's first and last day) gets its
  frozen read whatever it lacks — the register just advanced less — and the half hours
  missing (48 less the rows received; a day with no row at all counts 48) are reported
  per household and in total.
* **Time zone.**  The trial is Australian local time; the wall-clock time is kept and
  stored as the same wall-clock time in the installation's zone (Asia/Shanghai): the
  frozen read of a day is its local midnight.  ``shift_years`` moves the data by whole
  years (29 February into 28 February, where the target year has none, summed as a
  second row) so that it falls within installations of a present-day archive; a date
  range to import (``start``, ``end``) is in the shifted calendar.
* **Registers.**  ``total`` is the running cumulative general supply from the meter's
  install read (``install_reads``; 0 where it has none).  Each half hour's energy is
  also counted on its TOU register by the 湖北 工商业 calendar (鄂发改价管〔2024〕77号,
  ``shared/data/tariffs/cn_tariff_tou_periods.csv``; 浙江's residential rows in the same
  data carry no TOU hours): sharp, peak, flat, valley — on meters that have peak, flat and
  valley registers, sharp being counted as peak on a meter without a sharp register.
  ``reverse`` accumulates ``gross_generation_kwh`` where the file has it (zero for every
  household of the 2013 file: none of them has PV); controlled load, a separately
  metered circuit in the trial, is not part of the general-supply register.
* **Resolution.**  Energy is summed exactly (integers of 10^-4 kWh); a register shows
  the cumulative energy truncated to the meter's decimals, as a counter display does,
  and rolls over at 10^digits.  Truncating each TOU register and the total separately
  makes the sum of four TOU registers fall short of the total by up to 3 last digits —
  exactly the (n − 1) LSB tolerance of the arrival check, which it exercises.

Households are mapped to meters without creating anything: the meters installed on the
settlement points of accounts of the org's remote-read routes (or one route), in
asset-number order, one per household in customer-id order.  The reads go in through
the ingest engine as source ``ami``, with a delivery key derived from the files, the
households, their meters and the options, so that importing the same selection twice
writes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from django.utils.translation import gettext as _

from powercis.core import authz
from powercis.core.context import Actor
from powercis.core.errors import ValidationFailed
from powercis.core.models import Org
from powercis.metering.models import MeterInstallation, MeteringPoint
from powercis.synthetic.profiles import SOURCE_FILES, default_source_dir

from ..models import ReadingRoute, ReadMethod, Source
from .engine import FP, IngestResult, fp_text, ingest_frame, parse_values

SLOTS_PER_DAY = 48
TOU_CALENDAR = "湖北 工商业, 鄂发改价管〔2024〕77号"
#: (months, period, first hour, last hour exclusive) of the 湖北 工商业 calendar, as in cn_tariff_tou_periods.csv
HUBEI_TOU = (
    ((7, 8), "sharp", 20, 22),
    ((1, 2, 3, 4, 5, 6, 9, 10, 11, 12), "sharp", 18, 20),
    ((7, 8), "peak", 16, 20),
    ((7, 8), "peak", 22, 24),
    ((1, 2, 3, 4, 5, 6, 9, 10, 11, 12), "peak", 16, 18),
    ((1, 2, 3, 4, 5, 6, 9, 10, 11, 12), "peak", 20, 24),
    (tuple(range(1, 13)), "flat", 6, 12),
    (tuple(range(1, 13)), "flat", 14, 16),
    (tuple(range(1, 13)), "valley", 0, 6),
    (tuple(range(1, 13)), "valley", 12, 14),
)
PERIODS = ("sharp", "peak", "flat", "valley")


def tou_table() -> pl.DataFrame:
    """(month, hour) → TOU period of the calendar: every hour of every month exactly once."""
    rows = [(month, hour, period) for months, period, first, last in HUBEI_TOU for month in months
            for hour in range(first, last)]
    return pl.DataFrame(rows, schema={"month": pl.Int8, "hour": pl.Int8, "period": pl.Utf8}, orient="row")


def default_files() -> list[Path]:
    return [default_source_dir() / name for name in SOURCE_FILES]


@dataclass
class Intervals:
    """Half-hour energy per household after snapping, summing and de-overlapping, with what was found."""

    #: customer_id, slot (naive wall clock), fp (10^-4 kWh general supply), gen_fp (generation), rows
    frame: pl.DataFrame
    #: customer_id → {"snapped", "duplicate_slots", "overlap_slots"}
    per_customer: dict[int, dict[str, int]]
    files: list[str]


def read_intervals(files, *, customers=None, limit: int | None = None, start: dt.date | None = None,
                   end: dt.date | None = None, shift_years: int = 0) -> Intervals:
    """The half hours of the selected households (all, the listed ones, or the first ``limit`` by id)."""
    paths = [Path(f) for f in (files or default_files())]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ValidationFailed(fields={"file": [_("No such file: %(files)s.") % {"files": ", ".join(missing)}]})
    frames = []
    for priority, path in enumerate(paths):
        raw = pl.read_csv(path, infer_schema=False)
        needed = {"customer_id", "reading_datetime", "general_supply_kwh"}
        if not needed <= set(raw.columns):
            raise ValidationFailed(fields={"file": [_("%(file)s lacks the columns %(columns)s.") % {
                "file": path.name, "columns": ", ".join(sorted(needed - set(raw.columns)))}]})
        frames.append((priority, raw.with_columns(pl.col("customer_id").cast(pl.Int64))))
    chosen = sorted(set().union(*(set(raw["customer_id"].unique().to_list()) for _p, raw in frames)))
    if customers:
        wanted = {int(c) for c in customers}
        unknown = sorted(wanted - set(chosen))
        if unknown:
            raise ValidationFailed(fields={"customers": [_("No such household in the files: %(ids)s.")
                                                         % {"ids": ", ".join(map(str, unknown))}]})
        chosen = [c for c in chosen if c in wanted]
    if limit:
        chosen = chosen[:limit]
    selected = []
    for priority, raw in frames:
        # a row resent with every column equal is one reading
        raw = raw.filter(pl.col("customer_id").is_in(chosen)).unique(maintain_order=True)
        gen = pl.col("gross_generation_kwh") if "gross_generation_kwh" in raw.columns else pl.lit("0")
        selected.append(raw.select("customer_id", "reading_datetime", pl.col("general_supply_kwh").alias("value"),
                                   gen.fill_null("0").alias("gen"), pl.lit(priority, pl.Int8).alias("priority")))
    data = pl.concat(selected).filter(pl.col("value").is_not_null())
    stamp = pl.col("reading_datetime").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
    data = data.with_columns(ts=stamp).with_columns(slot=pl.col("ts").dt.truncate("30m"))
    unreadable = data.filter(pl.col("ts").is_null())
    if unreadable.height:
        raise ValidationFailed(_("Household %(customer)s: “%(at)s” is not a time (YYYY-MM-DD HH:MM:SS).")
                               % {"customer": unreadable["customer_id"][0], "at": unreadable["reading_datetime"][0]})
    data = data.with_columns(_snapped=pl.col("ts") != pl.col("slot"))
    if shift_years:
        data = data.with_columns(slot=pl.col("slot").dt.offset_by(f"{int(shift_years)}y"))
    if start:
        data = data.filter(pl.col("slot").dt.date() >= start)
    if end:
        data = data.filter(pl.col("slot").dt.date() <= end)
    data = data.with_row_index("_i")
    energy = parse_values(data.select("_i", "value")).select("_i", "value_fp", "value_problem")
    generation = parse_values(data.select("_i", pl.col("gen").alias("value"))).select(
        "_i", pl.col("value_fp").alias("gen_fp"))
    data = data.join(energy, on="_i").join(generation, on="_i")
    bad = data.filter(pl.col("value_problem").is_not_null())
    if bad.height:
        row = bad.row(0, named=True)
        raise ValidationFailed(_("Household %(customer)s at %(at)s: “%(value)s” is not an energy in kWh.")
                               % {"customer": row["customer_id"], "at": row["reading_datetime"],
                                  "value": row["value"]})
    snapped = data.filter(pl.col("_snapped")).group_by("customer_id").len()
    per_slot = (data.group_by("customer_id", "slot", "priority")
                .agg(fp=pl.col("value_fp").sum(), gen_fp=pl.col("gen_fp").fill_null(0).sum(), rows=pl.len()))
    duplicates = per_slot.filter(pl.col("rows") > 1).group_by("customer_id").len()
    overlap = per_slot.group_by("customer_id", "slot").len().filter(pl.col("len") > 1).group_by("customer_id").len()
    slots = (per_slot.sort("priority").group_by("customer_id", "slot", maintain_order=True).last()
             .drop("priority").sort("customer_id", "slot"))
    stats = {c: {"snapped": 0, "duplicate_slots": 0, "overlap_slots": 0} for c in chosen}
    for name, table in (("snapped", snapped), ("duplicate_slots", duplicates), ("overlap_slots", overlap)):
        for customer, n in table.iter_rows():
            stats[customer][name] = n
    return Intervals(frame=slots, per_customer=stats, files=[p.name for p in paths])


@dataclass
class MeterTarget:
    asset_no: str
    registers: list[str]
    digits: int
    decimals: int
    install_reads: dict


def register_plan(registers: list[str]) -> dict[str, str]:
    """TOU period → the register its energy is counted on (empty: the meter has no TOU registers)."""
    if not {"peak", "flat", "valley"} <= set(registers):
        return {}
    return {"sharp": "sharp" if "sharp" in registers else "peak", "peak": "peak", "flat": "flat", "valley": "valley"}


def daily_reads(intervals: Intervals, meters: dict[int, MeterTarget]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(register reads at each local midnight, missing half hours per household-day).

    Reads: customer_id, meter, register, read_at (text), value (text).  A household's
    reads run from the midnight starting its first day to the midnight ending its last.
    """
    slots = intervals.frame.with_columns(day=pl.col("slot").dt.date(), month=pl.col("slot").dt.month().cast(pl.Int8),
                                         hour=pl.col("slot").dt.hour().cast(pl.Int8))
    slots = slots.join(tou_table(), on=["month", "hour"], how="left")
    span = slots.group_by("customer_id").agg(first=pl.col("day").min(), last=pl.col("day").max())
    calendar = (span.with_columns(day=pl.date_ranges("first", "last")).explode("day").select("customer_id", "day"))
    per_day = slots.group_by("customer_id", "day").agg(
        rows=pl.col("rows").sum(), total=pl.col("fp").sum(), reverse=pl.col("gen_fp").sum(),
        **{p: pl.col("fp").filter(pl.col("period") == p).sum() for p in PERIODS})
    days = (calendar.join(per_day, on=["customer_id", "day"], how="left")
            .with_columns(pl.col("rows", "total", "reverse", *PERIODS).fill_null(0))
            .sort("customer_id", "day"))
    missing = days.select("customer_id", "day", missing=(SLOTS_PER_DAY - pl.col("rows")).clip(0))
    reads = []
    for customer, target in meters.items():
        mine = days.filter(pl.col("customer_id") == customer)
        if mine.height == 0:
            continue
        plan = register_plan(target.registers)
        columns = {"total": pl.col("total")}
        for period, register in plan.items():
            columns[register] = columns.get(register, pl.lit(0, pl.Int64)) + pl.col(period)
        if "reverse" in target.registers:
            columns["reverse"] = pl.col("reverse")
        step = 10 ** (4 - target.decimals)
        limit = 10 ** target.digits * FP
        first = mine["day"][0]
        midnights = pl.concat([pl.DataFrame({"day": [first]}),
                               mine.select(pl.col("day") + dt.timedelta(days=1))])
        for register, energy in columns.items():
            start = _fixed(target.install_reads.get(register))
            cumulative = mine.select(energy.cast(pl.Int64).cum_sum().alias("cum"))["cum"]
            energy_so_far = pl.concat([pl.Series([0], dtype=pl.Int64), cumulative])
            value = (start + energy_so_far - energy_so_far % step) % limit
            reads.append(midnights.with_columns(
                customer_id=pl.lit(customer, pl.Int64), meter=pl.lit(target.asset_no), register=pl.lit(register),
                value_fp=value))
    if not reads:
        return pl.DataFrame(schema={"customer_id": pl.Int64, "meter": pl.Utf8, "register": pl.Utf8,
                                    "read_at": pl.Utf8, "value": pl.Utf8}), missing
    frame = pl.concat(reads).select(
        "customer_id", "meter", "register", read_at=pl.col("day").dt.strftime("%Y-%m-%d 00:00:00"),
        value=fp_text(pl.col("value_fp")))
    return frame, missing


def _fixed(text) -> int:
    if text in (None, ""):
        return 0
    parsed = parse_values(pl.DataFrame({"_i": [0], "value": [str(text)]}))
    value = parsed["value_fp"][0]
    return int(value) if value is not None and parsed["value_problem"][0] is None else 0


def remote_meters(org: Org, route: str | None = None) -> list[MeterTarget]:
    """The meters installed now on settlement points of accounts of the org's remote-read routes, by asset number."""
    company_id = org.company_id or org.pk
    routes = ReadingRoute.objects.filter(company_id=company_id, org_path__startswith=org.path,
                                         method=ReadMethod.REMOTE, is_active=True)
    if route:
        routes = routes.filter(code=route)
        if not routes.exists():
            raise ValidationFailed(fields={"route": [_("No active remote-read route %(route)s in %(org)s.")
                                                     % {"route": route, "org": org.name}]})
    codes = list(routes.values_list("code", flat=True))
    installs = (MeterInstallation.objects
                .filter(removed_on__isnull=True, metering_point__company_id=company_id,
                        metering_point__kind=MeteringPoint.Kind.SETTLEMENT, metering_point__is_active=True,
                        metering_point__account__reading_route_code__in=codes)
                .values_list("meter__asset_no", "meter__registers", "meter__digits", "meter__decimals",
                             "install_reads")
                .order_by("meter__asset_no"))
    return [MeterTarget(asset_no=a, registers=list(r or ["total"]), digits=d, decimals=p, install_reads=i or {})
            for a, r, d, p, i in installs]


@dataclass
class SgscImport:
    result: IngestResult
    customers: int
    days: int
    snapped: int
    duplicate_slots: int
    missing_intervals: int
    customer_days_missing: int
    meters: dict[int, str] = field(default_factory=dict)


def import_sgsc(actor: Actor, *, org: Org, files=None, route: str | None = None, limit: int | None = None,
                customers=None, start: dt.date | None = None, end: dt.date | None = None, shift_years: int = 0,
                now: dt.datetime | None = None) -> SgscImport:
    """Turn the SGSC files into daily frozen reads of the org's remote-read meters and ingest them (source ami)."""
    authz.require(actor, "reading.collect", org)
    intervals = read_intervals(files, customers=customers, limit=limit, start=start, end=end,
                               shift_years=shift_years)
    households = sorted(intervals.per_customer)
    if not households or intervals.frame.height == 0:
        raise ValidationFailed(_("The files have no half hours for the selection."))
    available = remote_meters(org, route)
    if len(available) < len(households):
        raise ValidationFailed(_("%(n)s households but only %(m)s meters installed on remote-read routes of "
                                 "%(where)s; choose fewer households (--limit) or another route.")
                               % {"n": len(households), "m": len(available), "where": route or org.name})
    mapping = dict(zip(households, available))
    reads, missing = daily_reads(intervals, mapping)
    missing_days = missing.filter(pl.col("missing") > 0)
    drift = {}
    for customer in households:
        stats = intervals.per_customer[customer]
        lacking = missing_days.filter(pl.col("customer_id") == customer)
        drift[str(customer)] = {"meter": mapping[customer].asset_no, "snapped": stats["snapped"],
                                "duplicate_slots": stats["duplicate_slots"], "overlap_slots": stats["overlap_slots"],
                                "days_missing_intervals": lacking.height,
                                "missing_intervals": int(lacking["missing"].sum() or 0)}
    selection = {"files": intervals.files, "customers": households,
                 "meters": [mapping[c].asset_no for c in households], "start": str(start or ""),
                 "end": str(end or ""), "shift_years": shift_years}
    key = "sgsc:" + hashlib.sha256(json.dumps(selection, sort_keys=True).encode()).hexdigest()[:40]
    totals = {"snapped": sum(s["snapped"] for s in intervals.per_customer.values()),
              "duplicate_slots": sum(s["duplicate_slots"] for s in intervals.per_customer.values()),
              "missing": int(missing["missing"].sum() or 0)}
    summary = {
        "source_files": intervals.files, "households": len(households), "tou_calendar": TOU_CALENDAR,
        "shift_years": shift_years, "clock_drift": drift, "clock_drift_snapped": totals["snapped"],
        "duplicate_slots": totals["duplicate_slots"], "missing_intervals": totals["missing"],
        "customer_days_missing_intervals": missing_days.height,
    }
    result = ingest_frame(actor, org=org, source=Source.AMI, frame=reads.drop("customer_id"), delivery_key=key,
                          file_name=", ".join(intervals.files)[:200], file_format="sgsc", sender="SGSC", now=now,
                          extra_summary=summary)
    return SgscImport(result=result, customers=len(households), days=missing.height,
                      snapped=totals["snapped"], duplicate_slots=totals["duplicate_slots"],
                      missing_intervals=totals["missing"], customer_days_missing=missing_days.height,
                      meters={c: mapping[c].asset_no for c in households})
