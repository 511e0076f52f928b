"""Schemas of the registry API.

Input schemas forbid unknown fields (400), so protected fields (``scope_path``, ``street_code``,
``version`` on create, digests, a place's ``path``/``kind`` once it exists) cannot be set: they are
simply not here. Output schemas of people carry masked values only; the clear ID number and phone
go in (that is how they enter) but never come out except through the reveal endpoint.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Path, Schema
from pydantic import AfterValidator, ConfigDict, Field

from shequ.registry.choices import (
    AgeBand,
    CompoundType,
    Construction,
    FacilityKind,
    OrganisationKind,
    PersonStatus,
    PlaceKind,
    Relation,
    ResidenceType,
    Sex,
)

MAX_ID = 2**63 - 1
MAX_LIMIT = 500


def _no_control_characters(value: str) -> str:
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValueError("不能包含控制字符。")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=0, le=2**31 - 1, description="编辑所依据的版本号；已被他人修改时返回409")]
Text20 = Annotated[str, Field(max_length=20), AfterValidator(_no_control_characters)]
Text50 = Annotated[str, Field(max_length=50), AfterValidator(_no_control_characters)]
Text100 = Annotated[str, Field(max_length=100), AfterValidator(_no_control_characters)]
Text200 = Annotated[str, Field(max_length=200), AfterValidator(_no_control_characters)]
Text2000 = Annotated[str, Field(max_length=2000), AfterValidator(_no_control_characters)]
Slug = Annotated[str, Field(max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, description="经度（WGS84）")]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, description="纬度（WGS84）")]
Area = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2, allow_inf_nan=False)]
Floors = Annotated[int, Field(ge=1, le=300)]
Geometry = Annotated[dict[str, Any], Field(description="GeoJSON 几何（Polygon/MultiPolygon，或楼栋的 Point）")]


class In(Schema):
    """Base of every input schema: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Page(Schema):
    """Pagination of every list: ``limit`` (1–500) and ``offset``."""

    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="每页条数（最多500）")
    offset: int = Field(0, ge=0, le=10**9, description="跳过的条数")


# --- Places ---------------------------------------------------------------------------------------


class PlaceOut(Schema):
    id: int
    kind: str
    name: str
    path: str
    parent: int | None
    geometry: dict[str, Any] | None
    lon: float | None
    lat: float | None
    address: str
    compound_type: str
    floors: int | None
    floor_area: Decimal | None
    version: int


class PlacePage(Schema):
    count: int
    items: list[PlaceOut]


class PlaceQuery(Page):
    kind: PlaceKind | None = None
    parent: Id | None = Field(None, description="直接上级区域编号")
    within: Id | None = Field(None, description="该区域之下（任意层级）")
    q: Text100 = Field("", description="名称包含，或编码前缀")


class PlaceCreate(In):
    parent: Id
    kind: PlaceKind
    name: Text100
    code: str | None = Field(None, pattern=r"^[0-9]{1,6}$", description="本级编码（省略则自动取下一个）")
    geometry: Geometry | None = None
    lon: Lon | None = None
    lat: Lat | None = None
    address: Text200 = ""
    compound_type: CompoundType | None = None
    floors: Floors | None = None
    floor_area: Area | None = None


class PlacePatch(In):
    version: Version
    name: Text100 | None = None
    geometry: Geometry | None = None
    lon: Lon | None = None
    lat: Lat | None = None
    address: Text200 | None = None
    compound_type: CompoundType | Literal[""] | None = None
    floors: Floors | None = None
    floor_area: Area | None = None


# --- Grids ----------------------------------------------------------------------------------------


class GridMemberOut(Schema):
    name: str
    duty: str
    phone_masked: str


class GridOut(Schema):
    id: int
    code: str
    name: str
    community: int
    geometry: dict[str, Any]
    version: int


class GridDetailOut(GridOut):
    members: list[GridMemberOut]


class GridPage(Schema):
    count: int
    items: list[GridOut]


class GridQuery(Page):
    community: Id | None = None
    within: Id | None = None


class GridLocateQuery(Schema):
    lon: Lon
    lat: Lat


class GridCreate(In):
    community: Id
    name: Text100
    geometry: Geometry


class GridPatch(In):
    version: Version
    name: Text100 | None = None
    geometry: Geometry | None = None


# --- Facilities -----------------------------------------------------------------------------------


class FacilityOut(Schema):
    id: int
    place: int
    name: str
    kind: str
    address: str
    lon: float
    lat: float
    floor_area: Decimal
    construction: str
    opened_on: dt.date | None
    version: int


