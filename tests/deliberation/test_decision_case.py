"""A decision (决议) carried out as a case (工单): the service, refusals, pages, API, completion after closure."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shequ.cases import services as case_services
from shequ.cases import workflow as wf
from shequ.cases.categories import ensure_categories
from shequ.cases.choices import CaseSource, CaseState
from shequ.cases.models import Case, CaseFollower
from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditAction, AuditEntry, Notification
from shequ.deliberation import meetings
from shequ.deliberation.choices import DecisionStatus, MeetingKind
from shequ.deliberation.models import Decision, Meeting
from tests.api_fixtures import *  # noqa: F403  (fixtures: api_as, token_for)

pytestmark = pytest.mark.django_db

TEXT = "在3号楼东侧划线增设20个停车位\n由物业负责施工"


@pytest.fixture
def cats(db: Any) -> SimpleNamespace:
    return SimpleNamespace(**ensure_categories())


@pytest.fixture
def meeting(estate: Any, actors: Any) -> Meeting:
    return meetings.meeting_schedule(actor=actors.worker_a1, community=estate.community, kind=MeetingKind.COORDINATION,
                                     title="停车协调会", starts_at=timezone.now() + dt.timedelta(days=1))


@pytest.fixture
def decision(meeting: Meeting, estate: Any) -> Decision:
    """The decision's responsible person is a resident (李), who is not community staff."""
    return meetings.decision_add(actor=meeting.created_by, meeting=meeting, text=TEXT, responsible=estate.users.li,
                                 due_on=timezone.localdate() + dt.timedelta(days=30))


def _open(actor: Any, decision: Decision, cats: Any, **kw: Any) -> Case:
    kw.setdefault("version", decision.version)
    kw.setdefault("category", cats.illegal_parking)
    return meetings.decision_open_case(actor=actor, decision=decision, **kw)


def _close(case: Case, worker: Any) -> Case:
    case = case_services.case_act(actor=worker, case=case, action=wf.ACCEPT, version=case.version)
    case = case_services.case_act(actor=worker, case=case, action=wf.RESOLVE, version=case.version,
                                  result="已划线20个车位并设置标识")
    return case_services.case_act(actor=worker, case=case, action=wf.CLOSE, version=case.version)


# --- The service ----------------------------------------------------------------------------------


def test_open_case_links_decision_and_responsible_follows(decision: Decision, actors: Any, cats: Any,
                                                          estate: Any) -> None:
    case = _open(actors.worker_a1, decision, cats)
    assert (case.source, case.category, case.place, case.community) == (
        CaseSource.DECISION, cats.illegal_parking, estate.community, estate.community)
    assert case.state == CaseState.NEW
    assert case.title == "在3号楼东侧划线增设20个停车位"  # the first line of the decision
    assert case.description == f"会议《停车协调会》决议：{TEXT}"
    decision.refresh_from_db()
    assert decision.case == case
    assert decision.version == 2
    assert decision.status == DecisionStatus.OPEN
    assert CaseFollower.objects.filter(case=case, user=estate.users.li).exists()
    audit = AuditEntry.objects.get(object_type="deliberation.decision", object_id=str(decision.pk),
                                   action=AuditAction.UPDATE)
    assert audit.changes["case"] == {"old": None, "new": case.pk}
    assert audit.changes["case_number"] == case.number
    assert Notification.objects.filter(
        user=estate.users.li, title=str(meetings.CASE_OPENED_TITLE).format(number=case.number)).exists()


def test_responsible_is_told_of_every_move_and_may_see_the_case(decision: Decision, actors: Any, cats: Any,
                                                                 estate: Any) -> None:
    case = _open(actors.worker_a1, decision, cats)
    case_services.case_act(actor=actors.worker_a1, case=case, action=wf.ACCEPT, version=case.version)
    moved = str(case_services.CASE_MOVED_TITLE).format(number=case.number, action=wf.action_label(wf.ACCEPT))
    assert Notification.objects.filter(user=estate.users.li, title=moved).exists()
    assert case_services._user_sees(estate.users.li, case)


