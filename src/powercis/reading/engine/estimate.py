"""Estimated reads (估抄) by one documented method, for tasks that cannot be read.

The method, per task:

1. **Start**: the effective read of the point's latest earlier task that has one (as in
   validation), else the reads recorded when the meter was installed.
2. **Rate**: the average daily consumption of the last up to ``ACTUAL_PERIODS`` actual
   periods — intervals between consecutive earlier reads of the same meter whose end
   read was not itself an estimate (the first read after an installation counts from
   the installation), starting within ``RECENT_MONTHS`` before the period — as
   Σ consumption / Σ days, per register.  Without any, the same period last year (its
   interval's consumption per day, for the season); without that, zero.
3. **Consumption** = rate × days from the start read's date to the scheduled date.  The
   total is rounded half-up to the meter's decimals; each TOU register is estimated the
   same way, then scaled so that Σ TOU equals the estimated total (each rounded half-up
   to the meter's decimals, the remainder of the rounding put on the flat register, or on
   the largest TOU estimate when the meter has no flat register).  Reactive and reverse
   energy are estimated on their own.  Demand is not estimated: the last demand
   reading is kept.
4. **Reading** = start + consumption, rolled over at 10^digits.

The averages are computed for all requested tasks at once with Polars, from the
effective reads per register (``validate.effective_reads_of``, which turns the stored
reads — one row per meter and instant — into one row per register); only the final
rounding of each task's few registers is done per task, in exact decimals.  Nothing is
written here: ``reading.services.exceptions.estimate`` writes the result as one read
(source ``estimate``, estimated) carrying the registers of ``Estimate.readings`` and no
other: nothing of the read it replaces, whose values are the reason it is estimated.  A
register that neither the start read nor the history has is left out — unknown, not
invented — and the next month starts it as validation does (from the installation).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from django.db import transaction
from django.utils.translation import gettext as _

from . import frames
from .frames import DEC
from .validate import (
    HISTORY_SLACK,
    ROLLOVER_ZONE,
    TOU_REGISTERS,
    Scope,
    _history,
    _installations,
    _meters,
    _tasks,
    effective_reads_of,
    installation_reads,
)

#: actual periods averaged for the daily rate
ACTUAL_PERIODS = 3
#: an actual period counts only if it starts within this many months before the period estimated
RECENT_MONTHS = 6
ESTIMATED_REGISTERS = ("total", "sharp", "peak", "flat", "valley", "reactive", "reverse")


@dataclass
class Estimate:
    task_id: int
    #: register → estimated reading, at the meter's decimals (the registers of the one estimated read)
    readings: dict[str, Decimal] = field(default_factory=dict)
    #: register → estimated consumption since the start read
    consumption: dict[str, Decimal] = field(default_factory=dict)
    #: "history", "last_year" or "zero"
    basis: str = "zero"
    #: the method in words, with its numbers (kept in the estimated read's note)
    method: str = ""
    days: int = 0
    periods: int = 0
    per_day: Decimal | None = None
    start_on: dt.date | None = None


def _round(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _intervals(chain: pl.DataFrame, reads: pl.DataFrame, installed: pl.DataFrame, install_reads: pl.DataFrame,
               register_max: pl.DataFrame) -> pl.DataFrame:
    """Per (task, register): Σ consumption and Σ days over the last ``ACTUAL_PERIODS`` actual periods."""
    ends = chain.select("task_id", "level", "window_start", end_task="hist_task_id", end_date="date",
                        end_meter="meter_id", end_est="estimated")
    starts = chain.select("task_id", level=pl.col("level") - 1, start_task="hist_task_id", start_date="date",
                          start_meter="meter_id")
    pairs = (ends.join(starts, on=["task_id", "level"], how="left")
             .join(installed, left_on=["task_id", "end_meter"], right_on=["task_id", "meter_id"], how="left")
             .filter(~pl.col("end_est"))
             # an installation inside the history looked at: the first read after it counts from it
             .with_columns(from_install=pl.col("start_task").is_null() & pl.col("installation_id").is_not_null()
                           & (pl.col("installed_on") >= pl.col("window_start")))
             .filter((pl.col("start_task").is_not_null() & (pl.col("start_meter") == pl.col("end_meter")))
                     | pl.col("from_install"))
             .with_columns(start_date=pl.when(pl.col("from_install")).then(pl.col("installed_on"))
                           .otherwise(pl.col("start_date")))
             .filter(pl.col("start_date") >= pl.col("window_start"))
             .sort("task_id", "level")
             .with_columns(rank=pl.int_range(1, pl.len() + 1).over("task_id"))
             .filter(pl.col("rank") <= ACTUAL_PERIODS))
    values = reads.select("task_id", "register", "value")
    per_register = (
        pairs.join(values.rename({"task_id": "end_task", "value": "end_value"}), on="end_task")
        .join(values.rename({"task_id": "start_task", "value": "start_value"}), on=["start_task", "register"],
              how="left")
        .join(install_reads, on=["installation_id", "register"], how="left")
        .with_columns(start_value=pl.when(pl.col("from_install")).then(pl.col("install_value").fill_null(Decimal(0)))
                      .otherwise(pl.col("start_value")))
        .join(register_max, left_on="end_meter", right_on="meter_id", how="left")
        .with_columns(delta=pl.col("end_value") - pl.col("start_value"))
        .with_columns(delta=pl.when(pl.col("delta") >= 0).then(pl.col("delta"))
                      .when(pl.col("start_value") >= pl.col("register_max") * (1 - ROLLOVER_ZONE))
                      .then(pl.col("delta") + pl.col("register_max")))
        .filter(pl.col("delta").is_not_null() & pl.col("register").is_in(ESTIMATED_REGISTERS))
        .with_columns(days=(pl.col("end_date") - pl.col("start_date")).dt.total_days())
        .filter(pl.col("days") > 0)
    )
    return per_register.group_by("task_id", "register").agg(
        consumption=pl.col("delta").sum(), days=pl.col("days").sum(), periods=pl.len())


@transaction.atomic
def estimate_reads(task_ids) -> dict[int, Estimate]:
    """The estimate for each task (tasks without a meter are left out)."""
    task_ids = sorted({int(t) for t in task_ids})
    if not task_ids:
        return {}
    frames.tune_transaction()
    with Scope(task_ids=task_ids) as scope:
        tasks = _tasks(scope).filter(pl.col("task_meter_id").is_not_null())
        if tasks.height == 0:
            return {}
        months_back = 2 * (ACTUAL_PERIODS + 1 + HISTORY_SLACK) + 1
        history = _history(scope, tasks["period"].unique().to_list(), months_back)
        reads = effective_reads_of(history.select(
            task_id="hist_task_id", meter_id="hist_meter_id", method="hist_method", scheduled_on="hist_scheduled_on",
            all_registers=pl.lit(True)))
        installs = _installations(scope)
        values = installation_reads(installs["installation_id"])
    totals = reads.filter(pl.col("register") == "total").select(
        hist_task_id="task_id", value="value", date=frames.local_date(pl.col("read_at")), meter_id="meter_id",
        estimated="estimated")
    dated = (tasks.select("task_id", "metering_point_id", "period")
             .join(history, on="metering_point_id")
             .join(totals, on="hist_task_id"))
    chain = (dated.filter(pl.col("hist_period") < pl.col("period"))
             .sort("task_id", "hist_period", descending=[False, True])
             .with_columns(level=pl.int_range(1, pl.len() + 1).over("task_id"),
                           window_start=pl.col("period").dt.offset_by(f"-{RECENT_MONTHS}mo")))
    # the (latest) installation of each meter on the task's point, for a chain that starts at an installation
    installed = (tasks.select("task_id", "metering_point_id")
                 .join(installs.select("installation_id", "metering_point_id", "meter_id", "installed_on"),
                       on="metering_point_id")
                 .sort("installed_on", "installation_id")
                 .group_by("task_id", "meter_id").last()
                 .select("task_id", "meter_id", "installation_id", "installed_on"))
    install_reads = values.select("installation_id", "register", "install_value")
    meters = _meters(pl.concat([tasks["task_meter_id"], chain["meter_id"]]))
    recent = _intervals(chain, reads, installed, install_reads, meters.select("meter_id", "register_max"))
    year_ago = _last_year_rates(tasks, dated, reads)
    return _finish(tasks, chain, reads, installed, install_reads, meters, recent, year_ago)


def _last_year_rates(tasks: pl.DataFrame, dated: pl.DataFrame, reads: pl.DataFrame) -> pl.DataFrame:
    """Per (task, register): consumption and days of the interval ending with last year's same-period read."""
    candidates = (dated.filter(pl.col("hist_period") <= pl.col("period").dt.offset_by("-12mo"))
                  .sort("task_id", "hist_period", descending=[False, True])
                  .with_columns(level=pl.int_range(0, pl.len()).over("task_id")))
    y0 = candidates.filter((pl.col("level") == 0) & (pl.col("hist_period") == pl.col("period").dt.offset_by("-12mo")))
    y1 = candidates.filter(pl.col("level") == 1)
    pair = (y0.select("task_id", y0_task="hist_task_id", y0_date="date", y0_meter="meter_id")
            .join(y1.select("task_id", y1_task="hist_task_id", y1_date="date", y1_meter="meter_id"), on="task_id")
            .filter(pl.col("y0_meter") == pl.col("y1_meter")))
    values = reads.select("task_id", "register", "value")
    return (pair.join(values.rename({"task_id": "y0_task", "value": "y0_value"}), on="y0_task")
            .join(values.rename({"task_id": "y1_task", "value": "y1_value"}), on=["y1_task", "register"])
            .with_columns(consumption=pl.col("y0_value") - pl.col("y1_value"),
                          days=(pl.col("y0_date") - pl.col("y1_date")).dt.total_days())
            .filter((pl.col("consumption") >= 0) & (pl.col("days") > 0)
                    & pl.col("register").is_in(ESTIMATED_REGISTERS))
            .select("task_id", "register", "consumption", "days", periods=pl.lit(1, pl.UInt32)))


