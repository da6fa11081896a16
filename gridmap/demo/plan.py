"""The demo district as unsaved model instances. `make_plan` draws everything from one seed
and touches no database, so the same seed, scale and date always give the same district:
the area tree and the staff at once, then the registers (buildings, dwellings, households
and people, organisations, facilities, inspections, visits) street by street from
`DemoPlan.streets`, so a ×100 district never has to sit in memory whole.
`services.load_demo_district` writes it."""
import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from shapely.geometry import MultiPolygon, Point, box

from gridmap.core import clock, geo
from gridmap.core.models import Role, User
from gridmap.grids.models import Level
from gridmap.people.models import Person, Visit
from gridmap.places.models import (
    Building, BuildingUse, Dwelling, DwellingUse, Facility, FacilityStatus, FacilityType, Inspection,
    Organisation, OrganisationType, RentedDwelling, RiskLevel,
)

from . import layout
from .identities import CreditCodes, mobile, person_name
from .residents import Residents, Settler

HOUSEHOLDS_PER_SCALE = 8000  # scale 1: one street, about 6 communities, 20 grids, 8,000 households


@dataclass(frozen=True)
class Size:
    streets: int
    grids: tuple[int, ...]  # grids of each community of a street, shuffled per street; about 3 in practice
    households: tuple[int, int]  # per grid; 300-500 in practice


def size_for(scale: float) -> Size:
    """Scale 1 is one street of 6 communities with 20 grids (3 or 4 each) of 300-500 households;
    scale N ≥ 1 is round(N) such streets. Below 1 (tests, quick looks) it stays one street of
    max(2, round(6 × scale)) communities × 2 grids sharing about 8,000 × scale households."""
    if not (isinstance(scale, int | float) and 0 < scale <= 1000):
        raise ValueError(f"scale must be a number in (0, 1000], got {scale!r}")
    if scale >= 1:
        return Size(round(scale), (3, 3, 3, 3, 4, 4), (300, 500))
    communities = max(2, round(6 * scale))
    per_grid = max(10, round(HOUSEHOLDS_PER_SCALE * scale / (2 * communities)))
    return Size(1, (2,) * communities, (round(per_grid * 0.8), round(per_grid * 1.2)))


DISTRICT_NAME = "演示区"
EMAIL_DOMAIN = "demo.gridmap.invalid"  # marks the demo's staff accounts
M2_PER_HOUSEHOLD = 400  # ground per household, roads and open space included
MIN_GRID_M2 = 100_000
SETBACK_M = 12  # half a road between a grid edge and the first building
TZ = ZoneInfo(settings.TIME_ZONE)

STREET_NAMES = list("桂荔海鹏云星榕凤翠青碧金")
STREET_SECOND = list("湾林月程岭海城栖竹松波沙")
NAME_FIRST = list("桂荔海鹏云星榕凤翠青碧金华学科文湾塘岭港")
NAME_SECOND = list("园湾林苑岭景湖山庭岸桥田坑围头")
NAME_SIDE = ["", "东", "西", "南", "北", "中"]  # 桂园东社区: more names for the ×100 district
NUMERALS = "一二三四五六七八九十"
# A second grid layer over the same ground (城管网格, its own staff): every community cut again,
# into 2 or 3 strips across its longer side, each strip a grid with a leader of its own. Codes:
# the community's + 901, 902 … (clear of the primary grids' 001, 002 …). Drawn from a random
# stream of its own, so the primary tree, the staff and the registers stay as they were.
OTHER_LAYER = ("urban", "城管网格 City-management grids")
OTHER_CODE_FROM = 901


def distinct_names(rnd: random.Random, pool: list[str], n: int) -> list[str]:
    """`n` different names from `pool`; past its size they are numbered (桂湾二, 桂湾三 …)."""
    picked = rnd.sample(pool, min(n, len(pool)))
    k = 2
    while len(picked) < n:
        tag = NUMERALS[k - 1] if k <= 10 else str(k)
        picked += [name + tag for name in pool[: n - len(picked)]]
        k += 1
    return picked


@dataclass(frozen=True)
class Template:
    """A kind of residential estate. `unit_size` is the footprint of one unit (entrance), w × d m;
    a building of `units` units is that many wide. `rooms` counts dwellings per unit and floor
    (一梯两户 = 2). `people` names the household shapes that live there (residents.SHAPE_WEIGHTS)."""

    name: str
    unit_size: tuple[float, float]
    gap: tuple[float, float]
    floors: tuple[int, int]
    units: tuple[int, ...]
    rooms: tuple[int, int]
    area_m2: tuple[int, int]
    built: tuple[int, int]
    rented: float
    vacant: float
    suffixes: tuple[str, ...]
    households: tuple[int, int]  # one estate
    people: str


