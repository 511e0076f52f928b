"""The demo district generator (shequ seed): realistic, valid and reproducible data through the services."""

from __future__ import annotations

import datetime as dt
import io
import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from shapely.geometry import Point, shape

from shequ.accounts.models import Department, Membership, User
from shequ.accounts.roles import Role
from shequ.core import pii
from shequ.registry import geo, selectors
from shequ.registry import seed as demo
from shequ.registry.choices import PlaceKind, Relation, ResidenceType
from shequ.registry.models import CareTag, Facility, Grid, Household, Organisation, Person, PersonTag, Place
from shequ.registry.services import NEEDS_USCC
from shequ.registry.validators import validate_uscc

SMALL = demo.SeedOptions(streets=2, communities_per_street=2, compounds=(2, 2), buildings=(2, 3), seed=7)


@pytest.fixture(scope="module")
def district(django_db_setup, django_db_blocker):
    """One small seeded district shared by the module, rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        report = demo.seed_district(SMALL)
        yield report
        transaction.set_rollback(True)


@pytest.fixture
def seeded(district, db):
    return district


def test_streets_are_the_real_ones_of_changning_with_their_codes(seeded):
    streets = list(Place.objects.filter(kind=PlaceKind.STREET).order_by("path").values_list("path", "name"))
    assert streets == [("310105001", "华阳路街道"), ("310105002", "江苏路街道")]
    communities = Place.objects.filter(kind=PlaceKind.COMMUNITY).order_by("path")
    assert [c.path[-3:] for c in communities] == ["001", "002", "001", "002"]
    assert all(c.name.endswith("居委会") for c in communities)


def test_every_id_number_is_valid_and_agrees_with_birth_date_sex_and_residence(seeded):
    # given the seeded people
    people = list(Person.objects.all())
    assert 50 < len(people) < 1000
    today = dt.date.today()
    for person in people:
        # when the ID number is parsed
        facts = pii.parse_id_number(person.id_number)
        # then it states the recorded birth date and sex, and its age is the person's age
        assert facts.birth_date == person.birth_date
        assert facts.sex == person.sex
        assert person.age(today) == demo.age_on(facts.birth_date, today)
        if person.residence_type == ResidenceType.REGISTERED and person.relation != Relation.PARENT:
            assert facts.region_code == demo.DISTRICT_CODE
        if person.residence_type == ResidenceType.FLOATING:
            assert not facts.region_code.startswith("31")
    assert len({p.id_number for p in people}) == len(people)


def test_households_have_one_head_and_plausible_relations(seeded):
    for household in Household.objects.all():
        members = list(Person.objects.filter(household=household))
        heads = [m for m in members if m.relation == Relation.HEAD]
        assert len(heads) == 1 and household.head_id == heads[0].pk
        assert 1 <= len(members) <= 5
        head_age = heads[0].age()
        for member in members:
            if member.relation == Relation.CHILD:
                assert member.age() < head_age
            if member.relation == Relation.PARENT:
                assert member.age() > head_age
    occupied = Household.objects.count() / Place.objects.filter(kind=PlaceKind.UNIT).count()
    assert occupied > 0.5  # most units have a household


def test_care_tags_follow_age_and_household(seeded):
    living_alone = CareTag.objects.get(slug="living_alone").digest
    oldest_old = CareTag.objects.get(slug="oldest_old").digest
    today = dt.date.today()
    for person in Person.objects.select_related("household"):
        digests = set(PersonTag.objects.filter(person=person).values_list("tag_digest", flat=True))
        alone = Person.objects.filter(household=person.household).count() == 1
        assert (living_alone in digests) == (alone and person.age(today) >= 60)
        assert (oldest_old in digests) == (person.age(today) >= 80)
    assert CareTag.objects.filter(slug__in=["disabled", "subsistence", "key_group"], sensitive=True).count() == 3


def test_grids_of_a_community_do_not_overlap_and_cover_it(seeded):
    for community in Place.objects.filter(kind=PlaceKind.COMMUNITY):
        grids = [geo.parse_area(g.geometry) for g in Grid.objects.filter(community=community)]
        assert 2 <= len(grids) <= 4
        for a, b in itertools.combinations(grids, 2):
            assert not geo.overlaps(a, b)
        area = geo.parse_area(community.geometry)
        assert sum(g.area for g in grids) == pytest.approx(area.area)


def test_every_building_falls_in_exactly_one_grid_of_its_community(seeded):
    buildings = list(Place.objects.filter(kind=PlaceKind.BUILDING))
    assert buildings
    for building in buildings:
        community = Place.objects.get(path=building.path[:12])
        grids = list(Grid.objects.filter(community=community))
        covering = [g for g in grids if shape(g.geometry).covers(Point(building.lon, building.lat))]
        assert len(covering) == 1
        assert selectors.grid_locate(lon=building.lon, lat=building.lat, within=community) == covering[0]
        compound = Place.objects.get(path=building.path[:15])
        assert shape(compound.geometry).covers(Point(building.lon, building.lat))


def test_each_grid_has_a_leader_and_a_full_time_worker(seeded):
    for grid in Grid.objects.all():
        assert sorted(grid.members.values_list("duty", flat=True)) == ["full_time", "leader"]


def test_each_role_has_a_demo_user_with_the_demo_password(seeded):
    for role in Role.values:
        membership = Membership.objects.filter(role=role, active=True).select_related("user", "place").get()
        assert membership.user.check_password(demo.DEMO_PASSWORD)
    assert len(demo.DEMO_PASSWORD) >= 12
    handler = User.objects.get(username="dept_handler")
    assert handler.department.kind == Department.Kind.URBAN_MANAGEMENT
    resident = User.objects.get(username="resident")
    membership = resident.memberships.get()
    assert membership.place.kind == PlaceKind.COMPOUND
    assert resident.person is not None and resident.person.place.path.startswith(membership.place.path)
    grid_worker = User.objects.get(username="grid_worker")
    assert grid_worker.grid_duties.filter(duty="full_time").exists()
    assert {a.username for a in seeded.accounts} == {
        "district_admin", "street_officer", "community_head", "community_worker", "grid_worker", "dept_handler",
        "resident"}


def test_organisations_have_valid_credit_codes(seeded):
    organisations = list(Organisation.objects.all())
    assert {o.kind for o in organisations} == {
        "resident_unit", "social_organisation", "party_organisation", "property_company", "owners_committee"}
    for org in organisations:
        if org.kind in NEEDS_USCC:
            assert org.registration_number
        if org.registration_number:
            assert validate_uscc(org.registration_number) is None
        assert pii.normalise_phone(org.contact_phone) == org.contact_phone


def test_facilities_lie_inside_their_street(seeded):
    for street in Place.objects.filter(kind=PlaceKind.STREET):
        area = geo.parse_area(street.geometry)
        facilities = Facility.objects.filter(scope_path__startswith=street.path)
        assert facilities.count() >= 10
        assert all(area.covers(Point(f.lon, f.lat)) for f in facilities)


def test_rerun_without_reset_refuses(seeded):
    with pytest.raises(CommandError) as excinfo:
        call_command("seed", "--streets", "1", verbosity=0)
    assert str(excinfo.value) == demo.ALREADY_SEEDED.format(name="长宁区", code="310105")


def test_same_seed_draws_the_same_district():
    today = dt.date(2026, 1, 1)
    first, second = demo.Generator(SMALL, today), demo.Generator(SMALL, today)
    assert [first.household() for _ in range(20)] == [second.household() for _ in range(20)]
    assert [first.person_name("female") for _ in range(5)] == [second.person_name("female") for _ in range(5)]


def test_tiles_cover_the_rectangle_without_overlap():
    rect = demo.DISTRICT_BOUNDS
    for n in range(1, 11):
        cells = [shape(demo.polygon(c)) for c in demo.tile(rect, n)]
        assert len(cells) == n
        assert sum(c.area for c in cells) == pytest.approx(shape(demo.polygon(rect)).area)
        for a, b in itertools.combinations(cells, 2):
            assert a.intersection(b).area == pytest.approx(0, abs=1e-12)


def test_demo_on_a_seeded_database_keeps_the_data_and_lists_the_accounts(seeded):
    # given the seeded district; when `shequ demo --no-serve` runs
    out = io.StringIO()
    people = Person.objects.count()
    call_command("demo", "--no-serve", "--port", "8123", stdout=out)
    # then nothing is seeded again, the accounts and the URL are printed
    text = out.getvalue()
    assert Person.objects.count() == people
    assert "跳过生成演示数据" in text
    for username in ("district_admin", "grid_worker", "dept_handler", "resident"):
        assert username in text
    assert demo.DEMO_PASSWORD in text
    assert "http://127.0.0.1:8123/login/" in text
