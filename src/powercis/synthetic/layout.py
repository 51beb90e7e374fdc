"""Where the accounts are: stations, communities, buildings, transformer areas, feeders, substations, reading routes.

The account population is placed first and the grid is grown around it, as a real
network grows around its load:

* accounts of each class (residential, commercial, industrial) are apportioned to the
  supply stations; residents live in communities — urban 小区 of 150–1,200 households or
  villages (村) of 80–500 — and commercial accounts are shops among them (more in the
  towns); industrial accounts sit in industrial parks;
* a community's households fill buildings (小区 blocks of 40–120 households, village
  groups 组 of 30–80); buildings are grouped into public transformer areas of about
  120–280 accounts; every industrial account has a private transformer area of its own;
* a station's areas are strung into 10 kV feeders of 15–35 areas; each county has a few
  substations (about one per twelve feeders, at least two), each feeder fed by the
  nearest; the feeder's route runs from its substation through its areas, nearest first;
* reading routes take consecutive public areas until they hold at least 200 accounts,
  and private-area accounts in routes of up to 100.

Coordinates cluster by community around the station's town; shapes are simple boxes
around the members (GeoJSON polygons) and feeder polylines.  All arrays are built
vectorised; the few Python loops run per station, community or feeder, never per account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import polars as pl

from . import words
from .spec import Spec

RESIDENTIAL, COMMERCIAL, INDUSTRIAL = 0, 1, 2
MIX = (0.90, 0.08, 0.02)
URBAN, VILLAGE, PARK = 0, 1, 2
PUBLIC_CAPACITIES = np.array([100, 160, 200, 250, 315, 400, 500, 630, 800])
#: degrees per metre (latitude; longitude at 30°N is close enough for box sizes)
DEG_PER_M = 1 / 111_000


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` adding up to ``total`` (largest remainder, ties by position)."""
    quotas = total * weights / weights.sum()
    counts = np.floor(quotas).astype(np.int64)
    order = np.lexsort((np.arange(len(weights)), -(quotas - counts)))
    counts[order[: total - counts.sum()]] += 1
    return counts


def class_counts(accounts: int) -> np.ndarray:
    """Residential, commercial and industrial account counts in the 90/8/2 mix."""
    return apportion(accounts, np.array(MIX))


def rank_within(groups: np.ndarray) -> np.ndarray:
    """0-based position of each element within its group, for rows already sorted by group."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    sizes = np.diff(np.r_[starts, len(groups)])
    return np.arange(len(groups)) - np.repeat(starts, sizes)


def box_polygon(lon_min, lat_min, lon_max, lat_max) -> str:
    """A closed GeoJSON polygon (text) for a lon/lat box."""
    ring = [[lon_min, lat_min], [lon_max, lat_min], [lon_max, lat_max], [lon_min, lat_max], [lon_min, lat_min]]
    return json.dumps({"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]},
                      separators=(",", ":"))


def boxes(lon_min, lat_min, lon_max, lat_max) -> list[str]:
    return [box_polygon(*row) for row in zip(lon_min.tolist(), lat_min.tolist(), lon_max.tolist(), lat_max.tolist(),
                                             strict=True)]


def pick(rng: np.random.Generator, items, n: int, weights=None) -> np.ndarray:
    """Indexes into ``items`` drawn with the given (relative) weights."""
    p = None if weights is None else np.asarray(weights, dtype=float) / np.sum(weights)
    return rng.choice(len(items), size=n, p=p)


@dataclass
class Layout:
    """The placed population and the grid frames; account rows are in their final (account number) order."""

    accounts: pl.DataFrame  # id, station, klass, community, building, area, rank_in_building, lon, lat, route…
    communities: pl.DataFrame
    buildings: pl.DataFrame
    areas: pl.DataFrame
    feeders: pl.DataFrame
    substations: pl.DataFrame


def _towns(spec: Spec) -> dict[int, list[str]]:
    """Town (镇/街道) names per station: the station's own place first, then neighbours from the word list."""
    rng = spec.rng("towns")
    towns = {}
    for i, station in enumerate(spec.stations):
        suffix = "街道" if station.county.urban else "镇"
        others = [w for w in np.array(words.TOWN_WORDS)[rng.permutation(len(words.TOWN_WORDS))][:4].tolist()
                  if w != station.place]
        towns[i] = [station.place + suffix, *[w + (suffix if station.county.urban or k % 3 else "乡")
                                              for k, w in enumerate(others[:3])]]
    return towns


