"""Vote pages: scope (404 for another compound), casting and changing a ballot, paper entry, the result."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shequ.core.models import AuditEntry
from shequ.deliberation import votes
from shequ.deliberation.choices import Electorate, Matter, VoteStatus
from shequ.deliberation.models import Ballot, Vote

pytestmark = pytest.mark.django_db
FMT = "%Y-%m-%dT%H:%M"


def owners_vote(actor, estate, **kw):
    now = timezone.now()
    vote = votes.vote_create(actor=actor, place=estate.compound, title="更换小区电梯", electorate=Electorate.OWNERS,
                             matter=Matter.ORDINARY, opens_at=now - dt.timedelta(minutes=1),
                             closes_at=now + dt.timedelta(days=7), **kw)
    return votes.vote_open(actor=actor, vote=vote)


def option(vote, label):
    return vote.options.get(label=label)


def test_staff_create_a_vote_through_the_page(client, actors, estate):
    client.force_login(actors.worker_a1)
    now = timezone.localtime()
    response = client.post("/deliberation/votes/new/", {
        "electorate": Electorate.OWNERS, "place": estate.compound.pk, "title": "更换电梯", "matter": Matter.MAJOR,
        "opens_at": now.strftime(FMT), "closes_at": (now + dt.timedelta(days=3)).strftime(FMT),
    })
    vote = Vote.objects.get()
    assert response.status_code == 302 and vote.status == VoteStatus.DRAFT and vote.matter == Matter.MAJOR
    assert [o.label for o in vote.options.all()] == ["同意", "反对", "弃权"]
    client.post(f"/deliberation/votes/{vote.pk}/open/")
    vote.refresh_from_db()
    assert vote.status == VoteStatus.OPEN and vote.electorate_snapshot["total_heads"] == 4


def test_owners_vote_on_a_community_is_a_field_error(client, actors, estate):
    client.force_login(actors.worker_a1)
    now = timezone.localtime()
    response = client.post("/deliberation/votes/new/", {
        "electorate": Electorate.OWNERS, "place": estate.community.pk, "title": "x", "matter": Matter.ORDINARY,
        "opens_at": now.strftime(FMT), "closes_at": (now + dt.timedelta(days=3)).strftime(FMT),
    })
    assert response.status_code == 200 and not Vote.objects.exists()
    assert str(votes.VOTE_OWNERS_PLACE) in response.content.decode()


def test_resident_of_another_compound_gets_404(client, actors, estate):
    vote = owners_vote(actors.worker_a1, estate)
    client.force_login(estate.users.outsider)
    assert client.get(f"/deliberation/votes/{vote.pk}/").status_code == 404
    assert client.post(f"/deliberation/votes/{vote.pk}/cast/", {"option": option(vote, "同意").pk}).status_code == 404
    assert not Ballot.objects.exists()
    # nor does another community's worker see it
    client.force_login(actors.worker_b1)
    assert client.get(f"/deliberation/votes/{vote.pk}/").status_code == 404
    assert client.post(f"/deliberation/votes/{vote.pk}/close/").status_code == 404


def test_cast_and_change_through_the_page(client, actors, estate):
    vote = owners_vote(actors.worker_a1, estate)
    client.force_login(estate.users.zhang)
    page = client.get(f"/deliberation/votes/{vote.pk}/").content.decode()
    assert "您还没有投票" in page
    # when 张 (two units) votes 同意 then changes to 反对
    client.post(f"/deliberation/votes/{vote.pk}/cast/", {"option": option(vote, "同意").pk})
    assert "已投票：同意，可在截止前修改" in client.get(f"/deliberation/votes/{vote.pk}/").content.decode()
    client.post(f"/deliberation/votes/{vote.pk}/cast/", {"option": option(vote, "反对").pk})
    # then both of their units carry one row each with the latest choice
    ballots = Ballot.objects.filter(vote=vote)
    assert {b.unit_id for b in ballots} == {estate.units[0].pk, estate.units[1].pk}
    assert {b.option.label for b in ballots} == {"反对"} and all(b.changes == 1 for b in ballots)
    page = client.get(f"/deliberation/votes/{vote.pk}/").content.decode()
    assert "已投票：反对，可在截止前修改" in page and "2 套房屋" in page


def test_paper_ballot_entry_is_audited(client, actors, estate):
    vote = owners_vote(actors.worker_a1, estate)
    client.force_login(actors.worker_a1)
    # a reason is required
    response = client.post(f"/deliberation/votes/{vote.pk}/paper/", {
        "voter": estate.units[2].pk, "option": option(vote, "同意").pk, "reason": "",
    })
    assert response.status_code == 200 and not Ballot.objects.exists()
    response = client.post(f"/deliberation/votes/{vote.pk}/paper/", {
        "voter": estate.units[2].pk, "option": option(vote, "同意").pk, "reason": "现场纸质票第0012号",
    })
    assert response.status_code == 302
    ballot = Ballot.objects.get()
    assert ballot.unit_id == estate.units[2].pk and ballot.channel == "paper" and ballot.cast_by == actors.worker_a1
    entry = AuditEntry.objects.filter(object_type="deliberation.vote", object_id=str(vote.pk), field="ballot").get()
    assert entry.reason == "现场纸质票第0012号" and entry.actor == actors.worker_a1
    # residents cannot reach the paper entry page
    client.force_login(estate.users.li)
    assert client.get(f"/deliberation/votes/{vote.pk}/paper/").status_code == 403


def test_closed_vote_shows_the_art_278_table(client, actors, estate):
    vote = owners_vote(actors.worker_a1, estate)
    for user in (estate.users.zhang, estate.users.li, estate.users.wang):
        votes.ballot_cast(actor=user, vote=vote, option=option(vote, "同意"))
    client.force_login(actors.worker_a1)
    client.post(f"/deliberation/votes/{vote.pk}/close/")
    vote.refresh_from_db()
    assert vote.status == VoteStatus.CLOSED
    client.force_login(estate.users.li)
    html = client.get(f"/deliberation/votes/{vote.pk}/").content.decode()
    # 3 of 4 heads, 321 of 481 m² took part and all said yes: carried
    assert "表决通过" in html and "321.00 ÷ 481.00 = 321/481" in html and "3 ÷ 4 = 3/4" in html
    assert "≥ 2/3" in html and "&gt; 1/2" in html


def test_resident_sees_open_votes_of_their_compound(client, actors, estate):
    vote = owners_vote(actors.worker_a1, estate)
    client.force_login(estate.users.li)
    assert vote.title in client.get("/deliberation/votes/").content.decode()
    client.force_login(estate.users.outsider)
    assert vote.title not in client.get("/deliberation/votes/").content.decode()
