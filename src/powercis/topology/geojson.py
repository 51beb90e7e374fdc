"""GeoJSON layers of the map, limited to the user's scope, a bounding box and a feature cap.

The map asks for what lies in its view (``bbox``); each layer answers at most
:data:`LIMITS` features and says ``truncated`` when there were more, so a county of a
million accounts costs the browser no more than a village (docs/decisions/0010).
Records with a point (areas, communities, buildings, accounts) are filtered by that point
in SQL, with a margin so that outlines reaching into the view are drawn; feeders have only
their route, so they are filtered by the route's bounding box — there are hundreds of
feeders per county, not millions.
"""

from __future__ import annotations

from django.db.models import Max, Min, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from powercis.core import authz
from powercis.customers.models import Account, AccountStatus
from powercis.customers.selectors import VIEW_PERMS as ACCOUNT_PERMS
from powercis.grid import selectors as grid
from powercis.grid.geometry import BBox, GeometryError, bbox_of, check_coordinates, intersects
from powercis.grid.models import TransformerArea
from powercis.metering.models import MeteringPoint

from .links import account_url, url_for

LIMITS = {"feeders": 2000, "areas": 5000, "communities": 2000, "buildings": 5000, "accounts": 5000}
#: degrees added around the view when filtering by a record's point (~2 km): outlines around a point
#: outside the view may still reach into it
MARGIN = 0.02
LAYERS = tuple(LIMITS)


def parse_bbox(text: str | None) -> BBox | None:
    """``minLon,minLat,maxLon,maxLat`` → a box; ValueError with a translated message when malformed."""
    if not text:
        return None
    parts = text.split(",")
    try:
        box = tuple(float(p) for p in parts)
    except ValueError:
        box = ()
    if len(box) != 4:
        raise ValueError(_("bbox must be four numbers: minLon,minLat,maxLon,maxLat."))
    try:
        check_coordinates(box[0], box[1], "bbox")
        check_coordinates(box[2], box[3], "bbox")
    except GeometryError as exc:
        raise ValueError(str(exc)) from exc
    if box[0] > box[2] or box[1] > box[3]:
        raise ValueError(_("bbox must give the south-west corner before the north-east corner."))
    return box


def _within(rows: QuerySet, box: BBox | None, prefix: str = "", margin: float = MARGIN) -> QuerySet:
    if box is None:
        return rows
    return rows.filter(**{
        f"{prefix}longitude__gte": box[0] - margin, f"{prefix}longitude__lte": box[2] + margin,
        f"{prefix}latitude__gte": box[1] - margin, f"{prefix}latitude__lte": box[3] + margin,
    })


def point(lon, lat) -> dict | None:
    return None if lon is None or lat is None else {"type": "Point", "coordinates": [lon, lat]}


def feature(geometry: dict, properties: dict) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def collection(features: list[dict], *, limit: int | None = None, truncated: bool = False) -> dict:
    result = {"type": "FeatureCollection", "features": features, "truncated": truncated}
    if limit is not None:
        result["limit"] = limit
    return result


def _capped(rows, limit: int) -> tuple[list, bool]:
    """At most ``limit`` rows, and whether there were more (one extra row is fetched to know)."""
    items = list(rows[: limit + 1])
    return items[:limit], len(items) > limit


def _area_feature(area: dict) -> dict | None:
    geometry = area["geometry"] or point(area["longitude"], area["latitude"])
    if geometry is None:
        return None
    return feature(geometry, {
        "layer": "area", "id": area["id"], "code": area["code"], "name": area["name"],
        "ownership": str(TransformerArea.Ownership(area["ownership"]).label),
        "capacity_kva": str(area["capacity_kva"]), "feeder": area["feeder__code"] or "",
        "is_active": area["is_active"], "url": url_for("topology:area", area["id"]),
    })


def _feeder_feature(feeder: dict) -> dict:
    return feature(feeder["geometry"], {
        "layer": "feeder", "id": feeder["id"], "code": feeder["code"], "name": feeder["name"],
        "voltage_level": feeder["voltage_level"], "substation": feeder["substation__name"] or "",
        "is_active": feeder["is_active"], "url": url_for("grid:feeder_detail", feeder["id"]),
    })


def _account_feature(row: dict, lon: float, lat: float) -> dict:
    return feature(point(lon, lat), {
        "layer": "account", "id": row["id"], "account_no": row["account_no"], "name": row["name"],
        "status": row["status"], "status_label": str(AccountStatus(row["status"]).label),
        "url": account_url(row["id"]),
    })


AREA_FIELDS = ("id", "code", "name", "ownership", "capacity_kva", "feeder__code", "is_active", "geometry",
               "longitude", "latitude")
FEEDER_FIELDS = ("id", "code", "name", "voltage_level", "substation__name", "is_active", "geometry")


def feeders(user, box: BBox | None) -> dict:
    limit = LIMITS["feeders"]
    rows = grid.visible_feeders(user).filter(geometry__isnull=False).order_by("code").values(*FEEDER_FIELDS)
    features, truncated = [], False
    for row in rows.iterator(chunk_size=500):
        route = bbox_of(row["geometry"])
        if route is None or (box is not None and not intersects(route, box)):
            continue
        if len(features) == limit:
            truncated = True
            break
        features.append(_feeder_feature(row))
    return collection(features, limit=limit, truncated=truncated)


def areas(user, box: BBox | None) -> dict:
    limit = LIMITS["areas"]
    rows = _within(grid.visible_areas(user), box).order_by("code").values(*AREA_FIELDS)
    items, truncated = _capped(rows, limit)
    return collection([f for f in map(_area_feature, items) if f], limit=limit, truncated=truncated)


