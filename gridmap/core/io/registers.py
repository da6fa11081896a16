"""The table of registers: one entry per KIND says which file columns feed which fields, how
references are found, which geometry is read and how rows are identified. Everything else —
reading, validation, loading, export — is shared code in `services` and `export`."""
import hashlib
import math
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import shapely
from django.core.exceptions import ValidationError

from gridmap.core.crypto import normalise_id_number
from gridmap.core.validators import parse_citizen_id, validate_credit_code
from gridmap.grids.models import Area
from gridmap.people.models import Household, IdType, Person, Relation, Visit
from gridmap.places.models import METRES_PER_FLOOR, Building, BuildingUse, Dwelling, Facility, Organisation, RentedDwelling

from . import parsing
from .loaders import load_areas, load_households
from .spec import Col, Geom, Ref, Register

POLYGONS = ("Polygon", "MultiPolygon")


def _person_ref(field: str, column: str, **kw) -> Ref:
    return Ref(field, (column,), "people_person r", ("r.id_number",), upper=True, hashed=normalise_id_number, **kw)


_BUILDING = Ref("building", ("building_code",), "places_building r", ("r.code",))
_DWELLING = Ref(
    "dwelling", ("building_code", "unit", "room"),
    "places_dwelling r JOIN places_building b ON b.id = r.building_id", ("b.code", "r.unit::text", "r.room"),
    int_columns=("unit",),
)


def _rule_each(values: pd.Series, check) -> pd.Series:
    """Reasons from a per-cell validator raising ValidationError (for rules with no vector form)."""
    def reason(v):
        try:
            check(v)
        except ValidationError as exc:
            return "; ".join(str(m) for m in exc.messages)
        return pd.NA
    return values.map(lambda v: pd.NA if pd.isna(v) else reason(v))


def _parse_credit_code(s: pd.Series):
    values, errors = parsing.parse_text(s)
    values = values.str.upper()
    return values, errors.where(errors.notna(), _rule_each(values, validate_credit_code))


def _check_persons(v: pd.DataFrame, present: set[str]):
    """Resident ID numbers are checked (GB 11643) and give birth date and sex; other IDs need both."""
    issues = []
    resident = v["id_type"].eq(IdType.RESIDENT) & v["id_number"].notna()
    parsed = v.loc[resident, "id_number"].map(_try_citizen_id)
    bad = parsed.map(lambda p: isinstance(p, str))
    issues.append((bad.reindex(v.index, fill_value=False), "id_number", parsed[bad].reindex(v.index)))
    good = parsed[~bad]
    for col, attr, name in (("sex", "sex", "sex"), ("birth_date", "birth_date", "birth date")):
        derived = good.map(lambda p, a=attr: getattr(p, a))
        given = v.loc[good.index, col].replace("", pd.NA)  # sex may be blank in the model
        differs = given.notna() & (given != derived)
        issues.append((differs.reindex(v.index, fill_value=False), col,
                       f"{name} differs from the one in the ID number (GB 11643)"))
        v.loc[good.index, col] = derived
    v.loc[good.index, "id_number"] = good.map(lambda p: p.number)
    other = ~v["id_type"].eq(IdType.RESIDENT)
    for col in ("sex", "birth_date"):
        issues.append((other & v[col].replace("", pd.NA).isna(), col, f"missing; needed when the ID type is not {IdType.RESIDENT}"))
    issues.append((_before(v, "stay_until", "arrived_on"), "stay_until", "before the arrival date"))
    return issues


def _before(v: pd.DataFrame, a: str, b: str) -> pd.Series:
    """Rows where date `a` is earlier than date `b` (both given)."""
    both = v[a].notna() & v[b].notna()
    out = pd.Series(False, index=v.index)
    if both.any():
        out[both] = np.array([x < y for x, y in zip(v.loc[both, a], v.loc[both, b])], dtype=bool)
    return out


