"""GeoJSON geometries of grid records: validation, bounding boxes and centres (WGS 84 longitude/latitude).

Shapes are kept as plain GeoJSON in JSON columns (docs/decisions/0010-map-and-topology.md),
so nothing in the database checks them; every write goes through :func:`check_geometry`,
which names what is wrong in the user's language.  The map asks for shapes inside a
bounding box; :func:`bbox_of` and :func:`intersects` answer that for shapes that have
no coordinate columns of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Real

from django.utils.translation import gettext as _

from powercis.core.errors import ValidationFailed

LINES = ("LineString", "MultiLineString")
POLYGONS = ("Polygon", "MultiPolygon")
#: a feeder route or an outline with more points than this is a data error, not a drawing
MAX_POSITIONS = 20000

BBox = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat


class GeometryError(ValueError):
    """Why a value is not an acceptable GeoJSON geometry (the message is translated)."""


def _position(value, path: str) -> tuple[float, float]:
    if (not isinstance(value, (list, tuple)) or len(value) not in (2, 3)
            or not all(isinstance(n, Real) and not isinstance(n, bool) for n in value)):
        raise GeometryError(_("%(path)s is not a position [longitude, latitude].") % {"path": path})
    lon, lat = float(value[0]), float(value[1])
    check_coordinates(lon, lat, path)
    return lon, lat


def check_coordinates(lon: float, lat: float, path: str = "") -> None:
    """Longitude within ±180° and latitude within ±90°, as WGS 84 requires."""
    if not -180.0 <= lon <= 180.0:
        raise GeometryError(_("%(path)s: longitude %(value)s is outside −180…180.") % {"path": path, "value": lon})
    if not -90.0 <= lat <= 90.0:
        raise GeometryError(_("%(path)s: latitude %(value)s is outside −90…90.") % {"path": path, "value": lat})


def _positions(value, path: str, minimum: int) -> list[tuple[float, float]]:
    if not isinstance(value, (list, tuple)):
        raise GeometryError(_("%(path)s must be a list of positions.") % {"path": path})
    if len(value) < minimum:
        raise GeometryError(_("%(path)s needs at least %(n)s positions.") % {"path": path, "n": minimum})
    return [_position(item, f"{path}[{i}]") for i, item in enumerate(value)]


def _ring(value, path: str) -> list[tuple[float, float]]:
    points = _positions(value, path, 4)
    if points[0] != points[-1]:
        raise GeometryError(_("%(path)s is not closed: its last position must repeat the first.") % {"path": path})
    return points


def _parts(value, path: str) -> list:
    if not isinstance(value, (list, tuple)) or not value:
        raise GeometryError(_("%(path)s must be a non-empty list.") % {"path": path})
    return list(value)


def _all_positions(kind: str, coordinates, path: str = "coordinates") -> list[tuple[float, float]]:
    """Every position of a geometry, each checked; raises :class:`GeometryError` at the first fault."""
    if kind == "Point":
        return [_position(coordinates, path)]
    if kind == "LineString":
        return _positions(coordinates, path, 2)
    if kind == "MultiLineString":
        return [p for i, line in enumerate(_parts(coordinates, path)) for p in _positions(line, f"{path}[{i}]", 2)]
    if kind == "Polygon":
        return [p for i, ring in enumerate(_parts(coordinates, path)) for p in _ring(ring, f"{path}[{i}]")]
    if kind == "MultiPolygon":
        return [p for i, polygon in enumerate(_parts(coordinates, path))
                for j, ring in enumerate(_parts(polygon, f"{path}[{i}]")) for p in _ring(ring, f"{path}[{i}][{j}]")]
    raise GeometryError(_("“%(type)s” is not a GeoJSON geometry type.") % {"type": kind})


def validated_geometry(value, allowed: tuple[str, ...]) -> BBox:
    """Check ``value`` is a GeoJSON geometry of one of the ``allowed`` types; return its bounding box."""
    if not isinstance(value, dict) or "type" not in value or "coordinates" not in value:
        raise GeometryError(_("A GeoJSON geometry is an object with “type” and “coordinates”."))
    kind = value["type"]
    if kind not in allowed:
        raise GeometryError(_("The geometry must be of type %(allowed)s, not “%(type)s”.")
                            % {"allowed": " / ".join(allowed), "type": kind})
    extra = sorted(set(value) - {"type", "coordinates", "bbox"})
    if extra:
        raise GeometryError(_("Unexpected keys in the geometry: %(keys)s.") % {"keys": ", ".join(extra)})
    points = _all_positions(kind, value["coordinates"])
    if len(points) > MAX_POSITIONS:
        raise GeometryError(_("The geometry has %(n)s positions; at most %(max)s are accepted.")
                            % {"n": len(points), "max": MAX_POSITIONS})
    return _bounds(points)


def check_geometry(field: str, value, allowed: tuple[str, ...]) -> BBox | None:
    """:func:`validated_geometry` for a service: an empty value passes, a fault is a field error."""
    if value in (None, "", {}):
        return None
    try:
        return validated_geometry(value, allowed)
    except GeometryError as exc:
        raise ValidationFailed(fields={field: [str(exc)]}) from exc


def _bounds(points) -> BBox:
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


def _walk(coordinates) -> Iterator[tuple[float, float]]:
    """Positions of an already validated geometry, without re-checking them."""
    if coordinates and isinstance(coordinates[0], Real):
        yield float(coordinates[0]), float(coordinates[1])
        return
    for part in coordinates:
        yield from _walk(part)


def bbox_of(geometry: dict | None) -> BBox | None:
    """The bounding box of a stored (valid) geometry, or None when there is none."""
    if not geometry or not geometry.get("coordinates"):
        return None
    return _bounds(list(_walk(geometry["coordinates"])))


def centre(box: BBox) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def intersects(a: BBox, b: BBox) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]
