"""Whole boundary sets through the editor's API (issue 12, deliverables 6 and 8): a GeoJSON, a
GeoPackage or a zipped Shapefile uploaded for a parent area is previewed as one change — its rows
matched to the grids by code or largest overlap, what moves counted as shapely counts it — and
committed as one new version of each changed grid, codes kept; a bad file is refused with the row
and spot named and nothing written; any version exports and imports back unchanged."""
import datetime as dt
import io
import zipfile
from collections import Counter

import geopandas as gpd
import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from gridmap.core import clock
from gridmap.core.models import Role
from gridmap.grids import boundary_files
from gridmap.grids.models import Area, AreaBoundary, Level, Redraw
from gridmap.grids.services import create_area
from gridmap.people.models import Household
from gridmap.places.models import Building

from ..conftest import rect
from .test_editor_api import client
from .test_suggestions import houses

A_CODE, B_CODE, NEW_CODE = "440305005001001", "440305005001002", "440305005001003"
HOUSEHOLDS = 2  # per building
# the new set: A grows east to 113.96, B keeps only its south-east (no code: matched by overlap),
# a new grid takes B's north-east
NEW_SET = [({"code": A_CODE, "name": "网格A"}, shapely.box(113.90, 22.50, 113.96, 22.60)),
           ({"code": "", "name": "网格B"}, shapely.box(113.96, 22.50, 114.00, 22.55)),
           ({"code": "", "name": "新网格"}, shapely.box(113.96, 22.55, 114.00, 22.60))]
OLD_SET = {A_CODE: shapely.box(113.90, 22.50, 113.95, 22.60), B_CODE: shapely.box(113.95, 22.50, 114.00, 22.60)}


@pytest.fixture
def homes(tree):
    """A building with two households every 0.01° × 0.02° across the community, off every edge."""
    houses("H", [113.905 + k * 0.01 for k in range(10)], [22.51, 22.53, 22.57, 22.59], HOUSEHOLDS)
    return tree


def write(tmp_path, kind, features) -> SimpleUploadedFile:
    """The features written by geopandas/pyogrio as an upload: .geojson, .gpkg or a zipped .shp."""
    frame = gpd.GeoDataFrame([p for p, _s in features], geometry=[s for _p, s in features], crs="EPSG:4326")
    if kind == "shp":
        frame.to_file(tmp_path / "grids.shp", driver="ESRI Shapefile", engine="pyogrio")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for part in tmp_path.glob("grids.*"):
                archive.write(part, f"网格/{part.name}")
        return SimpleUploadedFile("grids.zip", buffer.getvalue())
    path = tmp_path / f"grids.{kind}"
    frame.to_file(path, driver={"geojson": "GeoJSON", "gpkg": "GPKG"}[kind], engine="pyogrio")
    return SimpleUploadedFile(path.name, path.read_bytes())


def upload(c, tree, file, **extra):
    return c.post("/api/editor/import/", {"file": file, "parent": tree["community"].pk, **extra}, format="multipart")


def expected_moves(old: dict, new: dict) -> Counter:
    """(from code, to code) → buildings, by shapely: each building's point in the old and new shapes."""
    def grid(shapes, point):
        return next(code for code, shape in shapes.items() if shape.contains(point))

    moves = Counter()
    for b in Building.objects.all():
        point = shapely.Point(b.location.coords)
        moves[grid(old, point), grid(new, point)] += 1
    return Counter({k: n for k, n in moves.items() if k[0] != k[1]})


def moves_of(preview, kind) -> Counter:
    return Counter({(m["from"], m["to"]): m["count"] for m in preview["impact"]["moves"][kind]})


