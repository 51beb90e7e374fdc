"""Transformers, metering points, meters, CT/PT and their installations, and each account's load.

* Every account has one settlement metering point (number = account number + ``01``)
  with a meter installed; a closed account's meter was removed on its closing date
  (with removal reads) and its point is inactive.  Some industrial and commercial
  accounts have a second, unmetered settlement point under the first: sub-metered
  lighting or living quarters deducted by a fixed quantity (定量, 300–2,000 kWh a
  month, usage category CI_1) or a fixed ratio (定比, 5–20 %, usage category RES) —
  domain/billing-rules.md §6.5.
* Every transformer area has an assessment point (area code + ``K``) with a CT-connected
  meter on the transformer's low side.
* CTs are chosen as the smallest standard primary rating at or above 1.25 × the rated
  current of the capacity they measure; HV points (HH) also get two PTs of
  10000/100 V (35000/100 V at 35 kV).  The multiplier is CT ratio × PT ratio (§6.1).
* Transformer nameplates (no-load loss P0, load loss Pk, no-load current I0 %, impedance
  voltage Uk %) are typical values of the S11 (10 kV) and SZ11 (35 kV) series; HL
  accounts need them for the transformer-loss calculation (§6.4).
* Each account's :class:`~powercis.synthetic.models.AccountLoad`: a real load profile
  (households for residents; the more daytime-heavy half of them for businesses),
  scaled to about 150–300 kWh a month for a household (log-normal, median 200) and to
  capacity × 0.85 × load factor × 730 h for businesses (load factor 0.08–0.25
  commercial, 0.20–0.55 industrial).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import polars as pl

from . import words
from .archive import Archive, exact_share
from .columns import case, constant, labelled, where
from .layout import COMMERCIAL, INDUSTRIAL, RESIDENTIAL, Layout, public_capacity
from .profiles import largest_remainder
from .spec import Spec

CT_PRIMARIES = np.array([20, 30, 40, 50, 75, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500,
                         3000, 4000])
#: capacity kVA → (P0 kW, Pk kW, I0 %, Uk %): S11-M (10 kV) and SZ11 (35 kV) series, typical nameplates
NAMEPLATES = {
    100: ("0.200", "1.500", "1.600", "4.000"), 160: ("0.280", "2.200", "1.400", "4.000"),
    200: ("0.340", "2.600", "1.300", "4.000"), 250: ("0.400", "3.050", "1.200", "4.000"),
    315: ("0.480", "3.650", "1.100", "4.000"), 400: ("0.570", "4.300", "1.000", "4.000"),
    500: ("0.680", "5.150", "1.000", "4.000"), 630: ("0.810", "6.200", "0.900", "4.500"),
    800: ("0.980", "7.500", "0.800", "4.500"), 1000: ("1.150", "10.300", "0.700", "4.500"),
    1250: ("1.360", "12.000", "0.600", "4.500"), 1600: ("1.640", "14.500", "0.600", "4.500"),
    2000: ("1.940", "18.300", "0.600", "5.000"), 2500: ("2.290", "21.200", "0.600", "5.000"),
    3150: ("3.040", "24.300", "0.560", "7.000"), 4000: ("3.620", "28.900", "0.560", "7.000"),
    5000: ("4.320", "34.200", "0.480", "7.000"), 6300: ("5.250", "36.700", "0.480", "7.500"),
    8000: ("7.200", "40.600", "0.420", "7.500"), 10000: ("8.700", "48.000", "0.420", "7.500"),
}
REGISTER_SETS = {
    "res": ["total"],
    "res_tou": ["total", "peak", "flat", "valley"],
    "com": ["total", "sharp", "peak", "flat", "valley"],
    "com_pf": ["total", "sharp", "peak", "flat", "valley", "reactive"],
    "hv": ["total", "sharp", "peak", "flat", "valley", "reactive", "demand"],
    "assess": ["total", "peak", "flat", "valley", "reactive"],
}
#: relative energy of the TOU registers, used for removal reads (normalised over the registers a meter has)
TOU_SHARE = {"sharp": 0.05, "peak": 0.30, "flat": 0.40, "valley": 0.25}
#: meter kinds: asset-number prefix, wiring, model stem, rated current, rated voltage, constant, accuracy, digits
METER_KINDS = {
    "1P": ("3301", "1P", "DDZY", "5(60)A", "220V", 1200, "2", 6),
    "3P4W": ("3302", "3P4W", "DTZY", "10(100)A", "3×220/380V", 400, "1", 6),
    "3P4W_CT": ("3303", "3P4W", "DTZ", "1.5(6)A", "3×220/380V", 6400, "0.5S", 8),
    "3P3W_HV": ("3304", "3P3W", "DSZ", "1.5(6)A", "3×100V", 20000, "0.5S", 8),
}


@dataclass
class Equipment:
    areas: pl.DataFrame
    transformers: pl.DataFrame
    points: pl.DataFrame
    meters: pl.DataFrame
    meter_installations: pl.DataFrame
    instrument_transformers: pl.DataFrame
    transformer_installations: pl.DataFrame
    loads: pl.DataFrame


def ct_primary(capacity_kva: np.ndarray, kv: np.ndarray) -> np.ndarray:
    """The smallest standard CT primary (A) at or above 1.25 × the rated current of ``capacity_kva`` at ``kv``."""
    current = capacity_kva / (np.sqrt(3) * kv) * 1.25
    return CT_PRIMARIES[np.minimum(np.searchsorted(CT_PRIMARIES, current), len(CT_PRIMARIES) - 1)]


def _days(values: np.ndarray) -> np.ndarray:
    return values.astype("timedelta64[D]")


def _areas_and_transformers(spec: Spec, layout: Layout, archive: Archive):
    acc = archive.accounts
    areas = layout.areas
    load = acc.group_by("area").agg(kva=pl.col("capacity_kva").sum()).sort("area")["kva"].to_numpy()
    private = areas["private"].to_numpy()
    private_account = np.zeros(areas.height, dtype=np.int64)
    ind_rows = acc.filter(pl.col("klass") == INDUSTRIAL)
    private_account[ind_rows["area"].to_numpy()] = ind_rows["id"].to_numpy()
    capacity = np.where(private, load, public_capacity(load * 0.35)).astype(np.int64)
    station_code = labelled([s.code for s in spec.stations], areas["station"].to_numpy())
    areas = areas.with_columns(
        org=station_code, name=where(private, acc["name"].gather(private_account) + "专变", areas["public_name"]),
        capacity_kva=pl.Series(capacity), ownership=case([private], ["private", "public"]))
    rng = spec.rng("transformers")
    sizes = sorted(NAMEPLATES)
    size_index = np.searchsorted(sizes, capacity)
    size_text = pl.Series(capacity).cast(pl.Utf8)
    model = where(capacity >= 3150, "SZ11-" + size_text + "/35", "S11-M-" + size_text + "/10")
    plate = [labelled([NAMEPLATES[c][i] for c in sizes], size_index) for i in range(4)]
    transformers = pl.DataFrame({
        "id": np.arange(len(capacity), dtype=np.int64), "area": areas["id"], "org": station_code,
        "code": areas["code"] + "-1",
        "model_name": labelled(words.TRANSFORMER_MAKERS, rng.integers(0, len(words.TRANSFORMER_MAKERS),
                                                                      len(capacity))) + " " + model,
        "capacity_kva": pl.Series(capacity).cast(pl.Decimal(10, 1)),
        "no_load_loss_kw": plate[0].cast(pl.Decimal(8, 3)),
        "load_loss_kw": plate[1].cast(pl.Decimal(8, 3)),
        "no_load_current_pct": plate[2].cast(pl.Decimal(6, 3)),
        "impedance_voltage_pct": plate[3].cast(pl.Decimal(6, 3)),
    })
    return areas, transformers


def _point_frame(org, code, name, kind, account, area, building, position, voltage, multiplier, route_order, lon, lat,
                 active, *, parent=None, deduction=None, deduction_value=None, checked_on=None, usage=None):
    """Rows of metering.MeteringPoint; the deduction columns default to "no parent, no deduction"."""
    n = len(code)
    return pl.DataFrame({
        "org": org, "code": code, "name": name, "kind": constant(kind, n), "account": account,
        "transformer_area": area, "building": building, "position": position, "voltage_level": voltage,
        "multiplier": pl.Series(multiplier).cast(pl.Decimal(12, 2)),
        "parent": parent if parent is not None else constant(None, n, pl.Int64),
        "deduction": deduction if deduction is not None else constant("none", n),
        "deduction_value": deduction_value if deduction_value is not None else constant(None, n, pl.Decimal(12, 4)),
        "deduction_checked_on": checked_on if checked_on is not None else constant(None, n, pl.Date),
        "usage_category": usage if usage is not None else constant("", n),
        "route_order": route_order, "longitude": lon, "latitude": lat, "is_active": pl.Series(active),
    })


def build_equipment(spec: Spec, layout: Layout, archive: Archive, profiles: list[dict]) -> Equipment:
    rng = spec.rng("equipment")
    acc = archive.accounts
    n = acc.height
    areas, transformers = _areas_and_transformers(spec, layout, archive)
    m = areas.height
    klass = acc["klass"].to_numpy()
    res, com, ind = klass == RESIDENTIAL, klass == COMMERCIAL, klass == INDUSTRIAL
    capacity = acc["capacity_kva"].to_numpy()
    hh, hl, hv35 = acc["hh"].to_numpy(), acc["hl"].to_numpy(), acc["hv35"].to_numpy()
    closed = acc["closed"].to_numpy()
    as_of = np.datetime64(spec.as_of, "D")

    # --- CT/PT and multiplier of settlement points; assessment points measure their transformer's low side
    kv = np.select([hv35, hh], [35.0, 10.0], 0.4)
    lv_ct = com & (capacity > 50)
    has_ct = hh | hl | lv_ct
    ct = np.where(has_ct, ct_primary(capacity, kv), 0)
    pt_ratio = np.select([hv35, hh], [350, 100], 1)
    multiplier = np.where(has_ct, ct // 5, 1) * pt_ratio
    a_ct = ct_primary(areas["capacity_kva"].to_numpy().astype(float), np.full(m, 0.4))

    opened = acc["opened_on"].to_numpy().astype("datetime64[D]")
    closed_on = acc["closed_on"].to_numpy().astype("datetime64[D]")
    rotation = as_of - _days(rng.integers(365 * 5, 365 * 11, n))
    installed = np.maximum(opened, rotation)
    installed = np.where(closed, np.minimum(installed, closed_on - np.timedelta64(30, "D")), installed)
    a_installed = as_of - _days(rng.integers(400, 3650, m))

    # --- settlement points, their sub-metered children, assessment points
    org = acc["org"]
    route_order = acc["route_order"]
    lon, lat = acc["longitude"], acc["latitude"]
    voltage = where(hl, constant("AC380V", n), acc["voltage_level"])
    settlement = _point_frame(
        org, acc["account_no"] + "01", case([has_ct], ["主计量点", "计量点"]), "settlement", acc["id"], acc["area"],
        acc["building"], case([hh, hl, lv_ct, com, res], ["10kV高压计量柜", "配电房低压计量柜", "低压计量箱",
                                                         "商铺计量箱", "楼道集中表箱", "计量箱"]),
        voltage, multiplier, route_order, lon, lat, ~closed)
    child = exact_share(rng, ind, 0.25 * ind.sum()) | exact_share(rng, com, 0.03 * com.sum())
    rows = np.flatnonzero(child)
    quantity = (ind & (rng.random(n) < 0.6))[rows]
    value = np.where(quantity, rng.integers(6, 41, len(rows)) * 50, rng.integers(5, 21, len(rows)))
    children = _point_frame(
        org.gather(rows), acc["account_no"].gather(rows) + "02",
        case([quantity, ind[rows]], ["办公照明定量", "职工宿舍定比", "居住部分定比"]), "settlement",
        acc["id"].gather(rows), acc["area"].gather(rows), acc["building"].gather(rows),
        constant("随主计量点", len(rows)), voltage.gather(rows), np.ones(len(rows)), route_order.gather(rows),
        lon.gather(rows), lat.gather(rows), ~closed[rows],
        parent=pl.Series(rows.astype(np.int64)), deduction=case([quantity], ["fixed_quantity", "fixed_ratio"]),
        # a quantity in kWh a month, a ratio in hundredths
        deduction_value=(pl.Series(value).cast(pl.Decimal(12, 4))
                         / pl.Series(np.where(quantity, 1, 100)).cast(pl.Decimal(12, 4))).cast(pl.Decimal(12, 4)),
        checked_on=pl.Series(as_of - _days(rng.integers(0, 360, len(rows)))).cast(pl.Date),
        usage=case([quantity], ["CI_1", "RES"]))
    assessment = _point_frame(
        areas["org"], areas["code"] + "K", areas["name"] + "考核计量点", "assessment", constant(None, m, pl.Int64),
        areas["id"], constant(None, m, pl.Int64), constant("台区低压出线柜", m), constant("AC380V", m), a_ct // 5,
        pl.Series(np.zeros(m, dtype=np.int64)), areas["lon"], areas["lat"], np.ones(m, dtype=bool))
    points = pl.concat([settlement, children, assessment]).with_columns(id=pl.int_range(pl.len(), dtype=pl.Int64))
    first_assessment = n + len(rows)

    # --- meters: one per settlement main point and per assessment point
    count = n + m
    kind = np.concatenate([np.select([hh, hl | lv_ct, com & ~acc["low_voltage"].to_numpy()], [3, 2, 1], 0),
                           np.full(m, 2)])
    kinds = list(METER_KINDS.values())
    register_set = np.concatenate([
        np.select([ind, com & acc["pf_assessed"].to_numpy(), com, rng.random(n) < 0.5], [4, 3, 2, 1], 0),
        np.full(m, 5)])
    set_names = list(REGISTER_SETS)
    meter_point = np.concatenate([np.arange(n), first_assessment + np.arange(m)])
    meter_installed = np.concatenate([installed, a_installed])
    meter_closed = np.concatenate([closed, np.zeros(m, dtype=bool)])
    seq = pl.Series(np.arange(1, count + 1)).cast(pl.Utf8).str.zfill(12)
    prepaid = np.concatenate([acc["prepaid"].to_numpy(), np.zeros(m, dtype=bool)])
    meters = pl.DataFrame({
        "id": np.arange(count, dtype=np.int64),
        "org": points["org"].gather(meter_point),
        "asset_no": labelled([k[0] for k in kinds], kind) + seq,
        "phase": labelled([k[1] for k in kinds], kind),
        "meter_type": case([prepaid, kind >= 2], ["smart prepayment", "multi-function", "smart"]),
        "accuracy_class": where(np.concatenate([hv35, np.zeros(m, dtype=bool)]), constant("0.2S", count),
                                labelled([k[6] for k in kinds], kind)),
        "manufacturer": labelled(words.MANUFACTURERS, rng.integers(0, len(words.MANUFACTURERS), count)),
        "model_name": labelled([k[2] for k in kinds], kind) + labelled(["285", "1398", "102", "71", "722", "866"],
                                                                       rng.integers(0, 6, count)),
        "rated_current": labelled([k[3] for k in kinds], kind),
        "rated_voltage": labelled([k[4] for k in kinds], kind),
        "constant": pl.Series(np.array([k[5] for k in kinds])[kind]),
        "registers": labelled([json.dumps(REGISTER_SETS[x]) for x in set_names], register_set),
        "digits": pl.Series(np.array([k[7] for k in kinds])[kind]),
        "decimals": pl.Series(np.full(count, 2, dtype=np.int64)),
        "comm_address": seq,
        "status": case([meter_closed], ["removed", "installed"]),
        "manufactured_on": pl.Series(meter_installed - _days(rng.integers(90, 500, count))).cast(pl.Date),
        "verified_on": pl.Series(meter_installed - _days(rng.integers(15, 80, count))).cast(pl.Date),
    })
    loads, profile = _loads(spec, acc, profiles)
    monthly = np.array([float(p["mean_monthly_kwh"]) for p in profiles])[profile] * loads["scale"].cast(
        pl.Float64).to_numpy()
    removal = _removal_reads(closed, (closed_on - installed).astype("timedelta64[D]").astype(np.int64), monthly,
                             multiplier.astype(float), capacity, [REGISTER_SETS[set_names[i]] for i in register_set[:n]]
                             if closed.any() else [], np.array([k[7] for k in kinds])[kind[:n]])
    removed_on = np.concatenate([np.where(closed, closed_on, np.datetime64("NaT", "D")),
                                 np.full(m, np.datetime64("NaT"), "datetime64[D]")])
    meter_installations = pl.DataFrame({
        "id": np.arange(count, dtype=np.int64),
        "metering_point": pl.Series(meter_point.astype(np.int64)),
        "meter": np.arange(count, dtype=np.int64),
        "installed_on": pl.Series(meter_installed).cast(pl.Date),
        "removed_on": pl.Series(removed_on).cast(pl.Date),
        "work_order_ref": constant("", count),
        "install_reads": labelled([json.dumps({r: "0.00" for r in REGISTER_SETS[x]}) for x in set_names],
                                  register_set),
        "removal_reads": pl.concat([removal, constant("{}", m)]),
    })
    it_points = np.concatenate([np.flatnonzero(has_ct), first_assessment + np.arange(m)])
    its, it_installs = _instrument_transformers(
        rng, points["org"].gather(it_points), it_points, np.concatenate([ct[has_ct], a_ct]),
        np.concatenate([hh[has_ct], np.zeros(m, dtype=bool)]), np.concatenate([pt_ratio[has_ct], np.ones(m, np.int64)]),
        np.concatenate([installed[has_ct], a_installed]), removed_on[np.concatenate([np.flatnonzero(has_ct),
                                                                                     n + np.arange(m)])])
    return Equipment(areas=areas, transformers=transformers, points=points, meters=meters,
                     meter_installations=meter_installations, instrument_transformers=its,
                     transformer_installations=it_installs, loads=loads)


def _instrument_transformers(rng, org: pl.Series, point_rows: np.ndarray, ct: np.ndarray, hv: np.ndarray,
                             pt_ratio: np.ndarray, installed: np.ndarray, removed: np.ndarray):
    """CTs (two on three-wire HV points, else three) and PTs (two, HV only) with their installations."""
    n_ct = np.where(hv, 2, 3)
    per_point = n_ct + np.where(hv, 2, 0)
    owner = np.repeat(np.arange(len(point_rows)), per_point)
    slot = np.arange(len(owner)) - np.repeat(np.r_[0, np.cumsum(per_point)[:-1]], per_point)
    is_pt = slot >= n_ct[owner]
    # phases: A, B, C on four-wire points; A and C (V/v connection) and PTs AB, CB on three-wire HV points
    phase = np.where(is_pt, 3 + slot - n_ct[owner], np.where(hv[owner], slot * 2, slot))
    count = len(owner)
    seq = pl.Series(np.arange(1, count + 1)).cast(pl.Utf8).str.zfill(12)
    removed_rows = removed[owner]
    its = pl.DataFrame({
        "id": np.arange(count, dtype=np.int64),
        "org": org.gather(owner),
        "asset_no": case([is_pt], ["3402", "3401"]) + seq,
        "kind": case([is_pt], ["PT", "CT"]),
        "primary_rating": pl.Series(np.where(is_pt, pt_ratio[owner] * 100, ct[owner])).cast(pl.Decimal(10, 2)),
        "secondary_rating": pl.Series(np.where(is_pt, 100, 5)).cast(pl.Decimal(8, 2)),
        "accuracy_class": case([is_pt], ["0.2", "0.2S"]),
        "manufacturer": labelled(words.IT_MANUFACTURERS, rng.integers(0, len(words.IT_MANUFACTURERS), count)),
        "status": case([np.isnat(removed_rows)], ["installed", "removed"]),
    })
    installs = pl.DataFrame({
        "id": np.arange(count, dtype=np.int64),
        "metering_point": pl.Series(point_rows[owner].astype(np.int64)),
        "transformer": np.arange(count, dtype=np.int64),
        "installed_on": pl.Series(installed[owner]).cast(pl.Date),
        "removed_on": pl.Series(removed_rows).cast(pl.Date),
        "work_order_ref": constant("", count),
        "phase": labelled(["A", "B", "C", "AB", "CB"], phase),
    })
    return its, installs


def _loads(spec: Spec, acc: pl.DataFrame, profiles: list[dict]) -> tuple[pl.DataFrame, np.ndarray]:
    """Each account's profile, scale and jitter seed; also the profile index per account (for removal reads)."""
    rng = spec.rng("loads")
    n = acc.height
    klass = acc["klass"].to_numpy()
    capacity = acc["capacity_kva"].to_numpy()
    mean = np.array([float(p["mean_monthly_kwh"]) for p in profiles])
    daytime = np.array([float(p["daytime_share"]) for p in profiles])
    busy = np.flatnonzero(daytime >= np.median(daytime))
    household = rng.integers(0, len(profiles), n)
    business = busy[rng.integers(0, len(busy), n)]
    profile = np.where(klass == RESIDENTIAL, household, business)
    target = np.select(
        [klass == RESIDENTIAL, klass == COMMERCIAL],
        [np.clip(200 * np.exp(rng.normal(0, 0.4, n)), 50, 900),
         capacity * 0.85 * rng.uniform(0.08, 0.25, n) * 730],
        capacity * 0.85 * rng.uniform(0.20, 0.55, n) * 730)
    scale = np.round(target / mean[profile], 6)
    frame = pl.DataFrame({
        "account": acc["id"],
        "profile": labelled([p["code"] for p in profiles], profile),
        "scale": pl.Series(scale).cast(pl.Decimal(14, 6)),
        "jitter_seed": pl.Series(rng.integers(0, 2**31, n)),
    })
    return frame, profile


def _removal_reads(closed: np.ndarray, days: np.ndarray, monthly_kwh: np.ndarray, multiplier: np.ndarray,
                   capacity: np.ndarray, registers: list[list[str]], digits: np.ndarray) -> pl.Series:
    """Register reads at removal for closed accounts ("{}" for others): mean daily energy over the installed days.

    The TOU registers split the total exactly (to the hundredth, largest remainder), so
    the reads are consistent with each other as a real meter's are.
    """
    reads = ["{}"] * len(closed)
    for r in np.flatnonzero(closed).tolist():
        cents = round(monthly_kwh[r] * 12 / 365 * days[r] / multiplier[r] * 100)
        tou = [x for x in registers[r] if x in TOU_SHARE]
        values = {"total": cents}
        if tou:
            values.update(zip(tou, largest_remainder([TOU_SHARE[x] for x in tou], cents), strict=True))
        values["reactive"] = round(cents * 0.35)
        values["demand"] = round(capacity[r] * 0.5 / multiplier[r] * 100)
        limit = 10 ** int(digits[r])
        reads[r] = json.dumps({x: f"{values[x] / 100 % limit:.2f}" for x in registers[r]}, separators=(",", ":"))
    return pl.Series(reads, dtype=pl.Utf8)
