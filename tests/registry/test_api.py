"""Registry API v1 against the real endpoints: CRUD, filters, pagination, masking, reveal, versions."""

from __future__ import annotations

import datetime as dt
import json

from shequ.core import pii
from shequ.core.models import AuditAction, AuditEntry
from shequ.registry import services
from shequ.registry.models import Person
from tests import factories as f
from tests.api_fixtures import *  # noqa: F403
from tests.api_fixtures import A1_PHONE, ApiClient


def _no_clear_pii(response, person: Person) -> None:
    body = response.content.decode()
    assert person.id_number not in body
    assert person.phone not in body
    assert person.name not in body
    assert person.birth_date.isoformat() not in body
    assert person.id_number[6:14] not in body  # never the birth-date digits


# --- People -----------------------------------------------------------------------------------------


def test_person_list_and_detail_are_masked(api_as, actors, records_a1):
    # given a person with a clear ID number and phone in community A1
    person = records_a1.person
    api = api_as(actors.worker_a1)
    # when the community worker lists and reads people
    listed = api.get("/people")
    detail = api.get(f"/people/{person.pk}")
    # then only masked values come back, with age instead of the birth date
    assert listed.status_code == 200 and detail.status_code == 200
    item = detail.json()
    assert listed.json()["count"] == 1 and listed.json()["items"][0] == item
    assert item["name_masked"] == pii.mask_name(person.name) == "王**"
    assert item["id_number_masked"] == pii.mask_id_number(person.id_number)
    assert item["phone_masked"] == "138****5678"
    assert item["age"] == person.age() and "birth_date" not in item
    assert item["tags"] == ["living_alone"] and item["household"] == records_a1.household.pk
    assert item["relation"] == "head" and item["place"] == records_a1.unit.pk
    _no_clear_pii(listed, person)
    _no_clear_pii(detail, person)


def test_person_filters(api_as, actors, tree, records_a1, person_b1):
    api = api_as(actors.admin)
    ids = lambda r: [p["id"] for p in r.json()["items"]]  # noqa: E731
    a1, b1 = records_a1.person.pk, person_b1.pk
    assert ids(api.get("/people")) == [a1, b1]
    assert ids(api.get("/people", {"within": tree.street_b.pk})) == [b1]
    assert ids(api.get("/people", {"tag": "living_alone"})) == [a1]
    assert ids(api.get("/people", {"age_band": "18-59"})) == [b1]
    assert ids(api.get("/people", {"age_band": "60-79"})) == [a1]
    assert ids(api.get("/people", {"residence_type": "floating"})) == [b1]
    assert ids(api.get("/people", {"sex": "male"})) == [b1]
    assert ids(api.get("/people", {"q": "王"})) == [a1]
    # exact lookup by the blind index, with the clear value only in the query
    assert ids(api.get("/people", {"id_number": records_a1.person.id_number.lower()})) == [a1]
    assert ids(api.get("/people", {"phone": "137 0000 2222"})) == [b1]
    assert ids(api.get("/people", {"phone": "not-a-phone"})) == []


def test_person_status_filter_defaults_to_active(api_as, actors, records_a1, person_b1):
    services.person_update(actor=None, person=person_b1, status="moved_out")
    api = api_as(actors.admin)
    assert [p["id"] for p in api.get("/people").json()["items"]] == [records_a1.person.pk]
    assert api.get("/people", {"status": "all"}).json()["count"] == 2
    assert [p["id"] for p in api.get("/people", {"status": "moved_out"}).json()["items"]] == [person_b1.pk]


def test_pagination_limit_offset_and_bounds(api_as, actors, tree):
    for i in range(5):
        f.person(tree.a2_unit, name=f"陈{'一二三四五'[i]}")
    api = api_as(actors.worker_a2)
    first = api.get("/people", {"limit": 2})
    rest = api.get("/people", {"limit": 2, "offset": 4})
    assert first.json()["count"] == 5 and len(first.json()["items"]) == 2
    assert len(rest.json()["items"]) == 1
    too_many = api.get("/people", {"limit": 501})
    assert too_many.status_code == 400
    assert too_many.json()["code"] == "validation_failed"
    assert too_many.json()["errors"][0]["field"] == "limit"
    assert api.get("/people", {"offset": -1}).status_code == 400


def test_person_create_accepts_clear_values_and_returns_masked(api_as, actors, tree, tags):
    api = api_as(actors.worker_a1)
    id_number = f.id_number(birth=dt.date(1985, 6, 1), sex="male")
    response = api.post("/people", {
        "place": tree.a1_unit.pk, "name": "刘德华", "residence_type": "registered", "id_number": id_number,
        "phone": "139 1234 5678", "tags": ["key_group"],
    })
    assert response.status_code == 201, response.json()
    body = response.json()
    person = Person.objects.get(pk=body["id"])
    assert person.id_number == id_number and person.phone == "13912345678"
    assert person.sex == "male" and person.birth_date == dt.date(1985, 6, 1)  # derived from the ID number
    assert person.scope_path == tree.a1_unit.path
    assert body["sex"] == "male" and body["tags"] == ["key_group"] and body["version"] == 1
    assert id_number not in response.content.decode() and "13912345678" not in response.content.decode()
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_id=str(person.pk),
                                     actor=actors.worker_a1).exists()


