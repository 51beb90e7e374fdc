"""The customer archive of the synthetic utility: customers, contacts, accounts and their effective-dated versions.

Attributes follow the account's class (domain/billing-rules.md §2.1, §6.6):

=============  ==========  ===========  =====================  =================  ===========  =========
class          customer    category     voltage                capacity (kVA)     PF standard  metering
=============  ==========  ===========  =====================  =================  ===========  =========
residential    LV_R        RES_T        AC220V                 4–12               NONE         LL
commercial     LV_NR       CI_1         AC380V (AC220V ≤ 8)    5–250              0.85 ≥ 100   LL
industrial     HV          CI_2         AC10KV (a few AC35KV)  315–2,500 (–10k)   0.90         HH, or HL
=============  ==========  ===========  =====================  =================  ===========  =========

Industrial (two-part) accounts pay a capacity charge by transformer capacity or by
maximum demand (larger ones more often by demand); HL (高供低计) is chosen for some
10 kV accounts up to 630 kVA, whose meter then sits on the transformer's low side.

Tariff codes are ``<usage category>-<tariff voltage band>``, the band being the parent
of the voltage level in the company's code tables: ``RES_T-LT1KV``, ``CI_1-LT1KV``,
``CI_2-1_10KV``, ``CI_2-35KV``.  A tariff table keyed the same way prices every account.

About 1.4 % of accounts are suspended now (a NORMAL version, a SUSPENDED one from the
suspension date with no running capacity, and the scheduled resumption at its planned
end) and about 1 % are closed (a NORMAL version, then CLOSED from ``closed_on``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from . import words
from .columns import case, constant, labelled, where
from .identity import id_numbers, landlines, mobiles, uscc_codes
from .layout import COMMERCIAL, INDUSTRIAL, PARK, RESIDENTIAL, URBAN, VILLAGE, Layout
from .spec import Spec

#: ID-card regions of people who moved in from elsewhere (Hubei, Hunan, Henan, Jiangxi)
OTHER_REGIONS = np.array([421022, 421124, 422801, 420921, 421182, 430104, 410105, 360102])
RES_CAPACITY = (np.array([4, 6, 8, 10, 12]), np.array([0.10, 0.30, 0.35, 0.20, 0.05]))
COM_CAPACITY = (np.array([5, 8, 10, 15, 20, 30, 40, 50, 63, 80, 100, 125, 160, 200, 250]),
                np.array([10, 12, 14, 12, 10, 9, 7, 6, 5, 4, 3.5, 2.5, 2, 1.5, 1.5]))
IND_CAPACITY_10KV = (np.array([315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500]),
                     np.array([20, 16, 14, 14, 9, 9, 6, 5, 4, 3]))
IND_CAPACITY_35KV = (np.array([3150, 4000, 5000, 6300, 8000, 10000]), np.array([30, 25, 20, 12, 8, 5]))
PAYMENT = {
    RESIDENTIAL: (("WITHHOLD", "AGENT", "COUNTER", "PREPAID"), (0.25, 0.55, 0.08, 0.12)),
    COMMERCIAL: (("TRANSFER", "AGENT", "WITHHOLD", "COUNTER", "PREPAID"), (0.15, 0.45, 0.25, 0.05, 0.10)),
    INDUSTRIAL: (("TRANSFER", "WITHHOLD"), (0.8, 0.2)),
}
SUSPEND_RATE = {RESIDENTIAL: 0.012, COMMERCIAL: 0.03, INDUSTRIAL: 0.06}
CLOSE_RATE = {RESIDENTIAL: 0.010, COMMERCIAL: 0.015, INDUSTRIAL: 0.005}
TARIFF_BAND = {"AC220V": "LT1KV", "AC380V": "LT1KV", "AC10KV": "1_10KV", "AC35KV": "35KV"}
DECIMAL_1 = pl.Decimal(10, 1)
#: columns of ``Archive.accounts`` that later builders use and the writer drops
HELPER_COLUMNS = ("klass", "capacity_kva", "station", "area", "building", "route_order", "suspended", "closed", "hh",
                  "hl", "hv35", "pf_assessed", "prepaid", "low_voltage")


@dataclass
class Archive:
    accounts: pl.DataFrame  # every column of customers.Account (relative ids, org as a code) + helper columns
    customers: pl.DataFrame
    contacts: pl.DataFrame
    versions: pl.DataFrame


def choose(rng: np.random.Generator, values, p=None, *, n: int) -> np.ndarray:
    """``n`` draws from ``values`` with relative weights ``p`` (uniform when None)."""
    values = np.asarray(values)
    p = None if p is None else np.asarray(p, dtype=float) / np.sum(p)
    return values[rng.choice(len(values), size=n, p=p)]


def exact_share(rng: np.random.Generator, mask: np.ndarray, count: float) -> np.ndarray:
    """Exactly ``round(count)`` rows of ``mask`` (as many as it has, at most), chosen at random.

    Shares drawn row by row scatter around their target and vanish in a small
    population; counted shares keep a 300-account demo's few suspensions and closings.
    """
    chosen = np.zeros(len(mask), dtype=bool)
    candidates = np.flatnonzero(mask)
    chosen[rng.permutation(candidates)[: min(len(candidates), round(count))]] = True
    return chosen


def person_names(rng: np.random.Generator, n: int) -> pl.Series:
    """Chinese personal names: a surname by its frequency and one or (mostly) two given characters."""
    weights = np.array([w for _s, w in words.SURNAMES], dtype=float)
    surname = rng.choice(len(weights), size=n, p=weights / weights.sum())
    chars = list(words.GIVEN_CHARS)
    first = rng.integers(0, len(chars), n)
    second = np.where(rng.random(n) < 0.72, rng.integers(0, len(chars), n), len(chars))
    return (labelled([s for s, _w in words.SURNAMES], surname) + labelled(chars, first)
            + labelled([*chars, ""], second))


def morning_of(dates: pl.Series) -> pl.Series:
    """09:00 Beijing time (01:00 UTC) of each date: when a record made that day was entered."""
    return dates.cast(pl.Datetime("us")).dt.replace_time_zone("UTC").dt.offset_by("1h")


def _dates(as_of: dt.date, days_ago: np.ndarray) -> np.ndarray:
    return np.datetime64(as_of, "D") - days_ago.astype("timedelta64[D]")


def build_archive(spec: Spec, layout: Layout) -> Archive:
    rng = spec.rng("archive")
    acc = layout.accounts
    n = acc.height
    klass = acc["klass"].to_numpy()
    res, com, ind = klass == RESIDENTIAL, klass == COMMERCIAL, klass == INDUSTRIAL
    station = acc["station"].to_numpy()
    communities = layout.communities
    c_kind = communities["kind"].to_numpy()[acc["community"].to_numpy()]
    stations = spec.stations

    # --- numbers: two station digits and an 8-digit sequence in account order
    seq = acc.with_columns(k=pl.int_range(1, pl.len() + 1).over("station"))["k"]
    prefix = pl.Series([stations[s].prefix for s in range(len(stations))]).gather(station)
    account_no = prefix + seq.cast(pl.Utf8).str.zfill(8)

    # --- capacities, voltages, metering
    capacity = np.zeros(n)
    capacity[res] = choose(rng, *RES_CAPACITY, n=int(res.sum()))
    capacity[com] = choose(rng, *COM_CAPACITY, n=int(com.sum()))
    hv35 = ind & (rng.random(n) < 0.04)
    capacity[ind & ~hv35] = choose(rng, *IND_CAPACITY_10KV, n=int((ind & ~hv35).sum()))
    capacity[hv35] = choose(rng, *IND_CAPACITY_35KV, n=int(hv35.sum()))
    low_voltage = res | (com & (capacity <= 8))
    voltage = case([low_voltage, com, hv35], ["AC220V", "AC380V", "AC35KV", "AC10KV"])
    hl = ind & ~hv35 & (capacity <= 630) & (rng.random(n) < 0.7)
    metering_mode = case([hl, ind], ["HL", "HH", "LL"])
    usage = case([res, com], ["RES_T", "CI_1", "CI_2"])
    band = case([res | com, hv35], ["LT1KV", "35KV", "1_10KV"])
    tariff = usage + "-" + band
    pf = case([ind, com & (capacity >= 100)], ["0.90", "0.85", "NONE"])
    demand_basis = ind & (rng.random(n) < np.where(capacity >= 1000, 0.75, 0.25))
    basis = case([demand_basis, ind], ["demand", "capacity", "none"])

    # --- names, trades and industry classes
    person = person_names(rng, n)
    individual_shop = com & (rng.random(n) < 0.45)
    shop = rng.integers(0, len(words.SHOPS), n)
    com_trade = rng.integers(0, len(words.COMMERCIAL_TRADES), n)
    ind_trade = rng.integers(0, len(words.INDUSTRIAL_TRADES), n)
    brand = pl.Series(words.BRANDS).gather(rng.integers(0, len(words.BRANDS), n))
    county_short = pl.Series([stations[s].county.short for s in range(len(stations))]).gather(station)
    trade = where(com, labelled([t for t, _c in words.COMMERCIAL_TRADES], com_trade),
                  labelled([t for t, _c in words.INDUSTRIAL_TRADES], ind_trade))
    company_name = county_short + brand + trade + "有限公司"
    shop_name = person + labelled([s for s, _c in words.SHOPS], shop)
    name = where(res, person, where(individual_shop, shop_name, company_name))
    # industry classes as indexes into SECTIONS, so hospitals (Q) can be found without text
    sections = sorted({c for _s, c in words.SHOPS} | {c for _t, c in words.COMMERCIAL_TRADES}
                      | {c for _t, c in words.INDUSTRIAL_TRADES}) + ["RES"]
    code_of = {c: i for i, c in enumerate(sections)}
    section = np.select(
        [res, individual_shop, com],
        [len(sections) - 1, np.array([code_of[c] for _s, c in words.SHOPS])[shop],
         np.array([code_of[c] for _t, c in words.COMMERCIAL_TRADES])[com_trade]],
        np.array([code_of[c] for _t, c in words.INDUSTRIAL_TRADES])[ind_trade])
    industry = labelled(sections, section)
    level1 = ind & (capacity >= 5000)
    importance = case([level1, ind & (rng.random(n) < 0.03), com & (section == code_of["Q"])],
                      ["LEVEL1", "LEVEL2", "LEVEL2", "NONE"])
    key_account = (ind & (capacity >= 2000)) | level1
    payment_index = np.zeros(n, dtype=np.int64)
    methods = sorted({m for ms, _w in PAYMENT.values() for m in ms})
    for k, (choices, weights) in PAYMENT.items():
        mask = klass == k
        payment_index[mask] = choose(rng, [methods.index(m) for m in choices], weights, n=int(mask.sum()))
    payment = labelled(methods, payment_index)

    # --- dates and status
    as_of = spec.as_of
    built = communities["built_days_ago"].to_numpy()[acc["community"].to_numpy()]
    urban_settle = np.minimum(rng.exponential(150, n).astype(np.int64), built - 1)
    days_ago = np.select(
        [res & (c_kind == URBAN), res | (c_kind == VILLAGE), com],
        [built - urban_settle, rng.integers(30, 365 * 30, n), rng.integers(30, 365 * 20, n)],
        rng.integers(180, 365 * 25, n)).astype(np.int64)
    days_ago = np.maximum(days_ago, 1)
    opened = _dates(as_of, days_ago)
    eligible = days_ago >= 200
    suspended = np.zeros(n, dtype=bool)
    closed = np.zeros(n, dtype=bool)
    for k, mask in ((RESIDENTIAL, res), (COMMERCIAL, com), (INDUSTRIAL, ind)):
        suspended |= exact_share(rng, mask & eligible, SUSPEND_RATE[k] * mask.sum())
        closed |= exact_share(rng, mask & eligible & ~suspended, CLOSE_RATE[k] * mask.sum())
    suspend_from = _dates(as_of, np.minimum(rng.integers(5, 151, n), days_ago - 30))
    suspend_until = _dates(as_of, -rng.integers(15, 181, n))
    closed_on = _dates(as_of, np.minimum(rng.integers(10, 901, n), days_ago - 60))
    status = case([suspended, closed], ["SUSPENDED", "CLOSED", "NORMAL"])

    # --- service addresses
    b = layout.buildings
    b_id = acc["building"].to_numpy()
    b_count = acc.group_by("building").agg(c=pl.len()).sort("building")
    count_in_building = np.zeros(b.height, dtype=np.int64)
    count_in_building[b_count["building"].to_numpy()] = b_count["c"].to_numpy()
    rank_b = acc["rank_in_building"].to_numpy()
    units = 1 + b_id % 3
    per_unit = -(-count_in_building[b_id] // units)
    unit = rank_b // per_unit + 1
    in_unit = rank_b % per_unit
    room = (in_unit // 2 + 1) * 100 + in_unit % 2 + 1
    parts = communities.select("town", "name", "road", "road_no")[acc["community"].to_numpy()]
    county_name = pl.Series([stations[s].county.name for s in range(len(stations))]).gather(station)
    b_name = b["name"].gather(b_id)
    street = parts["road"] + parts["road_no"].cast(pl.Utf8) + "号"
    urban_home = (street + parts["name"] + b_name + pl.Series(unit).cast(pl.Utf8) + "单元"
                  + pl.Series(room).cast(pl.Utf8) + "室")
    village_home = parts["name"] + b_name + pl.Series(rank_b + 1).cast(pl.Utf8) + "号"
    urban_shop = street + parts["name"] + b_name + "底商" + pl.Series(rank_b + 1).cast(pl.Utf8) + "号"
    plant = parts["name"] + parts["road"] + pl.Series(parts["road_no"].to_numpy() + 2 * rank_b).cast(pl.Utf8) + "号"
    tail = where(c_kind == PARK, plant, where(c_kind != URBAN, village_home, where(com, urban_shop, urban_home)))
    address = county_name + parts["town"] + tail

    # --- customers: identity, contact numbers
    region = np.where(rng.random(n) < 0.85,
                      np.array([s.county.region for s in stations])[station],
                      choose(rng, OTHER_REGIONS, n=n))
    birth = _dates(as_of, rng.integers(22 * 365, 85 * 365, n))
    birth_int = (pl.Series(birth).dt.year() * 10000 + pl.Series(birth).dt.month().cast(pl.Int32) * 100
                 + pl.Series(birth).dt.day().cast(pl.Int32)).to_numpy()
    male = rng.random(n) < 0.5
    seq_in_day = (pl.DataFrame({"r": region, "b": birth_int}).with_columns(k=pl.int_range(pl.len()).over("r", "b"))
                  ["k"].to_numpy())
    # sequence: odd for men, even for women, never 000; the rank within (region, birthday) keeps numbers unique
    id_no = id_numbers(region, birth_int, 2 * seq_in_day + np.where(male, 1, 2))
    uscc = uscc_codes(rng, np.array([s.county.region for s in stations])[station], individual_shop)
    mobile = mobiles(rng, n)
    area_code = pl.Series([s.county.area_code for s in stations]).gather(station)
    landline = landlines(rng, area_code)
    is_active = ~closed
    org = pl.Series([s.code for s in stations]).gather(station)
    created = morning_of(pl.Series(opened))

    customers = pl.DataFrame({
        "id": acc["id"],
        "org": org,
        "customer_no": "C" + account_no,
        "name": name,
        "customer_type": case([res, com], ["LV_R", "LV_NR", "HV"]),
        "certificate_type": case([res], ["id_card", "uscc"]),
        "certificate_no": where(res, id_no, uscc),
        "mobile": mobile,
        "phone": where(res, constant("", n), landline),
        "email": constant("", n),
        "address": address,
        "is_active": is_active,
        "created_at": created,
    })
    contact_rows = np.flatnonzero(ind)
    contacts = pl.DataFrame({
        "id": np.arange(len(contact_rows), dtype=np.int64),
        "customer": contact_rows.astype(np.int64),
        "name": person_names(rng, len(contact_rows)),
        "role": constant("electrical", len(contact_rows)),
        "mobile": mobiles(rng, len(contact_rows)),
        "phone": landline.gather(contact_rows),
        "email": constant("", len(contact_rows)),
    })

    contract = pl.Series(capacity).cast(DECIMAL_1)
    zero = pl.Series(np.zeros(n)).cast(DECIMAL_1)
    running = pl.Series(np.where(suspended | closed, 0.0, capacity)).cast(DECIMAL_1)
    accounts = pl.DataFrame({
        "id": acc["id"],
        "org": org,
        "customer": acc["id"],
        "name": name,
        "usage_category": usage,
        "voltage_level": voltage,
        "tariff_code": tariff,
        "contract_capacity": contract,
        "running_capacity": running,
        "capacity_basis": basis,
        "pf_standard": pf,
        "metering_mode": metering_mode,
        "status": status,
        "account_no": account_no,
        "service_address": address,
        "industry_class": industry,
        "importance_level": importance,
        "is_key_account": key_account,
        "payment_method": payment,
        "reading_route_code": acc["route"],
        "longitude": acc["lon"],
        "latitude": acc["lat"],
        "opened_on": pl.Series(opened),
        "closed_on": pl.Series(np.where(closed, closed_on, np.datetime64("NaT"))).cast(pl.Date),
        "created_at": created,
    })
    versions = _versions(accounts, contract, zero, suspended, closed, suspend_from, suspend_until, closed_on)
    helpers = pl.DataFrame({"klass": klass, "capacity_kva": capacity, "station": station,
                            "area": acc["area"], "building": acc["building"], "route_order": acc["route_order"],
                            "suspended": suspended, "closed": closed, "hh": ind & ~hl, "hl": hl, "hv35": hv35,
                            "pf_assessed": ind | (com & (capacity >= 100)),
                            "prepaid": payment_index == methods.index("PREPAID"), "low_voltage": low_voltage})
    return Archive(accounts=pl.concat([accounts, helpers], how="horizontal"), customers=customers,
                   contacts=contacts, versions=versions)


def _versions(accounts: pl.DataFrame, contract: pl.Series, zero: pl.Series, suspended: np.ndarray, closed: np.ndarray,
              suspend_from: np.ndarray, suspend_until: np.ndarray, closed_on: np.ndarray) -> pl.DataFrame:
    """One version per account from its opening; suspensions and closings add their later versions."""
    fields = accounts.select("customer", "name", "usage_category", "voltage_level", "tariff_code", "capacity_basis",
                             "pf_standard", "metering_mode")
    opened = accounts["opened_on"]
    first_end = np.where(suspended, suspend_from, np.where(closed, closed_on, np.datetime64("NaT")))
    base = fields.with_columns(account=accounts["id"], contract_capacity=contract)

    def version(mask, valid_from, valid_to, status, running, scheduled, recorded):
        rows = np.flatnonzero(mask)
        return base[rows].with_columns(
            valid_from=pl.Series(valid_from[rows]).cast(pl.Date),
            valid_to=pl.Series(valid_to[rows]).cast(pl.Date),
            status=pl.lit(status, dtype=pl.Utf8),
            running_capacity=running.gather(rows),
            scheduled_resumption=pl.lit(scheduled),
            # a scheduled resumption is recorded with the suspension, not on its future date
            created_at=morning_of(pl.Series(recorded[rows]).cast(pl.Date)),
        )

    opened = opened.to_numpy()
    every = np.ones(len(opened), dtype=bool)
    nat = np.full(len(opened), np.datetime64("NaT"), dtype="datetime64[D]")
    frames = [
        version(every, opened, first_end, "NORMAL", contract, False, opened),
        version(suspended, suspend_from, suspend_until, "SUSPENDED", zero, False, suspend_from),
        version(suspended, suspend_until, nat, "NORMAL", contract, True, suspend_from),
        version(closed, closed_on, nat, "CLOSED", zero, False, closed_on),
    ]
    versions = pl.concat(frames).sort("account", "valid_from")
    return versions.with_columns(id=pl.int_range(pl.len(), dtype=pl.Int64))