def _try_citizen_id(value: str):
    try:
        return parse_citizen_id(value)
    except ValidationError as exc:
        hint = " (the cell looks like an Excel number: format the column as text)" if "E+" in value.upper() else ""
        return "; ".join(str(m) for m in exc.messages) + hint


# OpenStreetMap `building=*` values → a building's use; others ("yes", "garage", "roof"…) keep the default.
OSM_USES = {
    **dict.fromkeys(["apartments", "residential", "house", "detached", "semidetached_house", "terrace",
                     "dormitory", "bungalow", "farm"], BuildingUse.RESIDENTIAL),
    **dict.fromkeys(["commercial", "retail", "office", "supermarket", "hotel", "kiosk", "shop"], BuildingUse.COMMERCIAL),
    **dict.fromkeys(["industrial", "warehouse", "factory", "manufacture"], BuildingUse.INDUSTRIAL),
    **dict.fromkeys(["public", "civic", "government", "school", "kindergarten", "university", "college",
                     "hospital", "clinic", "train_station", "transportation", "temple", "church", "mosque",
                     "sports_hall", "fire_station", "police"], BuildingUse.PUBLIC),
}
_OSM_ID = re.compile(r"(?:(node|way|relation|[nwr])\s*/?\s*)?(\d+)", re.IGNORECASE)


def _osm_code(osm_id: str, osm_type: str, way_id: str, bare_is_relation: bool) -> str | None:
    """A stable building code from an OpenStreetMap id: "osm-w123" for way 123 ("way/123",
    "w123", or 123 with osm_type "way"; a bare number is a way, except in a file with an
    osm_way_id column, GDAL's OSM layer, where a bare osm_id is a relation). Raises ValueError."""
    if way_id:
        if not way_id.isdigit():
            raise ValueError(f"not an OpenStreetMap way id ({way_id})")
        return f"osm-w{int(way_id)}"
    if not osm_id:
        return None
    m = _OSM_ID.fullmatch(osm_id.strip())
    if not m:
        raise ValueError(f"not an OpenStreetMap id ({osm_id}); give way/123, w123 or 123")
    kind = (m.group(1) or osm_type or ("relation" if bare_is_relation else "way")).strip().lower()[:1]
    if kind not in ("n", "w", "r"):
        raise ValueError(f"not an OpenStreetMap element type ({osm_type}); give node, way or relation")
    return f"osm-{kind}{int(m.group(2))}"


def geometry_code(ewkb_hex: str) -> str:
    """A stable code for a footprint with no code and no OSM id: "geo-" and 16 hex digits of a hash
    of the WGS84 footprint, normalised and rounded to 1e-7° (about 1 cm), so the same footprint
    gives the same code in every import (a re-import updates it) and a moved one a new code."""
    geom = shapely.normalize(shapely.set_precision(shapely.from_wkb(ewkb_hex), 1e-7))
    digest = hashlib.sha1(shapely.to_wkb(geom, output_dimension=2, byte_order=1, include_srid=False)).hexdigest()
    return f"geo-{digest[:16]}"