def _place_features(rows, layer: str, url_name: str, extra: tuple[str, ...]) -> list[dict]:
    features = []
    for row in rows:
        geometry = row["geometry"] or point(row["longitude"], row["latitude"])
        if geometry is not None:
            features.append(feature(geometry, {
                "layer": layer, "id": row["id"], "code": row["code"], "name": row["name"],
                **{name.replace("__", "_"): row[name] or "" for name in extra},
                "url": url_for(url_name, row["id"]),
            }))
    return features


def communities(user, box: BBox | None) -> dict:
    limit = LIMITS["communities"]
    rows = _within(grid.visible_communities(user).filter(is_active=True), box).order_by("code") \
        .values("id", "code", "name", "address", "geometry", "longitude", "latitude")
    items, truncated = _capped(rows, limit)
    return collection(_place_features(items, "community", "grid:community_detail", ("address",)), limit=limit,
                      truncated=truncated)


def buildings(user, box: BBox | None) -> dict:
    limit = LIMITS["buildings"]
    rows = _within(grid.visible_buildings(user).filter(is_active=True), box).order_by("code") \
        .values("id", "code", "name", "community__name", "geometry", "longitude", "latitude")
    items, truncated = _capped(rows, limit)
    return collection(_place_features(items, "building", "grid:building_detail", ("community__name",)),
                      limit=limit, truncated=truncated)


ACCOUNT_FIELDS = ("id", "account_no", "name", "status")


def _visible_accounts(user) -> QuerySet:
    accounts = Account.objects.exclude(status=AccountStatus.CLOSED)
    return authz.restrict_any(accounts, user, ACCOUNT_PERMS, path_field="org_path")


def accounts(user, box: BBox | None) -> dict:
    """Account points: the account's own coordinates, else those of its settlement metering point.

    Unordered on purpose: with a LIMIT and no ORDER BY the database stops at the cap
    instead of sorting every account in the view.
    """
    limit = LIMITS["accounts"]
    placed = _within(_visible_accounts(user).filter(longitude__isnull=False, latitude__isnull=False), box, margin=0)
    items, truncated = _capped(placed.order_by().values(*ACCOUNT_FIELDS, "longitude", "latitude"), limit)
    features = [_account_feature(row, row["longitude"], row["latitude"]) for row in items]
    if not truncated:
        seen = {row["id"] for row in items}
        points = _within(MeteringPoint.objects.filter(
            kind=MeteringPoint.Kind.SETTLEMENT, is_active=True, longitude__isnull=False, latitude__isnull=False,
            account__in=_visible_accounts(user).filter(Q(longitude__isnull=True) | Q(latitude__isnull=True)),
        ), box, margin=0).order_by().values("longitude", "latitude", *(f"account__{name}" for name in ACCOUNT_FIELDS))
        more, truncated = _capped(points, limit - len(features))
        for row in more:
            account = {name: row[f"account__{name}"] for name in ACCOUNT_FIELDS}
            if account["id"] not in seen:
                seen.add(account["id"])
                features.append(_account_feature(account, row["longitude"], row["latitude"]))
    return collection(features, limit=limit, truncated=truncated)


BUILDERS = {"feeders": feeders, "areas": areas, "communities": communities, "buildings": buildings,
            "accounts": accounts}


def account_map(user, account: Account) -> dict:
    """One account on the map: its point, the areas its settlement points hang on, their feeders and substations."""
    points = list(MeteringPoint.objects.filter(account=account, kind=MeteringPoint.Kind.SETTLEMENT)
                  .order_by("-is_active", "code").values("longitude", "latitude", "transformer_area_id"))
    lon, lat = account.longitude, account.latitude
    if lon is None or lat is None:
        located = next((p for p in points if p["longitude"] is not None and p["latitude"] is not None), None)
        lon, lat = (located["longitude"], located["latitude"]) if located else (None, None)
    features = []
    if lon is not None:
        features.append(_account_feature({"id": account.pk, "account_no": account.account_no, "name": account.name,
                                          "status": account.status}, lon, lat))
    area_ids = {p["transformer_area_id"] for p in points if p["transformer_area_id"]}
    area_rows = list(grid.visible_areas(user).filter(pk__in=area_ids).values(*AREA_FIELDS, "feeder_id"))
    features += [f for f in map(_area_feature, area_rows) if f]
    feeder_ids = {a["feeder_id"] for a in area_rows if a["feeder_id"]}
    feeder_rows = grid.visible_feeders(user).filter(pk__in=feeder_ids, geometry__isnull=False).values(
        *FEEDER_FIELDS, "substation_id")
    feeder_rows = list(feeder_rows)
    features += [_feeder_feature(row) for row in feeder_rows]
    substation_ids = {f["substation_id"] for f in feeder_rows if f["substation_id"]}
    for station in grid.visible_substations(user).filter(pk__in=substation_ids, longitude__isnull=False,
                                                         latitude__isnull=False):
        features.append(feature(point(station.longitude, station.latitude), {
            "layer": "substation", "id": station.pk, "code": station.code, "name": station.name,
            "url": reverse("grid:substation_detail", args=[station.pk])}))
    result = collection(features)
    result["account"] = {"id": account.pk, "account_no": account.account_no, "located": lon is not None}
    return result


def extent(user) -> BBox | None:
    """The box around the grid in the user's scope (areas, substations, communities), to open the map on."""
    boxes = []
    for rows in (grid.visible_areas(user), grid.visible_substations(user), grid.visible_communities(user)):
        found = rows.order_by().aggregate(a=Min("longitude"), b=Min("latitude"), c=Max("longitude"),
                                          d=Max("latitude"))
        if found["a"] is not None:
            boxes.append((found["a"], found["b"], found["c"], found["d"]))
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))

