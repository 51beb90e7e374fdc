"""Load profiles derived from the real half-hourly SGSC smart-meter data, and the copy shipped with the package.

The source is the Smart Grid Smart City customer trial (data.gov.au, dataset
4e21dea3-9b87-4610-94c7-15a8a77907ef): Australian households, half-hourly kWh.  For
each household with a complete year we compute, with Polars:

* timestamps rounded to the nearest half hour (the 2013 file logs many readings at
  :25 and :55 — clock drift, not extra intervals); a half hour logged twice in one file
  (the hour repeated when daylight saving ends) sums both, one present in both files
  (they overlap in 2013) is taken once, from the later file;
* only complete days (48 half hours) kept, and days without any consumption (a vacant
  house) dropped;
* months shifted by six to the northern hemisphere (Australian July, mid-winter, is
  January in a Chinese county at the same latitude);
* per month and day type (workday Monday–Friday, weekend), the mean of each half hour,
  normalised to shares in parts per 100,000 that add up to exactly 100,000 (largest
  remainder), and the month's energy (mean daily kWh × days of the month); energy is
  summed in integer Wh, so the result does not depend on the order of additions.

A household needs at least ``MIN_DAYS_PER_CELL`` complete days in each of the 24
(month, day type) cells, so every profile covers the whole year.

The result is small (one row per household) and is shipped as ``data/load_profiles.json.gz``
so that generation needs neither the raw files nor Polars' CSV reader at run time and is
the same on every installation; ``python -m powercis.synthetic.profiles DIR`` re-derives
it from the raw files, and a test checks that the shipped copy is what the data gives.
"""

from __future__ import annotations

import gzip
import json
import math
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

SOURCE = "SGSC smart meter trial, data.gov.au 4e21dea3-9b87-4610-94c7-15a8a77907ef"
SOURCE_FILES = ("sgsc_smart_meter10_2012_2014.csv.gz", "sgsc_smart_meter50_2013.csv.gz")
SHIPPED = Path(__file__).with_name("data") / "load_profiles.json.gz"
SHARE_TOTAL = 100_000
MIN_DAYS_PER_CELL = 3
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
DAY_TYPES = ("workday", "weekend")
#: the half hours 08:00–18:00 (slots 16–35): the share of a workday used then marks daytime-heavy households
DAYTIME_SLOTS = range(16, 36)


def default_source_dir() -> Path:
    """Where the raw files sit in the development layout: ``shared/data/meters`` beside the repository."""
    return Path(__file__).resolve().parents[3].parent / "shared" / "data" / "meters"


