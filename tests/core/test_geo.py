"""Pure geometry helpers: GCJ-02 round trip against published pairs, range checks, repair rule."""
import numpy as np
import pytest
import shapely

from gridmap.core import geo

# WGS84 → GCJ-02 pairs from the public reference implementation (eviltransform test data).
PAIRS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),   # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),   # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),   # Beijing
]


def test_gcj02_forward_and_inverse_match_known_pairs():
    wgs = np.array([p[0] for p in PAIRS])
    gcj = np.array([p[1] for p in PAIRS])
    assert np.abs(geo.wgs84_to_gcj02(wgs) - gcj).max() < 1e-8
    assert np.abs(geo.gcj02_to_wgs84(gcj) - wgs).max() * 111_000 < 0.01  # well under a metre


def test_gcj02_leaves_points_outside_china_alone():
    xy = np.array([[2.35, 48.85]])
    assert np.array_equal(geo.gcj02_to_wgs84(xy), xy)


def test_out_of_range_uses_the_crs_area_of_use():
    metres = np.array([shapely.Point(500000, 2500000), shapely.Point(113.9, 22.5), None], dtype=object)
    assert geo.out_of_range(metres, geo.WGS84).tolist() == [True, False, False]
    cgcs_114 = geo.parse_crs("EPSG:4547")  # 3-degree zone 114°E: 112.5°–115.5°E
    assert geo.out_of_range(np.array([shapely.Point(100.0, 22.5)]), cgcs_114).tolist() == [True]


def test_unknown_crs_is_refused_by_name():
    with pytest.raises(geo.GeoError, match="EPSG:999999"):
        geo.parse_crs("EPSG:999999")


def test_repair_accepts_small_change_and_refuses_bow_tie(settings):
    settings.METRIC_SRID = 32649
    touch = shapely.from_wkt(  # a ring that touches itself at one vertex: invalid, area kept by repair
        "POLYGON((113.90 22.50, 113.91 22.50, 113.91 22.51, 113.905 22.50, 113.90 22.51, 113.90 22.50))")
    bow = shapely.from_wkt("POLYGON((113.90 22.50, 113.91 22.51, 113.91 22.50, 113.90 22.51, 113.90 22.50))")
    ok = shapely.box(113.9, 22.5, 113.91, 22.51)
    fixed, rep = geo.repair_polygons(np.array([ok, touch, bow], dtype=object))
    assert rep.index.tolist() == [1, 2]
    assert rep.repaired.tolist() == [True, False]
    assert shapely.is_valid(fixed[1]) and fixed[1].geom_type == "MultiPolygon"
    assert fixed[0] is ok
