"""Building vector tiles (/api/map/buildings/{z}/{x}/{y}.mvt): scoped like the GeoJSON layer,
decoded with an independent MVT reader, footprints whole in every tile they meet."""
import math

import mapbox_vector_tile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridmap.places.models import Building
from gridmap.places.selectors import tile_bounds

from ..conftest import rect
from ..geo_helpers import tile_of

HYPO = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def url(z, x, y):
    return f"/api/map/buildings/{z}/{x}/{y}.mvt"


def decode(client, z, x, y) -> dict:
    """The tile's buildings by code (by id in the widest tiles, which carry no codes): properties,
    feature id, and the outer ring in WGS84."""
    res = client.get(url(z, x, y))
    assert res.status_code == 200, res.content
    assert res["Content-Type"] == "application/vnd.mapbox-vector-tile"
    if not res.content:
        return {}
    layer = mapbox_vector_tile.decode(res.content, default_options={"y_coord_down": True})["buildings"]
    n, extent = 2 ** z, layer["extent"]

    def lonlat(px, py):
        lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + py / extent) / n))))
        return (x + px / extent) / n * 360 - 180, lat

    found = {}
    for f in layer["features"]:
        geom = f["geometry"]
        ring = geom["coordinates"][0] if geom["type"] == "Polygon" else geom["coordinates"][0][0]
        found[f["properties"].get("code", f["id"])] = {"id": f["id"], "properties": f["properties"], "ring": [lonlat(*p) for p in ring]}
    return found


@pytest.fixture
def houses(tree):
    made = {}
    for code, x, floors in [("A-1", 113.930, 6), ("A-2", 113.935, 18), ("B-1", 113.955, 3)]:
        made[code] = Building.objects.create(code=code, name=f"{code}栋", floors_above=floors, use="residential",
                                             footprint=rect(x, 22.55, x + 0.0002, 22.5502))
    return made


def test_login_required_and_bad_tiles_refused(client, leader_a):
    assert client.get(url(15, 26753, 14277)).status_code == 403
    client.force_login(leader_a)
    for z, x, y in [(13, 0, 0), (17, 0, 0), (15, 2 ** 15, 0), (15, 0, 2 ** 15)]:
        res = client.get(url(z, x, y))
        assert res.status_code == 400 and f"{z}/{x}/{y}" in res.json()["tile"]


def test_tile_holds_the_callers_buildings_with_what_the_map_draws(client, tree, leader_a, make_user, houses):
    z = 15
    x, y = tile_of(113.930, 22.55, z)
    assert tile_of(113.935, 22.55, z) == (x, y) and tile_of(113.955, 22.55, z) == (x + 2, y)
    client.force_login(leader_a)
    tile = decode(client, z, x, y)
    assert sorted(tile) == ["A-1", "A-2"]
    assert decode(client, z, x + 2, y) == {}  # B-1 is in grid B: not the caller's
    a2 = tile["A-2"]
    assert a2["id"] == houses["A-2"].pk
    assert a2["properties"] == {"code": "A-2", "name": "A-2栋", "floors_above": 18, "use": "residential"}
    res = client.get(url(z, x, y))
    assert res["Cache-Control"] == "private, max-age=60"

    client.force_login(make_user("centre", "centre_admin"))
    assert sorted(decode(client, z, x, y)) == ["A-1", "A-2"]
    assert sorted(decode(client, z, x + 2, y)) == ["B-1"]
    assert decode(client, z, x, y + 2) == {}  # nothing there: an empty tile


def test_the_widest_tiles_carry_no_names(client, tree, make_user, houses):
    """z14 tiles (the map at zoom 15, the densest views): footprint, floors, use; no code or name."""
    client.force_login(make_user("centre", "centre_admin"))
    x, y = tile_of(113.935, 22.55, 14)
    tile = decode(client, 14, x, y)
    assert sorted(tile) == sorted([houses["A-1"].pk, houses["A-2"].pk])
    assert tile[houses["A-2"].pk]["properties"] == {"floors_above": 18, "use": "residential"}