def test_open_case_at_a_place_inside_the_community_with_own_title(decision: Decision, actors: Any, cats: Any,
                                                                  tree: Any) -> None:
    case = _open(actors.worker_a1, decision, cats, place=tree.a1_building, title="3号楼划线", description="东侧空地")
    assert (case.place, case.community, case.title, case.description) == (tree.a1_building, tree.a1, "3号楼划线",
                                                                          "东侧空地")


def test_street_officer_may_open_a_case(decision: Decision, actors: Any, cats: Any) -> None:
    case = _open(actors.officer_a, decision, cats)
    assert case.reporter == actors.officer_a


# --- Refusals -------------------------------------------------------------------------------------


def test_refuses_a_done_decision(decision: Decision, actors: Any, cats: Any) -> None:
    done = meetings.decision_complete(actor=actors.worker_a1, decision=decision, outcome="已完成")
    with pytest.raises(ValidationFailed) as exc:
        _open(actors.worker_a1, done, cats)
    assert exc.value.errors == {"__all__": [str(meetings.CASE_DECISION_DONE)]}
    assert not Case.objects.exists()


def test_refuses_while_the_linked_case_is_open_and_allows_again_after_rejection(
        decision: Decision, actors: Any, cats: Any) -> None:
    first = _open(actors.worker_a1, decision, cats)
    decision.refresh_from_db()
    with pytest.raises(ValidationFailed) as exc:
        _open(actors.worker_a1, decision, cats)
    assert exc.value.errors == {"__all__": [str(meetings.CASE_ALREADY_OPEN).format(number=first.number)]}
    case_services.case_act(actor=actors.worker_a1, case=first, action=wf.REJECT, version=first.version,
                           reason="需先经业主大会表决")
    second = _open(actors.worker_a1, decision, cats)
    decision.refresh_from_db()
    assert decision.case == second != first


def test_stale_version_is_a_conflict(decision: Decision, actors: Any, cats: Any) -> None:
    with pytest.raises(Conflict):
        _open(actors.worker_a1, decision, cats, version=decision.version - 1 or 99)
    assert not Case.objects.exists()


@pytest.mark.parametrize(("who", "error"), [("worker_b1", NotFound), ("officer_b", NotFound),
                                            ("grid_a1", PermissionDenied)])
def test_only_managers_of_the_meeting_may_open(decision: Decision, actors: Any, cats: Any, who: str,
                                               error: type[Exception]) -> None:
    with pytest.raises(error):
        _open(getattr(actors, who), decision, cats)
    assert not Case.objects.exists()


def test_the_responsible_resident_may_not_open(decision: Decision, estate: Any, cats: Any) -> None:
    with pytest.raises(PermissionDenied):
        _open(estate.users.li, decision, cats)


