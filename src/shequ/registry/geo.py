"""Geometry of places and grids: GeoJSON in WGS84 lon/lat, checked and queried with shapely."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from shapely import STRtree, prepared
from shapely.geometry import Point, mapping, shape
from shapely.geometry.base import BaseGeometry

GEOMETRY_INVALID = _("空间范围不是有效的 GeoJSON 面（Polygon 或 MultiPolygon）。")
GEOMETRY_SELF_INTERSECTS = _("空间范围的边界自相交，请修正。")
GEOMETRY_OUT_OF_CHINA = _("空间范围的坐标超出中国境内经纬度范围（经度73–136，纬度3–54）。")
GRID_OVERLAP = _("网格范围与同一居村的网格“{name}”重叠：同一点只能属于一个网格。")

# Overlap below this share of the smaller grid is treated as drawing noise along a shared edge.
OVERLAP_TOLERANCE = 1e-6


def parse_area(geojson: Any) -> BaseGeometry:
    """Parse a GeoJSON Polygon/MultiPolygon, raising ``ValueError`` with a user-facing message."""
    if isinstance(geojson, dict) and geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
    try:
        geom = shape(geojson)
    except Exception as exc:  # shapely raises several types for malformed input
        raise ValueError(str(GEOMETRY_INVALID)) from exc
    if geom.geom_type not in {"Polygon", "MultiPolygon"} or geom.is_empty:
        raise ValueError(str(GEOMETRY_INVALID))
    if not geom.is_valid:
        raise ValueError(str(GEOMETRY_SELF_INTERSECTS))
    minx, miny, maxx, maxy = geom.bounds
    if minx < 73 or maxx > 136 or miny < 3 or maxy > 54:
        raise ValueError(str(GEOMETRY_OUT_OF_CHINA))
    return geom


def overlaps(a: BaseGeometry, b: BaseGeometry) -> bool:
    inter = a.intersection(b).area
    return inter > OVERLAP_TOLERANCE * min(a.area, b.area)


def centroid(geom: BaseGeometry) -> tuple[float, float]:
    c = geom.representative_point()
    return (round(c.x, 7), round(c.y, 7))


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    return dict(mapping(geom))


def locate(lon: float, lat: float, candidates: list[tuple[Any, Any]]) -> Any | None:
    """The first candidate whose area covers the point; ``candidates`` are (key, GeoJSON) pairs.

    Points on a shared edge belong to the grid listed first (ordered by code), so a point falls in
    exactly one grid.
    """
    point = Point(lon, lat)
    for key, geojson in candidates:
        if prepared.prep(shape(geojson)).covers(point):
            return key
    return None


class GridIndex:
    """A spatial index of grids for repeated point lookups (every reported case locates its grid).

    Built once per process from (key, GeoJSON) pairs in code order; a lookup asks an STR-tree for
    the grids whose bounding boxes contain the point and tests only those, in code order, so a point
    on a shared edge still belongs to the first grid by code.
    """

    def __init__(self, items: list[tuple[Any, Any]]) -> None:
        self.keys = [key for key, _geometry in items]
        shapes = [shape(geometry) for _key, geometry in items]
        self.prepared = [prepared.prep(s) for s in shapes]
        self.tree = STRtree(shapes) if shapes else None

    def locate(self, lon: float, lat: float) -> Any | None:
        if self.tree is None:
            return None
        point = Point(lon, lat)
        for i in sorted(int(i) for i in self.tree.query(point)):
            if self.prepared[i].covers(point):
                return self.keys[i]
        return None