@HYPO
@given(
    # 3 to 40 m each side of the corner
    dx0=st.floats(3e-5, 4e-4), dx1=st.floats(3e-5, 4e-4), dy0=st.floats(3e-5, 4e-4), dy1=st.floats(3e-5, 4e-4),
)
def test_footprint_on_a_tile_corner_is_whole_in_every_tile_it_meets(client, tree, leader_a, dx0, dx1, dy0, dy1):
    z = 16
    x, y = tile_of(113.92, 22.55, z)
    west, _, _, north = tile_bounds(z, x, y)  # the tile's north-west corner: four tiles meet there
    box = (west - dx0, north - dy0, west + dx1, north + dy1)
    b = Building.objects.create(code="EDGE", name="边界楼", floors_above=5, footprint=rect(*box))
    try:
        client.force_login(leader_a)
        metres_per_deg = 111_320 * math.cos(math.radians(22.55))
        for tx, ty in [(x - 1, y - 1), (x, y - 1), (x - 1, y), (x, y)]:
            found = decode(client, z, tx, ty)
            assert list(found) == ["EDGE"], (tx, ty)
            ring = found["EDGE"]["ring"]
            xs, ys = [p[0] for p in ring], [p[1] for p in ring]
            # unclipped: the decoded footprint spans the whole box, to the tile grid (0.15 m at z16)
            for got, want in [(min(xs), box[0]), (max(xs), box[2])]:
                assert abs(got - want) * metres_per_deg < 0.3
            for got, want in [(min(ys), box[1]), (max(ys), box[3])]:
                assert abs(got - want) * 111_320 < 0.3
        assert decode(client, z, x + 1, y + 1) == {}  # a tile it does not meet
    finally:
        b.delete()


def test_a_tile_costs_four_queries(client, leader_a, houses, django_assert_num_queries):
    """Session, the user with their area (one query: core.auth), the area's subtree ids (scoping), the tile."""
    client.force_login(leader_a)
    x, y = tile_of(113.935, 22.55, 14)
    with django_assert_num_queries(4):
        assert client.get(url(14, x, y)).status_code == 200


def test_a_user_with_no_area_gets_empty_layers_not_an_error(client, tree, houses, make_user):
    """A department handler bound to no area sees no places: empty tiles and collections (scope()
    gives none(), which has no SQL)."""
    client.force_login(make_user("dept", "department"))
    x, y = tile_of(113.930, 22.55, 15)
    assert decode(client, 15, x, y) == {}
    for path in ("/api/map/areas/?level=grid", "/api/map/buildings/?bbox=113.9,22.5,114.0,22.6",
                 "/api/map/facilities/?bbox=113.9,22.5,114.0,22.6", "/api/map/organisations/?bbox=113.9,22.5,114.0,22.6"):
        res = client.get(path)
        assert res.status_code == 200, path
        assert res.json() == {"type": "FeatureCollection", "features": []}, path


def test_tiles_vary_by_login(client, leader_a, houses):
    client.force_login(leader_a)
    x, y = tile_of(113.930, 22.55, 15)
    assert "Cookie" in client.get(url(15, x, y))["Vary"]


def test_layers_are_compressed_for_clients_that_take_gzip(client, tree, houses, make_user):
    """Map layers are large and secret-free and often go to phones: gzip when the client accepts it."""
    import gzip

    client.force_login(make_user("centre", "centre_admin"))
    x, y = tile_of(113.930, 22.55, 15)
    for path in (url(15, x, y), "/api/map/areas/?level=grid", "/api/map/buildings/?bbox=113.9,22.5,114.0,22.6",
                 "/api/events/map/?bbox=113.9,22.5,114.0,22.6"):
        plain = client.get(path)
        packed = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
        assert plain.status_code == packed.status_code == 200, path
        if packed.get("Content-Encoding") == "gzip":
            assert gzip.decompress(packed.content) == plain.content, path
            assert "Accept-Encoding" in packed["Vary"], path
        else:  # Django gzips only when it pays, after padding with up to 100 random bytes (BREACH)
            assert len(gzip.compress(plain.content)) + 100 >= len(plain.content), (path, len(plain.content))
    assert any(client.get(p, HTTP_ACCEPT_ENCODING="gzip").get("Content-Encoding") == "gzip"
               for p in ("/api/map/areas/?level=grid", "/api/map/buildings/?bbox=113.9,22.5,114.0,22.6"))