def test_person_update_with_version_and_stale_version_conflict(api_as, actors, records_a1):
    person = records_a1.person
    api = api_as(actors.worker_a1)
    ok = api.patch(f"/people/{person.pk}", {"version": person.version, "phone": "13900009999", "notes": "已回访"})
    assert ok.status_code == 200, ok.json()
    assert ok.json()["version"] == person.version + 1 and ok.json()["phone_masked"] == "139****9999"
    person.refresh_from_db()
    assert person.phone == "13900009999" and person.notes == "已回访"
    stale = api.patch(f"/people/{person.pk}", {"version": person.version - 1, "notes": "再次回访"})
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    person.refresh_from_db()
    assert person.notes == "已回访"


def test_person_update_refuses_protected_fields(api_as, actors, records_a1):
    person = records_a1.person
    api = api_as(actors.worker_a1)
    for field, value in (("scope_path", "310105002"), ("street_code", "310105002"), ("id_number_digest", "x"),
                         ("tags", ["disabled"])):
        response = api.patch(f"/people/{person.pk}", {"version": person.version, field: value})
        assert response.status_code == 400
        assert response.json()["errors"] == [{"field": field, "message": "不允许提交此字段。"}]
    person.refresh_from_db()
    assert person.scope_path == records_a1.unit.path and person.version == 1


def test_person_move_to_place_out_of_scope_is_not_found(api_as, actors, tree, records_a1):
    person = records_a1.person
    response = api_as(actors.worker_a1).patch(f"/people/{person.pk}", {"version": 1, "place": tree.b1_unit.pk})
    assert response.status_code == 404
    person.refresh_from_db()
    assert person.place_id == records_a1.unit.pk


def test_person_set_tags(api_as, actors, records_a1):
    api = api_as(actors.worker_a1)
    response = api.put(f"/people/{records_a1.person.pk}/tags", {"tags": ["disabled", "oldest_old"]})
    assert response.status_code == 200 and response.json() == {"tags": ["disabled", "oldest_old"]}
    assert api.get(f"/people/{records_a1.person.pk}").json()["tags"] == ["disabled", "oldest_old"]
    unknown = api.put(f"/people/{records_a1.person.pk}/tags", {"tags": ["nope"]})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "tags"


def test_reveal_returns_clear_value_and_writes_audit_with_reason(api_as, actors, records_a1):
    person = records_a1.person
    response = api_as(actors.worker_a1).post(f"/people/{person.pk}/reveal",
                                             {"field": "phone", "reason": "电话回访核实独居情况"})
    assert response.status_code == 200
    assert response.json() == {"field": "phone", "value": A1_PHONE}
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL, object_id=str(person.pk))
    assert entry.actor == actors.worker_a1 and entry.field == "phone" and entry.reason == "电话回访核实独居情况"


def test_reveal_without_reason_is_refused_and_not_audited(api_as, actors, records_a1):
    response = api_as(actors.worker_a1).post(f"/people/{records_a1.person.pk}/reveal",
                                             {"field": "id_number", "reason": "看"})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "reason", "message": str(services.REVEAL_REASON_REQUIRED)}]
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


# --- Places, grids -----------------------------------------------------------------------------------


def test_places_filters_children_and_geometry(api_as, actors, tree):
    api = api_as(actors.officer_a)
    streets = api.get("/places", {"kind": "street"}).json()
    assert [p["id"] for p in streets["items"]] == [tree.street_a.pk]
    communities = api.get("/places", {"parent": tree.street_a.pk}).json()
    assert [p["name"] for p in communities["items"]] == ["秀水居委会", "蒋家巷居委会"]
    assert api.get("/places", {"within": tree.a2.pk, "kind": "unit"}).json()["count"] == 2
    assert [p["id"] for p in api.get("/places", {"q": "蒋家巷"}).json()["items"]] == [tree.a2.pk]
    detail = api.get(f"/places/{tree.a1.pk}").json()
    assert detail["geometry"]["type"] == "Polygon" and detail["path"] == tree.a1.path
    children = api.get(f"/places/{tree.a1.pk}/children").json()
    assert [p["id"] for p in children["items"]] == [tree.a1_compound.pk]
    assert api.get(f"/places/{tree.b1.pk}/children").status_code == 404
    assert api.get("/places", {"within": tree.b1.pk}).status_code == 404