TEMPLATES = {
    # 城中村 handshake buildings (握手楼): one stair, small rooms, mostly let
    "village": Template("城中村握手楼", (12, 12), (3, 3), (6, 9), (1,), (2, 3), (20, 45), (1992, 2010), 0.7, 0.07,
                        ("新村", "村"), (100, 250), "village"),
    # 1980s-90s walk-up slabs (多层板楼), 一梯两户
    "old": Template("多层板楼", (15, 11), (14, 18), (6, 7), (2, 2, 2, 3, 3, 4), (2, 2), (50, 85), (1985, 2000), 0.3, 0.06,
                    ("小区", "新村", "住宅区"), (60, 200), "old"),
    # 2000s mid-rise slabs with lifts (小高层)
    "midrise": Template("小高层板楼", (18, 14), (20, 25), (9, 18), (2, 3), (2, 2), (75, 120), (2000, 2012), 0.22, 0.08,
                        ("花园", "家园"), (120, 300), "estate"),
    # high-rise point towers (高层塔楼), two entrances of 3-4 flats a floor
    "tower": Template("高层塔楼", (16, 18), (25, 30), (18, 33), (2,), (3, 4), (70, 140), (2005, 2020), 0.25, 0.1,
                      ("名苑", "华庭", "花园"), (150, 400), "estate"),
}
KIND_WEIGHTS = {"village": 22, "old": 68, "midrise": 6, "tower": 4}  # per estate
SHOPS = [("便利店", RiskLevel.LOW), ("餐馆", RiskLevel.MEDIUM), ("理发店", RiskLevel.LOW), ("五金店", RiskLevel.LOW),
         ("水果店", RiskLevel.LOW), ("快递驿站", RiskLevel.LOW), ("药店", RiskLevel.LOW), ("茶餐厅", RiskLevel.MEDIUM),
         ("洗衣店", RiskLevel.LOW), ("网吧", RiskLevel.MEDIUM), ("烧烤店", RiskLevel.MEDIUM), ("电动车维修店", RiskLevel.HIGH)]
INDUSTRIES = ["科技", "电子", "网络", "贸易", "设计", "咨询", "文化传媒", "生物医药"]
FINDINGS = ["情况正常", "消防通道堆放杂物，已提醒清理", "灭火器过期，限期更换", "电动车楼道充电，已劝导",
            "人员信息有变化，已更新", "反映楼道照明损坏", "邻里噪音纠纷，已调解"]
# CJ/T 214 major classes: 01 public facilities, 02 roads and traffic, 03 city appearance. The
# subclass digits are the demo's own. Code = county (6) + class (2) + subclass (2) + serial (6).
FACILITY_CLASS = {
    FacilityType.MANHOLE: "0101", FacilityType.HYDRANT: "0108", FacilityType.STREET_LIGHT: "0205",
    FacilityType.CAMERA: "0213", FacilityType.SIGN: "0220", FacilityType.RUBBISH_BIN: "0304",
}
FACILITY_OWNER = {
    FacilityType.MANHOLE: "区水务局", FacilityType.HYDRANT: "区消防救援大队", FacilityType.STREET_LIGHT: "区城管局路灯所",
    FacilityType.CAMERA: "区公安分局", FacilityType.SIGN: "区城管局", FacilityType.RUBBISH_BIN: "区环卫所",
}
# Spacing of things along the roads (the grid edges), metres, and share of buildings with one.
LIGHT_EVERY_M, MANHOLE_EVERY_M, CAMERA_SHARE = 75, 150, 0.25
BIN_EVERY, HYDRANT_EVERY = 3, 5  # buildings


@dataclass
class AreaPlan:
    code: str
    name: str
    level: str
    cell: layout.Cell
    phone: str = ""
    children: list["AreaPlan"] = field(default_factory=list)
    staff: list[User] = field(default_factory=list)  # the leader first
    geom: GEOSGeometry | None = None
    layer: str = ""  # a grid's layer code when not the primary layer
    overlay: list["AreaPlan"] = field(default_factory=list)  # other layers' grids cut from this area

    def walk(self):
        """This area and the primary tree below it."""
        yield self
        for child in self.children:
            yield from child.walk()

    def walk_layers(self):
        """walk(), then the other layers' grids of every area in it."""
        yield from self.walk()
        for node in self.walk():
            yield from node.overlay


@dataclass
class Registers:
    """What one street (or all of them, `DemoPlan.gather`) adds below the grids."""

    buildings: list[Building] = field(default_factory=list)
    dwellings: list[Dwelling] = field(default_factory=list)
    residents: Residents = field(default_factory=Residents)
    building_heads: list[tuple[Building, Person]] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)
    facilities: list[Facility] = field(default_factory=list)
    inspections: list[Inspection] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)

    def extend(self, other: "Registers") -> None:
        for name, value in vars(other).items():
            if name == "residents":
                for rname, rvalue in vars(value).items():
                    getattr(self.residents, rname).extend(rvalue)
            else:
                getattr(self, name).extend(value)