def _check_buildings(v: pd.DataFrame, present: set[str]):
    """Real registers as they come: floors from the height where no levels are given (about 3 m a
    storey; else unknown), a use from an OSM building tag where the file has no use, and a code
    where the row has none: from its OSM id, else from its footprint (see geometry_code)."""
    issues = []
    height = v["height_m"]
    guess = height.map(lambda h: pd.NA if pd.isna(h) or h <= 0 else float(max(1, math.floor(h / METRES_PER_FLOOR + 0.5))))
    fill = v["floors_above"].isna() & guess.notna()
    if fill.any():
        v.loc[fill, "floors_above"] = guess[fill]
        present.add("floors_above")
    if "osm_building" in present and "use" not in present:
        tagged = v["osm_building"].str.lower().map(OSM_USES)
        v["use"] = tagged.where(tagged.notna(), v["use"])
        present.add("use")
    need = v["code"].isna()
    osm = pd.Series(pd.NA, index=v.index, dtype=object)
    why = pd.Series(pd.NA, index=v.index, dtype=object)
    bare_is_relation = "osm_way_id" in present
    for i in v.index[need]:
        try:
            osm[i] = _osm_code(v.at[i, "osm_id"], v.at[i, "osm_type"], v.at[i, "osm_way_id"], bare_is_relation)
        except ValueError as exc:
            why[i] = str(exc)
    issues.append((why.notna(), "osm_id", why))
    v.loc[osm.notna(), "code"] = osm[osm.notna()]
    by_shape = need & osm.isna() & why.isna() & v["_geom"].notna()
    v.loc[by_shape, "code"] = v.loc[by_shape, "_geom"].map(geometry_code)
    issues.append((v["code"].isna() & why.isna(), "code", "missing, and no OpenStreetMap id or footprint to derive one from"))
    return issues


def _check_rented(v: pd.DataFrame, present: set[str]):
    return [(_before(v, "lease_end", "lease_start"), "lease_end", "before the lease start")]


def _check_visits(v: pd.DataFrame, present: set[str]):
    subjects = ["person_id_number", "household_number", "building_code", "organisation_credit_code"]
    none = v[subjects].isna().all(axis=1)
    return [(none, "person_id_number", "a visit needs a subject: " + ", ".join(subjects))]


def _check_areas(v: pd.DataFrame, present: set[str]):
    grid = v["level"].eq("grid")
    return [
        (grid & v["layer"].isna(), "layer", "a grid needs a grid layer code"),
        (~grid & v["layer"].notna(), "layer", "only grids belong to a layer"),
    ]


def _check_households(v: pd.DataFrame, present: set[str]):
    """One row per member; household fields must agree within a household; one head each."""
    issues = []
    # dropna=False: with every number empty pandas' transform fails (the differs mask skips those rows)
    first = v.groupby("number", sort=False, dropna=False).transform("first")
    for col in ("kind", "building_code", "unit", "room"):
        differs = v["number"].notna() & (v[col].fillna("") != first[col].fillna("")) if col in v else None
        if differs is not None:
            issues.append((differs, col, "differs from the first row of the same household"))
    heads = v["relation"].eq(Relation.HEAD)
    issues.append((heads & heads.groupby(v["number"]).cumsum().gt(1), "relation", "a second head (户主) in one household"))
    issues.append((v["member_id_number"].notna() & v["relation"].isna(), "relation", "missing for a member"))
    issues.append((v["member_id_number"].isna() & v["relation"].notna(), "member_id_number", "missing for a relation"))
    return issues


# One row per member (a household without members gets one row), head first, then in a fixed
# order (the ID numbers are encrypted: by their keyed hash).
_HOUSEHOLDS_EXPORT = """
SELECT h.number AS "number", h.kind AS "kind", b.code AS "building_code", d.unit::text AS "unit", d.room AS "room",
       p.id_number AS "member_id_number", m.relation AS "relation", g.code AS "grid_code"
FROM people_household h
LEFT JOIN places_dwelling d ON d.id = h.dwelling_id LEFT JOIN places_building b ON b.id = d.building_id
LEFT JOIN people_householdmember m ON m.household_id = h.id LEFT JOIN people_person p ON p.id = m.person_id
LEFT JOIN grids_area g ON g.id = h.grid_id
ORDER BY h.number, m.relation IS DISTINCT FROM 'head', p.id_number_digest"""

