"""Registry API: places, grids, facilities, households, people, organisations.

Each endpoint parses its input (``schemas``), loads through ``selectors`` (scoped to ``request.auth``;
out of scope and missing both answer 404), calls one service and shapes the answer. People come out
masked; the clear values only through ``POST /people/{id}/reveal`` (reason required, audited).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from shequ.core import pii
from shequ.core.api_errors import ErrorOut
from shequ.core.errors import NotFound
from shequ.registry import selectors, services
from shequ.registry.models import CareTag, Facility, Grid, Household, Organisation, Person, Place
from shequ.registry.schemas import (
    FacilityCreate,
    FacilityOut,
    FacilityPage,
    FacilityPatch,
    FacilityQuery,
    GridCreate,
    GridDetailOut,
    GridLocateQuery,
    GridPage,
    GridPatch,
    GridQuery,
    HouseholdCreate,
    HouseholdOut,
    HouseholdPage,
    HouseholdQuery,
    OrganisationCreate,
    OrganisationOut,
    OrganisationPage,
    OrganisationPatch,
    OrganisationQuery,
    Page,
    PathId,
    PersonCreate,
    PersonOut,
    PersonPage,
    PersonPatch,
    PersonQuery,
    PersonTagsIn,
    PersonTagsOut,
    PlaceCreate,
    PlaceOut,
    PlacePage,
    PlacePatch,
    PlaceQuery,
    RevealIn,
    RevealOut,
)

router = Router(tags=["基础数据"])

READ_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
UPDATE_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 409: ErrorOut}

# Optional text fields a client may clear by sending null: stored as "" (the column is not nullable).
_BLANK_WHEN_NULL = frozenset({"address", "compound_type", "id_number", "phone", "sex", "relation", "notes",
                              "registration_number", "contact_name", "contact_phone"})


def _actor(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _page(qs: QuerySet[Any], page: Page) -> tuple[int, list[Any]]:
    return qs.count(), list(qs[page.offset:page.offset + page.limit])


def _changes(payload: Any) -> tuple[int, dict[str, Any]]:
    """The fields the client sent (PATCH semantics) and the version it edited."""
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    for field, value in changes.items():
        if value is None and field in _BLANK_WHEN_NULL:
            changes[field] = ""
    return version, changes


def _place_in_scope(request: HttpRequest, place_id: PathId | None) -> Place | None:
    return None if place_id is None else selectors.place_get(actor=_actor(request), place_id=place_id)


# --- Places ---------------------------------------------------------------------------------------


def place_out(place: Place) -> dict[str, Any]:
    return {
        "id": place.pk, "kind": place.kind, "name": place.name, "path": place.path, "parent": place.parent_id,
        "geometry": place.geometry, "lon": place.lon, "lat": place.lat, "address": place.address,
        "compound_type": place.compound_type, "floors": place.floors, "floor_area": place.floor_area,
        "version": place.version,
    }


@router.get("/places", response={200: PlacePage, **READ_ERRORS}, summary="区域列表")
def place_list(request: HttpRequest, filters: Query[PlaceQuery]) -> dict[str, Any]:
    actor = _actor(request)
    qs = selectors.place_list(
        actor=actor, kind=filters.kind or None, parent=_place_in_scope(request, filters.parent), q=filters.q.strip(),
        within=_place_in_scope(request, filters.within),
    )
    count, items = _page(qs, filters)
    return {"count": count, "items": [place_out(p) for p in items]}


@router.get("/places/{place_id}", response={200: PlaceOut, **READ_ERRORS}, summary="区域详情")
def place_detail(request: HttpRequest, place_id: PathId) -> dict[str, Any]:
    return place_out(selectors.place_get(actor=_actor(request), place_id=place_id))


@router.get("/places/{place_id}/children", response={200: PlacePage, **READ_ERRORS}, summary="下级区域")
def place_children(request: HttpRequest, place_id: PathId, page: Query[Page]) -> dict[str, Any]:
    actor = _actor(request)
    place = selectors.place_get(actor=actor, place_id=place_id)
    count, items = _page(selectors.place_children(actor=actor, place=place), page)
    return {"count": count, "items": [place_out(p) for p in items]}


@router.post("/places", response={201: PlaceOut, **WRITE_ERRORS}, summary="新增区域")
def place_create(request: HttpRequest, payload: PlaceCreate) -> Status:
    data = payload.model_dump()
    parent = selectors.place_get(actor=_actor(request), place_id=data.pop("parent"))
    data["compound_type"] = data["compound_type"] or ""
    place = services.place_create(actor=_actor(request), parent=parent, **data)
    return Status(201, place_out(place))


@router.patch("/places/{place_id}", response={200: PlaceOut, **UPDATE_ERRORS}, summary="修改区域")
def place_update(request: HttpRequest, place_id: PathId, payload: PlacePatch) -> dict[str, Any]:
    place = selectors.place_get(actor=_actor(request), place_id=place_id)
    version, changes = _changes(payload)
    return place_out(services.place_update(actor=_actor(request), place=place, version=version, **changes))


# --- Grids ----------------------------------------------------------------------------------------


def grid_out(grid: Grid, *, members: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": grid.pk, "code": grid.code, "name": grid.name, "community": grid.community_id,
                           "geometry": grid.geometry, "version": grid.version}
    if members:
        out["members"] = [{"name": m.name, "duty": m.duty, "phone_masked": pii.mask_phone(m.phone)}
                          for m in grid.members.all()]
    return out


@router.get("/grids", response={200: GridPage, **READ_ERRORS}, summary="网格列表")
def grid_list(request: HttpRequest, filters: Query[GridQuery]) -> dict[str, Any]:
    qs = selectors.grid_list(actor=_actor(request), community=_place_in_scope(request, filters.community),
                             within=_place_in_scope(request, filters.within))
    count, items = _page(qs, filters)
    return {"count": count, "items": [grid_out(g) for g in items]}


@router.get("/grids/locate", response={200: GridDetailOut, **READ_ERRORS}, summary="按坐标查所在网格")
def grid_locate(request: HttpRequest, point: Query[GridLocateQuery]) -> dict[str, Any]:
    found = selectors.grid_locate(lon=point.lon, lat=point.lat)
    if found is None:
        raise NotFound()
    return grid_out(selectors.grid_get(actor=_actor(request), grid_id=found.pk), members=True)


@router.get("/grids/{grid_id}", response={200: GridDetailOut, **READ_ERRORS}, summary="网格详情")
def grid_detail(request: HttpRequest, grid_id: PathId) -> dict[str, Any]:
    return grid_out(selectors.grid_get(actor=_actor(request), grid_id=grid_id), members=True)


@router.post("/grids", response={201: GridDetailOut, **WRITE_ERRORS}, summary="划设网格")
def grid_create(request: HttpRequest, payload: GridCreate) -> Status:
    community = selectors.place_get(actor=_actor(request), place_id=payload.community)
    grid = services.grid_create(actor=_actor(request), community=community, name=payload.name,
                                geometry=payload.geometry)
    return Status(201, grid_out(grid, members=True))


@router.patch("/grids/{grid_id}", response={200: GridDetailOut, **UPDATE_ERRORS}, summary="修改网格")
def grid_update(request: HttpRequest, grid_id: PathId, payload: GridPatch) -> dict[str, Any]:
    grid = selectors.grid_get(actor=_actor(request), grid_id=grid_id)
    version, changes = _changes(payload)
    grid = services.grid_update(actor=_actor(request), grid=grid, version=version, name=changes.get("name"),
                                geometry=changes.get("geometry"))
    return grid_out(grid, members=True)


# --- Facilities -----------------------------------------------------------------------------------


def facility_out(facility: Facility) -> dict[str, Any]:
    return {
        "id": facility.pk, "place": facility.place_id, "name": facility.name, "kind": facility.kind,
        "address": facility.address, "lon": facility.lon, "lat": facility.lat, "floor_area": facility.floor_area,
        "construction": facility.construction, "opened_on": facility.opened_on, "version": facility.version,
    }


@router.get("/facilities", response={200: FacilityPage, **READ_ERRORS}, summary="设施列表")
def facility_list(request: HttpRequest, filters: Query[FacilityQuery]) -> dict[str, Any]:
    qs = selectors.facility_list(actor=_actor(request), within=_place_in_scope(request, filters.within),
                                 kind=filters.kind or None)
    count, items = _page(qs, filters)
    return {"count": count, "items": [facility_out(f) for f in items]}


@router.get("/facilities/{facility_id}", response={200: FacilityOut, **READ_ERRORS}, summary="设施详情")
def facility_detail(request: HttpRequest, facility_id: PathId) -> dict[str, Any]:
    return facility_out(selectors.facility_get(actor=_actor(request), facility_id=facility_id))


@router.post("/facilities", response={201: FacilityOut, **WRITE_ERRORS}, summary="登记设施")
def facility_create(request: HttpRequest, payload: FacilityCreate) -> Status:
    data = payload.model_dump()
    place = selectors.place_get(actor=_actor(request), place_id=data.pop("place"))
    facility = services.facility_create(actor=_actor(request), place=place, **data)
    return Status(201, facility_out(facility))


@router.patch("/facilities/{facility_id}", response={200: FacilityOut, **UPDATE_ERRORS}, summary="修改设施")
def facility_update(request: HttpRequest, facility_id: PathId, payload: FacilityPatch) -> dict[str, Any]:
    facility = selectors.facility_get(actor=_actor(request), facility_id=facility_id)
    version, changes = _changes(payload)
    facility = services.facility_update(actor=_actor(request), facility=facility, version=version, **changes)
    return facility_out(facility)


# --- Households -----------------------------------------------------------------------------------


def household_out(household: Household, *, member_count: int | None = None) -> dict[str, Any]:
    count = member_count if member_count is not None else getattr(household, "member_count", None)
    return {
        "id": household.pk, "unit": household.unit_id, "unit_name": household.unit.name, "number": household.number,
        "head": household.head_id, "version": household.version,
        "member_count": count if count is not None else household.members.count(),
    }


@router.get("/households", response={200: HouseholdPage, **READ_ERRORS}, summary="住户列表")
def household_list(request: HttpRequest, filters: Query[HouseholdQuery]) -> dict[str, Any]:
    qs = selectors.household_list(actor=_actor(request), within=_place_in_scope(request, filters.within))
    count, items = _page(qs, filters)
    return {"count": count, "items": [household_out(h) for h in items]}


@router.get("/households/{household_id}", response={200: HouseholdOut, **READ_ERRORS}, summary="住户详情")
def household_detail(request: HttpRequest, household_id: PathId) -> dict[str, Any]:
    return household_out(selectors.household_get(actor=_actor(request), household_id=household_id))


@router.post("/households", response={201: HouseholdOut, **WRITE_ERRORS}, summary="新增住户")
def household_create(request: HttpRequest, payload: HouseholdCreate) -> Status:
    unit = selectors.place_get(actor=_actor(request), place_id=payload.unit)
    household = services.household_create(actor=_actor(request), unit=unit, number=payload.number)
    return Status(201, household_out(household, member_count=0))


# --- People ---------------------------------------------------------------------------------------


def person_out(person: Person, *, vocabulary: dict[str, CareTag]) -> dict[str, Any]:
    """Masked values only: never ``person.name``, ``person.id_number`` or ``person.phone`` in clear."""
    return {
        "id": person.pk,
        "name_masked": person.masked_name,
        "id_number_masked": person.masked_id_number,
        "phone_masked": person.masked_phone,
        "sex": person.sex,
        "age": person.age(),
        "residence_type": person.residence_type,
        "status": person.status,
        "place": person.place_id,
        "household": person.household_id,
        "relation": person.relation,
        "tags": [t.slug for t in selectors.person_tags(person, vocabulary=vocabulary)],
        "version": person.version,
    }


def _person_filter(request: HttpRequest, filters: PersonQuery) -> selectors.PersonFilter:
    return selectors.PersonFilter(
        q=filters.q, tag=filters.tag, age_band=filters.age_band or "",
        within=_place_in_scope(request, filters.within), residence_type=filters.residence_type or "",
        status="" if filters.status == "all" else filters.status, sex=filters.sex or "",
        id_number=filters.id_number, phone=filters.phone,
    )


@router.get("/people", response={200: PersonPage, **READ_ERRORS}, summary="人员列表（脱敏）")
def person_list(request: HttpRequest, filters: Query[PersonQuery]) -> dict[str, Any]:
    qs = selectors.person_list(actor=_actor(request), filters=_person_filter(request, filters))
    count, items = _page(qs.prefetch_related("tags"), filters)
    vocabulary = selectors.caretag_by_digest()
    return {"count": count, "items": [person_out(p, vocabulary=vocabulary) for p in items]}


@router.get("/people/{person_id}", response={200: PersonOut, **READ_ERRORS}, summary="人员详情（脱敏）")
def person_detail(request: HttpRequest, person_id: PathId) -> dict[str, Any]:
    person = selectors.person_get(actor=_actor(request), person_id=person_id)
    return person_out(person, vocabulary=selectors.caretag_by_digest())


@router.post("/people", response={201: PersonOut, **WRITE_ERRORS}, summary="登记人员")
def person_create(request: HttpRequest, payload: PersonCreate) -> Status:
    actor = _actor(request)
    data = payload.model_dump()
    place = selectors.place_get(actor=actor, place_id=data.pop("place"))
    household_id = data.pop("household")
    household = None if household_id is None else selectors.household_get(actor=actor, household_id=household_id)
    data["sex"] = data["sex"] or ""
    data["relation"] = data["relation"] or ""
    person = services.person_create(actor=actor, place=place, household=household, **data)
    return Status(201, person_out(person, vocabulary=selectors.caretag_by_digest()))


@router.patch("/people/{person_id}", response={200: PersonOut, **UPDATE_ERRORS}, summary="修改人员")
def person_update(request: HttpRequest, person_id: PathId, payload: PersonPatch) -> dict[str, Any]:
    actor = _actor(request)
    person = selectors.person_get(actor=actor, person_id=person_id)
    version, changes = _changes(payload)
    if "place" in changes:
        if changes["place"] is None:
            changes.pop("place")
        else:
            changes["place"] = selectors.place_get(actor=actor, place_id=changes["place"])
    if "household" in changes and changes["household"] is not None:
        changes["household"] = selectors.household_get(actor=actor, household_id=changes["household"])
    for field in ("residence_type", "status", "name"):
        if field in changes and changes[field] is None:
            changes[field] = ""
    person = services.person_update(actor=actor, person=person, version=version, **changes)
    return person_out(person, vocabulary=selectors.caretag_by_digest())


@router.put("/people/{person_id}/tags", response={200: PersonTagsOut, **WRITE_ERRORS}, summary="设置关爱标签")
def person_set_tags(request: HttpRequest, person_id: PathId, payload: PersonTagsIn) -> dict[str, Any]:
    person = selectors.person_get(actor=_actor(request), person_id=person_id)
    return {"tags": services.person_set_tags(actor=_actor(request), person=person, tags=payload.tags)}


@router.post("/people/{person_id}/reveal", response={200: RevealOut, **WRITE_ERRORS},
             summary="查看明文（须填事由，记入审计）")
def person_reveal(request: HttpRequest, person_id: PathId, payload: RevealIn, response: HttpResponse) -> dict[str, Any]:
    person = selectors.person_get(actor=_actor(request), person_id=person_id)
    value = services.person_reveal(actor=_actor(request), person=person, field=payload.field, reason=payload.reason)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return {"field": payload.field, "value": value}


# --- Organisations --------------------------------------------------------------------------------


def organisation_out(org: Organisation) -> dict[str, Any]:
    return {
        "id": org.pk, "kind": org.kind, "name": org.name, "registration_number": org.registration_number,
        "place": org.place_id, "address": org.address, "contact_name": org.contact_name,
        "contact_phone_masked": pii.mask_phone(org.contact_phone), "notes": org.notes, "active": org.active,
        "version": org.version,
    }


@router.get("/organisations", response={200: OrganisationPage, **READ_ERRORS}, summary="组织列表")
def organisation_list(request: HttpRequest, filters: Query[OrganisationQuery]) -> dict[str, Any]:
    qs = selectors.organisation_list(actor=_actor(request), within=_place_in_scope(request, filters.within),
                                     kind=filters.kind or "", q=filters.q.strip())
    count, items = _page(qs, filters)
    return {"count": count, "items": [organisation_out(o) for o in items]}


@router.get("/organisations/{organisation_id}", response={200: OrganisationOut, **READ_ERRORS}, summary="组织详情")
def organisation_detail(request: HttpRequest, organisation_id: PathId) -> dict[str, Any]:
    return organisation_out(selectors.organisation_get(actor=_actor(request), organisation_id=organisation_id))


@router.post("/organisations", response={201: OrganisationOut, **WRITE_ERRORS}, summary="登记组织")
def organisation_create(request: HttpRequest, payload: OrganisationCreate) -> Status:
    data = payload.model_dump()
    place = selectors.place_get(actor=_actor(request), place_id=data.pop("place"))
    org = services.organisation_create(actor=_actor(request), place=place, **data)
    return Status(201, organisation_out(org))


@router.patch("/organisations/{organisation_id}", response={200: OrganisationOut, **UPDATE_ERRORS},
              summary="修改组织")
def organisation_update(request: HttpRequest, organisation_id: PathId, payload: OrganisationPatch) -> dict[str, Any]:
    org = selectors.organisation_get(actor=_actor(request), organisation_id=organisation_id)
    version, changes = _changes(payload)
    return organisation_out(services.organisation_update(actor=_actor(request), organisation=org, version=version,
                                                         **changes))