def test_place_create_and_update(api_as, actors, tree):
    api = api_as(actors.worker_a1)
    created = api.post("/places", {"parent": tree.a1_building.pk, "kind": "unit", "name": "0201室", "code": "0201",
                                   "floor_area": "66.60"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["path"] == tree.a1_building.path + "0201" and body["floor_area"] == "66.60"
    updated = api.patch(f"/places/{body['id']}", {"version": 1, "name": "0201 室", "floor_area": "70.00"})
    assert updated.status_code == 200 and updated.json()["version"] == 2
    wrong_kind = api.post("/places", {"parent": tree.a1_building.pk, "kind": "building", "name": "x"})
    assert wrong_kind.status_code == 400 and wrong_kind.json()["errors"][0]["field"] == "kind"
    protected = api.patch(f"/places/{body['id']}", {"version": 2, "path": "310105001001001001"})
    assert protected.status_code == 400 and protected.json()["errors"][0]["field"] == "path"


def test_grid_worker_cannot_edit_places(api_as, actors, tree):
    response = api_as(actors.grid_a1).patch(f"/places/{tree.a1_compound.pk}", {"version": 1, "name": "改名"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_grid_locate_and_crud(api_as, actors, tree, records_a1):
    api = api_as(actors.worker_a1)
    located = api.get("/grids/locate", {"lon": 121.405, "lat": 31.205})
    assert located.status_code == 200 and located.json()["id"] == records_a1.grid.pk
    assert api.get("/grids/locate", {"lon": 100.0, "lat": 40.0}).status_code == 404
    # a point in another community's grid is not shown to this worker
    services.grid_create(actor=None, community=tree.b1, name="华山一网格", geometry=f.square(121.50, 31.20, 0.01))
    assert api.get("/grids/locate", {"lon": 121.505, "lat": 31.205}).status_code == 404
    assert api_as(actors.admin).get("/grids/locate", {"lon": 121.505, "lat": 31.205}).status_code == 200
    created = api.post("/grids", {"community": tree.a1.pk, "name": "秀水二网格",
                                  "geometry": f.square(121.41, 31.20, 0.005)})
    assert created.status_code == 201, created.json()
    overlap = api.post("/grids", {"community": tree.a1.pk, "name": "重叠", "geometry": f.square(121.40, 31.20, 0.005)})
    assert overlap.status_code == 400 and overlap.json()["errors"][0]["field"] == "geometry"
    renamed = api.patch(f"/grids/{records_a1.grid.pk}", {"version": 1, "name": "秀水第一网格"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "秀水第一网格"
    assert [g["id"] for g in api.get("/grids").json()["items"]] == [records_a1.grid.pk, created.json()["id"]]


# --- Facilities, households, organisations -------------------------------------------------------------


def test_facility_crud(api_as, actors, tree, records_a1):
    api = api_as(actors.worker_a1)
    created = api.post("/facilities", {"place": tree.a1.pk, "name": "秀水卫生站", "kind": "clinic", "lon": 121.41,
                                       "lat": 31.21, "floor_area": "80", "construction": "new_built"})
    assert created.status_code == 201, created.json()
    assert api.get("/facilities", {"kind": "clinic"}).json()["count"] == 1
    assert api.get("/facilities").json()["count"] == 2
    updated = api.patch(f"/facilities/{records_a1.facility.pk}", {"version": 1, "address": "秀水路1号"})
    assert updated.status_code == 200 and updated.json()["address"] == "秀水路1号"
    bad = api.patch(f"/facilities/{records_a1.facility.pk}", {"version": 2, "lon": 10.0})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "lon"


def test_household_list_detail_create(api_as, actors, tree, records_a1):
    api = api_as(actors.worker_a1)
    detail = api.get(f"/households/{records_a1.household.pk}").json()
    assert detail["member_count"] == 1 and detail["head"] == records_a1.person.pk
    created = api.post("/households", {"unit": tree.a1_unit2.pk, "number": "A1-0102"})
    assert created.status_code == 201 and created.json()["member_count"] == 0
    assert api.get("/households").json()["count"] == 2
    not_a_unit = api.post("/households", {"unit": tree.a1_building.pk})
    assert not_a_unit.status_code == 400 and not_a_unit.json()["errors"][0]["field"] == "unit"


def test_organisation_contact_phone_masked_and_update(api_as, actors, records_a1):
    api = api_as(actors.worker_a1)
    org = records_a1.organisation
    listed = api.get("/organisations", {"kind": "owners_committee"})
    assert listed.json()["items"][0]["contact_phone_masked"] == "139****1111"
    assert "13900001111" not in listed.content.decode()
    assert "13900001111" not in api.get(f"/organisations/{org.pk}").content.decode()
    updated = api.patch(f"/organisations/{org.pk}", {"version": 1, "contact_phone": "021-62345678"})
    assert updated.status_code == 200 and updated.json()["contact_phone_masked"] == "021-****78"
    bad = api.post("/organisations", {"place": records_a1.community.pk, "kind": "social_organisation",
                                      "name": "公益社"})
    assert bad.status_code == 400
    assert bad.json()["errors"] == [{"field": "registration_number", "message": str(services.USCC_REQUIRED)}]


def test_me(api_as, actors):
    body = api_as(actors.worker_a1).get("/me").json()
    assert body["username"] == "worker_a1" and body["roles"] == ["community_worker"]
    assert body["scope_paths"] == [actors.worker_a1.scope_paths()[0]]


def test_json_body_of_person_never_contains_birth_date_key(api_as, actors, records_a1):
    body = json.loads(api_as(actors.admin).get("/people").content)
    assert all("birth_date" not in item and "id_number" not in item and "phone" not in item for item in body["items"])
    assert ApiClient  # the helper is importable for other modules