def test_refuses_a_category_that_is_not_a_leaf(decision: Decision, actors: Any, cats: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _open(actors.worker_a1, decision, cats, category=cats.city)
    assert exc.value.errors["category"] == [str(case_services.CATEGORY_INVALID)]
    decision.refresh_from_db()
    assert decision.case is None and decision.version == 1


def test_refuses_a_place_of_another_community(decision: Decision, actors: Any, cats: Any, tree: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _open(actors.worker_a1, decision, cats, place=tree.a2)
    assert exc.value.errors == {"place": [str(meetings.CASE_PLACE_NOT_HERE)]}


def test_closing_the_case_does_not_complete_the_decision_the_responsible_does(
        decision: Decision, actors: Any, cats: Any, estate: Any) -> None:
    case = _close(_open(actors.worker_a1, decision, cats), actors.worker_a1)
    assert case.state == CaseState.CLOSED
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.OPEN
    done = meetings.decision_complete(actor=estate.users.li, decision=decision, outcome=case.result,
                                      version=decision.version)
    assert (done.status, done.outcome) == (DecisionStatus.DONE, "已划线20个车位并设置标识")


# --- Pages ----------------------------------------------------------------------------------------


def _url(name: str, *args: Any) -> str:
    return reverse(f"deliberation:{name}", args=args)


def test_page_turns_a_decision_into_a_case(client: Any, decision: Decision, actors: Any, cats: Any,
                                           tree: Any) -> None:
    client.force_login(actors.worker_a1)
    detail = client.get(_url("meeting_detail", decision.meeting_id)).content.decode()
    assert _url("decision_case", decision.pk) in detail and "转为工单" in detail

    form = client.get(_url("decision_case", decision.pk)).content.decode()
    assert '<optgroup label="城市管理">' in form and "违规停车" in form
    assert f'<option value="{cats.city.pk}"' not in form  # a 大类 cannot be picked
    assert tree.a1_compound.name in form and tree.a2.name not in form  # places inside the meeting's community

    response = client.post(_url("decision_case", decision.pk), {
        "category": cats.illegal_parking.pk, "title": "", "place": tree.a1.pk, "version": decision.version},
        follow=True)
    case = Case.objects.get()
    assert response.redirect_chain[0][0] == _url("meeting_detail", decision.meeting_id) + f"#decision-{decision.pk}"
    page = response.content.decode()
    assert f"已转为工单 {case.number}" in page
    assert f'href="/cases/{case.pk}/"' in page and "待受理" in page
    listing = client.get(_url("decision_list")).content.decode()
    assert case.number in listing and "再次转为工单" not in listing
    assert _url("decision_case", decision.pk) not in listing  # the case is being handled: no second button
    # and the case's page leads back to the decision
    case_page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "来自会议决议" in case_page and decision.meeting.title in case_page
    assert _url("meeting_detail", decision.meeting_id) + f"#decision-{decision.pk}" in case_page


def test_page_shows_service_errors_on_the_form(client: Any, decision: Decision, actors: Any, cats: Any) -> None:
    client.force_login(actors.worker_a1)
    response = client.post(_url("decision_case", decision.pk), {
        "category": cats.city.pk, "place": decision.meeting.community_id, "version": decision.version})
    assert response.status_code == 400
    assert str(case_services.CATEGORY_INVALID) in response.content.decode()
    stale = client.post(_url("decision_case", decision.pk), {
        "category": cats.illegal_parking.pk, "place": decision.meeting.community_id, "version": 99})
    assert stale.status_code == 400
    assert not Case.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("worker_b1", 404), ("officer_b", 404), ("grid_a1", 403)])
def test_page_scope(client: Any, decision: Decision, actors: Any, cats: Any, who: str, status: int) -> None:
    client.force_login(getattr(actors, who))
    assert client.get(_url("decision_case", decision.pk)).status_code == status
    assert client.post(_url("decision_case", decision.pk), {
        "category": cats.illegal_parking.pk, "place": decision.meeting.community_id}).status_code == status
    assert not Case.objects.exists()


def test_after_closure_the_complete_form_is_prefilled_with_the_result(client: Any, decision: Decision, actors: Any,
                                                                        cats: Any, estate: Any) -> None:
    case = _close(_open(actors.worker_a1, decision, cats), actors.worker_a1)
    client.force_login(estate.users.li)
    page = client.get(_url("decision_list")).content.decode()
    assert case.number in page and "已结案" in page
    assert "已划线20个车位并设置标识</textarea>" in page
    decision.refresh_from_db()
    client.post(_url("decision_complete", decision.pk), {"outcome": case.result, "version": decision.version})
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.DONE


# --- API ------------------------------------------------------------------------------------------


def test_api_opens_a_case_and_refuses_others(decision: Decision, actors: Any, cats: Any, tree: Any,
                                             api_as: Any) -> None:
    path = f"/deliberation/decisions/{decision.pk}/case"
    body = {"category": "illegal_parking", "place": tree.a1_compound.pk, "version": decision.version}
    assert api_as(actors.worker_b1).post(path, body).status_code == 404
    assert api_as(actors.grid_a1).post(path, body).status_code == 403
    client = api_as(actors.worker_a1)
    assert client.post(path, {**body, "category": "nope"}).status_code == 400
    assert client.post(path, {**body, "version": 99}).status_code == 409
    response = client.post(path, body)
    assert response.status_code == 201
    case = Case.objects.get()
    assert response.json() == {"decision_id": decision.pk, "decision_version": 2, "case_id": case.pk,
                               "case_number": case.number, "case_state": "new"}
    assert case.place == tree.a1_compound
    again = client.post(path, {**body, "version": 2})
    assert again.status_code == 400
    assert again.json()["message"] == str(meetings.CASE_ALREADY_OPEN).format(number=case.number)