@pytest.mark.parametrize("kind", ["geojson", "gpkg", "shp"])
def test_a_set_is_previewed_as_shapely_counts_and_committed_as_one_change(homes, staff, tmp_path, kind):
    c = client(staff["community"])
    answer = upload(c, homes, write(tmp_path, kind, NEW_SET))
    assert answer.status_code == 200, answer.json()
    preview = answer.json()
    assert preview["ok"], preview["findings"]
    assert [(m["row"], m["old"], m["code"], m["by"]) for m in preview["matches"]] == [
        (1, A_CODE, A_CODE, "code"), (2, B_CODE, B_CODE, "overlap"), (3, None, NEW_CODE, "new")]
    assert preview["counts"] == {"rows": 3, "by_code": 1, "by_overlap": 1, "new": 1, "redrawn": 2, "unchanged": 0,
                                 "retired": 0}
    expected = expected_moves(OLD_SET, {A_CODE: NEW_SET[0][1], B_CODE: NEW_SET[1][1], NEW_CODE: NEW_SET[2][1]})
    assert expected == {(B_CODE, A_CODE): 4, (B_CODE, NEW_CODE): 8}  # the fixture is what the test thinks
    assert moves_of(preview, "buildings") == expected
    assert moves_of(preview, "households") == Counter({k: n * HOUSEHOLDS for k, n in expected.items()})
    assert preview["impact"]["totals"][NEW_CODE]["households"] == 8 * HOUSEHOLDS
    assert Redraw.objects.count() == 0 and not Area.objects.filter(code=NEW_CODE).exists()  # a preview writes nothing

    ids = {code: Area.objects.get(code=code).pk for code in (A_CODE, B_CODE)}
    done = c.post("/api/editor/commit/", {**preview["operation"], "reason": "2027年网格调整"}, format="json")
    assert done.status_code == 201, done.json()
    redraw = Redraw.objects.get()
    assert redraw.operation == "import" and redraw.moved["buildings"] == 12 and redraw.moved["households"] == 24
    # one new version per changed grid, each of this change; the surviving grids keep id and code
    versions = Counter(AreaBoundary.objects.filter(redraw=redraw).values_list("area__code", flat=True))
    assert versions == {A_CODE: 1, B_CODE: 1, NEW_CODE: 1}
    assert {code: Area.objects.get(code=code).pk for code in (A_CODE, B_CODE)} == ids
    assert [v.version for v in Area.objects.get(pk=ids[B_CODE]).boundary_versions.order_by("version")] == [1, 2]
    assert Area.objects.get(code=NEW_CODE).name == "新网格"
    grid_of = dict(Building.objects.values_list("code", "grid__code"))
    for b in Building.objects.all():
        point = shapely.Point(b.location.coords)
        assert grid_of[b.code] == next(code for code, s in [(A_CODE, NEW_SET[0][1]), (B_CODE, NEW_SET[1][1]),
                                                            (NEW_CODE, NEW_SET[2][1])] if s.contains(point))
    assert Household.objects.filter(grid__code=NEW_CODE).count() == 8 * HOUSEHOLDS


