"""Registry writes: the rules, the errors they give, the audit rows, and who may make them."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from shequ.core import pii
from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditAction, AuditEntry
from shequ.registry import geo, selectors, services
from shequ.registry.choices import PlaceKind, Relation, ResidenceType
from shequ.registry.models import Person, PersonFact, PersonTag, Place
from shequ.registry.validators import USCC_CHECKSUM, uscc_check_char
from tests import factories as f


class TestPlaces:
    def test_codes_extend_the_division_code_at_fixed_widths(self, tree):
        assert tree.district.path == "310105"
        assert tree.street_a.path == "310105001"
        assert tree.a1.path == "310105001001"  # the 12-digit statistical division code
        assert len(tree.a1_compound.path) == 15 and len(tree.a1_building.path) == 18
        assert tree.a1_unit.path == tree.a1_building.path + "0101"
        assert tree.a1_unit.street_code == "310105001"

    def test_next_free_code_is_chosen_when_none_is_given(self, tree):
        c = services.place_create(actor=None, parent=tree.a1, kind=PlaceKind.COMPOUND, name="新小区")
        assert c.path == tree.a1.path + "002"

    def test_only_the_next_level_can_be_added(self, actors, tree):
        with pytest.raises(ValidationFailed) as exc:
            services.place_create(actor=actors.worker_a1, parent=tree.a1, kind=PlaceKind.BUILDING, name="楼")
        assert "kind" in exc.value.errors

    def test_a_taken_code_is_refused(self, tree):
        with pytest.raises(ValidationFailed) as exc:
            services.place_create(actor=None, parent=tree.a1, kind=PlaceKind.COMPOUND, name="重复", code="001")
        assert exc.value.errors["code"] == [str(services.PLACE_CODE_TAKEN).format(code=tree.a1_compound.path)]

    def test_a_worker_cannot_add_to_another_community(self, actors, tree):
        with pytest.raises(NotFound):
            services.place_create(actor=actors.worker_a1, parent=tree.b1, kind=PlaceKind.COMPOUND, name="越界")

    def test_a_grid_worker_can_see_but_not_edit(self, actors, tree):
        with pytest.raises(PermissionDenied):
            services.place_create(actor=actors.grid_a1, parent=tree.a1, kind=PlaceKind.COMPOUND, name="网格员")

    def test_update_checks_the_version(self, actors, tree):
        place = services.place_update(actor=actors.worker_a1, place=tree.a1_compound, version=1, name="新名称")
        assert place.version == 2
        with pytest.raises(Conflict):
            services.place_update(actor=actors.worker_a1, place=tree.a1_compound, version=1, name="旧版本")
        entry = AuditEntry.objects.filter(object_id=str(place.pk), action=AuditAction.UPDATE).get()
        assert entry.changes["name"]["new"] == "新名称"


class TestGrids:
    def test_overlapping_grids_in_one_community_are_refused(self, actors, tree):
        services.grid_create(actor=actors.worker_a1, community=tree.a1, name="一网格", geometry=f.square(121.40, 31.20))
        with pytest.raises(ValidationFailed) as exc:
            services.grid_create(
                actor=actors.worker_a1, community=tree.a1, name="二网格", geometry=f.square(121.405, 31.205)
            )
        assert exc.value.errors["geometry"] == [str(geo.GRID_OVERLAP).format(name="一网格")]

    def test_grids_sharing_an_edge_are_fine_and_a_point_falls_in_exactly_one(self, actors, tree):
        g1 = services.grid_create(
            actor=actors.worker_a1, community=tree.a1, name="西", geometry=f.square(121.40, 31.20)
        )
        g2 = services.grid_create(
            actor=actors.worker_a1, community=tree.a1, name="东", geometry=f.square(121.41, 31.20)
        )
        assert selectors.grid_locate(lon=121.405, lat=31.205) == g1
        assert selectors.grid_locate(lon=121.415, lat=31.205) == g2
        assert selectors.grid_locate(lon=121.41, lat=31.205) == g1  # on the shared edge: the first by code
        assert selectors.grid_locate(lon=121.60, lat=31.205) is None

    @pytest.mark.parametrize(
        ("geometry", "message"),
        [
            ({"type": "Point", "coordinates": [121.4, 31.2]}, geo.GEOMETRY_INVALID),
            (
                {
                    "type": "Polygon",
                    "coordinates": [
                        [[121.40, 31.20], [121.41, 31.21], [121.41, 31.20], [121.40, 31.21], [121.40, 31.20]]
                    ],
                },
                geo.GEOMETRY_SELF_INTERSECTS,
            ),
            (f.square(10.0, 31.2), geo.GEOMETRY_OUT_OF_CHINA),
            ("nonsense", geo.GEOMETRY_INVALID),
        ],
    )
    def test_bad_geometry_says_what_is_wrong(self, actors, tree, geometry, message):
        with pytest.raises(ValidationFailed) as exc:
            services.grid_create(actor=actors.worker_a1, community=tree.a1, name="坏", geometry=geometry)
        assert exc.value.errors["geometry"] == [str(message)]

    def test_grids_belong_to_communities_only(self, tree):
        with pytest.raises(ValidationFailed) as exc:
            services.grid_create(actor=None, community=tree.street_a, name="街道", geometry=f.square(121.4, 31.2))
        assert exc.value.errors["community"] == [str(services.GRID_COMMUNITY_ONLY)]


class TestPeople:
    def test_birth_date_and_sex_come_from_the_id_number(self, tree):
        number = f.id_number(birth=dt.date(1940, 2, 29), sex="male")
        p = f.person(tree.a1_unit, id_number=number)
        assert (p.birth_date, p.sex) == (dt.date(1940, 2, 29), "male")

    def test_contradicting_birth_date_and_sex_are_refused_with_every_error(self, tree):
        number = f.id_number(birth=dt.date(1950, 3, 7), sex="female")
        with pytest.raises(ValidationFailed) as exc:
            f.person(tree.a1_unit, id_number=number, birth_date=dt.date(1951, 3, 7), sex="male", phone="123")
        assert exc.value.errors == {
            "birth_date": [str(pii.ID_NUMBER_BIRTH_MISMATCH)],
            "sex": [str(pii.ID_NUMBER_SEX_MISMATCH)],
            "phone": [str(pii.PHONE_INVALID)],
        }
        assert not Person.objects.exists()

    def test_one_person_one_record_by_id_number(self, tree):
        number = f.id_number()
        f.person(tree.a1_unit, id_number=number)
        with pytest.raises(ValidationFailed) as exc:
            f.person(tree.b1_unit, id_number=number.lower())
        assert exc.value.errors["id_number"] == [str(services.ID_NUMBER_TAKEN)]
        assert Person.objects.count() == 1

    def test_personal_data_is_encrypted_at_rest(self, tree):
        number = f.id_number()
        f.person(tree.a1_unit, id_number=number, phone="13912345678", tags=["disabled"])
        with connection.cursor() as c:
            c.execute("SELECT * FROM registry_person")
            rows = c.fetchall()
            c.execute("SELECT * FROM registry_personfact")
            rows += c.fetchall()
            c.execute("SELECT * FROM registry_persontag")
            rows += c.fetchall()
        dump = repr(rows)
        assert number not in dump and "13912345678" not in dump and "disabled" not in dump
        assert f.valid_id_numbers_in(dump) == []

    def test_exact_lookup_by_id_number_and_phone(self, actors, tree):
        number = f.id_number()
        p = f.person(tree.a1_unit, id_number=number, phone="13912345678")
        f.person(tree.a1_unit2, name="李四")
        found = selectors.person_list(actor=actors.worker_a1, filters=selectors.PersonFilter(id_number=number))
        assert list(found) == [p]
        found = selectors.person_list(actor=actors.worker_a1, filters=selectors.PersonFilter(phone="139 1234 5678"))
        assert list(found) == [p]

    def test_household_rules(self, tree):
        h = services.household_create(actor=None, unit=tree.a1_unit)
        head = f.person(tree.a1_unit, household=h, relation=Relation.HEAD)
        h.refresh_from_db()
        assert h.head == head
        with pytest.raises(ValidationFailed) as exc:
            f.person(tree.a1_unit, name="王五", household=h, relation=Relation.HEAD)
        assert exc.value.errors["relation"] == [str(services.ONE_HEAD_ONLY).format(name=head.masked_name)]
        with pytest.raises(ValidationFailed) as exc:
            f.person(tree.a1_unit, name="王五", household=h)
        assert exc.value.errors["relation"] == [str(services.RELATION_REQUIRED)]
        with pytest.raises(ValidationFailed) as exc:
            f.person(tree.a1_unit2, name="王五", household=h, relation=Relation.SPOUSE)
        assert exc.value.errors["household"] == [str(services.HOUSEHOLD_PLACE_MISMATCH)]

    def test_households_live_in_units_only(self, tree):
        with pytest.raises(ValidationFailed) as exc:
            services.household_create(actor=None, unit=tree.a1_building)
        assert exc.value.errors["unit"] == [str(services.UNIT_REQUIRED)]

    def test_provenance_records_the_line_and_time_of_each_fact(self, actors, tree):
        p = f.person(tree.a1_unit, id_number=f.id_number(), source="civil_affairs")
        services.person_update(actor=actors.worker_a1, person=p, phone="13700000000", source="health")
        facts = {(x.field, x.source) for x in PersonFact.objects.filter(person=p)}
        assert ("id_number", "civil_affairs") in facts and ("phone", "health") in facts

    def test_update_refuses_a_stale_version_and_protected_fields(self, actors, tree):
        p = f.person(tree.a1_unit)
        services.person_update(actor=actors.worker_a1, person=p, version=1, notes="一")
        with pytest.raises(Conflict):
            services.person_update(actor=actors.worker_a1, person=p, version=1, notes="二")
        with pytest.raises(ValidationFailed) as exc:
            services.person_update(actor=actors.worker_a1, person=p, scope_path="310105002")
        assert "scope_path" in exc.value.errors

    def test_moving_a_person_out_of_scope_is_refused(self, actors, tree):
        p = f.person(tree.a1_unit)
        with pytest.raises(NotFound):
            services.person_update(actor=actors.worker_a1, person=p, place=tree.b1_unit)

    def test_update_audit_names_personal_fields_without_their_values(self, actors, tree):
        p = f.person(tree.a1_unit, phone="13812345678")
        services.person_update(actor=actors.worker_a1, person=p, phone="13987654321", notes="换号")
        entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, object_id=str(p.pk)).get()
        assert entry.changes["phone"] == "changed"
        assert "13987654321" not in repr(entry.changes) and "13812345678" not in repr(entry.changes)

    def test_tags_are_set_replaced_and_unknown_ones_refused(self, actors, tree):
        p = f.person(tree.a1_unit, tags=["living_alone"])
        services.person_set_tags(actor=actors.worker_a1, person=p, tags=["oldest_old", "disabled"])
        assert [t.slug for t in selectors.person_tags(p)] == ["oldest_old", "disabled"] or {
            t.slug for t in selectors.person_tags(p)
        } == {"oldest_old", "disabled"}
        with pytest.raises(ValidationFailed) as exc:
            services.person_set_tags(actor=actors.worker_a1, person=p, tags=["nope"])
        assert exc.value.errors["tags"] == [str(services.UNKNOWN_TAG).format(slug="nope")]
        assert PersonTag.objects.filter(person=p).count() == 2


class TestReveal:
    def test_reveal_needs_a_reason_and_is_audited(self, actors, tree):
        p = f.person(tree.a1_unit, phone="13812345678")
        with pytest.raises(ValidationFailed) as exc:
            services.person_reveal(actor=actors.worker_a1, person=p, field="phone", reason=" 看 ")
        assert exc.value.errors["reason"] == [str(services.REVEAL_REASON_REQUIRED)]
        assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()
        assert (
            services.person_reveal(actor=actors.worker_a1, person=p, field="phone", reason="独居老人电话回访")
            == "13812345678"
        )
        entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
        assert (entry.actor, entry.field, entry.reason, entry.object_id) == (
            actors.worker_a1,
            "phone",
            "独居老人电话回访",
            str(p.pk),
        )

    @pytest.mark.parametrize("who", ["worker_a2", "officer_b", "resident_a1"])
    def test_others_cannot_reveal(self, actors, tree, who):
        p = f.person(tree.a1_unit, phone="13812345678")
        with pytest.raises((NotFound, PermissionDenied)):
            services.person_reveal(actor=getattr(actors, who), person=p, field="phone", reason="好奇一下看看")

    def test_only_personal_fields_can_be_revealed(self, actors, tree):
        p = f.person(tree.a1_unit, phone="13812345678")
        with pytest.raises(ValidationFailed):
            services.person_reveal(actor=actors.worker_a1, person=p, field="notes", reason="核实信息")


class TestOrganisations:
    def _uscc(self, body="91310105MA1FL0000"):
        return body + uscc_check_char(body)

    def test_registration_number_checksum(self, actors, tree):
        good = self._uscc()
        org = services.organisation_create(
            actor=actors.worker_a1,
            place=tree.a1,
            kind="resident_unit",
            name="某某科技有限公司",
            registration_number=good,
            contact_phone="021 62345678",
        )
        assert org.contact_phone == "021-62345678"
        bad = good[:-1] + ("0" if good[-1] != "0" else "1")
        with pytest.raises(ValidationFailed) as exc:
            services.organisation_create(
                actor=actors.worker_a1, place=tree.a1, kind="resident_unit", name="另一家", registration_number=bad
            )
        assert exc.value.errors["registration_number"] == [str(USCC_CHECKSUM)]

    def test_party_organisations_need_no_registration_number(self, actors, tree):
        org = services.organisation_create(
            actor=actors.worker_a1, place=tree.a1, kind="party_organisation", name="秀水居民区党总支"
        )
        assert org.registration_number == ""


def test_facility_area_and_place_rules(actors, tree):
    fac = services.facility_create(
        actor=actors.worker_a1,
        place=tree.a1,
        name="秀水党群服务站",
        kind="party_service",
        lon=121.401,
        lat=31.201,
        floor_area=Decimal("320.5"),
        construction="rebuilt",
    )
    assert fac.scope_path == tree.a1.path
    with pytest.raises(ValidationFailed) as exc:
        services.facility_create(
            actor=actors.worker_a1,
            place=tree.a1,
            name="零面积",
            kind="clinic",
            lon=121.401,
            lat=31.201,
            floor_area=Decimal("0"),
            construction="new_built",
        )
    assert "floor_area" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.facility_create(
            actor=actors.worker_a1,
            place=tree.a1_unit,
            name="户里",
            kind="clinic",
            lon=121.401,
            lat=31.201,
            floor_area=Decimal("10"),
            construction="new_built",
        )
    assert exc.value.errors["place"] == [str(services.FACILITY_PLACE)]


def test_residence_type_is_required(tree):
    with pytest.raises(ValidationFailed) as exc:
        services.person_create(actor=None, place=tree.a1_unit, name="赵六", residence_type="")
    assert "residence_type" in exc.value.errors
    assert ResidenceType.FLOATING == "floating"
    assert Place.objects.filter(kind=PlaceKind.UNIT).count() == 6