@dataclass
class DemoPlan:
    root: AreaPlan
    users: list[tuple[User, AreaPlan | None]]
    streets: Iterator[Registers]  # one Registers per street, drawn as it is consumed; then the outside ones

    def gather(self) -> Registers:
        """Everything below the grids in one Registers (small scales: tests, inspection)."""
        out = Registers()
        for part in self.streets:
            out.extend(part)
        return out


def make_plan(seed: int = 1, scale: float = 1, today: dt.date | None = None, county: str = "440305",
              areas_only: bool = False) -> DemoPlan:
    """The district of `seed` at `scale` (see `size_for`). With `areas_only`, `streets` yields nothing."""
    planner = _Planner(seed, size_for(scale), today or clock.today(), county)
    root = planner.areas()
    users = planner.staff(root)
    return DemoPlan(root, users, iter(()) if areas_only else planner.registers(root))


class _Planner:
    def __init__(self, seed: int, size: Size, today: dt.date, county: str):
        self.rnd = random.Random(seed)
        self.other_rnd = random.Random(f"{OTHER_LAYER[0]}-{seed}")  # the other layer's phones and staff
        self.np = np.random.default_rng(seed)
        self.size, self.today, self.county = size, today, county
        self.codes = CreditCodes(self.rnd, county)
        self.serial: dict[str, int] = {}
        self.users: list[tuple[User, AreaPlan | None]] = []
        self._start(Registers())

    def _start(self, out: Registers) -> None:
        """Begin a street: fresh lists, so what was written can be let go."""
        self.out = out
        self.residents = out.residents
        if hasattr(self, "settler"):
            self.settler.out = out.residents  # one settler throughout: ID numbers stay unique
        else:
            self.settler = Settler(self.rnd, self.today, self.county, out.residents)
        self.metric: list[tuple[object, str, object]] = []  # (instance, field, metric shapely geometry)
        self.footprint: dict[int, object] = {}  # id(building) → metric footprint
        self.home: dict[int, Building] = {}  # id(person) → building they live in

    def registers(self, root: AreaPlan) -> Iterator[Registers]:
        done = None  # the streets already drawn: their edge roads are theirs
        exterior = root.cell.geom.exterior.buffer(1)
        for street in root.children:
            self._start(Registers())
            # each street has its schools, an office tower and perhaps an industrial park, in one grid
            special, towers = self.rnd.sample([g for c in street.children for g in c.children], 2)
            for community in street.children:
                for grid in community.children:
                    # every street has at least one estate of high-rise towers
                    self._grid(street, community, grid, grid is special, "tower" if grid is towers else None)
            # not on the district's own edge: a point there may round to just outside every grid
            roads = shapely.union_all([g.cell.geom.boundary for c in street.children for g in c.children]).difference(exterior)
            if done is not None:
                roads = roads.difference(done.buffer(1))
            done = street.cell.geom if done is None else done.union(street.cell.geom)
            self._roadside(roads)
            self._to_wgs84()
            yield self.out
        self._start(Registers())
        self._outside(root)
        self._to_wgs84()
        yield self.out

    # --- areas and staff -------------------------------------------------------------------
    def areas(self) -> AreaPlan:
        s, r = self.size, self.rnd
        shape = [r.sample(s.grids, len(s.grids)) for _ in range(s.streets)]
        n_grids = sum(map(sum, shape))

        def fanout(path: tuple[int, ...]) -> int:
            node = shape
            for i in path:
                node = node[i - 1]
            return len(node) if isinstance(node, list) else node

        centre = layout.from_wgs84(settings.LEAFLET_CONFIG["DEFAULT_CENTER"][1], settings.LEAFLET_CONFIG["DEFAULT_CENTER"][0], settings.METRIC_SRID)
        # small test grids still get room for their community centre, shops and schools
        per_grid = max(sum(s.households) / 2 * M2_PER_HOUSEHOLD, MIN_GRID_M2)
        outline = layout.district_outline(centre, n_grids * per_grid, self.np)
        tree = layout.build_tree(outline, fanout, [Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID], self.np)
        street_names = distinct_names(r, [a + b for a in STREET_NAMES for b in STREET_SECOND if a != b], s.streets)
        n_communities = sum(len(street) for street in shape)
        bases = distinct_names(r, [a + b + side for side in NAME_SIDE for a in NAME_FIRST for b in NAME_SECOND if a != b], n_communities)
        root = AreaPlan(self.county, DISTRICT_NAME, Level.DISTRICT, tree, phone=self._landline())
        for street_cell, street_name in zip(tree.children, street_names):
            street = AreaPlan(f"{root.code}{street_cell.index:03d}", street_name + "街道", Level.STREET, street_cell, phone=self._landline())
            root.children.append(street)
            for community_cell in street_cell.children:
                base = bases.pop()
                community = AreaPlan(f"{street.code}{community_cell.index:03d}", base + "社区", Level.COMMUNITY, community_cell, phone=self._landline())
                street.children.append(community)
                community.children = [
                    AreaPlan(f"{community.code}{g.index:03d}", f"{base}社区第{g.index}网格", Level.GRID, g, phone=self._landline())
                    for g in community_cell.children
                ]
        nodes = list(root.walk())
        for node, geom in zip(nodes, self._wgs84([n.cell.geom for n in nodes])):
            node.geom = geom
        self._other_layer(root)
        return root

    def _other_layer(self, root: AreaPlan) -> None:
        """The second layer's grids (OTHER_LAYER): each community in 2 strips, 3 where it has 3
        or more grids. Cut from the stored (lon/lat) boundaries, so each strip lies inside its
        community as stored and meets its neighbours vertex for vertex; their `cell` holds that
        lon/lat strip."""
        communities = [c for street in root.children for c in street.children]
        shapes = [geo.to_shape(c.geom) for c in communities]
        cut = layout.strips(shapes, [3 if len(c.children) >= 3 else 2 for c in communities])
        for community, strips in zip(communities, cut):
            community.overlay = [
                AreaPlan(f"{community.code}{OTHER_CODE_FROM - 1 + i:03d}", f"{community.name}城管第{i}网格", Level.GRID,
                         layout.Cell(Level.GRID, i, g), phone=self._landline(self.other_rnd), layer=OTHER_LAYER[0],
                         geom=geo.to_geos(g))
                for i, g in enumerate(strips, 1)
            ]

    def _landline(self, rnd: random.Random | None = None) -> str:
        return f"0755-2{(rnd or self.rnd).randrange(10**6, 10**7)}"

    def _user(self, username: str, role: str, area: AreaPlan | None, rnd: random.Random | None = None) -> None:
        rnd = rnd or self.rnd
        surname, given = person_name(rnd, rnd.choice("MF"))
        # is_staff: every demo account signs in through the admin login form; what it may do
        # there comes from its role (gridmap.core.models.ROLE_PERMISSIONS), what it sees from its area.
        user = User(username=username, first_name=given, last_name=surname, role=role, is_staff=True,
                    email=f"{username}@{EMAIL_DOMAIN}", phone=mobile(rnd))
        self.users.append((user, area))
        if area is not None:
            area.staff.append(user)

    def staff(self, root: AreaPlan) -> list[tuple[User, AreaPlan | None]]:
        """Usernames follow the area numbers: street-01, comm-01-02, grid-01-02-03 (网格长),
        worker-01-02-03a (网格员); the other layer's grid leaders come last, urban-01-02-01 for
        the first strip of community 01-02. Street numbers past 99 take three digits."""
        self._user("centre", Role.CENTRE_ADMIN, None)
        self._user("leader", Role.LEADER, None)
        self._user("dept", Role.DEPARTMENT, root)
        for street in root.children:
            s = f"{street.cell.index:02d}"
            self._user(f"street-{s}", Role.AREA_STAFF, street)
            for community in street.children:
                c = f"{s}-{community.cell.index:02d}"
                self._user(f"comm-{c}", Role.AREA_STAFF, community)
                for grid in community.children:
                    g = f"{c}-{grid.cell.index:02d}"
                    self._user(f"grid-{g}", Role.GRID_LEADER, grid)
                    for suffix in "ab"[: self.rnd.choice([1, 1, 2])]:
                        self._user(f"worker-{g}{suffix}", Role.GRID_WORKER, grid)
        for street in root.children:
            for community in street.children:
                for grid in community.overlay:
                    name = f"{grid.layer}-{street.cell.index:02d}-{community.cell.index:02d}-{grid.cell.index:02d}"
                    self._user(name, Role.GRID_LEADER, grid, self.other_rnd)
        # the auditor (审计员) browses the sensitive-access log; its own generator, so the names
        # drawn for every other account stay those of the same seed
        self._user("auditor", Role.AUDITOR, None, random.Random("auditor"))
        return self.users

    # --- one grid ----------------------------------------------------------------------
    def _grid(self, street: AreaPlan, community: AreaPlan, grid: AreaPlan, has_specials: bool, first: str | None) -> None:
        r, out = self.rnd, self.out
        inner = grid.cell.geom.buffer(-SETBACK_M)
        taken: list = []
        first_org = len(out.organisations)
        if grid.cell.index == 1:
            self._community_centre(street, community, grid, inner, taken)
        if has_specials:
            self._street_specials(street, grid, inner, taken)
        for _ in range(r.choice([1, 1, 2])):
            self._shops(street, community, grid, inner, taken)
        first_rental, first_special_group = len(self.residents.rentals), len(self.residents.special)
        target = r.randint(*self.size.households)
        households: list = []
        misses = 0
        while len(households) < target and misses < 3:
            kind = first or r.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0]
            first = None
            left = target - len(households)
            size = r.randint(*TEMPLATES[kind].households)
            size = left if left - size < 60 else size  # no estate of a handful of households
            added = self._estate(street, community, grid, kind, inner, taken, size, len(households))
            misses += not added
            households += added
        workers = grid.staff
        for record in self.residents.special[first_special_group:]:
            record.responsible = r.choice(workers)
        self._inspections(self.residents.rentals[first_rental:], out.organisations[first_org:], workers)
        self._visits(grid, households, self.residents.special[first_special_group:], out.organisations[first_org:])

    def _building(self, footprint, grid_code: str, **fields) -> Building:
        self.serial[grid_code] = n = self.serial.get(grid_code, 0) + 1
        building = Building(code=f"{grid_code}{n:04d}", **fields)
        self.metric.append((building, "footprint", MultiPolygon([footprint])))
        self.footprint[id(building)] = footprint
        self.out.buildings.append(building)
        return building

    def _place(self, inner, size, taken, clearance=10.0):
        """One footprint of `size` somewhere free in `inner`, or None when there is no room."""
        cands = layout.lattice(inner, size, (clearance, clearance), self.rnd.uniform(-25, 25), self.np)
        towards = Point(layout.sample_points(inner, 1, self.np)[0]) if not inner.is_empty else None
        found = layout.take_nearest(cands, 1, towards, taken, clearance) if towards else []
        taken += found
        return found[0] if found else None

    def _org(self, building: Building, name: str, kind: str, authority: str | None, employees: int,
             risk: str = RiskLevel.LOW, address: str = "") -> Organisation:
        surname, given = person_name(self.rnd, self.rnd.choice("MF"))
        org = Organisation(
            name=name, kind=kind, credit_code=self.codes.issue(authority) if authority else "",
            legal_representative=surname + given, contact=surname + given, phone=mobile(self.rnd),
            employees=employees, address=address or building.address, building=building, risk_level=risk,
        )
        self.out.organisations.append(org)
        return org

    def _shop(self, b: Building, address: str) -> None:
        shop, risk = self.rnd.choice(SHOPS)
        owner = person_name(self.rnd, self.rnd.choice("MF"))
        self._org(b, f"{owner[0]}记{shop}", OrganisationType.SHOP, "92", self.rnd.randint(1, 6), risk, address=address)

    def _community_centre(self, street, community, grid, inner, taken) -> None:
        r = self.rnd
        if fp := self._place(inner, (36, 20), taken):
            b = self._building(fp, grid.code, name=f"{community.name}党群服务中心", use=BuildingUse.PUBLIC,
                               floors_above=4, units=1, rooms_per_floor=0, height_m=16.0, year_built=2012,
                               address=f"{street.name}{community.name}党群服务中心")
            self._org(b, f"{community.name}工作站", OrganisationType.GOVERNMENT, "11", r.randint(12, 25))
            self._org(b, f"{community.name}党委", OrganisationType.PARTY, None, r.randint(5, 9))
            self._org(b, f"{community.name}健康服务中心", OrganisationType.HOSPITAL, "12", r.randint(10, 30), RiskLevel.MEDIUM)
            self._org(b, f"{community.name}志愿者协会", OrganisationType.SOCIAL, "51", r.randint(2, 6))
        if fp := self._place(inner, (30, 24), taken):
            b = self._building(fp, grid.code, name=f"{community.name[:2]}幼儿园", use=BuildingUse.PUBLIC, floors_above=3,
                               units=1, rooms_per_floor=0, height_m=11.0, year_built=r.randint(1995, 2018),
                               address=f"{street.name}{community.name}{community.name[:2]}幼儿园")
            self._org(b, f"深圳市南山区{community.name[:2]}幼儿园", OrganisationType.SCHOOL, "52", r.randint(15, 40), RiskLevel.MEDIUM)
        if r.random() < 0.5 and (fp := self._place(inner, (40, 30), taken)):
            b = self._building(fp, grid.code, name=f"{community.name[:2]}农贸市场", use=BuildingUse.COMMERCIAL, floors_above=2,
                               units=1, rooms_per_floor=0, height_m=9.0, year_built=r.randint(1995, 2015),
                               address=f"{street.name}{community.name}{community.name[:2]}农贸市场")
            self._org(b, f"深圳市{community.name[:2]}农贸市场管理有限公司", OrganisationType.ENTERPRISE, "91", r.randint(8, 20), RiskLevel.MEDIUM)

    def _shops(self, street, community, grid, inner, taken) -> None:
        """A row of street shops (沿街商铺), two or three floors, one business per front."""
        r = self.rnd
        fronts = r.randint(4, 7)
        if fp := self._place(inner, (fronts * 6, 14), taken):
            number = r.randint(1, 300)
            b = self._building(fp, grid.code, name=f"{community.name[:2]}商业楼{number}号", use=BuildingUse.COMMERCIAL,
                               floors_above=r.randint(2, 3), units=1, rooms_per_floor=0, year_built=r.randint(1995, 2018),
                               address=f"{street.name}{community.name[:2]}路{number}号")
            for k in range(1, fronts + 1):
                if r.random() < 0.9:  # the rest stand empty
                    self._shop(b, f"{b.address}-{k}")

    def _street_specials(self, street, grid, inner, taken) -> None:
        r, grid_code = self.rnd, grid.code
        for level, size in (("小学", (70, 40)), ("中学", (80, 40))):
            if fp := self._place(inner, size, taken, 20):
                b = self._building(fp, grid_code, name=f"{street.name[:2]}{level}", use=BuildingUse.PUBLIC, floors_above=5,
                                   rooms_per_floor=0, height_m=20.0, year_built=r.randint(1995, 2015), address=f"{street.name}{street.name[:2]}路{r.randint(1, 99)}号")
                self._org(b, f"深圳市南山区{street.name[:2]}{level}", OrganisationType.SCHOOL, "12", r.randint(80, 160), RiskLevel.MEDIUM)
        if fp := self._place(inner, (40, 30), taken, 20):
            floors = r.randint(12, 28)
            b = self._building(fp, grid_code, name=f"{street.name[:2]}大厦", use=BuildingUse.COMMERCIAL, floors_above=floors,
                               floors_below=2, rooms_per_floor=0, height_m=floors * 3.8, year_built=r.randint(2005, 2020),
                               address=f"{street.name}{street.name[:2]}大道88号", property_manager=f"{street.name[:2]}大厦物业管理处")
            for _ in range(r.randint(6, 14)):
                name = f"深圳市{r.choice(NAME_FIRST)}{r.choice(NAME_SECOND)}{r.choice(INDUSTRIES)}有限公司"
                self._org(b, name, OrganisationType.ENTERPRISE, "91", r.randint(5, 200), address=f"{b.address}{r.randint(2, floors)}楼")
        if r.random() < 0.6:
            for letter in "ABCD"[: r.randint(2, 4)]:
                if fp := self._place(inner, (60, 24), taken, 15):
                    b = self._building(fp, grid_code, name=f"{street.name[:2]}工业园{letter}栋", use=BuildingUse.INDUSTRIAL,
                                       floors_above=r.randint(3, 5), rooms_per_floor=0, year_built=r.randint(1990, 2005),
                                       address=f"{street.name}{street.name[:2]}工业园{letter}栋")
                    self._org(b, f"深圳市{r.choice(NAME_FIRST)}{r.choice(NAME_SECOND)}{r.choice(['精密制造', '电子', '塑胶', '包装'])}有限公司",
                              OrganisationType.ENTERPRISE, "91", r.randint(50, 400), r.choice([RiskLevel.MEDIUM, RiskLevel.HIGH]))

    def _estate(self, street, community, grid, kind, inner, taken, target: int, seq: int) -> list:
        """Buildings of one estate round a centre until about `target` households live there;
        returns [(household, building)]. `seq` households of the grid came before."""
        r, t = self.rnd, TEMPLATES[kind]
        name = r.choice(NAME_FIRST) + r.choice(NAME_SECOND) + r.choice(t.suffixes)
        units = r.choice(t.units)
        cands = layout.lattice(inner, (t.unit_size[0] * units, t.unit_size[1]), t.gap, r.uniform(-20, 20), self.np)
        if not cands:
            return []
        centre = Point(layout.sample_points(inner, 1, self.np)[0])
        households = []
        if kind != "village" and (fp := self._place(inner, (20, 12), taken)):
            # the estate's service building (配套用房): property office, bicycle store, refuse room
            b = self._building(fp, grid.code, name=f"{name}配套用房", use=BuildingUse.PUBLIC, floors_above=r.randint(1, 2),
                               units=1, rooms_per_floor=0, year_built=r.randint(*t.built), address=f"{street.name}{community.name}{name}配套用房")
            self._org(b, f"深圳市{name[:2]}物业管理有限公司{name}服务中心", OrganisationType.ENTERPRISE, None, r.randint(6, 30))
        for number, fp in enumerate(layout.take_nearest(cands, len(cands), centre, taken, max(t.gap)), 1):
            if len(households) >= target:
                break
            taken.append(fp)
            rooms = r.randint(*t.rooms)
            # the last building is lower, so a grid stays near its 300-500 households
            fits = math.ceil((target - len(households)) / (units * rooms * (1 - t.vacant)))
            floors = max(6, min(r.randint(*t.floors), fits))
            mixed = kind == "village" and r.random() < 0.35
            b = self._building(fp, grid.code, name=f"{name}{number}栋", address=f"{street.name}{community.name}{name}{number}栋",
                               use=BuildingUse.MIXED if mixed else BuildingUse.RESIDENTIAL, floors_above=floors,
                               floors_below=1 if floors > 9 else 0, units=units, rooms_per_floor=rooms,
                               height_m=round(floors * r.uniform(2.9, 3.2), 1), year_built=r.randint(*t.built),
                               property_manager="" if kind == "village" else f"{name}物业管理处")
            households += self._fill(b, kind, mixed, grid.code, t, seq + len(households))
        return households

    def _fill(self, b: Building, kind: str, mixed: bool, grid_code: str, t: Template, seq: int) -> list:
        """Dwellings of one building and the households in them."""
        r = self.rnd
        out, landlord, residents = [], None, []
        rooms = [(u, f, n) for u in range(1, b.units + 1) for f in range(b.floors_above, 0, -1) for n in range(1, b.rooms_per_floor + 1)]
        for unit, floor, n in rooms:
            if mixed and floor == 1:
                use = DwellingUse.COMMERCIAL
            elif kind == "village" and landlord is None:
                use = DwellingUse.SELF_OCCUPIED  # the owner's family lives on the top floor
            else:
                x = r.random()
                use = DwellingUse.VACANT if x < t.vacant else DwellingUse.RENTED if x < t.vacant + t.rented else DwellingUse.SELF_OCCUPIED
            room = f"{floor}{n:02d}" if b.units == 1 else f"{unit}-{floor}{n:02d}"
            d = Dwelling(building=b, unit=unit, floor=floor, room=room, area_m2=round(r.uniform(*t.area_m2), 1), use=use)
            self.out.dwellings.append(d)
            if use == DwellingUse.COMMERCIAL:
                self._shop(b, f"{b.address}{d.room}")
                if landlord:
                    self.residents.owners.append((d, landlord))
                else:
                    d.owner_name = "".join(person_name(r, "M"))
                continue
            if use == DwellingUse.VACANT:
                d.owner_name = "".join(person_name(r, r.choice("MF")))
                continue
            members = self.settler.household(d, t.people, f"{grid_code}{seq + len(out) + 1:05d}")
            out.append((self.residents.households[-1], b))
            residents += members
            self.home.update((id(p), b) for p in members)
            if use == DwellingUse.SELF_OCCUPIED:
                self.residents.owners.append((d, members[0]))
                if kind == "village" and landlord is None:
                    landlord = members[0]
            else:
                rental = self.settler.lease(d, members, landlord if kind == "village" else None)
                if rental.landlord:
                    self.residents.owners.append((d, rental.landlord))
                else:
                    d.owner_name = rental.landlord_name
        adults = [p for p in residents if (self.today - p.birth_date).days >= 25 * 365]
        if adults:
            head = next((p for p in adults if p.residence_type == "registered"), adults[0])
            self.out.building_heads.append((b, head))
        return out

    # --- what workers record -------------------------------------------------------------
    def _at(self, d: dt.date, hour_from: int = 9, hour_to: int = 18) -> dt.datetime:
        return dt.datetime.combine(d, dt.time(self.rnd.randint(hour_from, hour_to - 1), self.rnd.randrange(60)), tzinfo=TZ)

    def _working_day(self, days_back: int) -> dt.date:
        d = self.today - dt.timedelta(days=max(1, days_back))
        return d - dt.timedelta(days=max(0, d.weekday() - 4))

    def _inspections(self, rentals, orgs, workers) -> None:
        """Past checks of about 30% of rented rooms and half the organisations."""
        r = self.rnd
        for subject, share in [(x, 0.3) for x in rentals] + [(x, 0.5) for x in orgs]:
            for _ in range(r.randint(1, 2) if r.random() < share else 0):
                passed = r.random() < 0.85
                self.out.inspections.append(Inspection(
                    rented_dwelling=subject if isinstance(subject, RentedDwelling) else None,
                    organisation=subject if isinstance(subject, Organisation) else None,
                    inspected_at=self._at(self._working_day(r.randint(1, 300))), inspector=r.choice(workers), passed=passed,
                    findings=FINDINGS[0] if passed else r.choice(FINDINGS[1:4]),
                ))

    def _visit(self, worker, days_back: int, near, **subject) -> None:
        v = Visit(worker=worker, visited_at=self._at(self._working_day(days_back)), findings=self.rnd.choice(FINDINGS), **subject)
        if self.rnd.random() < 0.92:  # the rest were typed in at the desk, without GPS
            c = near.centroid
            self.metric.append((v, "location", Point(c.x + self.rnd.gauss(0, 5), c.y + self.rnd.gauss(0, 5))))
        self.out.visits.append(v)

    def _visits(self, grid, households, special, orgs) -> None:
        """Special-group people on their schedule (some overdue), one household in ten, and
        organisations at risk monthly, over the last 90 days."""
        r = self.rnd
        for record in special:
            near = self.footprint[id(self.home[id(record.person)])]
            for back in range(r.randint(0, 3), 90, record.visit_every_days + r.randint(-1, 3)):
                if r.random() < 0.9:
                    self._visit(record.responsible, back, near, person=record.person)
        for household, b in households:
            if r.random() < 0.1:
                self._visit(r.choice(grid.staff), r.randint(1, 90), self.footprint[id(b)], household=household)
        for org in orgs:
            if org.risk_level != RiskLevel.LOW:
                for back in range(r.randint(1, 10), 90, 30):
                    self._visit(r.choice(grid.staff), back, self.footprint[id(org.building)], organisation=org)

    # --- things on the street ---------------------------------------------------------------
    def _facility(self, kind: str, point) -> None:
        key = FACILITY_CLASS[kind]
        self.serial[key] = n = self.serial.get(key, 0) + 1
        status = self.rnd.choices([FacilityStatus.NORMAL, FacilityStatus.DAMAGED, FacilityStatus.MISSING], [93, 5, 2])[0]
        f = Facility(code=f"{self.county}{key}{n:06d}", kind=kind, status=status, owner_department=FACILITY_OWNER[kind])
        self.metric.append((f, "geom", point))
        self.out.facilities.append(f)

    def _roadside(self, roads) -> None:
        """Street lights and manholes along the roads (the grid edges, so some stand exactly on a
        shared edge and show the lowest-code rule), cameras at junctions, bins and hydrants by
        the buildings, signs at public buildings."""
        for p in layout.points_along(roads, LIGHT_EVERY_M, self.np):
            self._facility(FacilityType.STREET_LIGHT, p)
        for p in layout.points_along(roads, MANHOLE_EVERY_M, self.np):
            self._facility(FacilityType.MANHOLE, p)
        junctions = shapely.get_coordinates(roads)
        for x, y in junctions[self.np.random(len(junctions)) < CAMERA_SHARE]:
            self._facility(FacilityType.CAMERA, Point(x, y))
        for i, b in enumerate(self.out.buildings):
            ring = self.footprint[id(b)].buffer(4).exterior
            if i % BIN_EVERY == 0:
                self._facility(FacilityType.RUBBISH_BIN, ring.interpolate(self.rnd.random(), normalized=True))
            if i % HYDRANT_EVERY == 0:
                self._facility(FacilityType.HYDRANT, ring.interpolate(self.rnd.random(), normalized=True))
            if b.use == BuildingUse.PUBLIC:
                self._facility(FacilityType.SIGN, ring.interpolate(self.rnd.random(), normalized=True))

    def _outside(self, root: AreaPlan) -> None:
        """A site dormitory and some lights just past the district edge: no grid covers them, so
        they wait in the unassigned queue (待分配) for the centre."""
        outline = root.cell.geom
        c = outline.centroid
        edge = outline.exterior.interpolate(self.rnd.random(), normalized=True)
        dx, dy = edge.x - c.x, edge.y - c.y
        scale = 1 + 60 / math.hypot(dx, dy)
        spot = Point(c.x + dx * scale, c.y + dy * scale)
        fp = box(spot.x - 15, spot.y - 6, spot.x + 15, spot.y + 6)
        b = self._building(fp, f"{self.county}999999999", name="工地临时宿舍", use=BuildingUse.RESIDENTIAL, floors_above=2,
                           units=1, rooms_per_floor=6, year_built=self.today.year, address=f"{DISTRICT_NAME}边界外在建工地",
                           property_manager="工程项目部")
        for floor in (1, 2):
            for n in range(1, 7):
                d = Dwelling(building=b, unit=1, floor=floor, room=f"{floor}{n:02d}", area_m2=18.0, use=DwellingUse.RENTED, owner_name="工程项目部")
                self.out.dwellings.append(d)
                members = self.settler.household(d, "village", f"{b.code}{floor}{n:02d}")
                self.settler.lease(d, members, None).landlord_name = "工程项目部"
        for k in range(3):
            self._facility(FacilityType.STREET_LIGHT, Point(spot.x + 30 * (k + 1) * dx / math.hypot(dx, dy), spot.y + 30 * (k + 1) * dy / math.hypot(dx, dy)))

    # --- to storage ------------------------------------------------------------------------
    def _wgs84(self, geoms) -> list[GEOSGeometry]:
        out = layout.to_wgs84(np.array(geoms, dtype=object), settings.METRIC_SRID)
        return [geo.to_geos(g) for g in out]

    def _to_wgs84(self) -> None:
        if not self.metric:
            return
        objs, attrs, geoms = zip(*self.metric)
        for obj, attr, g in zip(objs, attrs, self._wgs84(geoms)):
            setattr(obj, attr, g)
        self.metric = []