def test_a_bad_file_is_refused_with_the_row_and_spot_named_and_nothing_written(homes, staff, tmp_path, monkeypatch):
    c = client(staff["centre"])
    before = (Area.objects.count(), AreaBoundary.objects.count(), dict(Building.objects.values_list("code", "grid_id")))

    # an overlap between two rows: drawn with its area, both rows named; the commit is refused
    overlapping = [({"code": A_CODE}, shapely.box(113.90, 22.50, 113.97, 22.60)),
                   ({"code": B_CODE}, shapely.box(113.95, 22.50, 114.00, 22.60))]
    preview = upload(c, homes, write(tmp_path, "geojson", overlapping)).json()
    assert not preview["ok"]
    (overlap,) = [f for f in preview["findings"] if f["kind"] == "overlap"]
    assert overlap["rows"] == [1, 2] and overlap["area_m2"] > 2e6
    assert shapely.geometry.shape(overlap["where"]).equals(shapely.box(113.95, 22.50, 113.97, 22.60))
    refused = c.post("/api/editor/commit/", {**preview["operation"], "reason": "x"}, format="json")
    assert refused.status_code == 400 and A_CODE in refused.json()["commit"][0] and B_CODE in refused.json()["commit"][0]

    # reaching beyond the parent: an error drawn where it is; wholly outside: refused by row
    beyond = [({"code": A_CODE}, shapely.box(113.89, 22.50, 113.95, 22.60)), ({"code": B_CODE}, OLD_SET[B_CODE])]
    preview = upload(c, homes, write(tmp_path, "geojson", beyond)).json()
    (outside,) = [f for f in preview["findings"] if f["kind"] == "outside_parent"]
    assert outside["severity"] == "error" and outside["rows"] == [1]
    # what lies beyond the parent's edge and its 5 m tolerance
    assert shapely.geometry.shape(outside["where"]).bounds == pytest.approx((113.89, 22.50, 113.90, 22.60), abs=1e-4)
    away = [({"code": ""}, shapely.box(114.10, 22.50, 114.12, 22.52))]
    r = upload(c, homes, write(tmp_path, "geojson", away))
    assert r.status_code == 400
    (error,) = r.json()["features"]
    assert error["row"] == 1 and error["field"] == "geometry" and "科技园社区" in error["message"]
    assert error["spot"] == [pytest.approx(114.11), pytest.approx(22.51)]

    # an invalid polygon no repair saves: its row, field and the spot GEOS names
    bowtie = shapely.Polygon([(113.90, 22.50), (113.95, 22.60), (113.95, 22.50), (113.90, 22.60), (113.90, 22.50)])
    r = upload(c, homes, write(tmp_path, "gpkg", [({"code": B_CODE}, OLD_SET[B_CODE]), ({"code": A_CODE}, bowtie)]))
    assert r.status_code == 400
    (error,) = r.json()["features"]
    assert (error["row"], error["field"]) == (2, "geometry") and A_CODE in error["message"]
    assert error["spot"] == [pytest.approx(113.925), pytest.approx(22.55)]

    # the wrong type: points in a GeoJSON, a table, a file named for what it is not, too big a file
    r = upload(c, homes, write(tmp_path, "geojson", [({"code": A_CODE}, shapely.Point(113.92, 22.55))]))
    assert r.status_code == 400 and r.json()["features"][0]["row"] == 1 and "Point" in r.json()["features"][0]["message"]
    r = upload(c, homes, SimpleUploadedFile("grids.csv", b"code,wkt\n1,POINT(1 1)\n"))
    assert r.status_code == 400 and ".geojson" in r.json()["file"][0]
    r = upload(c, homes, SimpleUploadedFile("grids.gpkg", b'{"type": "FeatureCollection"}'))
    assert r.status_code == 400 and "gpkg" in r.json()["file"][0]
    r = upload(c, homes, SimpleUploadedFile("grids.zip", _zip({"a.txt": b"no shapefile"})))
    assert r.status_code == 400 and ".shp" in r.json()["file"][0]
    monkeypatch.setattr(boundary_files, "MAX_UPLOAD_BYTES", 100)
    r = upload(c, homes, write(tmp_path, "geojson", NEW_SET))
    assert r.status_code == 400 and "MB" in r.json()["file"][0]

    assert Redraw.objects.count() == 0
    assert (Area.objects.count(), AreaBoundary.objects.count(), dict(Building.objects.values_list("code", "grid_id"))) == before