REGISTERS: dict[str, Register] = {r.kind: r for r in [
    Register(
        "areas", Area,
        [Col("code"), Col("name"), Col("level"), Col("phone")],
        refs=[
            Ref("parent", ("parent_code",), "grids_area r", ("r.code",), in_file="code"),
            Ref("layer", ("layer",), "grids_gridlayer r", ("r.code",)),
        ],
        geometry=Geom("boundary", POLYGONS, required=False),
        key=("code",), check=_check_areas, load=load_areas,
    ),
    Register(
        "buildings", Building,
        [Col("code", required=False), Col("name"), Col("address"), Col("use"),
         Col("floors_above", aliases=("floors",), parse=parsing.parse_levels),
         Col("floors_below"), Col("units"), Col("rooms_per_floor"), Col("height_m", parse=parsing.parse_height),
         Col("year_built"), Col("property_manager")],
        geometry=Geom("footprint", POLYGONS), extra=("osm_id", "osm_type", "osm_way_id", "osm_building"),
        key=("code",), conflict="(code)", bulk=True, check=_check_buildings,
    ),
    Register(
        "dwellings", Dwelling,
        [Col("unit"), Col("floor"), Col("room"), Col("area_m2"), Col("use"), Col("owner_name")],
        refs=[replace(_BUILDING, required=True),
              _person_ref("owner", "owner_id_number")],
        key=("building_code", "unit", "room"), conflict="(building_id, unit, room)",
    ),
    Register(
        "rented_dwellings", RentedDwelling,
        [Col("landlord_name"), Col("landlord_phone"), Col("lease_start"), Col("lease_end"), Col("agent"),
         Col("status"), Col("registered_on")],
        refs=[replace(_DWELLING, required=True), _person_ref("landlord", "landlord_id_number"),
              _person_ref("tenants", "tenant_id_numbers", many=True)],
        key=("building_code", "unit", "room"), conflict="(dwelling_id)", check=_check_rented,
    ),
    Register(
        "households", Household,
        [Col("number"), Col("kind"), Col("relation", parse=lambda s: parsing.parse_choice(s, Relation.choices), required=False)],
        refs=[_DWELLING, _person_ref("member", "member_id_number")],
        key=("member_id_number",), check=_check_households, load=load_households, export_sql=_HOUSEHOLDS_EXPORT,
    ),
    Register(
        "persons", Person,
        [Col("id_type"), Col("id_number"), Col("name"), Col("sex", required=False), Col("birth_date", required=False),
         Col("ethnicity"), Col("phone"), Col("registered_residence"), Col("residence_type"), Col("origin"),
         Col("stay_reason"), Col("arrived_on"), Col("stay_until"), Col("party_member"), Col("volunteer")],
        refs=[_DWELLING],
        key=("id_number",), conflict="(id_number_digest)", check=_check_persons,
    ),
    Register(
        "organisations", Organisation,
        [Col("name"), Col("credit_code", parse=_parse_credit_code, required=False), Col("kind"),
         Col("legal_representative"), Col("contact"), Col("phone"), Col("employees"), Col("address"), Col("risk_level")],
        refs=[_BUILDING],
        geometry=Geom("location", ("Point",), required=False),
        key=("credit_code",), conflict="(credit_code) WHERE credit_code <> ''", bulk=True,
        point_sql="coalesce(_geom, (SELECT b.location FROM places_building b WHERE b.id = _import.building_id))", sort=("credit_code", "name"),
    ),
    Register(
        "facilities", Facility,
        [Col("code"), Col("kind"), Col("status"), Col("owner_department")],
        geometry=Geom("geom", ("Point", "LineString", "MultiLineString")),
        key=("code",), conflict="(code)", bulk=True,
    ),
    Register(
        "visits", Visit,
        [Col("visited_at"), Col("findings")],
        refs=[Ref("worker", ("worker_username",), "core_user r", ("r.username",), required=True),
              _person_ref("person", "person_id_number"),
              Ref("household", ("household_number",), "people_household r", ("r.number",)),
              _BUILDING,
              Ref("organisation", ("organisation_credit_code",), "places_organisation r", ("r.credit_code",), upper=True)],
        geometry=Geom("location", ("Point",), required=False),
        check=_check_visits, sort=("visited_at",),
    ),
]}
