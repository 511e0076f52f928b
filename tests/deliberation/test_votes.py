"""Votes services and selectors: art. 278 through stored ballots, changes, time limits, locks, scope."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditEntry, Notification
from shequ.deliberation import vote_selectors, votes
from shequ.deliberation.choices import BallotChannel, Electorate, Matter, VoteStatus
from shequ.deliberation.models import Ballot
from shequ.registry import ownership
from shequ.registry.models import Ownership
from tests import factories as f
from tests.deliberation.fixtures_votes import *  # noqa: F403  (fixtures: open_vote, even, thirds)
from tests.deliberation.fixtures_votes import option, owners_vote

YES, NO, ABSTAIN = "yes", "no", "abstain"


def cast(user, vote, meaning):
    return votes.ballot_cast(actor=user, vote=vote, option=option(vote, meaning))


# --- Create and open --------------------------------------------------------------------------------


def test_owners_vote_gets_fixed_options_and_freezes_the_electorate(estate, actors):
    vote = owners_vote(actors.worker_a1, estate.compound)
    assert [(o.label, o.meaning) for o in vote.options.all()] == [("同意", YES), ("反对", NO), ("弃权", ABSTAIN)]
    snap = vote.electorate_snapshot
    assert snap["total_heads"] == 4
    assert snap["total_area"] == {"exact": "481/1", "display": "481.00"}
    keys = {u["unit"]: u["owner_key"] for u in snap["units"]}
    zhang, wang, zhao = estate.owners.zhang.pk, estate.owners.wang.pk, estate.owners.zhao.pk
    assert keys[estate.units[0].pk] == keys[estate.units[1].pk] == f"p{zhang}"
    assert keys[estate.units[3].pk] == f"p{wang}+p{zhao}"
    assert keys[estate.units[4].pk] == keys[estate.units[5].pk] == f"o{estate.developer.pk}"
    assert vote.status == VoteStatus.OPEN


def test_opening_notifies_the_owners(estate, actors):
    owners_vote(actors.worker_a1, estate.compound)
    told = set(Notification.objects.filter(title__contains="表决开始").values_list("user__username", flat=True))
    assert told == {"owner_zhang", "owner_li", "owner_wang", "owner_zhao"}


def test_a_unit_without_area_refuses_to_open_naming_the_unit(estate, actors):
    unit = estate.units[2]
    type(unit).objects.filter(pk=unit.pk).update(floor_area=None)
    vote = owners_vote(actors.worker_a1, estate.compound, open_it=False)
    with pytest.raises(ValidationFailed) as exc:
        votes.vote_open(actor=actors.worker_a1, vote=vote)
    assert unit.name in exc.value.errors["__all__"][0]
    assert exc.value.code == "electorate_incomplete"
    vote.refresh_from_db()
    assert vote.status == VoteStatus.DRAFT


def test_owners_vote_needs_a_compound_and_a_matter_and_takes_no_custom_options(estate, actors):
    now = timezone.now()
    common = {"title": "改建", "electorate": Electorate.OWNERS, "opens_at": now,
              "closes_at": now + dt.timedelta(days=1)}
    with pytest.raises(ValidationFailed) as exc:
        votes.vote_create(actor=actors.worker_a1, place=estate.community, matter=Matter.MAJOR, **common)
    assert exc.value.errors == {"place": [str(votes.VOTE_OWNERS_PLACE)]}
    with pytest.raises(ValidationFailed) as exc:
        votes.vote_create(actor=actors.worker_a1, place=estate.compound, **common)
    assert exc.value.errors == {"matter": [str(votes.VOTE_MATTER_REQUIRED)]}
    with pytest.raises(ValidationFailed) as exc:
        votes.vote_create(actor=actors.worker_a1, place=estate.compound, matter=Matter.MAJOR,
                          options=["好", "不好"], **common)
    assert exc.value.errors == {"options": [str(votes.VOTE_OWNERS_FIXED)]}


def test_only_managers_in_scope_create_votes(estate, actors):
    with pytest.raises(NotFound):
        owners_vote(actors.worker_b1, estate.compound)
    with pytest.raises(PermissionDenied):
        owners_vote(actors.grid_a1, estate.compound)
    with pytest.raises(PermissionDenied):  # a resident sees their compound but does not run votes
        owners_vote(estate.users.zhang, estate.compound)


# --- Counting through the services ------------------------------------------------------------------


def test_multi_unit_owner_casts_for_both_units_and_counts_once(estate, open_vote, actors):
    rows = cast(estate.users.zhang, open_vote, YES)
    assert sorted(b.unit_id for b in rows) == [estate.units[0].pk, estate.units[1].pk]
    closed = votes.vote_close(actor=actors.worker_a1, vote=open_vote)
    assert closed.result["heads"]["participating"] == 1
    assert closed.result["area"]["participating"]["display"] == "161.00"


def test_co_owners_share_one_ballot_the_second_cast_replaces_the_first(estate, open_vote):
    cast(estate.users.wang, open_vote, YES)
    rows = cast(estate.users.zhao, open_vote, NO)
    ballots = Ballot.objects.filter(vote=open_vote, unit=estate.units[3])
    assert ballots.count() == 1
    ballot = ballots.get()
    assert (ballot.option.meaning, ballot.person_id, ballot.changes) == (NO, estate.owners.zhao.pk, 1)
    assert [b.pk for b in rows] == [ballot.pk]
    assert [b.option.meaning for b in vote_selectors.own_ballots(actor=estate.users.wang, vote=open_vote)] == [NO]


def test_developer_paper_ballot_covers_its_units_as_one_head(estate, open_vote, actors):
    ballot = votes.ballot_enter_paper(actor=actors.worker_a1, vote=open_vote, option=option(open_vote, NO),
                                      organisation=estate.developer, reason="开发商书面表决票")
    assert ballot.channel == BallotChannel.PAPER
    assert set(Ballot.objects.filter(vote=open_vote).values_list("unit_id", flat=True)) == {
        estate.units[4].pk, estate.units[5].pk}
    result = votes.vote_recount(vote=open_vote)
    assert (result["heads"]["no"], result["area"]["no"]["display"]) == (1, "160.00")
    entry = AuditEntry.objects.filter(field="ballot", reason="开发商书面表决票").get()
    assert entry.changes["option"] == "反对"


def test_paper_ballot_needs_a_reason(estate, open_vote, actors):
    with pytest.raises(ValidationFailed) as exc:
        votes.ballot_enter_paper(actor=actors.worker_a1, vote=open_vote, option=option(open_vote, NO),
                                 unit=estate.units[2], reason=" ")
    assert exc.value.errors == {"reason": [str(votes.PAPER_REASON_REQUIRED)]}


def test_changed_ballot_keeps_one_row_and_counts_the_last_option(estate, open_vote, actors):
    cast(estate.users.li, open_vote, YES)
    cast(estate.users.li, open_vote, NO)
    cast(estate.users.li, open_vote, ABSTAIN)
    ballot = Ballot.objects.get(vote=open_vote, unit=estate.units[2])
    assert (ballot.option.meaning, ballot.changes) == (ABSTAIN, 2)
    assert votes.vote_recount(vote=open_vote)["heads"]["abstain"] == 1


def test_estate_ordinary_matter_carries_with_three_of_four_owners(estate, open_vote, actors):
    # 张 161 + 李 100 + 王/赵 60 = 321 of 481 m² (≥ 2/3), 3 of 4 heads; all say yes
    for user in (estate.users.zhang, estate.users.li, estate.users.wang):
        cast(user, open_vote, YES)
    closed = votes.vote_close(actor=actors.worker_a1, vote=open_vote)
    assert closed.result["quorum"]["area"]["share"]["exact"] == "321/481"
    assert closed.result["carried"] is True
    assert closed.status == VoteStatus.CLOSED


def test_exactly_two_thirds_participation_through_stored_ballots(thirds, actors):
    vote = owners_vote(actors.worker_a2, thirds.compound)
    cast(thirds.users[0], vote, YES)
    cast(thirds.users[1], vote, YES)
    result = votes.vote_close(actor=actors.worker_a2, vote=vote).result
    assert result["quorum"]["area"]["share"]["exact"] == result["quorum"]["heads"]["share"]["exact"] == "2/3"
    assert result["quorum"]["met"] is True and result["carried"] is True


def test_exactly_half_ordinary_fails_and_exactly_three_quarters_major_carries(even, actors):
    ordinary = owners_vote(actors.worker_a2, even.compound)
    major = owners_vote(actors.worker_a2, even.compound, matter=Matter.MAJOR)
    for user, meaning in zip(even.users, (YES, YES, NO, NO), strict=True):
        cast(user, ordinary, meaning)
    for user, meaning in zip(even.users, (YES, YES, YES, NO), strict=True):
        cast(user, major, meaning)
    half = votes.vote_close(actor=actors.worker_a2, vote=ordinary).result
    three_quarters = votes.vote_close(actor=actors.worker_a2, vote=major).result
    assert half["approval"]["area"]["share"]["exact"] == "1/2" and half["carried"] is False
    assert three_quarters["approval"]["area"]["share"]["exact"] == "3/4" and three_quarters["carried"] is True


def test_recount_equals_the_frozen_result_whatever_the_registry_says_later(estate, open_vote, actors):
    cast(estate.users.zhang, open_vote, YES)
    cast(estate.users.li, open_vote, NO)
    closed = votes.vote_close(actor=actors.worker_a1, vote=open_vote)
    # the registry changes after the vote: an ownership ends and an area is corrected
    ownership.ownership_end(actor=actors.worker_a1, ownership=Ownership.objects.filter(person=estate.owners.li).get(),
                            ended_on=dt.date.today())
    type(estate.units[0]).objects.filter(pk=estate.units[0].pk).update(floor_area=Decimal("99.00"))
    assert votes.vote_recount(vote=closed) == closed.result


# --- Time and state ---------------------------------------------------------------------------------


def test_a_ballot_after_closes_at_is_refused(estate, actors):
    vote = owners_vote(actors.worker_a1, estate.compound)
    type(vote).objects.filter(pk=vote.pk).update(closes_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(Conflict) as exc:
        cast(estate.users.li, vote, YES)
    assert exc.value.code == "vote_ended"
    assert str(exc.value.message) == str(votes.VOTE_ENDED)
    assert not Ballot.objects.filter(vote=vote).exists()


def test_a_ballot_before_opens_at_or_on_a_draft_is_refused(estate, actors):
    vote = owners_vote(actors.worker_a1, estate.compound)
    type(vote).objects.filter(pk=vote.pk).update(opens_at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(Conflict) as exc:
        cast(estate.users.li, vote, YES)
    assert exc.value.code == "vote_not_started"
    draft = owners_vote(actors.worker_a1, estate.compound, open_it=False)
    with pytest.raises(NotFound):  # a draft is not shown to residents at all
        votes.ballot_cast(actor=estate.users.li, vote=draft, option=option(draft, YES))


def test_close_then_cast_refuses_the_late_ballot_and_the_result_stays(estate, open_vote, actors):
    cast(estate.users.zhang, open_vote, YES)
    stale = type(open_vote).objects.get(pk=open_vote.pk)  # a request that loaded the vote before it closed
    closed = votes.vote_close(actor=actors.worker_a1, vote=open_vote)
    with pytest.raises(Conflict):
        cast(estate.users.li, stale, YES)
    assert Ballot.objects.filter(vote=open_vote).count() == 2
    assert votes.vote_recount(vote=closed) == closed.result
    with pytest.raises(Conflict):
        votes.vote_close(actor=actors.worker_a1, vote=stale)


def test_close_due_closes_votes_past_their_time_and_notifies(estate, open_vote):
    type(open_vote).objects.filter(pk=open_vote.pk).update(closes_at=timezone.now() - dt.timedelta(seconds=1))
    assert votes.vote_close_due() == 1
    open_vote.refresh_from_db()
    assert open_vote.status == VoteStatus.CLOSED and open_vote.result["carried"] is False
    assert Notification.objects.filter(title__contains="表决结果公布", user=estate.users.li).exists()


@pytest.mark.django_db(transaction=True)
def test_close_while_ballots_arrive_counts_each_ballot_or_refuses_it(estate, actors):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers on one file lock: concurrent threads only prove something on "
                    "PostgreSQL (row locks); test_close_then_cast_refuses_the_late_ballot covers the order here")
    vote = owners_vote(actors.worker_a1, estate.compound)
    voters = [estate.users.zhang, estate.users.li, estate.users.wang, estate.users.zhao] * 3
    outcomes: list[str] = []
    barrier = threading.Barrier(len(voters) + 1)

    def voter(user):
        barrier.wait()
        try:
            cast(user, vote, YES)
            outcomes.append("counted")
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    def closer():
        barrier.wait()
        votes.vote_close(actor=actors.worker_a1, vote=vote)
        connection.close()

    threads = [threading.Thread(target=voter, args=(u,)) for u in voters] + [threading.Thread(target=closer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    vote.refresh_from_db()
    assert len(outcomes) == len(voters)
    assert votes.vote_recount(vote=vote) == vote.result
    assert Ballot.objects.filter(vote=vote).count() == vote.result["units"]["participating"]
    assert Ballot.objects.filter(vote=vote).values("unit").distinct().count() == Ballot.objects.filter(
        vote=vote).count()


@pytest.mark.django_db(transaction=True)
def test_concurrent_ballots_of_one_voter_leave_one_row_per_unit(estate, actors):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks for real concurrency; SQLite serialises writers")
    vote = owners_vote(actors.worker_a1, estate.compound)
    barrier = threading.Barrier(6)

    def voter(meaning):
        barrier.wait()
        try:
            cast(estate.users.zhang, vote, meaning)
        finally:
            connection.close()

    threads = [threading.Thread(target=voter, args=(m,)) for m in (YES, NO, ABSTAIN) * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Ballot.objects.filter(vote=vote).count() == 2
    assert Ballot.objects.filter(vote=vote).values("option").distinct().count() == 1


# --- Scope and secrecy -----------------------------------------------------------------------------


def test_a_resident_of_another_compound_cannot_vote_or_see_the_vote(estate, actors):
    vote = owners_vote(actors.worker_a1, estate.compound, secret=True)
    cast(estate.users.li, vote, YES)
    with pytest.raises(NotFound):
        cast(estate.users.outsider, vote, YES)
    with pytest.raises(NotFound):
        vote_selectors.vote_get(actor=estate.users.outsider, vote_id=vote.pk)
    assert not vote_selectors.vote_list(actor=estate.users.outsider).exists()
    assert vote_selectors.own_ballots(actor=estate.users.outsider, vote=vote) == []
    with pytest.raises(NotFound):
        vote_selectors.vote_get(actor=actors.worker_b1, vote_id=vote.pk)


def test_a_tenant_of_the_compound_sees_the_vote_but_cannot_vote(estate, open_vote, tree):
    tenant = f.person(estate.units[2], name="租户甲", id_number=f.id_number())
    user = f.user("tenant", place=estate.compound, role="resident", person=tenant)
    assert vote_selectors.vote_get(actor=user, vote_id=open_vote.pk) == open_vote
    with pytest.raises(PermissionDenied) as exc:
        cast(user, open_vote, YES)
    assert str(exc.value.message) == str(votes.BALLOT_NOT_IN_ELECTORATE)


def test_secret_ballot_is_audited_without_the_option_and_only_the_voter_sees_theirs(estate, actors):
    vote = owners_vote(actors.worker_a1, estate.compound, secret=True)
    cast(estate.users.li, vote, NO)
    entry = AuditEntry.objects.filter(field="ballot", object_id=str(vote.pk)).get()
    assert "option" not in entry.changes
    assert entry.actor == estate.users.li
    assert [b.option.meaning for b in vote_selectors.own_ballots(actor=estate.users.li, vote=vote)] == [NO]
    assert vote_selectors.own_ballots(actor=estate.users.zhang, vote=vote) == []
    turnout = vote_selectors.vote_turnout(vote=vote)
    assert turnout["heads"] == {"total": 4, "participating": 1, "share": {"exact": "1/4", "percent": "25.00"}}
    assert "yes" not in str(turnout)


def test_staff_list_includes_drafts_residents_do_not(estate, actors):
    draft = owners_vote(actors.worker_a1, estate.compound, open_it=False)
    assert draft in vote_selectors.vote_list(actor=actors.worker_a1)
    assert draft in vote_selectors.vote_list(actor=actors.officer_a, place=estate.community)
    assert draft not in vote_selectors.vote_list(actor=estate.users.li)


# --- Residents' votes -------------------------------------------------------------------------------


def test_residents_vote_one_person_one_ballot(estate, actors):
    now = timezone.now()
    vote = votes.vote_create(actor=actors.worker_a1, place=estate.community, title="社区花园改造方案",
                             electorate=Electorate.RESIDENTS, options=["方案一", "方案二"],
                             opens_at=now - dt.timedelta(minutes=1), closes_at=now + dt.timedelta(days=1))
    vote = votes.vote_open(actor=actors.worker_a1, vote=vote)
    assert vote.electorate_snapshot["eligible_count"] == 4  # the four verified owners in A1; 孙 lives in B1
    first = vote.options.get(label="方案一")
    votes.ballot_cast(actor=estate.users.zhang, vote=vote, option=first)
    votes.ballot_cast(actor=estate.users.zhang, vote=vote, option=first)
    votes.ballot_cast(actor=estate.users.li, vote=vote, option=first)
    votes.ballot_cast(actor=estate.users.wang, vote=vote, option=vote.options.get(label="方案二"))
    assert Ballot.objects.filter(vote=vote).count() == 3
    with pytest.raises(NotFound):
        votes.ballot_cast(actor=estate.users.outsider, vote=vote, option=first)
    result = votes.vote_close(actor=actors.worker_a1, vote=vote).result
    assert (result["participating"], result["winner"], result["carried"]) == (3, first.pk, True)
    assert result["quorum"]["share"]["exact"] == "3/4"


# --- Ownership services (the electorate's source) ---------------------------------------------------


def test_ownership_add_and_end_are_audited_and_change_the_next_electorate(estate, actors):
    buyer = f.person(estate.units[2], name="钱买家", id_number=f.id_number())
    row = ownership.ownership_add(actor=actors.worker_a1, unit=estate.units[2], person=buyer,
                                  started_on=dt.date(2025, 1, 1))
    assert AuditEntry.objects.filter(object_type="registry.ownership", object_id=str(row.pk), action="create").exists()
    li_row = Ownership.objects.get(person=estate.owners.li)
    ownership.ownership_end(actor=actors.worker_a1, ownership=li_row, ended_on=dt.date(2025, 1, 1))
    assert [o.person for o in ownership.unit_owners(unit=estate.units[2])] == [buyer]
    electorate = ownership.compound_electorate(compound=estate.compound)
    assert {u.owner_key for u in electorate.units if u.unit_id == estate.units[2].pk} == {f"p{buyer.pk}"}
    with pytest.raises(ValidationFailed) as exc:
        ownership.ownership_end(actor=actors.worker_a1, ownership=li_row, ended_on=dt.date(2025, 2, 1))
    assert exc.value.errors == {"ended_on": [str(ownership.OWNERSHIP_ALREADY_ENDED)]}


def test_ownership_add_refuses_duplicates_non_units_and_other_communities(estate, actors):
    with pytest.raises(ValidationFailed) as exc:
        ownership.ownership_add(actor=actors.worker_a1, unit=estate.units[2], person=estate.owners.li)
    assert exc.value.errors == {"__all__": [str(ownership.OWNERSHIP_DUPLICATE)]}
    with pytest.raises(ValidationFailed):
        ownership.ownership_add(actor=actors.worker_a1, unit=estate.compound, person=estate.owners.li)
    with pytest.raises(ValidationFailed):
        ownership.ownership_add(actor=actors.worker_a1, unit=estate.units[2])
    with pytest.raises(NotFound):
        ownership.ownership_add(actor=actors.worker_b1, unit=estate.units[2], person=estate.owners.zhang)


def test_a_unit_without_owner_refuses_to_open(estate, actors):
    for row in Ownership.objects.filter(unit=estate.units[2]):
        ownership.ownership_end(actor=actors.worker_a1, ownership=row, ended_on=dt.date.today())
    vote = owners_vote(actors.worker_a1, estate.compound, open_it=False)
    with pytest.raises(ValidationFailed) as exc:
        votes.vote_open(actor=actors.worker_a1, vote=vote)
    assert estate.units[2].name in exc.value.errors["__all__"][0]


def test_representatives_vote_counts_only_the_named_representatives_and_paper_ballots(estate, actors):
    now = timezone.now()
    vote = votes.vote_create(actor=actors.worker_a1, place=estate.community, title="居民代表会议表决",
                             electorate=Electorate.REPRESENTATIVES, people=[estate.owners.li, estate.owners.wang],
                             quorum="2/3", majority="1/2", majority_strict=True,
                             opens_at=now - dt.timedelta(minutes=1), closes_at=now + dt.timedelta(days=1))
    vote = votes.vote_open(actor=actors.worker_a1, vote=vote)
    assert vote.electorate_snapshot["eligible_count"] == 2
    with pytest.raises(PermissionDenied):
        cast(estate.users.zhang, vote, YES)
    cast(estate.users.li, vote, YES)
    votes.ballot_enter_paper(actor=actors.worker_a1, vote=vote, option=option(vote, YES), person=estate.owners.wang,
                             reason="代表书面表决票")
    result = votes.vote_close(actor=actors.worker_a1, vote=vote).result
    assert (result["participating"], result["carried"]) == (2, True)
    with pytest.raises(ValidationFailed) as exc:
        votes.vote_create(actor=actors.worker_a1, place=estate.community, title="x",
                          electorate=Electorate.REPRESENTATIVES, people=[estate.owners.zhang],
                          quorum="3/2", opens_at=now, closes_at=now + dt.timedelta(days=1))
    assert exc.value.errors == {"quorum": [str(votes.VOTE_FRACTION_INVALID)]}
