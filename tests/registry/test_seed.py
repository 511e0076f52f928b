"""The demo district generator (shequ seed): realistic, valid and reproducible data through the services."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from shapely.geometry import Point, shape

from shequ.accounts.models import Department, Membership, User
from shequ.accounts.roles import Role
from shequ.core import pii
from shequ.deliberation import votes
from shequ.deliberation.choices import (
    DecisionStatus,
    Electorate,
    MeetingStatus,
    NoticeCategory,
    OptionMeaning,
    ProposalStatus,
    VoteStatus,
)
from shequ.deliberation.models import Comment, Decision, Meeting, Notice, Proposal, Topic, Vote
from shequ.deliberation.vote_selectors import own_ballots
from shequ.registry import geo, selectors
from shequ.registry import seed as demo
from shequ.registry.choices import PlaceKind, Relation, ResidenceType
from shequ.registry.models import (
    CareTag,
    Facility,
    Grid,
    Household,
    Organisation,
    Ownership,
    Person,
    PersonTag,
    Place,
)
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
    # given the seeded people (the 卫健 register of the ledger demo has no ID numbers, on purpose)
    people = list(Person.objects.exclude(id_number_digest=None))
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
    for person in Person.objects.filter(household__isnull=False).select_related("household"):  # the generated homes
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
        memberships = Membership.objects.filter(role=role, active=True).select_related("user", "place")
        assert memberships.exists()
        assert all(m.user.check_password(demo.DEMO_PASSWORD) for m in memberships)
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
        "resident_unit", "social_organisation", "party_organisation", "property_company", "owners_committee",
        "developer"}
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
    assert f"http://127.0.0.1:8123/c/{seeded.public_path}/" in text
    assert seeded.public_path == Membership.objects.get(user__username="community_worker").place.path


# --- Ownership and deliberation demo ----------------------------------------------------------------


def test_every_unit_has_a_registered_area_and_a_current_owner(seeded):
    units = Place.objects.filter(kind=PlaceKind.UNIT)
    assert units.exists()
    assert not units.filter(floor_area__isnull=True).exists()
    assert set(units.values_list("area_source", flat=True)) == {"register"}
    owned = set(Ownership.objects.filter(ended_on__isnull=True).values_list("unit_id", flat=True))
    assert set(units.values_list("pk", flat=True)) <= owned


def test_owners_are_heads_spouses_second_home_owners_and_one_developer_per_community(seeded):
    rows = list(Ownership.objects.select_related("person", "unit"))
    by_unit: dict[int, list[Ownership]] = {}
    for row in rows:
        by_unit.setdefault(row.unit_id, []).append(row)
    # most units are owned by the head of the household living there
    own_head = [u for u, owners in by_unit.items()
                if any(o.person and o.person.relation == Relation.HEAD and o.person.place_id == u for o in owners)]
    assert len(own_head) > len(by_unit) / 2
    # some are co-owned by head and spouse, a few owners hold a second unit
    assert any(len(owners) == 2 and {o.person.relation for o in owners} == {Relation.HEAD, Relation.SPOUSE}
               for owners in by_unit.values())
    units_per_person = Counter(o.person_id for o in rows if o.person_id)
    assert 0 < sum(1 for n in units_per_person.values() if n > 1) < len(units_per_person) / 4
    # in one compound of each community the developer still holds about 5% of the units
    for community in Place.objects.filter(kind=PlaceKind.COMMUNITY):
        developers = Organisation.objects.filter(kind="developer", scope_path__startswith=community.path)
        assert developers.count() == 1
        developer = developers.get()
        held = Ownership.objects.filter(organisation=developer)
        units = Place.objects.filter(kind=PlaceKind.UNIT, path__startswith=developer.scope_path).count()
        assert 1 <= held.count() <= max(1, round(units * 0.05))


def test_first_community_has_proposals_a_topic_a_meeting_and_decisions(seeded):
    community = Place.objects.get(path=seeded.public_path)
    proposals = Proposal.objects.filter(community=community)
    assert 3 <= proposals.count() <= 4
    topic_proposal = proposals.get(status=ProposalStatus.TOPIC)
    assert topic_proposal.threshold == 3 and topic_proposal.support_count == 3
    assert Topic.objects.filter(proposal=topic_proposal).exists()
    assert proposals.filter(status=ProposalStatus.OPEN, support_count__lt=3).exists()
    hidden = Comment.objects.get(hidden=True)
    assert hidden.hidden_reason and hidden.proposal.community == community
    meeting = Meeting.objects.get(community=community)
    assert meeting.status == MeetingStatus.HELD and meeting.minutes_published
    assert meeting.starts_at.date() < dt.date.today()
    assert meeting.topics.filter(proposal=topic_proposal).exists()
    assert meeting.attendance.count() >= 3
    decisions = {d.status: d for d in Decision.objects.filter(meeting=meeting)}
    assert set(decisions) == {DecisionStatus.DONE, DecisionStatus.OPEN}
    assert decisions[DecisionStatus.OPEN].due_on == dt.date.today() + dt.timedelta(days=7)


def test_notices_cover_the_four_categories_and_one_was_corrected(seeded):
    notices = Notice.objects.filter(community__path=seeded.public_path)
    assert set(notices.values_list("category", flat=True)) == set(NoticeCategory.values)
    correction = notices.get(revision=2)
    assert correction.correction_note
    assert correction.supersedes.superseded_at is not None
    assert notices.filter(superseded_at__isnull=True).count() == notices.count() - 1


def test_closed_owners_vote_has_a_frozen_result_equal_to_the_recount(seeded):
    vote = Vote.objects.get(status=VoteStatus.CLOSED)
    assert vote.electorate == Electorate.OWNERS and vote.closed_at is not None
    assert vote.result == votes.vote_recount(vote=vote)
    units = vote.electorate_snapshot["total_units"]
    assert 0.55 * units <= vote.ballots.count() <= 0.95 * units
    assert {"yes", "no"} <= set(vote.ballots.values_list("option__meaning", flat=True))


def test_demo_resident_owns_in_the_vote_compound_and_can_cast_on_the_open_vote(seeded):
    # given the open owners' vote in the demo resident's compound, where they have not voted
    resident = User.objects.get(username="resident")
    vote = Vote.objects.get(status=VoteStatus.OPEN)
    assert resident.memberships.get().place == vote.place
    assert Ownership.objects.filter(person=resident.person, unit__path__startswith=vote.place.path).exists()
    assert own_ballots(actor=resident, vote=vote) == []
    assert vote.closes_at.date() == (vote.opens_at + dt.timedelta(days=8)).date()
    # when they cast 同意
    yes = vote.options.get(meaning=OptionMeaning.YES)
    rows = votes.ballot_cast(actor=resident, vote=vote, option=yes)
    # then every unit they own in the compound carries their ballot
    owned = set(Ownership.objects.filter(person=resident.person, ended_on__isnull=True,
                                         unit__path__startswith=vote.place.path).values_list("unit_id", flat=True))
    assert {b.unit_id for b in rows} == owned
    assert {b.unit_id for b in own_ballots(actor=resident, vote=vote)} == owned


def test_the_first_community_shows_the_ledgers_at_work(seeded):
    # a 民政 roll was imported: its good rows in, one mistyped ID number kept as an error, one phone in conflict
    from shequ.ledgers.choices import ImportStatus, LinkRunStatus
    from shequ.ledgers.models import FactConflict, ImportJob, LinkRun, PersonMerge
    from shequ.registry.choices import PersonStatus

    job = ImportJob.objects.get()
    assert (job.status, job.error_rows, job.conflict_count) == (ImportStatus.IMPORTED, 1, 1)
    assert job.row_errors.get().header == "身份证号"
    assert FactConflict.objects.filter(person__scope_path__startswith=job.community.path).count() == 1
    # and record linkage found the 卫健 register's duplicates of registered residents
    run = LinkRun.objects.get()
    assert run.status == LinkRunStatus.DONE and run.records > 0
    assert PersonMerge.objects.filter(automatic=True).exists()
    assert all(m.merged.status == PersonStatus.MERGED for m in PersonMerge.objects.all())