def _finish(tasks, chain, reads, installed, install_reads, meters, recent, year_ago) -> dict[int, Estimate]:
    """Round and scale per task: the only per-task step, over a handful of registers each."""
    c1 = chain.filter(pl.col("level") == 1).select("task_id", "hist_task_id", "date", "meter_id")
    start_reads = (c1.join(reads.select(hist_task_id="task_id", register="register", value="value"),
                           on="hist_task_id")
                   .select("task_id", "register", "value"))
    by_task: dict[int, dict] = {}
    for task_id, hist_task, date, meter_id in c1.iter_rows():
        by_task[task_id] = {"start_on": date, "meter_id": meter_id, "start": {}}
    for task_id, register, value in start_reads.iter_rows():
        by_task[task_id]["start"][register] = value
    meter_info = {m: (d, dec, mx) for m, d, dec, mx in meters.select("meter_id", "digits", "decimals", "register_max")
                  .iter_rows()}
    installs = {}
    for task_id, meter_id, _inst, installed_on, register, value in installed.join(
            install_reads, on="installation_id", how="left").select(
            "task_id", "meter_id", "installation_id", "installed_on", "register", "install_value").iter_rows():
        installs.setdefault((task_id, meter_id), {"installed_on": installed_on, "reads": {}})
        if register is not None and value is not None:
            installs[(task_id, meter_id)]["reads"][register] = value
    rates = {"history": {}, "last_year": {}}
    for basis, frame in (("history", recent), ("last_year", year_ago)):
        for task_id, register, consumption, days, periods in frame.select(
                "task_id", "register", "consumption", "days", "periods").iter_rows():
            rates[basis].setdefault(task_id, {})[register] = (Decimal(consumption), int(days), int(periods))

    result = {}
    for task_id, meter_id, scheduled_on in tasks.select("task_id", "task_meter_id", "scheduled_on").iter_rows():
        digits, decimals, register_max = meter_info.get(meter_id, (6, 2, Decimal(10) ** 6))
        known = by_task.get(task_id)
        if known is not None and known["meter_id"] == meter_id:
            start, start_on = dict(known["start"]), known["start_on"]
        else:
            installation = installs.get((task_id, meter_id))
            if installation is None:
                continue
            start, start_on = dict(installation["reads"]), installation["installed_on"]
        days = max((scheduled_on - start_on).days, 0)
        estimate = Estimate(task_id=task_id, days=days, start_on=start_on)
        basis = "history" if "total" in rates["history"].get(task_id, {}) else (
            "last_year" if "total" in rates["last_year"].get(task_id, {}) else "zero")
        estimate.basis = basis
        source = rates.get(basis, {}).get(task_id, {})
        raw = {r: c * days / d for r, (c, d, _p) in source.items() if d > 0}
        total = _round(raw.get("total", Decimal(0)), decimals)
        consumption = {"total": total}
        present_tou = [r for r in TOU_REGISTERS if r in start or r in raw]
        if present_tou:
            weights = {r: raw.get(r, Decimal(0)) for r in present_tou}
            whole = sum(weights.values())
            for r in present_tou:
                consumption[r] = _round(total * weights[r] / whole, decimals) if whole > 0 else Decimal(0)
            remainder = total - sum(consumption[r] for r in present_tou)
            target = "flat" if "flat" in present_tou else max(present_tou, key=lambda r: (weights[r], r))
            consumption[target] += remainder
        for r in ("reactive", "reverse"):
            if r in start or r in raw:
                consumption[r] = _round(raw.get(r, Decimal(0)), decimals)
        for register, amount in consumption.items():
            base = Decimal(start.get(register, Decimal(0)))
            estimate.readings[register] = _round((base + amount) % register_max, decimals)
        if "demand" in start:
            estimate.readings["demand"] = Decimal(start["demand"])
        estimate.consumption = consumption
        if basis == "zero":
            estimate.method = _("No earlier consumption to average: estimated at zero consumption over %(days)s days."
                                ) % {"days": days}
        else:
            c, d, periods = source["total"]
            estimate.periods = periods
            estimate.per_day = (c / d).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
            numbers = {"n": periods, "per_day": estimate.per_day, "days": days, "total": total}
            estimate.method = (
                _("Average daily consumption of the last %(n)s actual periods, %(per_day)s a day, × %(days)s days "
                  "since the last reading = %(total)s; time-of-use registers in proportion, rounded half-up.")
                if basis == "history" else
                _("Daily consumption of the same period last year, %(per_day)s a day, × %(days)s days "
                  "since the last reading = %(total)s; time-of-use registers in proportion, rounded half-up.")
            ) % numbers
        result[task_id] = estimate
    return result


__all__ = ["ACTUAL_PERIODS", "DEC", "Estimate", "estimate_reads"]
