"""The city-scale generator (shequ seed --scale city): bulk rows the ORM, the scope and the masks work on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from shapely.geometry import shape
from shapely.ops import unary_union

from shequ.accounts.models import User
from shequ.core import pii
from shequ.core.errors import NotFound
from shequ.core.scope import restrict, subtree_q
from shequ.registry import scale, selectors
from shequ.registry import seed as demo
from shequ.registry.choices import PlaceKind, Relation
from shequ.registry.models import Grid, Household, Person, PersonTag, Place

SMALL = scale.CityOptions(streets_per_district=2, communities_per_street=2, people=8000, jobs=2, seed=11)


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    """One small city shared by the module (committed: the worker processes write outside any test
    transaction on PostgreSQL), flushed at the end."""
    with django_db_blocker.unblock():
        report = scale.seed_city(SMALL)
        yield report
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def seeded(city, db):
    return city


def test_the_city_has_the_asked_counts_on_the_real_streets(seeded):
    # given a city of 2 streets × 2 communities and 8,000 people
    # then the streets are Changning's first two real ones, each with 2 communities of 2,000 people
    streets = list(Place.objects.filter(kind=PlaceKind.STREET).order_by("path").values_list("path", "name"))
    assert streets == [("310105001", "华阳路街道"), ("310105002", "江苏路街道")]
    communities = list(Place.objects.filter(kind=PlaceKind.COMMUNITY).order_by("path"))
    assert [c.path for c in communities] == ["310105001001", "310105001002", "310105002001", "310105002002"]
    assert all(c.name.endswith("居委会") for c in communities)
    assert Person.objects.count() == 8000 == seeded.counts["person"]
    for community in communities:
        assert Person.objects.filter(subtree_q(community.path)).count() == 2000
    # and the report counts what is in the database
    assert Place.objects.filter(kind=PlaceKind.UNIT).count() == seeded.counts["unit"]
    assert Household.objects.count() == seeded.counts["household"]
    assert PersonTag.objects.count() == seeded.counts["person_tag"]


def test_the_place_tree_has_compounds_buildings_and_units_named_and_coded_like_the_demo(seeded):
    compound = Place.objects.filter(kind=PlaceKind.COMPOUND).order_by("path").first()
    suffixes = {s for values in demo.COMPOUND_SUFFIXES.values() for s in values}
    assert any(compound.name.endswith(s) for s in suffixes)
    assert re.fullmatch(r".+路\d+弄", compound.address)
    assert shape(compound.geometry).within(shape(compound.parent.geometry))
    building = Place.objects.filter(parent=compound).order_by("path").first()
    assert building.name == "1号楼" and building.path == compound.path + "001" and building.floors >= 6
    units = list(Place.objects.filter(parent=building).order_by("path"))
    assert units[0].name == "101室" and units[0].path == building.path + "0101"
    assert all(u.floor_area and u.floor_area > 0 for u in units)
    # every place's scope is its own path, below its parent's
    for place in Place.objects.filter(kind=PlaceKind.UNIT).select_related("parent")[:500]:
        assert place.scope_path == place.path and place.path.startswith(place.parent.path)
        assert place.street_code == place.path[:9]


def test_every_id_number_is_valid_unique_and_read_back_through_the_orm(seeded):
    # when every person is loaded through the ORM (EncryptedTextField decrypts)
    people = list(Person.objects.all())
    numbers = [p.id_number for p in people]
    # then every ID number is a valid GB 11643 number that agrees with birth date and sex
    for person in people:
        facts = pii.parse_id_number(person.id_number)
        assert (facts.birth_date, facts.sex) == (person.birth_date, person.sex)
        assert person.id_number_digest == pii.blind_index(person.id_number, purpose="id")
        if person.phone:
            assert pii.normalise_phone(person.phone) == person.phone
            assert person.phone_digest == pii.blind_index(person.phone, purpose="phone")
        else:
            assert person.phone_digest == ""
    # and no two people share a number or a mobile
    assert len(set(numbers)) == len(numbers)
    phones = [p.phone for p in people if p.phone]
    assert len(set(phones)) == len(phones)
    # and most adults have a mobile, registered heads of household carry the district's code
    adults = [p for p in people if p.age() >= 18]
    assert sum(1 for p in adults if p.phone) > 0.8 * len(adults)
    registered = [p for p in people if p.residence_type == "registered" and p.relation == Relation.HEAD]
    assert registered and all(p.id_number.startswith("310105") for p in registered)


def test_the_stored_values_are_ciphertext_and_lookup_by_blind_index_works(seeded):
    from django.db import connection

    person = Person.objects.exclude(phone="").order_by("id").first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM registry_person WHERE id = %s", [person.pk])
        stored_id, stored_phone = cursor.fetchone()
    assert person.id_number not in stored_id and pii.decrypt(stored_id) == person.id_number
    assert pii.decrypt(stored_phone) == person.phone
    assert Person.objects.get(id_number_digest=pii.blind_index(person.id_number, purpose="id")) == person


def test_households_have_one_head_and_plausible_members(seeded):
    households = Household.objects.select_related("head")
    sizes = Counter(Person.objects.values_list("household_id", flat=True))
    for household in households:
        assert household.head.relation == Relation.HEAD and household.head.household_id == household.pk
        assert household.head.place_id == household.unit_id
        assert 1 <= sizes[household.pk] <= 5
    assert 2.3 < Person.objects.count() / households.count() < 2.9


def test_the_age_pyramid_and_the_care_tags_are_realistic(seeded):
    today = dt.date.today()
    people = list(Person.objects.only("birth_date", "household_id"))
    old = {p.pk for p in people if p.age(today) >= 80}
    assert 0.03 < len(old) / len(people) < 0.08
    digests = {slug: pii.blind_index(slug, purpose="tag") for slug in scale.TAG_SOURCES}
    tagged = PersonTag.objects.values_list("tag_digest", "person_id")
    by_tag: dict[str, set[int]] = {}
    for digest, person_id in tagged:
        by_tag.setdefault(digest, set()).add(person_id)
    # 高龄 exactly for the 80+, 独居 only for people alone in their household
    assert by_tag[digests["oldest_old"]] == old
    sizes = Counter(p.household_id for p in people)
    household_of = {p.pk: p.household_id for p in people}
    assert all(sizes[household_of[pk]] == 1 for pk in by_tag[digests["living_alone"]])
    assert 0.01 < len(by_tag[digests["disabled"]]) / len(people) < 0.04
    assert 0 < len(by_tag.get(digests["subsistence"], ())) / len(people) < 0.04


def test_grids_tile_each_community_without_overlap(seeded):
    for community in Place.objects.filter(kind=PlaceKind.COMMUNITY):
        parts = [shape(g.geometry) for g in Grid.objects.filter(community=community)]
        assert 2 <= len(parts) <= 4
        assert all(p.is_valid for p in parts)
        for a, b in itertools.combinations(parts, 2):
            assert a.intersection(b).area < 1e-12
        assert unary_union(parts).symmetric_difference(shape(community.geometry)).area < 1e-12


def test_subtree_scoping_works_on_the_generated_people(seeded):
    worker = User.objects.get(username="community_worker")
    officer = User.objects.get(username="street_officer")
    first, other = Place.objects.filter(kind=PlaceKind.COMMUNITY).order_by("path")[:2]
    # a community worker sees their community's people only; the street officer sees the street's
    assert restrict(Person.objects.all(), worker).count() == 2000
    assert not restrict(Person.objects.all(), worker).exclude(subtree_q(first.path)).exists()
    assert restrict(Person.objects.all(), officer).count() == 4000
    outsider = Person.objects.filter(subtree_q(other.path)).first()
    with pytest.raises(NotFound):
        selectors.person_get(actor=worker, person_id=outsider.pk)
    insider = Person.objects.filter(subtree_q(first.path)).first()
    assert selectors.person_get(actor=worker, person_id=insider.pk) == insider


def test_masking_works_on_generated_people(seeded):
    for person in Person.objects.exclude(phone="")[:200]:
        assert person.masked_name == person.name[0] + "*" * (len(person.name) - 1)
        assert re.fullmatch(r"\d{2}\*{14}[\dX]{2}", person.masked_id_number)
        assert re.fullmatch(r"1\d{2}\*{4}\d{4}", person.masked_phone)
        assert person.id_number[6:14] not in person.masked_id_number


def test_the_demo_accounts_exist_with_the_resident_linked_to_a_head(seeded):
    names = {a.username for a in seeded.accounts}
    assert {"district_admin", "street_officer", "community_head", "community_worker", "grid_worker",
            "resident"} <= names
    resident = User.objects.get(username="resident")
    assert resident.person.relation == Relation.HEAD


def test_a_chunk_is_the_same_for_the_same_seed_and_differs_for_another(seeded, monkeypatch):
    # given a plan over the seeded communities
    tasks = [scale.CommunityTask(n, c.pk, c.path, "310105", "街道", (121.36, 31.19, 121.37, 31.20), 500)
             for n, c in enumerate(Place.objects.filter(kind=PlaceKind.COMMUNITY).order_by("path"))]
    plan = scale.Plan(seed=5, today=dt.date(2026, 1, 1), created_at="2026-01-01 00:00:00", vendor="sqlite",
                      people_per_unit=2.6, communities=tasks, tag_digests={"oldest_old": "d" * 40},
                      shanghai_regions=["310104"], other_regions=["320102"], bases=[(1, 1, 1)] * len(tasks))
    monkeypatch.setattr(scale, "_PLAN", plan)

    def plain(chunk: scale.ChunkRows) -> list[tuple]:  # the ciphertexts have random IVs; the rest is fixed
        return [chunk.places, chunk.households, [r[:6] + r[7:10] + r[11:] for r in chunk.people], chunk.tags]

    # when the same chunk is built twice, then it is the same rows
    first = scale.build_community(1)
    assert plain(first) == plain(scale.build_community(1))
    assert [pii.decrypt(r[6]) for r in first.people] == [pii.decrypt(r[6]) for r in scale.build_community(1).people]
    # and another seed gives other people
    monkeypatch.setattr(scale, "_PLAN", dataclasses.replace(plan, seed=6))
    assert plain(scale.build_community(1))[2] != plain(first)[2]


def test_id_numbers_of_different_chunks_cannot_collide():
    # given two communities of a run asking for the same region, birth date and sex many times
    today = dt.date(2026, 1, 1)
    a, b = scale.IdNumbers(0, 3, today), scale.IdNumbers(1, 3, today)
    birth = dt.date(1980, 5, 1).toordinal()
    made_a = {a.make("310105", "male", birth)[0] for _ in range(400)}
    made_b = {b.make("310105", "male", birth)[0] for _ in range(400)}
    # then each is valid and the two sets are disjoint
    assert len(made_a) == len(made_b) == 400 and not made_a & made_b
    assert all(pii.parse_id_number(n).sex == "male" for n in made_a | made_b)


def test_the_command_refuses_when_the_district_is_already_there(seeded):
    with pytest.raises(CommandError) as caught:
        call_command("seed", "--scale", "city", "--streets-per-district", "1", "--communities-per-street", "1",
                     "--people", "10", "--jobs", "1")
    assert str(caught.value) == demo.ALREADY_SEEDED.format(name="长宁区", code="310105")


def test_the_command_checks_its_options(db):
    with pytest.raises(CommandError, match="仅用于 --scale city"):
        call_command("seed", "--scale", "demo", "--jobs", "2")
    with pytest.raises(CommandError, match="不是上海市的区级行政区划代码"):
        call_command("seed", "--districts", "110105", "--people", "10")
    with pytest.raises(CommandError, match="--streets-per-district 不能超过10"):
        call_command("seed", "--scale", "city", "--streets-per-district", "11")


def test_the_indexes_dropped_for_the_load_are_back(seeded):
    from django.db import connection

    # the generator drops the person indexes of name, birth date and phone digest while it loads
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Person._meta.db_table)
    indexed = {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["unique"]}
    assert {("name",), ("birth_date",), ("phone_digest",), ("id_number_digest",)} <= indexed
