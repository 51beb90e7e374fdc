"""GeoJSON validation and bounding boxes of grid shapes."""

import pytest

from powercis.grid.geometry import (
    LINES,
    MAX_POSITIONS,
    POLYGONS,
    GeometryError,
    bbox_of,
    intersects,
    validated_geometry,
)


def test_line_and_multiline_give_their_bounding_box():
    assert validated_geometry({"type": "LineString", "coordinates": [[114.3, 30.6], [114.1, 30.9, 12.0]]},
                              LINES) == (114.1, 30.6, 114.3, 30.9)
    multi = {"type": "MultiLineString", "coordinates": [[[1, 2], [3, 4]], [[-5, -6], [0, 0]]]}
    assert validated_geometry(multi, LINES) == (-5, -6, 3, 4)
    assert bbox_of(multi) == (-5, -6, 3, 4)


def test_polygon_with_a_hole_is_accepted_and_empty_shapes_are_not():
    outer = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[2, 2], [3, 2], [3, 3], [2, 2]]
    assert validated_geometry({"type": "Polygon", "coordinates": [outer, hole]}, POLYGONS) == (0, 0, 10, 10)
    with pytest.raises(GeometryError, match="non-empty"):
        validated_geometry({"type": "Polygon", "coordinates": []}, POLYGONS)
    with pytest.raises(GeometryError, match="at least 4"):
        validated_geometry({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}, POLYGONS)


def test_unknown_types_and_oversized_shapes_are_refused():
    with pytest.raises(GeometryError, match="must be of type"):
        validated_geometry({"type": "Circle", "coordinates": [0, 0]}, POLYGONS)
    long_line = {"type": "LineString", "coordinates": [[0, i * 1e-5] for i in range(MAX_POSITIONS + 1)]}
    with pytest.raises(GeometryError, match="at most"):
        validated_geometry(long_line, LINES)


def test_box_intersection():
    assert intersects((0, 0, 2, 2), (1, 1, 3, 3))
    assert intersects((0, 0, 2, 2), (2, 2, 3, 3))  # touching counts
    assert not intersects((0, 0, 1, 1), (1.5, 0, 3, 1))
    assert bbox_of(None) is None and bbox_of({"type": "Polygon", "coordinates": []}) is None