class FacilityPage(Schema):
    count: int
    items: list[FacilityOut]


class FacilityQuery(Page):
    within: Id | None = None
    kind: FacilityKind | None = None


class FacilityCreate(In):
    place: Id
    name: Text100
    kind: FacilityKind
    address: Text200 = ""
    lon: Lon
    lat: Lat
    floor_area: Area
    construction: Construction
    opened_on: dt.date | None = None


class FacilityPatch(In):
    version: Version
    name: Text100 | None = None
    kind: FacilityKind | None = None
    address: Text200 | None = None
    lon: Lon | None = None
    lat: Lat | None = None
    floor_area: Area | None = None
    construction: Construction | None = None
    opened_on: dt.date | None = None


# --- Households -----------------------------------------------------------------------------------


class HouseholdOut(Schema):
    id: int
    unit: int
    unit_name: str
    number: str
    head: int | None
    member_count: int
    version: int


class HouseholdPage(Schema):
    count: int
    items: list[HouseholdOut]


class HouseholdQuery(Page):
    within: Id | None = None


class HouseholdCreate(In):
    unit: Id
    number: Text20 = ""


# --- People ---------------------------------------------------------------------------------------


class PersonOut(Schema):
    """A person as the API shows them: masked name, ID number and phone; age, never the birth date."""

    id: int
    name_masked: str
    id_number_masked: str
    phone_masked: str
    sex: str
    age: int | None
    residence_type: str
    status: str
    place: int
    household: int | None
    relation: str
    tags: list[str]
    version: int


class PersonPage(Schema):
    count: int
    items: list[PersonOut]


class PersonQuery(Page):
    """The fields of ``selectors.PersonFilter``; ``id_number`` and ``phone`` match exactly (blind index)."""

    q: Text50 = Field("", description="姓名包含")
    tag: Text50 = Field("", description="关爱标签标识")
    age_band: AgeBand | None = None
    within: Id | None = Field(None, description="该区域之下（任意层级）")
    residence_type: ResidenceType | None = None
    status: PersonStatus | Literal["all"] = Field(PersonStatus.ACTIVE, description="默认只列在册人员；all 为全部")
    sex: Sex | None = None
    id_number: Text50 = Field("", description="身份证号（精确匹配）")
    phone: Text50 = Field("", description="电话（精确匹配）")


class PersonCreate(In):
    place: Id
    name: Text50
    residence_type: ResidenceType
    id_number: Text50 = ""
    phone: Text50 = ""
    sex: Sex | None = None
    birth_date: dt.date | None = None
    household: Id | None = None
    relation: Relation | None = None
    notes: Text2000 = ""
    tags: list[Slug] = Field(default_factory=list, max_length=20)


class PersonPatch(In):
    version: Version
    name: Text50 | None = None
    id_number: Text50 | None = None
    phone: Text50 | None = None
    sex: Sex | None = None
    birth_date: dt.date | None = None
    residence_type: ResidenceType | None = None
    status: PersonStatus | None = None
    place: Id | None = None
    household: Id | None = Field(None, description="null 表示迁出住户")
    relation: Relation | None = None
    notes: Text2000 | None = None


class PersonTagsIn(In):
    tags: list[Slug] = Field(max_length=20)


class PersonTagsOut(Schema):
    tags: list[str]


class RevealIn(In):
    field: Literal["name", "id_number", "phone"]
    reason: Text200


class RevealOut(Schema):
    field: str
    value: str


# --- Organisations --------------------------------------------------------------------------------


class OrganisationOut(Schema):
    id: int
    kind: str
    name: str
    registration_number: str
    place: int
    address: str
    contact_name: str
    contact_phone_masked: str
    notes: str
    active: bool
    version: int


class OrganisationPage(Schema):
    count: int
    items: list[OrganisationOut]


class OrganisationQuery(Page):
    within: Id | None = None
    kind: OrganisationKind | None = None
    q: Text100 = ""


class OrganisationCreate(In):
    place: Id
    kind: OrganisationKind
    name: Text100
    registration_number: Text20 = ""
    address: Text200 = ""
    contact_name: Text50 = ""
    contact_phone: Text50 = ""
    notes: Text2000 = ""
    active: bool = True


class OrganisationPatch(In):
    version: Version
    kind: OrganisationKind | None = None
    name: Text100 | None = None
    registration_number: Text20 | None = None
    address: Text200 | None = None
    contact_name: Text50 | None = None
    contact_phone: Text50 | None = None
    notes: Text2000 | None = None
    active: bool | None = None