def _station_centres(spec: Spec) -> np.ndarray:
    rng = spec.rng("station-centres")
    centres = np.zeros((len(spec.stations), 2))
    seen: dict[str, int] = {}
    for i, station in enumerate(spec.stations):
        k = seen.get(station.county.code, 0)
        seen[station.county.code] = k + 1
        angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(0.06, 0.12) if k else 0.0
        lon, lat = station.county.centre
        centres[i] = (lon + radius * np.cos(angle), lat + radius * np.sin(angle))
    return centres


def _communities_of_station(rng, residents: int, shops: int, plants: int, urban_share: float):
    """Community kinds and sizes (residential households) for one station, plus its parks."""
    kinds, sizes = [], []
    remaining = residents
    while remaining > 0:
        kind = URBAN if rng.random() < urban_share else VILLAGE
        size = int(rng.integers(150, 1201) if kind == URBAN else rng.integers(80, 501))
        size = min(size, remaining)
        kinds.append(kind)
        sizes.append(size)
        remaining -= size
    if not kinds and shops:
        kinds, sizes = [URBAN], [0]
    parks = int(np.ceil(plants / 120)) if plants else 0
    kinds += [PARK] * parks
    sizes += [0] * parks
    return np.array(kinds, dtype=np.int64), np.array(sizes, dtype=np.int64), parks