def largest_remainder(values: list[float], total: int) -> list[int]:
    """Integers proportional to ``values`` that add up to exactly ``total`` (Hamilton's method, ties by position).

    With integer ``values`` the arithmetic is exact (fractions), so the result does not
    depend on floating-point rounding.
    """
    whole = sum(values)
    if whole <= 0:
        base = [total // len(values)] * len(values)
        for i in range(total - sum(base)):
            base[i] += 1
        return base
    quotas = [Fraction(v) * total / Fraction(whole) for v in values]
    floors = [math.floor(q) for q in quotas]
    order = sorted(range(len(values)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[: total - sum(floors)]:
        floors[i] += 1
    return floors


def derive_profiles(source_dir: Path) -> list[dict]:
    """The profile rows (as plain dicts, the shipped format) computed from the raw SGSC files in ``source_dir``."""
    import polars as pl

    # energy in integer Wh, so that every sum below is exact whatever order Polars adds in
    frames = [
        pl.read_csv(source_dir / name, columns=["customer_id", "reading_datetime", "general_supply_kwh"],
                    schema_overrides={"customer_id": pl.Int64, "general_supply_kwh": pl.Float64})
        .with_columns(priority=pl.lit(priority))
        for priority, name in enumerate(SOURCE_FILES)
    ]
    reads = (
        pl.concat(frames)
        .drop_nulls()
        .with_columns(ts=pl.col("reading_datetime").str.to_datetime("%Y-%m-%d %H:%M:%S").dt.round("30m"),
                      wh=(pl.col("general_supply_kwh") * 1000).round(0).cast(pl.Int64))
        # within a file, a half hour logged twice is the repeated hour at the end of daylight saving: both count;
        # a half hour present in both files (they overlap in 2013) counts once, as the later file has it
        .group_by("customer_id", "ts", "priority").agg(wh=pl.col("wh").sum())
        .group_by("customer_id", "ts").agg(wh=pl.col("wh").sort_by("priority").last())
        .with_columns(day=pl.col("ts").dt.date(),
                      slot=(pl.col("ts").dt.hour().cast(pl.Int32) * 2 + pl.col("ts").dt.minute().cast(pl.Int32) // 30))
    )
    days = (reads.group_by("customer_id", "day").agg(n=pl.len(), total=pl.col("wh").sum())
            .filter((pl.col("n") == 48) & (pl.col("total") > 0)).select("customer_id", "day"))
    reads = (
        reads.join(days, on=["customer_id", "day"], how="semi")
        .with_columns(month=(pl.col("day").dt.month().cast(pl.Int32) + 5) % 12 + 1,
                      day_type=pl.when(pl.col("day").dt.weekday() <= 5).then(pl.lit("workday"))
                      .otherwise(pl.lit("weekend")))
    )
    cells = reads.group_by("customer_id", "month", "day_type").agg(days=pl.col("day").n_unique())
    complete = (cells.filter(pl.col("days") >= MIN_DAYS_PER_CELL).group_by("customer_id").agg(n=pl.len())
                .filter(pl.col("n") == 24).select("customer_id"))
    reads = reads.join(complete, on="customer_id", how="semi")
    # the shares of a cell are proportional to the slot sums (every day of a cell is complete)
    slots = (reads.group_by("customer_id", "month", "day_type", "slot").agg(wh=pl.col("wh").sum())
             .sort("customer_id", "month", "day_type", "slot"))
    monthly = (reads.group_by("customer_id", "month").agg(wh=pl.col("wh").sum(), days=pl.col("day").n_unique())
               .sort("customer_id", "month"))

    profiles = []
    for (customer_id,), rows in monthly.group_by(["customer_id"], maintain_order=True):
        month_kwh = [(Decimal(wh) / days * DAYS_IN_MONTH[m - 1] / 1000).quantize(Decimal("0.001"))
                     for m, wh, days in zip(rows["month"], rows["wh"], rows["days"], strict=True)]
        mine = slots.filter(pl.col("customer_id") == customer_id)
        shapes = {kind: [] for kind in DAY_TYPES}
        for kind in DAY_TYPES:
            for month in range(1, 13):
                cell = mine.filter((pl.col("month") == month) & (pl.col("day_type") == kind))["wh"].to_list()
                shapes[kind].append(largest_remainder(cell, SHARE_TOTAL))
        daytime = Decimal(sum(sum(shape[s] for s in DAYTIME_SLOTS) for shape in shapes["workday"])) / (12 * SHARE_TOTAL)
        profiles.append({
            "code": f"SGSC-{customer_id}",
            "source": SOURCE,
            "source_customer": str(customer_id),
            "days": int(rows["days"].sum()),
            "monthly_kwh": [str(v) for v in month_kwh],
            "mean_monthly_kwh": str((sum(month_kwh) / 12).quantize(Decimal("0.001"))),
            "daytime_share": str(daytime.quantize(Decimal("0.0001"))),
            "shapes": shapes,
        })
    return profiles


def shipped_profiles() -> list[dict]:
    """The derived profiles as shipped with the package (what generation uses)."""
    with gzip.open(SHIPPED, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def write_shipped(profiles: list[dict], path: Path = SHIPPED) -> None:
    """Write ``profiles`` in the shipped format; gzip's header carries no time, so equal data gives equal bytes."""
    payload = json.dumps(profiles, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else default_source_dir()
    profiles = derive_profiles(source)
    write_shipped(profiles)
    print(f"{len(profiles)} profiles from {source} written to {SHIPPED}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