def _zip(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_only_those_who_redraw_the_parent_import_and_export(homes, staff, make_user, tmp_path):
    other = create_area(code="440305005002", name="另一社区", level=Level.COMMUNITY, parent=homes["street"],
                        boundary=rect(114.0, 22.5, 114.1, 22.6))
    outsider = make_user("outsider", Role.AREA_STAFF, other)
    file = write(tmp_path, "geojson", NEW_SET)
    assert upload(client(outsider), homes, file).status_code == 404  # not among theirs
    file.seek(0)
    worker = make_user("community_worker", Role.GRID_WORKER, homes["community"])
    assert upload(client(worker), homes, file).status_code == 403  # a worker sees the community, redraws nothing
    export = {"parent": homes["community"].pk}
    assert client(outsider).get("/api/editor/export/", export).status_code == 404
    assert client(worker).get("/api/editor/export/", export).status_code == 403
    assert client(staff["leader_a"]).get("/api/editor/export/", export).status_code == 404  # the community is not theirs
    assert APIClient().get("/api/editor/export/", export).status_code in (401, 403)
    # the commit of an import checks the same: the operation of one area, posted by another's staff
    file.seek(0)
    operation = upload(client(staff["street"]), homes, file).json()["operation"]
    assert client(outsider).post("/api/editor/commit/", {**operation, "reason": "x"}, format="json").status_code == 404
    assert Redraw.objects.count() == 0


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp"])
def test_an_old_version_exports_and_imports_back(homes, staff, tmp_path, fmt, time_machine):
    c = client(staff["centre"])
    created = clock.now()
    time_machine.move_to(created + dt.timedelta(days=3), tick=False)
    preview = upload(c, homes, write(tmp_path, "geojson", NEW_SET)).json()
    assert c.post("/api/editor/commit/", {**preview["operation"], "reason": "调整"}, format="json").status_code == 201

    def export(**params):
        r = c.get("/api/editor/export/", {"parent": homes["community"].pk, "format": fmt, **params})
        assert r.status_code == 200, r.content[:300]
        assert r["Content-Disposition"].startswith("attachment; filename=\"grids-440305005001-")
        return SimpleUploadedFile(r["Content-Disposition"].split('"')[1], r.content)

    def read(file):
        path = tmp_path / file.name
        path.write_bytes(file.read())
        file.seek(0)
        return gpd.read_file(f"zip://{path}" if fmt == "shp" else path)

    old = export(as_of=(clock.today() - dt.timedelta(days=2)).isoformat())
    frame = read(old)
    assert list(frame["code"]) == [A_CODE, B_CODE] and list(frame["name"]) == ["网格A", "网格B"]
    assert list(frame["version"]) == [1, 1]
    assert all(g.equals(OLD_SET[code]) for code, g in zip(frame["code"], frame.geometry))
    assert len(read(export())) == 3  # today: the imported set

    # the current set's export imports back as no change at all
    r = upload(c, homes, export())
    assert r.status_code == 400 and r.json()["features"][0]["code"] == "unchanged"
    # the old version's export brings the old grids back: matched by code, the new grid retired
    preview = upload(c, homes, old).json()
    assert preview["ok"], preview["findings"]
    assert preview["counts"] == {"rows": 2, "by_code": 2, "by_overlap": 0, "new": 0, "redrawn": 2, "unchanged": 0,
                                 "retired": 1}
    assert preview["retired"] == [NEW_CODE]
    assert moves_of(preview, "buildings") == {(A_CODE, B_CODE): 4, (NEW_CODE, B_CODE): 8}
    assert c.post("/api/editor/commit/", {**preview["operation"], "reason": "恢复"}, format="json").status_code == 201
    assert Area.objects.get(code=NEW_CODE).retired_at is not None
    r = upload(c, homes, export())  # and what is current now is that old version again
    assert r.status_code == 400 and r.json()["features"][0]["code"] == "unchanged"
    assert sorted(read(export())["code"]) == [A_CODE, B_CODE]


def test_export_refuses_what_it_cannot_write(homes, staff):
    c = client(staff["centre"])
    base = {"parent": homes["community"].pk}
    assert c.get("/api/editor/export/", {**base, "format": "kml"}).status_code == 400
    assert c.get("/api/editor/export/", {**base, "as_of": "yesterday"}).status_code == 400
    tomorrow = (clock.today() + dt.timedelta(days=1)).isoformat()
    assert c.get("/api/editor/export/", {**base, "as_of": tomorrow}).status_code == 400
