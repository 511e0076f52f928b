"""Votes API: list, detail with result after close, cast and change a ballot, own ballot, scope, errors."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from shequ.deliberation import votes
from shequ.deliberation.models import Ballot
from tests.api_fixtures import *  # noqa: F403  (fixtures: api_as, token_for)
from tests.api_fixtures import ApiClient
from tests.deliberation.fixtures_votes import *  # noqa: F403  (fixture: open_vote)
from tests.deliberation.fixtures_votes import option, owners_vote


def test_owner_casts_changes_and_reads_their_ballot(estate, open_vote, api_as):
    client = api_as(estate.users.zhang)
    # when 张 votes yes, then changes to no
    first = client.post(f"/votes/{open_vote.pk}/ballots", {"option_id": option(open_vote, "yes").pk})
    second = client.post(f"/votes/{open_vote.pk}/ballots", {"option_id": option(open_vote, "no").pk})
    # then both units carry the last option, one row each
    assert first.status_code == second.status_code == 200
    body = second.json()
    assert sorted(b["unit_id"] for b in body) == sorted([estate.units[0].pk, estate.units[1].pk])
    assert {(b["option_label"], b["changes"], b["channel"]) for b in body} == {("反对", 1, "online")}
    assert Ballot.objects.filter(vote=open_vote).count() == 2
    mine = client.get(f"/votes/{open_vote.pk}/my-ballot").json()
    assert {b["option_label"] for b in mine} == {"反对"}


def test_vote_list_and_detail_show_turnout_while_open_and_result_after_close(estate, open_vote, api_as, actors):
    client = api_as(estate.users.li)
    listed = client.get("/votes").json()
    assert [v["id"] for v in listed["items"]] == [open_vote.pk] and listed["count"] == 1
    assert [o["label"] for o in listed["items"][0]["options"]] == ["同意", "反对", "弃权"]
    client.post(f"/votes/{open_vote.pk}/ballots", {"option_id": option(open_vote, "yes").pk})
    detail = client.get(f"/votes/{open_vote.pk}").json()
    assert detail["result"] is None
    assert detail["turnout"]["heads"]["participating"] == 1
    votes.vote_close(actor=actors.worker_a1, vote=open_vote)
    closed = client.get(f"/votes/{open_vote.pk}").json()
    assert closed["status"] == "closed"
    assert closed["result"]["area"]["participating"]["exact"] == "100/1"
    assert closed["result"]["quorum"]["met"] is False and closed["result"]["carried"] is False


def test_a_resident_of_another_compound_gets_404_everywhere(estate, actors, api_as):
    secret = owners_vote(actors.worker_a1, estate.compound, secret=True)
    client = api_as(estate.users.outsider)
    assert client.get("/votes").json()["count"] == 0
    for response in (
        client.get(f"/votes/{secret.pk}"),
        client.get(f"/votes/{secret.pk}/my-ballot"),
        client.post(f"/votes/{secret.pk}/ballots", {"option_id": option(secret, "yes").pk}),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert not Ballot.objects.filter(vote=secret).exists()


def test_a_ballot_after_closing_time_answers_409_in_the_error_format(estate, open_vote, api_as):
    type(open_vote).objects.filter(pk=open_vote.pk).update(closes_at=timezone.now() - dt.timedelta(seconds=1))
    response = api_as(estate.users.li).post(f"/votes/{open_vote.pk}/ballots",
                                            {"option_id": option(open_vote, "yes").pk})
    assert response.status_code == 409
    assert response.json() == {"code": "vote_ended", "message": str(votes.VOTE_ENDED), "errors": []}


def test_an_option_of_another_vote_or_a_bad_body_answers_400(estate, open_vote, actors, api_as):
    other = owners_vote(actors.worker_a1, estate.compound)
    client = api_as(estate.users.li)
    wrong = client.post(f"/votes/{open_vote.pk}/ballots", {"option_id": option(other, "yes").pk})
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == [{"field": "option_id", "message": str(votes.VOTE_OPTION_UNKNOWN)}]
    missing = client.post(f"/votes/{open_vote.pk}/ballots", {"option": 1})
    assert missing.status_code == 400 and missing.json()["code"] == "validation_failed"


def test_staff_see_the_vote_but_are_not_voters(estate, open_vote, actors, api_as):
    client = api_as(actors.worker_a1)
    assert client.get(f"/votes/{open_vote.pk}").status_code == 200
    response = client.post(f"/votes/{open_vote.pk}/ballots", {"option_id": option(open_vote, "yes").pk})
    assert response.status_code == 404


def test_anonymous_gets_401(open_vote):
    assert ApiClient().get("/votes").status_code == 401