def place_accounts(spec: Spec) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The accounts (station, class, community, order) and the communities, before buildings and grid."""
    rng = spec.rng("placement")
    n_stations = len(spec.stations)
    weights = 1.0 + rng.random(n_stations)
    per_station = np.stack([apportion(int(c), weights) for c in class_counts(spec.accounts)], axis=1)
    account_parts, community_parts = [], []
    next_community = 0
    for s, station in enumerate(spec.stations):
        res, com, ind = (int(x) for x in per_station[s])
        urban_share = 0.9 if station.county.urban else 0.55
        kinds, sizes, parks = _communities_of_station(rng, res, com, ind, urban_share)
        n_comm = len(kinds)
        ids = next_community + np.arange(n_comm)
        next_community += n_comm
        community_parts.append(pl.DataFrame({"id": ids, "station": np.full(n_comm, s), "kind": kinds}))
        residential_community = np.repeat(ids, sizes)
        living = np.flatnonzero(kinds != PARK)
        shop_weight = (sizes[living] + 20) * np.where(kinds[living] == URBAN, 3.0, 1.0)
        commercial_community = ids[living][pick(rng, living, com, shop_weight)] if com else np.zeros(0, np.int64)
        park_ids = ids[kinds == PARK]
        industrial_community = park_ids[(np.arange(ind) * parks) // ind] if ind else np.zeros(0, np.int64)
        part = pl.DataFrame({
            "station": np.full(res + com + ind, s, dtype=np.int64),
            "klass": np.repeat([RESIDENTIAL, COMMERCIAL, INDUSTRIAL], [res, com, ind]),
            "community": np.concatenate([residential_community, commercial_community, industrial_community]),
            "key": rng.random(res + com + ind),
        })
        account_parts.append(part)
    accounts = (pl.concat(account_parts).sort("station", "community", "key").drop("key")
                .with_row_index("id").with_columns(pl.col("id").cast(pl.Int64)))
    accounts = accounts.with_columns(rank=pl.int_range(pl.len()).over("community"))
    communities = pl.concat(community_parts)
    counts = accounts.group_by("community").agg(n=pl.len())
    communities = (communities.join(counts, left_on="id", right_on="community", how="left")
                   .with_columns(pl.col("n").fill_null(0)).sort("id"))
    return accounts, communities


def _community_details(spec: Spec, communities: pl.DataFrame, towns: dict[int, list[str]]) -> pl.DataFrame:
    """Names, towns, roads, centres and build dates of the communities."""
    rng = spec.rng("communities")
    n = communities.height
    station = communities["station"].to_numpy()
    kind = communities["kind"].to_numpy()
    centres = _station_centres(spec)
    spread = np.select([kind == URBAN, kind == VILLAGE], [0.012, 0.045], 0.03)
    lon = centres[station, 0] + rng.normal(0, 1, n) * spread
    lat = centres[station, 1] + rng.normal(0, 1, n) * spread
    town_index = np.where(kind == URBAN, np.minimum(rng.geometric(0.6, n) - 1, 3), rng.integers(0, 4, n))
    town = [towns[s][t % len(towns[s])] for s, t in zip(station.tolist(), town_index.tolist(), strict=True)]
    urban_name = (pl.Series(words.COMMUNITY_HEADS).gather(rng.integers(0, len(words.COMMUNITY_HEADS), n))
                  + pl.Series(words.COMMUNITY_TAILS).gather(rng.integers(0, len(words.COMMUNITY_TAILS), n)))
    surname_village = pl.Series([s for s, _w in words.SURNAMES]).gather(rng.integers(0, 40, n)) + "家"
    nature_village = pl.Series(words.VILLAGE_HEADS).gather(rng.integers(0, len(words.VILLAGE_HEADS), n))
    village_name = (pl.Series(np.where(rng.random(n) < 0.6, surname_village.to_numpy(), nature_village.to_numpy()))
                    + pl.Series(words.VILLAGE_TAILS).gather(rng.integers(0, len(words.VILLAGE_TAILS), n)) + "村")
    county_short = pl.Series([spec.stations[s].county.short for s in station.tolist()], dtype=pl.Utf8)
    park_name = (pl.Series(np.where(rng.random(n) < 0.5, county_short.to_numpy(),
                                    [t[:-1] if len(t) > 2 else t for t in town]))
                 + pl.Series(words.PARK_TAILS).gather(rng.integers(0, len(words.PARK_TAILS), n)))
    name = pl.Series(np.select([kind == URBAN, kind == VILLAGE], [urban_name.to_numpy(), village_name.to_numpy()],
                               park_name.to_numpy()))
    road = (pl.Series(words.ROAD_HEADS).gather(rng.integers(0, len(words.ROAD_HEADS), n))
            + pl.Series(words.ROAD_TAILS).gather(rng.integers(0, len(words.ROAD_TAILS), n)))
    road_no = rng.integers(1, 400, n)
    built_days_ago = rng.integers(200, 365 * 25, n)
    frame = communities.with_columns(
        town=pl.Series(town, dtype=pl.Utf8), name=name, road=road, road_no=pl.Series(road_no),
        lon=pl.Series(lon), lat=pl.Series(lat), built_days_ago=pl.Series(built_days_ago),
    )
    # the same name twice in one station: later ones become phase 2, 3… (二期) of the estate
    dup = frame.with_columns(k=pl.int_range(pl.len()).over("station", "name"))["k"].to_numpy()
    numerals = "一二三四五六七八九十"
    named = [f"{name}{numerals[k] if k < len(numerals) else k + 1}期" if k and kd != VILLAGE else name
             for name, k, kd in zip(frame["name"].to_list(), dup.tolist(), kind.tolist(), strict=True)]
    codes = [f"{spec.stations[s].code}C{k:05d}" for s, k in zip(
        station.tolist(), frame.with_columns(k=pl.int_range(1, pl.len() + 1).over("station"))["k"].to_list(),
        strict=True)]
    return frame.with_columns(name=pl.Series(named, dtype=pl.Utf8), code=pl.Series(codes, dtype=pl.Utf8))


def _buildings(spec: Spec, accounts: pl.DataFrame, communities: pl.DataFrame):
    """Buildings of every community and each account's building and rank in it."""
    rng = spec.rng("buildings")
    kind = communities["kind"].to_numpy()
    n = communities["n"].to_numpy()
    block = np.where(kind == URBAN, rng.integers(40, 121, len(kind)), rng.integers(30, 81, len(kind)))
    n_buildings = np.where(kind == PARK, n, np.maximum(1, np.rint(n / block))).astype(np.int64)
    community = accounts["community"].to_numpy()
    rank = accounts["rank"].to_numpy()
    local = np.where(kind[community] == PARK, rank, (rank * n_buildings[community]) // np.maximum(n[community], 1))
    first = np.r_[0, np.cumsum(n_buildings)[:-1]]
    building = first[community] + local
    b_comm = np.repeat(np.arange(len(kind)), n_buildings)
    b_local = np.arange(len(b_comm)) - first[b_comm]
    b_kind = kind[b_comm]
    spread = np.select([b_kind == URBAN, b_kind == VILLAGE], [0.0012, 0.004], 0.003)
    c_lon, c_lat = communities["lon"].to_numpy(), communities["lat"].to_numpy()
    b_lon = c_lon[b_comm] + rng.normal(0, 1, len(b_comm)) * spread
    b_lat = c_lat[b_comm] + rng.normal(0, 1, len(b_comm)) * spread
    half_w = np.where(b_kind == VILLAGE, 60, 25) * DEG_PER_M
    half_h = np.where(b_kind == VILLAGE, 40, 12) * DEG_PER_M
    label = np.select([b_kind == URBAN, b_kind == VILLAGE], ["栋", "组"], "号厂房")
    c_codes = communities["code"].to_numpy()
    buildings = pl.DataFrame({
        "id": np.arange(len(b_comm), dtype=np.int64),
        "community": b_comm,
        "station": communities["station"].to_numpy()[b_comm],
        "number": b_local + 1,
        "code": [f"{c}-{k:03d}" for c, k in zip(c_codes[b_comm].tolist(), (b_local + 1).tolist(), strict=True)],
        "name": pl.Series((b_local + 1).astype(str).astype(object) + label.astype(object), dtype=pl.Utf8),
        "lon": b_lon, "lat": b_lat,
        "geometry": boxes(b_lon - half_w, b_lat - half_h, b_lon + half_w, b_lat + half_h),
    })
    accounts = accounts.with_columns(building=pl.Series(building))
    accounts = accounts.with_columns(rank_in_building=pl.int_range(pl.len()).over("building"))
    jitter = np.where(kind[community] == VILLAGE, 15, 4) * DEG_PER_M
    acc_lon = b_lon[building] + rng.normal(0, 1, len(building)) * jitter
    acc_lat = b_lat[building] + rng.normal(0, 1, len(building)) * jitter
    return accounts.with_columns(lon=pl.Series(acc_lon).round(6), lat=pl.Series(acc_lat).round(6)), buildings


def _community_shapes(communities: pl.DataFrame, buildings: pl.DataFrame) -> pl.DataFrame:
    extent = buildings.group_by("community").agg(
        lon_min=pl.col("lon").min(), lon_max=pl.col("lon").max(), lat_min=pl.col("lat").min(),
        lat_max=pl.col("lat").max())
    frame = communities.join(extent, left_on="id", right_on="community", how="left").sort("id")
    margin = 60 * DEG_PER_M
    lon_min = frame["lon_min"].fill_null(frame["lon"]).to_numpy() - margin
    lon_max = frame["lon_max"].fill_null(frame["lon"]).to_numpy() + margin
    lat_min = frame["lat_min"].fill_null(frame["lat"]).to_numpy() - margin
    lat_max = frame["lat_max"].fill_null(frame["lat"]).to_numpy() + margin
    return frame.drop("lon_min", "lon_max", "lat_min", "lat_max").with_columns(
        geometry=pl.Series(boxes(lon_min, lat_min, lon_max, lat_max), dtype=pl.Utf8))


def _areas(spec: Spec, accounts: pl.DataFrame, communities: pl.DataFrame, buildings: pl.DataFrame):
    """Public areas over whole buildings of a community; a private area per industrial account."""
    rng = spec.rng("areas")
    kind = communities["kind"].to_numpy()
    n = communities["n"].to_numpy()
    b_per_comm = buildings.group_by("community").agg(nb=pl.len()).sort("community")
    nb = np.zeros(len(kind), dtype=np.int64)
    nb[b_per_comm["community"].to_numpy()] = b_per_comm["nb"].to_numpy()
    target = rng.integers(120, 281, len(kind))
    n_public = np.where(kind == PARK, 0, np.minimum(nb, np.maximum(1, np.rint(n / target)))).astype(np.int64)
    n_areas = np.where(kind == PARK, n, n_public)
    first = np.r_[0, np.cumsum(n_areas)[:-1]]
    community = accounts["community"].to_numpy()
    b_local = buildings["number"].to_numpy() - 1
    building = accounts["building"].to_numpy()
    local = np.where(kind[community] == PARK, accounts["rank"].to_numpy(),
                     (b_local[building] * n_areas[community]) // np.maximum(nb[community], 1))
    area = first[community] + local
    accounts = accounts.with_columns(area=pl.Series(area))
    a_comm = np.repeat(np.arange(len(kind)), n_areas)
    a_local = np.arange(len(a_comm)) - first[a_comm]
    extent = accounts.group_by("area").agg(
        lon_min=pl.col("lon").min(), lon_max=pl.col("lon").max(), lat_min=pl.col("lat").min(),
        lat_max=pl.col("lat").max(), lon=pl.col("lon").mean(), lat=pl.col("lat").mean(), members=pl.len()).sort("area")
    margin = 30 * DEG_PER_M
    station = communities["station"].to_numpy()[a_comm]
    area_code_k = pl.DataFrame({"s": station}).with_columns(k=pl.int_range(1, pl.len() + 1).over("s"))["k"].to_numpy()
    c_names = communities["name"].to_numpy()
    areas = pl.DataFrame({
        "id": np.arange(len(a_comm), dtype=np.int64),
        "community": a_comm,
        "station": station,
        "private": kind[a_comm] == PARK,
        "code": [f"{spec.stations[s].code}T{k:05d}"
                 for s, k in zip(station.tolist(), area_code_k.tolist(), strict=True)],
        "public_name": pl.Series(c_names[a_comm].astype(object) + (a_local + 1).astype(str).astype(object) + "号台区",
                                 dtype=pl.Utf8),
        "lon": extent["lon"].round(6), "lat": extent["lat"].round(6), "members": extent["members"],
        "geometry": boxes(extent["lon_min"].to_numpy() - margin, extent["lat_min"].to_numpy() - margin,
                          extent["lon_max"].to_numpy() + margin, extent["lat_max"].to_numpy() + margin),
    })
    return accounts, areas


def public_capacity(load_kva: np.ndarray) -> np.ndarray:
    """The smallest standard public transformer at or above the diversified load (100–800 kVA)."""
    index = np.searchsorted(PUBLIC_CAPACITIES, load_kva)
    return PUBLIC_CAPACITIES[np.minimum(index, len(PUBLIC_CAPACITIES) - 1)]


def _feeders_and_substations(spec: Spec, areas: pl.DataFrame):
    """Feeders of 15–35 areas per station; a few substations per county, each feeder from the nearest."""
    rng = spec.rng("feeders")
    station = areas["station"].to_numpy()
    lon, lat = areas["lon"].to_numpy(), areas["lat"].to_numpy()
    feeder = np.zeros(len(station), dtype=np.int64)
    feeder_station = []
    next_feeder = 0
    for s in range(len(spec.stations)):
        members = np.flatnonzero(station == s)
        if not len(members):
            continue
        sizes = []
        while sum(sizes) < len(members):
            sizes.append(int(rng.integers(15, 36)))
        local = np.repeat(np.arange(len(sizes)), sizes)[: len(members)]
        feeder[members] = next_feeder + local
        feeder_station += [s] * (local[-1] + 1)
        next_feeder += local[-1] + 1
    feeder_station = np.array(feeder_station, dtype=np.int64)
    f_lon = np.bincount(feeder, lon, next_feeder) / np.bincount(feeder, None, next_feeder)
    f_lat = np.bincount(feeder, lat, next_feeder) / np.bincount(feeder, None, next_feeder)
    county_of_station = np.array([spec.counties.index(st.county) for st in spec.stations])
    f_county = county_of_station[feeder_station]
    sub_rows, f_sub = [], np.zeros(next_feeder, dtype=np.int64)
    for c, county in enumerate(spec.counties):
        mine = np.flatnonzero(f_county == c)
        if not len(mine):
            continue
        count = int(min(len(mine), max(2, np.ceil(len(mine) / 12))))
        angle = rng.uniform(0, 2 * np.pi, count)
        radius = rng.uniform(0.015, 0.09, count)
        s_lon = county.centre[0] + radius * np.cos(angle)
        s_lat = county.centre[1] + radius * np.sin(angle)
        distance = (f_lon[mine, None] - s_lon[None, :]) ** 2 + (f_lat[mine, None] - s_lat[None, :]) ** 2
        nearest = distance.argmin(axis=1)
        # a substation nobody is nearest to still feeds one feeder: real ones are built for a load
        for k in range(count):
            if not (nearest == k).any():
                nearest[int(np.argmin(distance[:, k]))] = k
        base = len(sub_rows)
        f_sub[mine] = base + nearest
        for k in range(count):
            sub_rows.append((c, k, float(s_lon[k]), float(s_lat[k]), int((nearest == k).sum())))
    substations = pl.DataFrame(sub_rows, schema=["county", "number", "lon", "lat", "feeders"], orient="row")
    substations = substations.with_columns(id=pl.int_range(pl.len(), dtype=pl.Int64))
    names, codes, voltages, places = [], [], [], []
    directions = ("城东", "城西", "城南", "城北", "新区", "开发区", "滨江", "高新", "港口", "机场")
    for c, k, *_rest, feeders in sub_rows:
        county = spec.counties[c]
        big = feeders > 8
        place = f"{directions[k % len(directions)]}{'' if k < len(directions) else k // len(directions) + 1}"
        places.append(place)
        voltages.append("AC110KV" if big else "AC35KV")
        names.append(f"{county.short}{place}{'110' if big else '35'}kV变电站")
        codes.append(f"{county.code}S{k + 1:02d}")
    substations = substations.with_columns(name=pl.Series(names, dtype=pl.Utf8), code=pl.Series(codes, dtype=pl.Utf8),
                                           voltage_level=pl.Series(voltages, dtype=pl.Utf8),
                                           org=pl.Series([spec.counties[c].code for c, *_r in sub_rows], dtype=pl.Utf8),
                                           lon=pl.col("lon").round(6), lat=pl.col("lat").round(6))
    # feeder routes: substation, then its areas nearest first
    s_lon_all, s_lat_all = substations["lon"].to_numpy(), substations["lat"].to_numpy()
    order = np.lexsort(((lon - s_lon_all[f_sub[feeder]]) ** 2 + (lat - s_lat_all[f_sub[feeder]]) ** 2, feeder))
    starts = np.r_[0, np.flatnonzero(np.diff(feeder[order])) + 1, len(order)]
    geometry, codes_f, names_f = [], [], []
    sub_codes = substations["code"].to_list()
    per_sub: dict[int, int] = {}
    for f in range(next_feeder):
        idx = order[starts[f]:starts[f + 1]]
        sub = int(f_sub[f])
        points = [[round(float(s_lon_all[sub]), 6), round(float(s_lat_all[sub]), 6)]]
        points += [[round(float(x), 6), round(float(y), 6)] for x, y in zip(lon[idx], lat[idx], strict=True)]
        geometry.append(json.dumps({"type": "LineString", "coordinates": points}, separators=(",", ":")))
        per_sub[sub] = per_sub.get(sub, 0) + 1
        codes_f.append(f"{sub_codes[sub]}F{per_sub[sub]:02d}")
        names_f.append(f"10kV{places[sub]}{per_sub[sub]}号线")
    feeders = pl.DataFrame({
        "id": np.arange(next_feeder, dtype=np.int64), "substation": f_sub, "station": feeder_station,
        "code": pl.Series(codes_f, dtype=pl.Utf8), "name": pl.Series(names_f, dtype=pl.Utf8),
        "geometry": pl.Series(geometry, dtype=pl.Utf8),
    })
    return areas.with_columns(feeder=pl.Series(feeder)), feeders, substations


def _routes(spec: Spec, accounts: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    """Reading routes: consecutive public areas up to ≥ 200 accounts; private-area accounts by the hundred."""
    private = areas["private"].to_numpy()
    members = areas["members"].to_numpy()
    station = areas["station"].to_numpy()
    route_code = np.empty(len(private), dtype=object)
    for s, st in enumerate(spec.stations):
        public_idx = np.flatnonzero((station == s) & ~private)
        count, number = 0, 1
        for a in public_idx.tolist():
            route_code[a] = f"{st.code}-{number:03d}"
            count += members[a]
            if count >= 200:
                count, number = 0, number + 1
        private_idx = np.flatnonzero((station == s) & private)
        for k, a in enumerate(private_idx.tolist()):
            route_code[a] = f"{st.code}-Z{k // 100 + 1:02d}"
    accounts = accounts.with_columns(route=pl.Series(route_code[accounts["area"].to_numpy()].tolist(), dtype=pl.Utf8))
    return accounts.with_columns(route_order=pl.int_range(1, pl.len() + 1).over("route"))


def build_layout(spec: Spec) -> Layout:
    towns = _towns(spec)
    accounts, communities = place_accounts(spec)
    communities = _community_details(spec, communities, towns)
    accounts, buildings = _buildings(spec, accounts, communities)
    communities = _community_shapes(communities, buildings)
    accounts, areas = _areas(spec, accounts, communities, buildings)
    areas, feeders, substations = _feeders_and_substations(spec, areas)
    accounts = _routes(spec, accounts, areas)
    return Layout(accounts=accounts, communities=communities, buildings=buildings, areas=areas, feeders=feeders,
                  substations=substations)
